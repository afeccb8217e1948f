"""What the placement tests check in the database: nothing changed, nothing booked twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.models import (
    AuditEvent,
    Hold,
    IdempotencyKey,
    Placement,
    PlacementRequest,
    Unit,
    UnitChange,
)


def snapshot(session: Session) -> dict:
    """Return every row a placement transition may touch, to compare before and after."""
    session.expire_all()
    return {
        "units": sorted(session.execute(
            select(Unit.id, Unit.status, Unit.held_until, Unit.version)).all()),
        "holds": sorted(session.execute(
            select(Hold.id, Hold.status, Hold.ended_at, Hold.expires_at)).all()),
        "placements": sorted(session.execute(
            select(Placement.id, Placement.ended_at)).all()),
        "requests": sorted(session.execute(
            select(PlacementRequest.id, PlacementRequest.status,
                   PlacementRequest.closed_at)).all()),
        "unit_changes": session.scalar(select(func.count()).select_from(UnitChange)),
        "audit_events": session.scalar(select(func.count()).select_from(AuditEvent)),
        "idempotency_keys": session.scalar(select(func.count()).select_from(IdempotencyKey)),
    }


def booking_problems(session: Session, now: datetime) -> list[str]:
    """Return every way the database breaks "never booked twice" (empty when sound).

    At most one active hold and one open placement per unit and per request, and every
    unit's status agrees with them: held ⇔ one active hold whose expiry it carries,
    occupied ⇔ one open placement.
    """
    problems = []
    session.expire_all()
    for column in (Hold.unit_id, Hold.request_id):
        for value, count in session.execute(
            select(column, func.count()).where(Hold.status == "active").group_by(column)
            .having(func.count() > 1)
        ):
            problems.append(f"{count} active holds on {column.key} {value}")
    for unit_id, count in session.execute(
        select(Placement.unit_id, func.count()).where(Placement.ended_at.is_(None))
        .group_by(Placement.unit_id).having(func.count() > 1)
    ):
        problems.append(f"{count} open placements on unit {unit_id}")
    for request_id, count in session.execute(
        select(Placement.request_id, func.count()).group_by(Placement.request_id)
        .having(func.count() > 1)
    ):
        problems.append(f"{count} placements for request {request_id}")
    active = {h.unit_id: h for h in session.scalars(select(Hold).where(Hold.status == "active"))}
    open_units = set(session.scalars(select(Placement.unit_id)
                                     .where(Placement.ended_at.is_(None))))
    for unit in session.scalars(select(Unit)):
        hold = active.get(unit.id)
        if unit.status == "held":
            if hold is None or hold.expires_at != unit.held_until:
                problems.append(f"unit {unit.id} is held without its active hold")
        elif hold is not None and hold.expires_at > now:
            problems.append(f"unit {unit.id} is {unit.status} under an active hold")
        if (unit.status == "occupied") != (unit.id in open_units):
            problems.append(f"unit {unit.id} is {unit.status}; open placement: "
                            f"{unit.id in open_units}")
    return problems
