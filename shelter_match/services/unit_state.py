"""The state of a unit at a moment, and the history of its changes.

Time is data: a unit whose status is `held` but whose `held_until` has passed is free,
in every query, whether or not the sweeper has run. Every service that reads or writes a
unit's status goes through here so that this rule has one home.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, or_, update
from sqlalchemy.orm import Session

from shelter_match.models import Location, Unit, UnitChange
from shelter_match.services.auth import Principal


def effective_status(unit: Unit, now: datetime) -> str:
    """Return the unit's status at `now` (an expired hold reads as free)."""
    if unit.status == "held" and unit.held_until is not None and unit.held_until <= now:
        return "free"
    return unit.status


def effective_status_sql(now: datetime) -> ColumnElement[str]:
    """Return the SQL expression of `effective_status`, for filters and aggregates."""
    return case(
        (and_(Unit.status == "held", Unit.held_until <= now), "free"),
        else_=Unit.status,
    )


def is_free_sql(now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition that a unit is free at `now`."""
    return or_(Unit.status == "free", and_(Unit.status == "held", Unit.held_until <= now))


def record_change(
    session: Session,
    *,
    unit_id: str,
    location_id: str,
    now: datetime,
    actor: Principal | None,
    cause: str,
    from_status: str | None,
    to_status: str,
    from_beds: int | None,
    to_beds: int,
) -> None:
    """Append one row to the unit history (who, when, from what to what, why)."""
    session.add(
        UnitChange(
            unit_id=unit_id,
            location_id=location_id,
            changed_at=now,
            changed_by=actor.user_id if actor else None,
            cause=cause,
            from_status=from_status,
            to_status=to_status,
            from_beds=from_beds,
            to_beds=to_beds,
        )
    )


def mark_availability_checked(session: Session, location_id: str, now: datetime) -> None:
    """Move the location's availability_updated_at to `now`.

    Only a coordinator's change or confirmation does this: a hold or placement made by the
    system says nothing about whether the location's other units are still right.
    """
    session.execute(
        update(Location).where(Location.id == location_id).values(availability_updated_at=now)
    )
