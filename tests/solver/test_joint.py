"""Joint assignment on hand-built nights: most placed, then rood first, then least cost."""

from __future__ import annotations

from solver import FreeUnit, Network, assign_jointly, propose
from tests.solver.builders import OTHER, case, location, point_at, rules


def by_case(joint):
    return {a.case_id: a for a in joint.assignments}


def test_a_family_unit_is_kept_for_the_family_so_both_are_placed():
    # First come, nearest first would give the single adult the near family unit and leave
    # the family without a place.
    near, far = location("near", 30), location("far", 40, bearing=180)
    units = [FreeUnit("family", "near", 4), FreeUnit("room", "far", 1)]
    single = case("oranje", 1, id="single")
    family = case("oranje", 4, id="family")
    joint = assign_jointly([single, family], Network.build([near, far], units), rules())
    assert joint.placed == 2
    assignments = by_case(joint)
    assert assignments["single"].unit_id == "room"
    assert assignments["family"].unit_id == "family"
    assert joint.total_cost == assignments["single"].cost + assignments["family"].cost


def test_rood_is_placed_first_when_not_everyone_fits():
    only = location("secure", 100)
    the_network = Network.build([only], [FreeUnit("last-bed", "secure", 1)])
    # The rood client is now 250 km away and surplus safety is free: on cost alone, any of
    # the others would take the last bed.
    cheap_surplus = rules(safety_surplus_per_level=0)
    cases = [
        case("groen", id="groen"),
        case("oranje", id="oranje"),
        case("rood", id="rood", current=point_at(250, 270, start=point_at(100))),
        case("rood", 2, id="too-big"),
    ]
    costs = {c.id: [o.cost for o in propose(c, the_network, cheap_surplus).options] for c in cases}
    assert costs["rood"][0] > costs["oranje"][0] and costs["rood"][0] > costs["groen"][0]
    joint = assign_jointly(cases, the_network, cheap_surplus)
    assert joint.placed == 1
    assignments = by_case(joint)
    assert assignments["rood"].unit_id == "last-bed"
    assert joint.total_cost == costs["rood"][0]
    assert assignments["oranje"].reason == "units_needed_by_others"
    assert assignments["groen"].reason == "units_needed_by_others"
    assert assignments["too-big"].reason == "no_feasible_unit"
    assert [a.case_id for a in joint.assignments] == ["groen", "oranje", "rood", "too-big"]

    # Without the rood case, oranje comes before groen.
    joint = assign_jointly(cases[:2], the_network, cheap_surplus)
    assert by_case(joint)["oranje"].unit_id == "last-bed"


def test_risk_priority_never_lowers_the_number_placed():
    # The rood case could take either unit; giving it the one the two others also fit would
    # place fewer. Placing the most comes first.
    a, b = location("a", 100), location("b", 100, bearing=180)
    units = [FreeUnit("a-1", "a", 2), FreeUnit("b-1", "b", 1)]
    cases = [case("groen", 2, id="groen"), case("rood", 1, id="rood")]
    joint = assign_jointly(cases, Network.build([a, b], units), rules())
    assert joint.placed == 2
    assert by_case(joint)["rood"].unit_id == "b-1"


def test_every_assignment_is_an_option_of_its_case_at_the_same_cost():
    locations = [location(f"loc-{i}", 60 + 15 * i, bearing=40 * i) for i in range(6)]
    units = [
        FreeUnit(f"u-{i}-{j}", loc.id, 1 + j) for i, loc in enumerate(locations) for j in range(3)
    ]
    the_network = Network.build(locations, units)
    cases = [case(("groen", "oranje", "rood")[i % 3], 1 + i % 4, id=f"c{i}") for i in range(8)]
    joint = assign_jointly(cases, the_network, rules())
    used = [a.unit_id for a in joint.assignments if a.unit_id]
    assert len(used) == len(set(used)) == joint.placed
    for the_case, assignment in zip(cases, joint.assignments, strict=True):
        if assignment.unit_id is None:
            continue
        options = propose(the_case, the_network, rules(), limit=1000).options
        [option] = [o for o in options if o.unit_id == assignment.unit_id]
        assert (assignment.cost, assignment.location_id) == (option.cost, option.location_id)
        assert assignment.distance_from_danger_km == option.distance_from_danger_km
        assert assignment.travel_km == option.travel_km


def test_identical_units_are_handed_out_one_each_in_id_order():
    house = location("house", 100, region=OTHER)
    units = [FreeUnit(f"room-{i}", "house", 1) for i in (3, 1, 2)]
    cases = [case("rood", id=f"c{i}") for i in range(4)]
    joint = assign_jointly(cases, Network.build([house], units), rules())
    assert [a.unit_id for a in joint.assignments] == ["room-1", "room-2", "room-3", None]
    assert joint.assignments[-1].reason == "units_needed_by_others"


def test_deterministic_and_empty():
    locations = [location(f"loc-{i}", 80 + i, bearing=30 * i) for i in range(5)]
    units = [FreeUnit(f"u{i}", f"loc-{i % 5}", 1 + i % 3) for i in range(12)]
    cases = [case("rood", 1 + i % 3, id=f"c{i}") for i in range(9)]
    first = assign_jointly(cases, Network.build(locations, units), rules())
    again = assign_jointly(cases, Network.build(locations[::-1], units[::-1]), rules())
    assert first == again
    nobody = assign_jointly([], Network.build(locations, units), rules())
    assert (nobody.assignments, nobody.placed, nobody.total_cost) == ((), 0, 0)
    nothing = assign_jointly(cases, Network.build([], []), rules())
    assert nothing.placed == 0
    assert {a.reason for a in nothing.assignments} == {"no_feasible_unit"}
