"""Erase what is no longer needed: client details of closed requests, old replay records.

What the solidarity figures need (regions, risk level, household size, dates) stays; the
case reference and every coordinate of a request closed longer ago than the retention
period are erased. Stored idempotent responses can hold an address, so they go after a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from shelter_match.db import rowcount
from shelter_match.errors import ValidationFailed
from shelter_match.models import IdempotencyKey, PlacementRequest
from shelter_match.services import audit
from shelter_match.services.auth import Principal

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MIN_RETENTION_DAYS = 1


@dataclass(frozen=True)
class PurgeResult:
    requests: int
    idempotency_keys: int


def purge(
    session: Session, *, older_than_days: int, now: datetime, actor: Principal | None = None
) -> PurgeResult:
    """Erase client details of requests closed more than `older_than_days` days ago."""
    if older_than_days < MIN_RETENTION_DAYS:
        raise ValidationFailed({"older_than": [f"Must be at least {MIN_RETENTION_DAYS} day."]})
    cutoff = now - timedelta(days=older_than_days)
    erased = rowcount(session.execute(
        update(PlacementRequest)
        .where(
            PlacementRequest.status.in_(("placed", "cancelled")),
            PlacementRequest.closed_at.is_not(None),
            PlacementRequest.closed_at <= cutoff,
            PlacementRequest.purged_at.is_(None),
        )
        .values(
            case_reference=None,
            danger_lat=None,
            danger_lon=None,
            current_lat=None,
            current_lon=None,
            excluded_location_ids=[],
            purged_at=now,
        )
    ))
    replays = rowcount(session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - IDEMPOTENCY_WINDOW)
    ))
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
    )
    return PurgeResult(requests=erased, idempotency_keys=replays)
