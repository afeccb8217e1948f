"""Placements: a confirmed hold becomes a household in a unit, until discharge.

Confirming discloses the location's address to whoever confirms; that disclosure is
audited (who, which location; never the address itself). The state changes are
transitions of unit_state (occupy, discharge); this module locks the request first (the
lock order of every transition: request, then unit, then hold), checks who may act, and
lists placements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.clock import rfc3339
from shelter_match.db import command
from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import Hold, Location, Placement, PlacementRequest, Unit
from shelter_match.services import audit, unit_state
from shelter_match.services.auth import Principal
from shelter_match.services.holds import get_hold
from shelter_match.services.policy import get_policy
from shelter_match.services.request_access import (
    in_organisation,
)
from shelter_match.services.requests import (
    lock_open_request,
)
from shelter_match.services.unit_state import hold_status


@dataclass
class PlacementView:
    placement: Placement
    location: Location
    unit: Unit
    show_address: bool


def may_confirm(actor: Principal, hold: Hold, request: PlacementRequest) -> bool:
    """Return whether `actor` may confirm: who made the hold, a crisis worker of the
    request's organisation (v2: the address is disclosed to her, audited), the location's
    coordinator, an admin."""
    return (hold.created_by == actor.user_id or actor.manages_location(hold.location_id)
            or (actor.role == "crisis_worker" and in_organisation(actor, request)))


@command
def confirm_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime
                 ) -> PlacementView:
    """Turn an active hold into a placement: the unit is occupied, the request placed."""
    hold, request = get_hold(session, hold_id, actor=actor)
    if not may_confirm(actor, hold, request):
        raise NotFound("No such hold.")
    status = hold_status(hold, now)
    if status != "active":
        raise Conflict(f"The hold is {status}; only an active hold can be confirmed. "
                       "Ask for new proposals.")
    location = session.get(Location, hold.location_id)
    assert location is not None
    # Request first, then unit, then hold: the order every transition keeps.
    if not lock_open_request(session, request.id, status="placed", closed_at=now):
        raise Conflict("The request is no longer open.")
    placement = unit_state.occupy(session, hold, request, location, actor=actor, now=now)
    note_address_disclosed(session, actor=actor, location_id=location.id, now=now,
                           placement_id=placement.id)
    session.refresh(request)
    unit = session.get(Unit, hold.unit_id)
    assert unit is not None
    session.refresh(unit)
    return PlacementView(placement, location, unit, show_address=True)


def note_address_disclosed(session: Session, *, actor: Principal, location_id: str,
                           now: datetime, placement_id: str, replayed: bool = False) -> None:
    """Audit that `actor` was shown a location's address (which one; never the address)."""
    detail: dict[str, object] = {"placement_id": placement_id}
    if replayed:
        detail["replayed"] = True
    audit.record(session, actor=actor, action="address.disclosed", object_type="location",
                 object_id=location_id, now=now, **detail)


def view_own_confirmation(session: Session, placement_id: str, *, actor: Principal,
                          now: datetime) -> PlacementView:
    """Return a placement `actor` confirmed herself; with its address (audited) only within
    policy.address_view_minutes of the confirmation, and never after a no-show.

    The page after confirming may be reloaded or come back to while she passes the address
    on by phone; after the window it says where to ask instead. 404 for anyone else's.
    """
    placement = session.get(Placement, placement_id)
    if placement is None or placement.created_by != actor.user_id:
        raise NotFound("No such placement.")
    window = timedelta(minutes=get_policy(session).address_view_minutes)
    show = placement.arrival_status != "no_show" and now - placement.started_at <= window
    location = session.get_one(Location, placement.location_id)
    if show:
        note_address_disclosed(session, actor=actor, location_id=location.id, now=now,
                               placement_id=placement.id, replayed=True)
    return PlacementView(placement, location, session.get_one(Unit, placement.unit_id),
                         show_address=show)


def note_addresses_listed(session: Session, *, actor: Principal,
                          views: list[PlacementView], now: datetime) -> None:
    """Audit that a list of placements showed `actor` their locations' addresses.

    One event per list, counting the locations, as a list of locations is audited: a
    coordinator's list of fifty stays does not write fifty events.
    """
    shown = {view.location.id for view in views if view.show_address}
    if shown:
        audit.record(session, actor=actor, action="location.addresses_listed",
                     object_type="location", object_id=None, now=now,
                     locations=len(shown), placements=len(views))


def may_see_placement(actor: Principal, placement: Placement) -> bool:
    """Return whether `actor` may see a placement: its location's coordinator, an admin."""
    return actor.manages_location(placement.location_id)


def get_placement(session: Session, placement_id: str, *, actor: Principal) -> PlacementView:
    """Return a placement the actor may see; 404 for any other."""
    placement = session.get(Placement, placement_id)
    if placement is None or not may_see_placement(actor, placement):
        raise NotFound("No such placement.")
    return PlacementView(placement, session.get_one(Location, placement.location_id),
                         session.get_one(Unit, placement.unit_id), show_address=True)


@command
def discharge(session: Session, placement_id: str, *, actor: Principal, now: datetime,
              ended_at: datetime | None = None) -> PlacementView:
    """End a placement at `ended_at` (default now); the unit becomes free."""
    view = get_placement(session, placement_id, actor=actor)
    placement = view.placement
    if placement.ended_at is not None:
        raise Conflict("The placement has ended already.")
    ended_at = ended_at or now
    if ended_at.tzinfo is None:
        raise ValidationFailed({"ended_at": ["Give a time zone, e.g. 2026-11-22T09:00:00Z."]})
    if ended_at < placement.started_at:
        raise ValidationFailed({"ended_at": ["Must not be before the placement started "
                                             f"({rfc3339(placement.started_at)})."]})
    if ended_at > now:
        raise ValidationFailed({"ended_at": ["Must not be in the future."]})
    unit_state.discharge(session, placement, ended_at=ended_at, actor=actor, now=now)
    session.refresh(view.unit)
    session.refresh(placement)
    return view


def list_placements(
    session: Session, *, actor: Principal, location_id: str | None = None,
    open_only: bool = False, limit: int = 500, arrival_status: str | None = None,
) -> list[PlacementView]:
    """Return placements at the actor's locations (an admin: all), newest first."""
    query = (
        select(Placement, Location, Unit)
        .join(Location, Location.id == Placement.location_id)
        .join(Unit, Unit.id == Placement.unit_id)
        .order_by(Placement.started_at.desc(), Placement.id)
        .limit(limit)
    )
    if location_id is not None:
        if not actor.manages_location(location_id):
            raise NotFound("No such location.")
        query = query.where(Placement.location_id == location_id)
    elif not actor.is_admin:
        query = query.where(Placement.location_id.in_(sorted(actor.location_ids)))
    if open_only:
        query = query.where(Placement.ended_at.is_(None))
    if arrival_status is not None:
        query = query.where(Placement.arrival_status == arrival_status)
    return [PlacementView(placement, location, unit, show_address=True)
            for placement, location, unit in session.execute(query).all()]
