"""Confirm turns a hold into a placement (address disclosed, audited); discharge ends it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import AuditEvent, Hold, PlacementRequest, Unit
from shelter_match.services import holds, placements, requests
from tests.factories import make_caller, make_location, make_request, principal_of
from tests.placement_checks import booking_problems, snapshot


@pytest.fixture
def held(session, clock):
    """An active hold on a 4-bed unit in Utrecht for a family of three from Schiedam."""
    worker = make_caller(session, clock, "crisis_worker")
    location = make_location(session, clock, units=(("B", 4),), address="Geheime Laan 7")
    unit = session.scalars(select(Unit).where(Unit.location_id == location.id)).one()
    request = make_request(session, clock, worker, adults=1, children=2)
    me = principal_of(session, worker)
    hold = holds.create_hold(session, request.id, unit.id, actor=me, now=clock.now())
    return me, location, unit, request, hold


def test_confirm_places_the_household_and_audits_the_disclosure(session, clock, held):
    me, location, unit, request, hold = held
    clock.advance(minutes=12)
    view = placements.confirm_hold(session, hold.id, actor=me, now=clock.now())
    placement = view.placement
    assert view.show_address and view.location.address == "Geheime Laan 7"
    assert (placement.origin_region_code, placement.destination_region_code) == ("GM0599",
                                                                                 "GM0344")
    assert placement.household_size == 3 and placement.started_at == clock.now()
    session.expire_all()
    assert session.get(Unit, unit.id).status == "occupied"
    assert session.get(Unit, unit.id).held_until is None
    assert session.get(Hold, hold.id).status == "confirmed"
    assert session.get(PlacementRequest, request.id).status == "placed"
    assert requests.view_request(session, request.id, actor=me,
                                 now=clock.now()).placement_id == placement.id
    disclosed = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "address.disclosed")).one()
    assert (disclosed.actor_id, disclosed.object_id) == (me.user_id, location.id)
    assert "Geheime" not in str(disclosed.detail)
    assert booking_problems(session, clock.now()) == []


def test_confirm_twice_or_after_expiry_is_409_and_changes_nothing(session, clock, held):
    me, _, _, request, hold = held
    placements.confirm_hold(session, hold.id, actor=me, now=clock.now())
    before = snapshot(session)
    with pytest.raises(Conflict, match="confirmed"):
        placements.confirm_hold(session, hold.id, actor=me, now=clock.now())
    with pytest.raises(Conflict, match="confirmed"):
        holds.release_hold(session, hold.id, actor=me, now=clock.now())
    with pytest.raises(Conflict, match="placed"):
        holds.cancel_request(session, request.id, actor=me, now=clock.now())
    with pytest.raises(Conflict, match="placed"):
        holds.create_hold(session, request.id, "any", actor=me, now=clock.now())
    assert snapshot(session) == before


def test_who_may_confirm(session, clock, held):
    _, location, _, _, hold = held
    stranger = principal_of(session, make_caller(session, clock, "crisis_worker"))
    other_coordinator = principal_of(session, make_caller(
        session, clock, "coordinator", location_ids=(make_location(session, clock).id,)))
    before = snapshot(session)
    for actor in (stranger, other_coordinator):
        with pytest.raises(NotFound):
            placements.confirm_hold(session, hold.id, actor=actor, now=clock.now())
    assert snapshot(session) == before
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(location.id,)))
    view = placements.confirm_hold(session, hold.id, actor=coordinator, now=clock.now())
    assert view.placement.created_by == coordinator.user_id


def test_discharge_frees_the_unit_once(session, clock, held):
    me, location, unit, _, hold = held
    placement = placements.confirm_hold(session, hold.id, actor=me, now=clock.now()).placement
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(location.id,)))
    clock.advance(days=9)
    with pytest.raises(NotFound):  # a crisis worker does not manage the location
        placements.discharge(session, placement.id, actor=me, now=clock.now())
    for ended_at, message in ((placement.started_at - timedelta(minutes=1), "before"),
                              (clock.now() + timedelta(minutes=5), "future")):
        with pytest.raises(ValidationFailed, match="ended_at") as caught:
            placements.discharge(session, placement.id, actor=coordinator, now=clock.now(),
                                 ended_at=ended_at)
        assert message in caught.value.errors["ended_at"][0]
    yesterday = clock.now() - timedelta(days=1)
    view = placements.discharge(session, placement.id, actor=coordinator, now=clock.now(),
                                ended_at=yesterday)
    assert view.placement.ended_at == yesterday and view.placement.ended_by == coordinator.user_id
    session.expire_all()
    assert session.get(Unit, unit.id).status == "free"
    before = snapshot(session)
    with pytest.raises(Conflict, match="ended already"):
        placements.discharge(session, placement.id, actor=coordinator, now=clock.now())
    assert snapshot(session) == before
    assert booking_problems(session, clock.now()) == []


def test_placements_are_listed_to_their_locations_coordinators(session, clock, held):
    me, location, _, _, hold = held
    placement = placements.confirm_hold(session, hold.id, actor=me, now=clock.now()).placement
    ours = principal_of(session, make_caller(session, clock, "coordinator",
                                             location_ids=(location.id,)))
    theirs = principal_of(session, make_caller(session, clock, "coordinator",
                                               location_ids=(make_location(session, clock).id,)))
    admin = principal_of(session, make_caller(session, clock, "admin"))
    assert [v.placement.id for v in placements.list_placements(session, actor=ours)] == [
        placement.id]
    assert placements.list_placements(session, actor=theirs) == []
    assert placement.id in {v.placement.id for v in placements.list_placements(session,
                                                                               actor=admin)}
    with pytest.raises(NotFound):
        placements.list_placements(session, actor=theirs, location_id=location.id)
    with pytest.raises(NotFound):
        placements.get_placement(session, placement.id, actor=theirs)
