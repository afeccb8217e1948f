"""Proposals from live availability: safe side of the danger, current policy, no secrets."""

from datetime import timedelta

import pytest
from geopy.distance import geodesic
from sqlalchemy import select

from api.reasons import sentences
from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import Unit
from shelter_match.services import holds, proposals, public_areas
from shelter_match.services.policy import get_policy, replace_policy
from solver import Exclusion
from tests.factories import make_caller, make_location, make_request, principal_of

SCHIEDAM = (51.91917, 4.38889)  # the gazetteer's centre of the gemeente


def place_at(km: float, bearing: float = 60.0) -> tuple[float, float]:
    """Return the point `km` from Schiedam's centre (north-east by default)."""
    point = geodesic(kilometers=km).destination(SCHIEDAM, bearing)
    return point.latitude, point.longitude


def area_km(lat: float, lon: float) -> float:
    """Return the geodesic km from Schiedam's centre to the nearest edge of a point's area."""
    area = public_areas.derive(lat, lon)
    assert area is not None
    return geodesic(SCHIEDAM, (area.lat, area.lon)).km - area.radius_km


def area_at(low: float, high: float) -> tuple[float, float]:
    """Return a point east of Schiedam whose public area's nearest edge lies `low` to `high`
    km from Schiedam's centre (v2: the danger is measured to the public area)."""
    for bearing in (60, 75, 90, 45, 105):
        for tenths in range(int(low * 10), int(high * 10) + 300, 2):
            point = place_at(tenths / 10, bearing)
            if low <= area_km(*point) < high:
                return point
    raise AssertionError(f"no public area {low} to {high} km from Schiedam")


@pytest.fixture
def worker(session, clock):
    caller = make_caller(session, clock, "crisis_worker")
    return caller, principal_of(session, caller)


def units_of(session, location):
    return list(session.scalars(select(Unit).where(Unit.location_id == location.id)
                                .order_by(Unit.label)))


def test_options_are_free_units_large_enough_ranked_best_first(session, clock, worker):
    caller, me = worker
    close = make_location(session, clock, name="Dichtbij", lat=place_at(60)[0],
                          lon=place_at(60)[1],
                          units=(("A", 1), ("B", 3), ("C", 6)))
    farther = make_location(session, clock, name="Verder", lat=place_at(120)[0],
                            lon=place_at(120)[1], units=(("A", 3),))
    request = make_request(session, clock, caller, adults=1, children=2)
    body = proposals.propose_for_request(session, request.id, actor=me, now=clock.now(),
                                         units_per_location=5)
    got = [(o.location_name, o.beds) for o in body.options]
    # The 1-bed room is too small; the exact fit beats 3 spare beds (30 km), which beat
    # 60 km more travel.
    assert got == [("Dichtbij", 3), ("Dichtbij", 6), ("Verder", 3)]
    # By default one option per location: its best-fitting unit.
    body = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert [(o.location_name, o.beds) for o in body.options] == [("Dichtbij", 3), ("Verder", 3)]
    assert [o.rank for o in body.options] == [1, 2]
    costs = [o.cost for o in body.options]
    assert costs == sorted(costs)
    assert body.request_id == request.id and body.generated_at == clock.now()
    # Only units free now: hold the best one and it is gone from the next proposals.
    best = body.options[0].unit_id
    holds.create_hold(session, request.id, best, actor=me, now=clock.now())
    again = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert best not in {o.unit_id for o in again.options}
    # Once the hold expired, the unit is offered again (no sweeper needed).
    clock.advance(minutes=31)
    later = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert later.options[0].unit_id == best
    assert close and farther


def test_the_danger_uncertainty_keeps_options_further_away(session, clock, worker):
    caller, me = worker
    # Rood needs 75 km. A place name (Schiedam, a gemeente) adds its extent, 5.5 km (more than
    # the policy's 5 km), to the 0.8 km rounding.
    # v2: measured to the nearest edge of the location's public area.
    inside = make_location(session, clock, name="Net te dichtbij", safety_level="rood",
                           lat=area_at(76, 81)[0], lon=area_at(76, 81)[1])
    outside = make_location(session, clock, name="Ver genoeg", safety_level="rood",
                            lat=area_at(82, 85.5)[0], lon=area_at(82, 85.5)[1])
    by_name = make_request(session, clock, caller, risk_level="rood")
    body = proposals.propose_for_request(session, by_name.id, actor=me, now=clock.now())
    names = {o.location_name for o in body.options}
    assert names == {"Ver genoeg"}
    assert Exclusion("too_close_to_danger", 1) in body.excluded
    option = body.options[0]
    true_km = area_km(outside.lat, outside.lon)
    # Safe side: never more than the distance from anywhere in Schiedam (5.5 km around its
    # centre), and no more than rounding (0.8 km each way) and flooring below it.
    assert true_km - 6.3 - 0.8 - 1 < option.distance_from_danger_km <= true_km - 5.5
    distance = option.distance_from_danger_km
    assert (f"at least {distance:.0f} km from the danger, allowing 6.3 km for where exactly it is"
            " (minimum 75 km for rood)") in sentences(option.reasons)
    # Given as coordinates, only the rounding counts: the 79 km location is safe then.
    by_point = make_request(session, clock, caller, risk_level="rood", danger=SCHIEDAM)
    body = proposals.propose_for_request(session, by_point.id, actor=me, now=clock.now())
    assert {o.location_name for o in body.options} == {"Net te dichtbij", "Ver genoeg"}
    assert inside


def test_the_place_radius_of_the_policy_is_a_minimum_beside_the_extent(session, clock, worker):
    caller, me = worker
    make_location(session, clock, name="Net te dichtbij", safety_level="rood",
                  lat=area_at(76, 81)[0], lon=area_at(76, 81)[1])
    make_location(session, clock, name="Ver genoeg", safety_level="rood",
                  lat=area_at(82, 85.5)[0], lon=area_at(82, 85.5)[1])
    admin = principal_of(session, make_caller(session, clock, "admin"))
    # A smaller policy radius never shrinks the place's extent (Schiedam: 5.5 km) ...
    document = get_policy(session).as_document() | {
        "danger_place_radius_km": {"gemeente": 2, "place": 2}}
    replace_policy(session, document, actor=admin, now=clock.now())
    request = make_request(session, clock, caller, risk_level="rood")
    body = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert {o.location_name for o in body.options} == {"Ver genoeg"}
    # ... and a larger one widens the margin for requests made from then on.
    document["danger_place_radius_km"] = {"gemeente": 10, "place": 10}
    replace_policy(session, document, actor=admin, now=clock.now())
    body = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert body.options == ()


def test_no_fitting_unit_is_an_empty_list_with_reasons(session, clock, worker):
    caller, me = worker
    make_location(session, clock, safety_level="groen")
    make_location(session, clock, region_code="GM0599", safety_level="rood", lat=51.92,
                  lon=4.40)
    request = make_request(session, clock, caller, risk_level="rood")
    body = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert body.options == ()
    reasons = {e.reason: e.locations for e in body.excluded}
    assert reasons["safety_level_too_low"] >= 1 and reasons["origin_region_not_allowed"] >= 1


def test_needs_and_exclusions_are_respected(session, clock, worker):
    caller, me = worker
    pets = make_location(session, clock, name="Met huisdieren", features=("pets_allowed",),
                         lat=place_at(60)[0], lon=place_at(60)[1])
    plain = make_location(session, clock, name="Zonder", lat=place_at(61)[0],
                          lon=place_at(61)[1])
    request = make_request(session, clock, caller, needs=("pets_allowed",))
    names = {o.location_name for o in proposals.propose_for_request(
        session, request.id, actor=me, now=clock.now()).options}
    assert "Met huisdieren" in names and "Zonder" not in names
    excluded = make_request(session, clock, caller, excluded_location_ids=(pets.id,))
    names = {o.location_name for o in proposals.propose_for_request(
        session, excluded.id, actor=me, now=clock.now()).options}
    assert "Met huisdieren" not in names and "Zonder" in names
    assert plain


def test_ranking_weights_come_from_the_policy(session, clock, worker):
    caller, me = worker
    # A 6-bed unit nearby and an exact fit 40 km farther: spare beds cost 10 km each.
    make_location(session, clock, name="Groot", lat=place_at(50)[0], lon=place_at(50)[1],
                  units=(("A", 6),))
    make_location(session, clock, name="Precies", lat=place_at(90)[0], lon=place_at(90)[1],
                  units=(("A", 1),))
    request = make_request(session, clock, caller)
    first = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert first.options[0].location_name == "Precies"
    admin = principal_of(session, make_caller(session, clock, "admin"))
    document = get_policy(session).as_document()
    document["ranking_weights"] = document["ranking_weights"] | {"spare_bed": 0}
    replace_policy(session, document, actor=admin, now=clock.now())
    second = proposals.propose_for_request(session, request.id, actor=me, now=clock.now())
    assert second.options[0].location_name == "Groot"


@pytest.mark.parametrize(("weights", "field"), [
    ({"spare_bed": -1}, "ranking_weights.spare_bed"),
    ({"spare_bed": "10"}, "ranking_weights.spare_bed"),
    ({"surprise": 1}, "ranking_weights.surprise"),
])
def test_bad_weights_are_refused(session, clock, weights, field):
    admin = principal_of(session, make_caller(session, clock, "admin"))
    document = get_policy(session).as_document() | {"ranking_weights": weights}
    with pytest.raises(ValidationFailed) as caught:
        replace_policy(session, document, actor=admin, now=clock.now())
    assert field in caught.value.errors


def test_proposals_only_for_open_requests_of_the_caller(session, clock, worker):
    caller, me = worker
    request = make_request(session, clock, caller)
    stranger = principal_of(session, make_caller(session, clock, "crisis_worker"))
    with pytest.raises(NotFound):
        proposals.propose_for_request(session, request.id, actor=stranger, now=clock.now())
    holds.cancel_request(session, request.id, actor=me, now=clock.now())
    with pytest.raises(Conflict):
        proposals.propose_for_request(session, request.id, actor=me, now=clock.now())


def test_joint_proposals_never_give_a_unit_twice(session, clock, worker):
    caller, me = worker
    make_location(session, clock, name="Eén plek", lat=place_at(60)[0], lon=place_at(60)[1],
                  units=(("A", 4),))
    first = make_request(session, clock, caller, adults=2)
    second = make_request(session, clock, caller, adults=1)
    body = proposals.propose_jointly(session, [first.id, second.id], actor=me,
                                     now=clock.now())
    assert body.placed == 1
    placed = [a for a in body.assignments if a.unit_id is not None]
    unplaced = [a for a in body.assignments if a.unit_id is None]
    assert len(placed) == 1 and placed[0].location_name == "Eén plek"
    assert unplaced[0].reason == "units_needed_by_others"
    assert [a.request_id for a in body.assignments] == [first.id, second.id]
    # Nothing is held by a joint proposal.
    assert {u.status for u in session.scalars(select(Unit))} <= {"free", "closed", "occupied"}


def test_joint_proposals_validate_the_ids(session, clock, worker):
    caller, me = worker
    mine = make_request(session, clock, caller)
    theirs = make_request(session, clock, make_caller(session, clock, "crisis_worker"))
    closed = make_request(session, clock, caller)
    holds.cancel_request(session, closed.id, actor=me, now=clock.now())
    for ids in ([mine.id, mine.id], [mine.id, theirs.id], ["nope"], [closed.id], []):
        with pytest.raises(ValidationFailed) as caught:
            proposals.propose_jointly(session, ids, actor=me, now=clock.now())
        assert "request_ids" in caught.value.errors
    admin = principal_of(session, make_caller(session, clock, "admin"))
    body = proposals.propose_jointly(session, [mine.id, theirs.id], actor=admin,
                                     now=clock.now())
    assert len(body.assignments) == 2


def test_the_network_is_loaded_in_two_queries(session, clock, worker):
    from sqlalchemy import event

    caller, me = worker
    for _ in range(5):
        make_location(session, clock)
    statements = []

    def count(*_args):
        statements.append(1)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        network = proposals.load_network(session, now=clock.now() + timedelta(minutes=1))
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 2
    assert len(network.locations) >= 5


def test_an_unchanged_network_is_reused_and_a_changed_one_rebuilt(session, clock):
    location = make_location(session, clock, units=(("A", 2), ("B", 3)))
    later = clock.now() + timedelta(minutes=1)
    first = proposals.load_network(session, now=later)
    assert proposals.load_network(session, now=later) is first

    unit = session.scalar(select(Unit).where(Unit.location_id == location.id,
                                             Unit.label == "A"))
    unit.status = "closed"
    session.flush()
    changed = proposals.load_network(session, now=later)

    assert changed is not first
    free_here = {u.id for u in changed.units if u.location_id == location.id}
    assert unit.id not in free_here and len(free_here) == 1
