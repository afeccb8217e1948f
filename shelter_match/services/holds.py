"""Holds: a unit kept for one request while the crisis worker phones; never two at once.

The state changes themselves (hold, release, expiry) are transitions of unit_state; this
module decides for the request: it locks the request first (lock order: request, then
unit, then hold), checks the rules, and lists and shows holds to those who may see them.
Every command runs in a savepoint (shelter_match.db.command): a refused one (409) leaves
nothing changed, even when the caller goes on using the session.

Time is data: a hold whose expires_at has passed is expired in every read, and its unit
is free (unit_state.effective_status); the sweeper only writes down what is already true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import HOLD_STATUSES, OUTCOMES, Hold, Location, PlacementRequest, Unit
from shelter_match.services import audit, unit_state
from shelter_match.services.auth import Principal
from shelter_match.services.intake_phone import IntakePhone, disclose_for_hold
from shelter_match.services.policy import get_policy
from shelter_match.services.request_access import (
    in_organisation_sql,
    may_see,
)
from shelter_match.services.requests import (
    OPEN_STATUSES,
    get_request,
    lock_open_request,
)
from shelter_match.services.unit_state import SweepResult, active_hold_sql, hold_status

__all__ = ["SweepResult", "hold_status"]


@dataclass
class HoldView:
    """A hold as its reader sees it at `now` (an active hold past expires_at is expired)."""

    hold: Hold
    status: str
    request: PlacementRequest
    unit: Unit
    location: Location
    # The location's intake line, only for the crisis worker of the request (audited).
    intake_phone: IntakePhone | None = None

    @property
    def extendable(self) -> bool:
        """Whether the hold may still be extended (active and never extended)."""
        return self.status == "active" and self.hold.extended_at is None


@command
def create_hold(
    session: Session, request_id: str, unit_id: str, *, actor: Principal, now: datetime
) -> Hold:
    """Hold a unit for a request for policy.hold_minutes; 409 unless both are free for it."""
    from shelter_match.services.proposals import unit_unsuitability

    request = get_request(session, request_id, actor=actor)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"The request is {request.status}; it cannot be held.")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise ValidationFailed({"unit_id": ["Unknown unit."]})
    location = session.get(Location, unit.location_id)
    assert location is not None
    policy = get_policy(session)
    expires_at = now + timedelta(minutes=policy.hold_minutes)
    # 1. The request: lock it, so that she never gets two holds from two clicks.
    if not lock_open_request(session, request.id):
        raise Conflict("The request is no longer open.")
    if session.scalar(select(Hold.id).where(Hold.request_id == request.id,
                                            active_hold_sql(now))) is not None:
        raise Conflict("The request has an active hold already; release it first.")
    # 2. The rules, exactly as the proposals apply them (policy may have changed).
    reason = unit_unsuitability(session, request, unit, location, now=now)
    if reason is not None:
        raise Conflict(f"The unit does not fit this request: {reason}.", reason=reason)
    # 3. The unit: free → held, one conditional UPDATE; of many takers exactly one wins.
    return unit_state.hold(session, request, unit.id, expires_at=expires_at, actor=actor,
                           now=now)


def may_see_hold(actor: Principal, hold: Hold, request: PlacementRequest) -> bool:
    """Return whether `actor` may see a hold: its request's organisation, its location's
    coordinator, an admin."""
    return (hold.created_by == actor.user_id or may_see(actor, request)
            or actor.manages_location(hold.location_id))


def get_hold(session: Session, hold_id: str, *, actor: Principal) -> tuple[Hold, PlacementRequest]:
    """Return a hold the actor may see and its request; 404 for any other."""
    hold = session.get(Hold, hold_id)
    request = session.get(PlacementRequest, hold.request_id) if hold else None
    if hold is None or request is None or not may_see_hold(actor, hold, request):
        raise NotFound("No such hold.")
    return hold, request


@command
def release_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime) -> Hold:
    """Release an active hold; its unit becomes free and the request open again."""
    hold, _request = get_hold(session, hold_id, actor=actor)
    status = hold_status(hold, now)
    if status != "active":
        raise Conflict(f"The hold is {status}; only an active hold can be released.")
    unit_state.release(session, hold, actor=actor, now=now)
    return hold


@command
def extend_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime) -> Hold:
    """Extend an active hold once by policy.hold_extension_minutes; 409 if expired or twice.

    The new expiry counts from when the hold would have run out, not from now: extending
    early gives no more than extending late. Works for offers as for any hold.
    """
    hold, _request = get_hold(session, hold_id, actor=actor)
    status = hold_status(hold, now)
    if status != "active":
        raise Conflict(f"The hold is {status}; only an active hold can be extended.")
    minutes = get_policy(session).hold_extension_minutes
    unit_state.extend(session, hold, expires_at=hold.expires_at + timedelta(minutes=minutes),
                      actor=actor, now=now)
    return hold


@command
def cancel_request(
    session: Session, request_id: str, *, actor: Principal, now: datetime,
    outcome: str = "other",
) -> PlacementRequest:
    """Close an open request as cancelled and release its active hold; 409 once placed."""
    if outcome not in OUTCOMES:
        raise ValidationFailed({"outcome": [f"Must be one of: {', '.join(OUTCOMES)}."]})
    request = get_request(session, request_id, actor=actor)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"The request is {request.status}; it cannot be cancelled.")
    if not lock_open_request(session, request.id, status="cancelled",
                             closed_at=now, outcome=outcome):
        raise Conflict("The request is no longer open.")
    hold = session.scalar(select(Hold).where(Hold.request_id == request.id,
                                             active_hold_sql(now)))
    if hold is not None:
        unit_state.release(session, hold, actor=actor, now=now, cause="cancel")
    unit_state.expire_holds_of_request(session, request.id, now=now)
    audit.record(session, actor=actor, action="request.cancelled",
                 object_type="placement_request", object_id=request.id, now=now,
                 outcome=outcome)
    session.refresh(request)
    return request


def _status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    if status == "active":
        return active_hold_sql(now)
    if status == "expired":
        return or_(Hold.status == "expired",
                   and_(Hold.status == "active", Hold.expires_at <= now))
    return Hold.status == status


def list_holds(
    session: Session, *, actor: Principal, now: datetime, location_id: str | None = None,
    status: str | None = "active", limit: int = 500,
) -> list[HoldView]:
    """Return the holds the actor may see, newest first: who is on the way, and where.

    A coordinator sees the holds at her locations, a crisis worker her own and her
    organisation's, an admin all.
    """
    if status is not None and status not in HOLD_STATUSES:
        raise ValidationFailed({"status": [f"Must be one of: {', '.join(HOLD_STATUSES)}."]})
    query = (
        select(Hold, PlacementRequest, Unit, Location)
        .join(PlacementRequest, PlacementRequest.id == Hold.request_id)
        .join(Unit, Unit.id == Hold.unit_id)
        .join(Location, Location.id == Hold.location_id)
        .order_by(Hold.created_at.desc(), Hold.id)
        .limit(limit)
    )
    if location_id is not None:
        if not (actor.manages_location(location_id) or actor.role == "crisis_worker"):
            raise NotFound("No such location.")
        query = query.where(Hold.location_id == location_id)
    if actor.role == "coordinator":
        query = query.where(Hold.location_id.in_(sorted(actor.location_ids)))
    elif not actor.is_admin:
        query = query.where(or_(Hold.created_by == actor.user_id, in_organisation_sql(actor)))
    if status is not None:
        query = query.where(_status_condition(status, now))
    return [HoldView(hold, hold_status(hold, now), request, unit, location)
            for hold, request, unit, location in session.execute(query).all()]


def view_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime,
              show_phone: str | None = None) -> HoldView:
    """Return one hold the actor may see, with its status at `now`.

    `show_phone` names where the view is shown ("hold", "hold_page"): the request's crisis
    worker then gets the location's intake line while the hold is active, audited.
    """
    hold, request = get_hold(session, hold_id, actor=actor)
    unit = session.get_one(Unit, hold.unit_id)
    location = session.get_one(Location, hold.location_id)
    status = hold_status(hold, now)
    phone = None
    if show_phone is not None and status == "active":
        phone = disclose_for_hold(session, hold, request, actor=actor, now=now,
                                  context=show_phone)
    return HoldView(hold, status, request, unit, location, phone)


def sweep_expired(session: Session, *, now: datetime) -> SweepResult:
    """Write down every hold past expires_at as expired and free its unit (tidying only)."""
    return unit_state.expire_due(session, now=now)
