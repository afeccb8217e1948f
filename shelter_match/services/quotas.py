"""Hourly quotas per user: placement requests made and proposals shown (CONTRACT 4.1).

Counted from durable data, never from memory, so that every server instance and worker
sees the same count: requests are the `placement_requests` she made in the last hour,
proposals the `proposal.shown` events of the audit log (one per request of an answer, so
a joint proposal counts each of its requests). Beyond the quota the call is refused (429
with Retry-After: the seconds until enough of her counted calls leave the hour) and
nothing is created; the app audits the refusal after the rollback.

Why a lock: counting and then writing are two statements, and two calls at once would
both count 299 and both write. `take` locks the user's quota first (a PostgreSQL advisory
lock held to commit; on SQLite every writing transaction is serialised by BEGIN
IMMEDIATE already), so her next call counts only after this one has committed or rolled
back.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import QuotaExceeded, ValidationFailed
from shelter_match.models import AuditEvent, PlacementRequest, User, UserQuota
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.policy import get_policy

WINDOW = timedelta(hours=1)
KINDS = ("requests_per_hour", "proposals_per_hour")
# The audit action that counts against proposals_per_hour (one per request shown).
PROPOSAL_SHOWN = "proposal.shown"
MAX_QUOTA = 100_000
# Advisory locks of quotas live in their own space: pg_advisory_xact_lock(int4, int4)
# never meets the chain's single-bigint lock (services/audit.py).
LOCK_CLASS = 0x51554F54 & 0x7FFFFFFF  # "QUOT"


@dataclass(frozen=True)
class Quotas:
    """A user's hourly quotas now, and which of them are her own (set by an admin)."""

    user_name: str
    requests_per_hour: int
    proposals_per_hour: int
    own: frozenset[str]
    requests_used: int = 0
    proposals_used: int = 0


def _limit(session: Session, user_id: str, kind: str) -> tuple[int, bool]:
    override = session.get(UserQuota, user_id)
    value = getattr(override, kind) if override is not None else None
    if value is not None:
        return int(value), True
    return int(get_policy(session).quotas[kind]), False


def _lock(session: Session, user_id: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big") & 0x7FFFFFFF
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, key)))


def _counted_times(session: Session, user_id: str, kind: str, since: datetime):  # type: ignore[no-untyped-def]
    if kind == "requests_per_hour":
        return (select(PlacementRequest.created_at.label("at"))
                .where(PlacementRequest.created_by == user_id,
                       PlacementRequest.created_at > since))
    return (select(AuditEvent.at.label("at"))
            .where(AuditEvent.actor_id == user_id, AuditEvent.action == PROPOSAL_SHOWN,
                   AuditEvent.at > since))


def used(session: Session, user_id: str, kind: str, now: datetime) -> int:
    """Return how much of a quota she used in the hour before `now`."""
    times = _counted_times(session, user_id, kind, now - WINDOW).subquery()
    return int(session.scalar(select(func.count()).select_from(times)) or 0)


def take(session: Session, actor: Principal, kind: str, amount: int, now: datetime, *,
         object_id: str | None = None) -> None:
    """Count `amount` calls against her quota, or raise QuotaExceeded (nothing counted).

    The caller then writes what counts (the request, the proposal.shown events) in the
    same transaction, under the lock taken here.
    """
    assert kind in KINDS and amount >= 1
    _lock(session, actor.user_id)
    limit, _own = _limit(session, actor.user_id, kind)
    since = now - WINDOW
    count = used(session, actor.user_id, kind, now)
    if count + amount <= limit:
        return
    what = "placement requests" if kind == "requests_per_hour" else "proposals"
    if amount > limit:
        retry_after = int(WINDOW.total_seconds())
        detail = (f"At most {limit} {what} an hour; this call alone asks for {amount}. "
                  "Ask an admin to raise the quota.")
    else:
        # The (count + amount - limit)-th oldest counted call must leave the hour first.
        oldest = session.scalar(
            _counted_times(session, actor.user_id, kind, since)
            .order_by("at").offset(count + amount - limit - 1).limit(1))
        assert oldest is not None
        retry_after = max(1, math.ceil((oldest + WINDOW - now).total_seconds()))
        detail = (f"At most {limit} {what} an hour; {count} used in the last hour. "
                  f"Try again in {retry_after} seconds, or ask an admin to raise the quota.")
    raise QuotaExceeded(detail, user_id=actor.user_id, user_name=actor.name, quota=kind,
                        limit=limit, used=count, asked=amount, retry_after=retry_after,
                        object_id=object_id)


def record_refusal(session: Session, error: QuotaExceeded, now: datetime) -> None:
    """Audit a call refused for its quota (written after the request's rollback)."""
    audit.record(session, actor=Principal(error.user_id, error.user_name, ""),
                 action="quota.exceeded", object_type="user", object_id=error.user_id,
                 now=now, quota=error.quota, limit=error.limit, used=error.used,
                 asked=error.asked, retry_after=error.retry_after,
                 request_id=error.object_id)


def quotas_of(session: Session, name: str, now: datetime) -> Quotas:
    """Return a user's quotas and what she used of them in the last hour."""
    user = _user(session, name)
    limits = {kind: _limit(session, user.id, kind) for kind in KINDS}
    return Quotas(
        user_name=user.name,
        requests_per_hour=limits["requests_per_hour"][0],
        proposals_per_hour=limits["proposals_per_hour"][0],
        own=frozenset(kind for kind, (_, own) in limits.items() if own),
        requests_used=used(session, user.id, "requests_per_hour", now),
        proposals_used=used(session, user.id, "proposals_per_hour", now),
    )


def _user(session: Session, name: str) -> User:
    from shelter_match.services.users import find_user

    return find_user(session, name)


def quota_errors(values: dict[str, int | None]) -> dict[str, list[str]]:
    """Return what is wrong with quotas given (None: back to the policy's)."""
    errors: dict[str, list[str]] = {}
    for kind, value in values.items():
        if kind not in KINDS:
            errors[kind] = [f"Unknown quota; known: {', '.join(KINDS)}."]
        elif value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                    or not 0 <= value <= MAX_QUOTA):
            errors[kind] = [f"Must be a whole number from 0 to {MAX_QUOTA}, or null for "
                            "the policy's."]
    return errors


@command
def set_user_quotas(session: Session, name: str, values: dict[str, int | None], *,
                    actor: Principal | None, now: datetime) -> Quotas:
    """Set one user's own quotas (only those given; null: the policy's again); audited."""
    errors = quota_errors(values)
    if not values:
        errors["_schema"] = [f"Give at least one of: {', '.join(KINDS)}."]
    if errors:
        raise ValidationFailed(errors)
    user = _user(session, name)
    record = session.get(UserQuota, user.id)
    before = {kind: getattr(record, kind) if record else None for kind in KINDS}
    if record is None:
        record = UserQuota(user_id=user.id, updated_at=now)
        session.add(record)
    for kind, value in values.items():
        setattr(record, kind, value)
    record.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="user.quotas_set", object_type="user",
                 object_id=user.id, now=now, before=before,
                 after={kind: getattr(record, kind) for kind in KINDS})
    return quotas_of(session, name, now)
