"""Holds: atomic, one per unit and per request, expired by time alone; the sweeper tidies."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import AuditEvent, Hold, Unit, UnitChange
from shelter_match.services import holds, placements, requests
from shelter_match.services.policy import get_policy, replace_policy
from shelter_match.services.unit_state import effective_status
from tests.factories import make_caller, make_location, make_request, principal_of
from tests.placement_checks import booking_problems, snapshot


@pytest.fixture
def world(session, clock):
    """A crisis worker with a request near Schiedam and a safe location in Utrecht."""
    worker = make_caller(session, clock, "crisis_worker")
    location = make_location(session, clock, units=(("A", 1), ("B", 4)))
    units = {u.label: u for u in session.scalars(select(Unit).where(
        Unit.location_id == location.id))}
    request = make_request(session, clock, worker)
    return worker, principal_of(session, worker), location, units, request


def test_hold_takes_the_unit_until_hold_minutes(session, clock, world):
    _, me, location, units, request = world
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    unit = session.get(Unit, units["A"].id)
    assert hold.status == "active" and hold.location_id == location.id
    assert hold.expires_at == clock.now() + timedelta(minutes=30)
    assert (unit.status, unit.held_until, unit.version) == ("held", hold.expires_at, 2)
    assert requests.view_request(session, request.id, actor=me, now=clock.now()).status == "held"
    change = session.scalars(select(UnitChange).where(UnitChange.unit_id == unit.id)
                             .order_by(UnitChange.id.desc())).first()
    assert (change.cause, change.from_status, change.to_status) == ("hold", "free", "held")
    assert session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == hold.id)).all() == ["hold.created"]
    assert booking_problems(session, clock.now()) == []


def test_a_request_never_gets_two_holds(session, clock, world):
    _, me, _, units, request = world
    holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    before = snapshot(session)
    with pytest.raises(Conflict, match="active hold"):
        holds.create_hold(session, request.id, units["B"].id, actor=me, now=clock.now())
    assert snapshot(session) == before


def test_a_held_unit_cannot_be_held_again(session, clock, world):
    worker, me, _, units, request = world
    holds.create_hold(session, request.id, units["B"].id, actor=me, now=clock.now())
    other = make_request(session, clock, worker)
    before = snapshot(session)
    with pytest.raises(Conflict, match="not free"):
        holds.create_hold(session, other.id, units["B"].id, actor=me, now=clock.now())
    assert snapshot(session) == before


def test_a_unit_that_does_not_fit_is_refused_like_in_the_proposals(session, clock, world):
    _, me, _, _, request = world
    near = make_location(session, clock, region_code="GM0599", lat=51.915, lon=4.40,
                         address="Dichtbij 1, Schiedam")
    small = make_location(session, clock, units=(("S", 1),))
    unit_near = session.scalars(select(Unit).where(Unit.location_id == near.id)).first()
    unit_small = session.scalars(select(Unit).where(Unit.location_id == small.id)).one()
    family = make_request(session, clock, world[0], adults=1, children=2)
    before = snapshot(session)
    with pytest.raises(Conflict) as caught:
        holds.create_hold(session, request.id, unit_near.id, actor=me, now=clock.now())
    assert caught.value.extra["reason"] == "too_close_to_danger"
    with pytest.raises(Conflict) as caught:
        holds.create_hold(session, family.id, unit_small.id, actor=me, now=clock.now())
    assert caught.value.extra["reason"] == "no_free_unit_large_enough"
    assert snapshot(session) == before


def test_closed_and_unknown_units(session, clock, world):
    _, me, _, units, request = world
    session.get(Unit, units["A"].id).status = "closed"
    session.flush()
    with pytest.raises(Conflict):
        holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    with pytest.raises(ValidationFailed) as caught:
        holds.create_hold(session, request.id, "no-such-unit", actor=me, now=clock.now())
    assert "unit_id" in caught.value.errors


def test_another_crisis_workers_request_is_not_found(session, clock, world):
    _, _, _, units, request = world
    stranger = principal_of(session, make_caller(session, clock, "crisis_worker"))
    with pytest.raises(NotFound):
        holds.create_hold(session, request.id, units["A"].id, actor=stranger, now=clock.now())


def test_release_frees_the_unit_and_reopens_the_request(session, clock, world):
    _, me, _, units, request = world
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    clock.advance(minutes=5)
    released = holds.release_hold(session, hold.id, actor=me, now=clock.now())
    unit = session.get(Unit, units["A"].id)
    assert released.status == "released" and released.ended_at == clock.now()
    assert (unit.status, unit.held_until, unit.version) == ("free", None, 3)
    assert requests.view_request(session, request.id, actor=me, now=clock.now()).status == "open"
    before = snapshot(session)
    with pytest.raises(Conflict):
        holds.release_hold(session, hold.id, actor=me, now=clock.now())
    with pytest.raises(Conflict):
        placements.confirm_hold(session, hold.id, actor=me, now=clock.now())
    assert snapshot(session) == before
    # The request may be held again, the same unit too.
    holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    assert booking_problems(session, clock.now()) == []


def test_an_expired_hold_is_expired_everywhere_without_a_sweeper(session, clock, world):
    worker, me, _, units, request = world
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    clock.advance(minutes=30)  # expires_at is not in the future any more
    now = clock.now()
    assert holds.hold_status(hold, now) == "expired"
    assert effective_status(session.get(Unit, units["A"].id), now) == "free"
    assert requests.view_request(session, request.id, actor=me, now=now).status == "open"
    assert [v.request.id for v in requests.list_requests(session, actor=me, now=now,
                                                           status="open")] == [request.id]
    before = snapshot(session)
    with pytest.raises(Conflict, match="expired"):
        placements.confirm_hold(session, hold.id, actor=me, now=now)
    with pytest.raises(Conflict, match="expired"):
        holds.release_hold(session, hold.id, actor=me, now=now)
    assert snapshot(session) == before
    # Another request takes the unit; the stale hold row is written down as expired.
    other = make_request(session, clock, worker)
    second = holds.create_hold(session, other.id, units["A"].id, actor=me, now=now)
    session.refresh(hold)
    assert hold.status == "expired" and hold.ended_at == hold.expires_at
    assert second.status == "active"
    causes = session.scalars(select(UnitChange.cause).where(UnitChange.unit_id == units["A"].id)
                             .order_by(UnitChange.id)).all()
    assert causes == ["created", "hold", "expire", "hold"]
    # And the first request can hold again too.
    holds.create_hold(session, request.id, units["B"].id, actor=me, now=now)
    assert booking_problems(session, now) == []


def test_sweep_writes_down_expired_holds_and_frees_units(session, clock, world):
    _, me, _, units, request = world
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    assert holds.sweep_expired(session, now=clock.now()) == holds.SweepResult(0, 0)
    clock.advance(minutes=31)
    result = holds.sweep_expired(session, now=clock.now())
    assert result == holds.SweepResult(holds=1, units=1)
    session.expire_all()
    unit = session.get(Unit, units["A"].id)
    assert (unit.status, unit.held_until, unit.version) == ("free", None, 3)
    assert session.get(Hold, hold.id).status == "expired"
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == hold.id)
                           .order_by(AuditEvent.id)).all() == ["hold.created", "hold.expired"]
    assert holds.sweep_expired(session, now=clock.now()) == holds.SweepResult(0, 0)
    assert booking_problems(session, clock.now()) == []


def test_cancel_releases_the_hold_and_closes_the_request(session, clock, world):
    _, me, _, units, request = world
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    cancelled = holds.cancel_request(session, request.id, actor=me, now=clock.now())
    assert (cancelled.status, cancelled.closed_at) == ("cancelled", clock.now())
    session.refresh(hold)
    assert hold.status == "cancelled"
    assert session.get(Unit, units["A"].id).status == "free"
    before = snapshot(session)
    for attempt in (
        lambda: holds.cancel_request(session, request.id, actor=me, now=clock.now()),
        lambda: holds.create_hold(session, request.id, units["B"].id, actor=me, now=clock.now()),
    ):
        with pytest.raises(Conflict, match="cancelled"):
            attempt()
    assert snapshot(session) == before


def test_a_policy_change_never_alters_a_hold_already_made(session, clock, world):
    _, me, _, units, request = world
    admin = principal_of(session, make_caller(session, clock, "admin"))
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    document = get_policy(session).as_document() | {"hold_minutes": 5}
    replace_policy(session, document, actor=admin, now=clock.now())
    clock.advance(minutes=10)
    assert holds.hold_status(hold, clock.now()) == "active"
    other = make_request(session, clock, world[0])
    short = holds.create_hold(session, other.id, units["B"].id, actor=me, now=clock.now())
    assert short.expires_at == clock.now() + timedelta(minutes=5)


def test_coordinators_see_the_holds_at_their_locations_only(session, clock, world):
    _, me, location, units, request = world
    elsewhere = make_location(session, clock)
    ours = principal_of(session, make_caller(session, clock, "coordinator",
                                             location_ids=(location.id,)))
    theirs = principal_of(session, make_caller(session, clock, "coordinator",
                                               location_ids=(elsewhere.id,)))
    hold = holds.create_hold(session, request.id, units["A"].id, actor=me, now=clock.now())
    assert [v.hold.id for v in holds.list_holds(session, actor=ours, now=clock.now())] == [
        hold.id]
    assert holds.list_holds(session, actor=theirs, now=clock.now()) == []
    with pytest.raises(NotFound):
        holds.list_holds(session, actor=theirs, now=clock.now(), location_id=location.id)
    with pytest.raises(NotFound):
        holds.view_hold(session, hold.id, actor=theirs, now=clock.now())
    clock.advance(hours=1)
    assert holds.list_holds(session, actor=ours, now=clock.now()) == []
    expired = holds.list_holds(session, actor=ours, now=clock.now(), status="expired")
    assert [(v.hold.id, v.status) for v in expired] == [(hold.id, "expired")]
