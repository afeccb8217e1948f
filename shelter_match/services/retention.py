"""Erase what is no longer needed: client details of closed requests, old replay records.

What the solidarity figures need (regions, risk level, household size, dates, outcome)
stays; the case reference, the children's ages and sexes, every point (each danger and
current, as coordinates and as the place name a danger was given as) and the excluded
locations of a request closed longer ago than the retention period are erased. A request
left open past the policy's `close_open_requests_after_days` is closed first (outcome
`other`), so nothing escapes the purge by never being closed. Stored idempotent responses
can hold an address, so they go after a day. The keys of the audit's point digests go
after at most a week (services/digests.py), sooner with a shorter retention period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from shelter_match.db import rowcount
from shelter_match.errors import ValidationFailed
from shelter_match.models import Hold, IdempotencyKey, PlacementRequest, RequestOverride
from shelter_match.services import audit, digests
from shelter_match.services.auth import Principal
from shelter_match.services.policy import get_policy

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MIN_RETENTION_DAYS = 1
# Closed states whose details are purged; a new state that is not closed (waiting) is
# never touched here.
CLOSED_STATUSES = ("placed", "cancelled")


@dataclass(frozen=True)
class PurgeResult:
    requests: int
    idempotency_keys: int
    closed_open_requests: int = 0
    digest_keys: int = 0


def close_abandoned_requests(session: Session, *, now: datetime,
                             actor: Principal | None = None) -> list[str]:
    """Close requests still `open` past the policy's limit; return their ids.

    Only status `open`: a request on the waiting list is waiting, not abandoned, and a
    request with an active hold is being worked on right now. Closed as cancelled with
    outcome `other` (nobody said why), each with its own audit event.
    """
    days = get_policy(session).close_open_requests_after_days
    active_hold = exists().where(Hold.request_id == PlacementRequest.id, Hold.status == "active",
                                 Hold.expires_at > now)
    closed = list(session.scalars(
        update(PlacementRequest)
        .where(PlacementRequest.status == "open",
               PlacementRequest.created_at <= now - timedelta(days=days),
               ~active_hold)
        .values(status="cancelled", outcome="other", closed_at=now)
        .returning(PlacementRequest.id)
        .execution_options(synchronize_session=False)
    ))
    for request_id in sorted(closed):
        audit.record(session, actor=actor, action="request.closed_unattended",
                     object_type="placement_request", object_id=request_id, now=now,
                     outcome="other", open_for_days_at_least=days)
    return closed


def purge(
    session: Session, *, older_than_days: int, now: datetime, actor: Principal | None = None
) -> PurgeResult:
    """Close abandoned requests, then erase client details of requests closed long ago."""
    if older_than_days < MIN_RETENTION_DAYS:
        raise ValidationFailed({"older_than": [f"Must be at least {MIN_RETENTION_DAYS} day."]})
    abandoned = close_abandoned_requests(session, now=now, actor=actor)
    cutoff = now - timedelta(days=older_than_days)
    erased = rowcount(session.execute(
        update(PlacementRequest)
        .where(
            PlacementRequest.status.in_(CLOSED_STATUSES),
            PlacementRequest.closed_at.is_not(None),
            PlacementRequest.closed_at <= cutoff,
            PlacementRequest.purged_at.is_(None),
        )
        .values(
            case_reference=None,
            danger_lat=None,
            danger_lon=None,
            danger_place=None,
            danger_place_kind=None,
            current_lat=None,
            current_lon=None,
            more_dangers=None,
            children_detail=None,
            excluded_location_ids=[],
            purged_at=now,
        )
    ))
    # A duty officer's reasons are free text about the case: erased with its other details.
    session.execute(
        update(RequestOverride)
        .where(RequestOverride.request_id.in_(
            select(PlacementRequest.id).where(PlacementRequest.purged_at == now)),
            RequestOverride.reason.is_not(None))
        .values(reason=None))
    replays = rowcount(session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - IDEMPOTENCY_WINDOW)
    ))
    # The audit's point digests of those days become irreversible (services/digests.py).
    keys = digests.forget_keys(session, now, older_than_days=older_than_days)
    audit.record(
        session,
        actor=actor,
        action="retention.purged",
        object_type="placement_request",
        object_id=None,
        now=now,
        older_than_days=older_than_days,
        requests=erased,
        idempotency_keys=replays,
        closed_open_requests=len(abandoned),
        digest_keys=keys,
    )
    return PurgeResult(requests=erased, idempotency_keys=replays,
                       closed_open_requests=len(abandoned), digest_keys=keys)
