"""The waiting list and the matcher's offers, on both engines (CONTRACT 4.4)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shelter_match.errors import Conflict
from shelter_match.models import (
    AuditEvent,
    Hold,
    ImmediateEscalation,
    MatcherWakeup,
    PlacementRequest,
    Unit,
)
from shelter_match.services import holds, placements, requests, waitlist
from shelter_match.services.availability import update_unit
from tests.factories import make_caller, make_location, make_request, principal_of


@pytest.fixture
def people(session, clock):
    worker = make_caller(session, clock, "crisis_worker", organisation="VT Rijnmond")
    colleague = make_caller(session, clock, "crisis_worker", organisation="VT Rijnmond")
    return {"worker": worker, "colleague": colleague,
            "as_worker": principal_of(session, worker),
            "as_colleague": principal_of(session, colleague)}


@pytest.fixture
def north(session, clock):
    """A rood location in Groningen, far from Schiedam, whose two units are closed."""
    location = make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                             safety_level="rood", lat=53.22, lon=6.57,
                             units=(("N1", 4), ("N2", 4)))
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    units = {u.label: u.id for u in session.scalars(
        select(Unit).where(Unit.location_id == location.id))}
    as_coordinator = principal_of(session, coordinator)
    for unit_id in units.values():
        update_unit(session, unit_id, actor=as_coordinator, now=clock.now(), status="closed")
    return {"location": location, "units": units, "coordinator": as_coordinator}


def free(session, clock, north, label):
    update_unit(session, north["units"][label], actor=north["coordinator"], now=clock.now(),
                status="free")


def waiting_request(session, clock, people, **kwargs):
    request = make_request(session, clock, people["worker"], **kwargs)
    waitlist.join_waitlist(session, request.id, actor=people["as_worker"], now=clock.now())
    return request


def status_of(session, clock, request, people, who="as_worker"):
    return requests.view_request(session, request.id, actor=people[who], now=clock.now())


def test_join_twice_is_idempotent_and_closed_requests_are_409(session, clock, people, north):
    request = make_request(session, clock, people["worker"], risk_level="rood")
    first = waitlist.join_waitlist(session, request.id, actor=people["as_worker"],
                                   now=clock.now())
    assert first.status == "waiting" and first.request.waiting_since == clock.now()
    clock.advance(minutes=5)
    again = waitlist.join_waitlist(session, request.id, actor=people["as_colleague"],
                                   now=clock.now())
    assert again.status == "waiting"
    assert again.request.waiting_since == first.request.waiting_since  # her place is kept
    joined = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "request.waitlisted"))
    assert joined == 1
    holds.cancel_request(session, request.id, actor=people["as_worker"], now=clock.now(),
                         outcome="own_network")
    with pytest.raises(Conflict):
        waitlist.join_waitlist(session, request.id, actor=people["as_worker"], now=clock.now())
    assert session.get(PlacementRequest, request.id).status == "cancelled"


def test_a_freed_unit_becomes_an_offer_her_colleague_confirms(session, clock, people, north):
    request = waiting_request(session, clock, people, risk_level="rood")
    first = waitlist.run_matcher(session, now=clock.now())
    assert first.matched and first.offers == []  # nothing free: she waits
    assert waitlist.run_matcher(session, now=clock.now()).matched is False  # nothing woke it
    free(session, clock, north, "N1")
    run = waitlist.run_matcher(session, now=clock.now())
    assert [offer.unit_id for offer in run.offers] == [north["units"]["N1"]]
    assert session.scalar(select(func.count()).select_from(MatcherWakeup)) == 0
    view = status_of(session, clock, request, people, who="as_colleague")
    assert view.status == "offered"
    assert view.offer.unit_id == north["units"]["N1"]
    assert view.offer.location_id == north["location"].id
    assert (view.offer.expires_at - clock.now()).total_seconds() == 30 * 60
    listed = requests.list_requests(session, actor=people["as_worker"], now=clock.now(),
                                    status="offered")
    assert [v.request.id for v in listed] == [request.id]
    placed = placements.confirm_hold(session, view.offer.hold_id,
                                     actor=people["as_colleague"], now=clock.now())
    assert placed.placement.unit_id == north["units"]["N1"]
    assert session.get(PlacementRequest, request.id).status == "placed"


def test_a_declined_unit_is_never_offered_again_but_another_is(session, clock, people, north):
    request = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N1")
    offer = waitlist.run_matcher(session, now=clock.now()).offers[0]
    holds.release_hold(session, offer.id, actor=people["as_worker"], now=clock.now())
    assert status_of(session, clock, request, people).status == "waiting"
    run = waitlist.run_matcher(session, now=clock.now())  # the release woke it
    assert run.matched and run.offers == []
    free(session, clock, north, "N2")
    again = waitlist.run_matcher(session, now=clock.now()).offers
    assert [o.unit_id for o in again] == [north["units"]["N2"]]


def test_an_expired_offer_escalates_once_and_may_be_offered_again(session, clock, people,
                                                                  north):
    request = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N1")
    offer = waitlist.run_matcher(session, now=clock.now()).offers[0]
    clock.advance(minutes=31)
    assert status_of(session, clock, request, people).status == "waiting"  # time is data
    run = waitlist.run_matcher(session, now=clock.now())
    assert run.escalated == 1
    assert [o.unit_id for o in run.offers] == [north["units"]["N1"]]
    escalations = session.scalars(select(ImmediateEscalation)).all()
    assert [(e.request_id, e.hold_id, e.why) for e in escalations] == [
        (request.id, offer.id, "offer_expired")]
    assert waitlist.run_matcher(session, now=clock.now()).escalated == 0  # once


def test_confirming_an_offer_after_it_expired_is_409(session, clock, people, north):
    request = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N1")
    offer = waitlist.run_matcher(session, now=clock.now()).offers[0]
    clock.advance(minutes=30)
    with pytest.raises(Conflict):
        placements.confirm_hold(session, offer.id, actor=people["as_worker"], now=clock.now())
    assert session.get(PlacementRequest, request.id).status == "waiting"


def test_no_offer_to_a_cancelled_request(session, clock, people, north):
    request = waiting_request(session, clock, people, risk_level="rood")
    holds.cancel_request(session, request.id, actor=people["as_worker"], now=clock.now())
    free(session, clock, north, "N1")
    run = waitlist.run_matcher(session, now=clock.now())
    assert run.offers == [] and run.waiting == 0
    # A run that read her as waiting just before the cancel is refused when it offers.
    with pytest.raises(Conflict):
        waitlist.make_offer(session, request, north["units"]["N1"], now=clock.now(),
                            expires_at=clock.now().replace(year=2099))
    assert session.scalar(select(func.count()).select_from(Hold).where(Hold.offer)) == 0
    assert session.get(Unit, north["units"]["N1"]).status == "free"


def test_an_offer_cancelled_with_its_request_frees_the_unit(session, clock, people, north):
    request = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N1")
    offer = waitlist.run_matcher(session, now=clock.now()).offers[0]
    holds.cancel_request(session, request.id, actor=people["as_colleague"], now=clock.now())
    assert session.get(Hold, offer.id).status == "cancelled"
    assert session.get(Unit, north["units"]["N1"]).status == "free"


def test_rood_first_then_longest_waiting_for_the_one_bed(session, clock, people, north):
    groen = waiting_request(session, clock, people, risk_level="groen")
    clock.advance(minutes=1)
    oranje_old = waiting_request(session, clock, people, risk_level="oranje")
    clock.advance(minutes=1)
    oranje_new = waiting_request(session, clock, people, risk_level="oranje")
    free(session, clock, north, "N1")
    run = waitlist.run_matcher(session, now=clock.now())
    assert [o.request_id for o in run.offers] == [oranje_old.id]
    clock.advance(minutes=1)
    rood = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N2")
    run = waitlist.run_matcher(session, now=clock.now())
    assert [o.request_id for o in run.offers] == [rood.id]
    assert {v.request.id: v.status for v in waitlist.list_waitlist(
        session, actor=people["as_worker"], now=clock.now())} == {
        rood.id: "offered", oranje_old.id: "offered", oranje_new.id: "waiting",
        groen.id: "waiting"}


def test_the_usual_rules_hold_for_offers(session, clock, people, north):
    # Too close to the danger for rood (Schiedam): never offered, whatever waits.
    near = make_location(session, clock, name="Opvang Schiedam", region_code="GM0599",
                         safety_level="rood", lat=51.92, lon=4.40, units=(("S1", 4),))
    request = waiting_request(session, clock, people, risk_level="rood")
    run = waitlist.run_matcher(session, now=clock.now())  # the new unit woke it
    assert run.matched and run.offers == []
    big = waiting_request(session, clock, people, risk_level="oranje", adults=2, children=3)
    free(session, clock, north, "N1")  # 4 beds: too small for five
    offers = waitlist.run_matcher(session, now=clock.now()).offers
    assert [(o.request_id, o.unit_id) for o in offers] == [(request.id, north["units"]["N1"])]
    assert near.id not in {o.location_id for o in offers}
    assert status_of(session, clock, big, people).status == "waiting"


def test_other_organisations_do_not_see_the_waiting_list(session, clock, people, north):
    waiting_request(session, clock, people, risk_level="rood")
    stranger = principal_of(session, make_caller(session, clock, "crisis_worker",
                                                 organisation="VT Utrecht"))
    assert waitlist.list_waitlist(session, actor=stranger, now=clock.now()) == []
    assert len(waitlist.list_waitlist(session, actor=people["as_colleague"],
                                      now=clock.now())) == 1


def test_the_matchers_distance_cache_is_filled_by_one_run_and_used_by_the_next(
        session, clock, people, north):
    """Matcher keeps one DistanceCache for its life: the runs offer as without it."""
    from solver import DistanceCache

    cache = DistanceCache()
    first = waiting_request(session, clock, people, risk_level="rood")
    clock.advance(minutes=1)
    second = waiting_request(session, clock, people, risk_level="rood")
    free(session, clock, north, "N1")
    run = waitlist.run_matcher(session, now=clock.now(), cache=cache)
    assert [(o.request_id, o.unit_id) for o in run.offers] == [(first.id, north["units"]["N1"])]
    assert (len(cache), cache.locations) == (1, 1)  # both from Schiedam: one start point
    free(session, clock, north, "N2")
    run = waitlist.run_matcher(session, now=clock.now(), cache=cache)
    assert [(o.request_id, o.unit_id) for o in run.offers] == [(second.id, north["units"]["N2"])]
    assert (len(cache), cache.locations) == (1, 1)
