"""Signals of probing: users whose pattern looks like someone mapping where shelters are.

Someone trying to locate a secret shelter through the service would make many requests
(or ask for proposals) with a danger or current point moved a little each time, cancel
them, and look at which locations come and go. A crisis worker on a night shift makes a
few requests, each with its own danger, and most end in a hold or a placement. The
signals count, per user, over a recent window:

- `point_sets`: distinct point digests (danger and current) of her requests and proposals.
  Each case has its own danger; many different points in a day is a search pattern.
- `cancelled`: her requests cancelled in the window: probes are thrown away.
- `exclusion_only`: her requests for which a proposal showed no option at all: probing
  near a shelter gives answers that only exclude.
- `quota_refusals`: calls refused for her quota.

A user is listed when any signal reaches its threshold (THRESHOLDS, the one place to tune
them). A listing is a reason to look and to talk, never a verdict. Digests are keyed per
UTC day (services/digests.py), so one point used on both sides of midnight counts twice:
the thresholds leave room for that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.errors import ValidationFailed
from shelter_match.models import AuditEvent, PlacementRequest, User

DEFAULT_HOURS = 24
MAX_HOURS = 7 * 24  # the digest keys live at most a week


@dataclass(frozen=True)
class Threshold:
    signal: str
    at_least: int
    why: str


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("point_sets", 10, "different danger/current points in her requests and "
              "proposals (a shift has a few cases, each with one danger)"),
    Threshold("cancelled", 5, "requests cancelled (probes are thrown away)"),
    Threshold("exclusion_only", 5, "requests whose proposals showed no option at all "
              "(points moved around near a shelter)"),
    Threshold("quota_refusals", 3, "calls refused for her hourly quota"),
)
SIGNALS = tuple(threshold.signal for threshold in THRESHOLDS)


@dataclass(frozen=True)
class UserSignals:
    """One user's signals in the window, and which reached their threshold."""

    user_name: str
    role: str
    counts: dict[str, int]
    flagged: tuple[str, ...]


@dataclass(frozen=True)
class SignalReport:
    since: datetime
    until: datetime
    thresholds: tuple[Threshold, ...]
    users: list[UserSignals]


def probing_signals(session: Session, *, now: datetime, hours: int = DEFAULT_HOURS,
                    thresholds: tuple[Threshold, ...] = THRESHOLDS) -> SignalReport:
    """Return the users whose last `hours` reach a probing threshold, most flagged first."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValidationFailed({"hours": [f"Must be a whole number from 1 to {MAX_HOURS}."]})
    since = now - timedelta(hours=hours)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SIGNALS, 0))
    digests: dict[str, set[str]] = defaultdict(set)
    empty: dict[str, set[str]] = defaultdict(set)
    rows = session.execute(
        select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.object_id, AuditEvent.detail)
        .where(AuditEvent.at > since, AuditEvent.at <= now, AuditEvent.actor_id.is_not(None),
               AuditEvent.action.in_(("request.created", "proposal.shown", "quota.exceeded")))
    )
    for actor_id, action, object_id, detail in rows:
        detail = detail or {}
        if action == "quota.exceeded":
            counts[actor_id]["quota_refusals"] += 1
            continue
        if detail.get("points_digest"):
            digests[actor_id].add(detail["points_digest"])
        if action == "proposal.shown" and not detail.get("location_ids") and object_id:
            empty[actor_id].add(object_id)
    for actor_id, points in digests.items():
        counts[actor_id]["point_sets"] = len(points)
    for actor_id, requests in empty.items():
        counts[actor_id]["exclusion_only"] = len(requests)
    for user_id, cancelled in session.execute(
        select(PlacementRequest.created_by, func.count())
        .where(PlacementRequest.status == "cancelled", PlacementRequest.closed_at > since,
               PlacementRequest.closed_at <= now)
        .group_by(PlacementRequest.created_by)
    ):
        counts[user_id]["cancelled"] = int(cancelled)
    names = {user_id: (name, role) for user_id, name, role in session.execute(
        select(User.id, User.name, User.role).where(User.id.in_(list(counts))))}
    users = []
    for user_id, seen in counts.items():
        flagged = tuple(t.signal for t in thresholds if seen[t.signal] >= t.at_least)
        if flagged and user_id in names:
            name, role = names[user_id]
            users.append(UserSignals(name, role, dict(seen), flagged))
    users.sort(key=lambda u: (-len(u.flagged), -sum(u.counts.values()), u.user_name))
    return SignalReport(since, now, thresholds, users)
