"""Ranking: each cost term moves options the way the policy intends, and says so."""

from __future__ import annotations

import random

import pytest
from geopy.distance import geodesic

from solver import FreeUnit, Network, Weights, propose
from tests.solver.builders import (
    ORIGIN,
    OTHER,
    THIRD,
    case,
    location,
    network,
    point_at,
    rules,
    words,
)

W = Weights()


def ranked(the_case, the_network, the_rules=None, **kwargs):
    """Return every fitting unit ranked (several per location: units_per_location 100)."""
    kwargs.setdefault("units_per_location", 100)
    return propose(the_case, the_network, the_rules or rules(), limit=100, **kwargs).options


def test_cheaper_is_nearer_when_nothing_else_differs():
    locations = [location(f"at-{km}", km, bearing=km) for km in (140, 80, 110)]
    options = ranked(case("oranje"), network(locations))
    assert [o.location_id for o in options] == ["at-80", "at-110", "at-140"]
    assert [o.cost for o in options] == sorted(o.cost for o in options)
    assert [o.rank for o in options] == [1, 2, 3]


def test_for_rood_travel_from_the_danger_does_not_pull_to_the_edge_of_the_circle():
    # Travel starts at the danger: every km further from it is travel too. For rood the
    # margin beyond the minimum is a small benefit, so the farther place ranks first ...
    locations = [location(f"at-{km}", km, bearing=km) for km in (140, 80, 110)]
    options = ranked(case("rood"), network(locations))
    assert [o.location_id for o in options] == ["at-140", "at-110", "at-80"]
    # ... but only a small one: 60 km more margin weighs as 6 km less travel.
    assert options[2].cost - options[0].cost == pytest.approx(
        (65 - 5) * W.rood_margin_per_km, abs=100)
    # When she is elsewhere already, travel from there is charged as for anyone.
    start = point_at(150, 0)
    near_her = [location("near-her", 80, bearing=0), location("far-from-her", 80, bearing=180)]
    options = ranked(case("rood", current=start), network(near_her))
    assert [o.location_id for o in options] == ["near-her", "far-from-her"]


def test_a_more_secure_place_than_needed_costs_per_level():
    locations = [
        location("groen", 60, level="groen"),
        location("oranje", 60, bearing=120, level="oranje"),
        location("rood", 60, bearing=240, level="rood"),
    ]
    options = {o.location_id: o for o in ranked(case("groen"), network(locations))}
    # Same distance (to the metre, give or take rounding): the surplus alone separates them.
    base = options["groen"].cost
    assert abs(options["oranje"].cost - base - W.safety_surplus_per_level) <= 2
    assert abs(options["rood"].cost - base - 2 * W.safety_surplus_per_level) <= 2
    assert "safety level rood for a groen case (2 levels more secure than needed)" in (
        words(options["rood"])
    )
    assert "safety level groen matches the risk" in words(options["groen"])


def test_a_secure_place_wins_only_when_the_fitting_one_is_much_further():
    def winner(extra_km):
        locations = [
            location("oranje", 60 + extra_km, level="oranje"),
            location("rood", 60, bearing=180, level="rood"),
        ]
        return ranked(case("oranje"), network(locations))[0].location_id

    assert winner(40) == "oranje"  # a 40 km detour keeps the rood place free
    assert winner(60) == "rood"  # over 50 km further: take the secure one


def test_spare_beds_cost_per_bed_so_family_units_go_to_families():
    the_location = location("house", 60)
    units = [FreeUnit("single", "house", 1), FreeUnit("family", "house", 4)]
    the_network = Network.build([the_location], units)
    single, family = ranked(case("oranje", household=1), the_network)
    assert (single.unit_id, family.unit_id) == ("single", "family")
    assert family.cost - single.cost == 3 * W.spare_bed
    assert "family unit: 3 spare beds" in words(family)
    assert "room of 1 bed: fits the household exactly" in words(single)
    # A family of four only fits the family unit, and wastes nothing there.
    [only] = ranked(case("oranje", household=4), the_network)
    assert only.unit_id == "family" and "family unit of 4 beds: fits the household exactly" in (
        words(only)
    )


def test_own_region_is_preferred_unless_another_is_much_nearer():
    def first(own_km, other_km, risk="oranje", **rule_options):
        locations = [
            location("own", own_km, region=ORIGIN),
            location("other", other_km, bearing=180, region=OTHER),
        ]
        # A household of four in the 4-bed units: no spare beds to pay for.
        return ranked(case(risk, household=4), network(locations), rules(**rule_options))

    options = first(100, 80)  # own region 20 km further: stay
    assert options[0].location_id == "own" and options[0].in_origin_region
    assert "in the origin region" in words(options[0])
    assert "outside the origin region" in words(options[1])
    assert first(100, 60)[0].location_id == "other"  # 40 km nearer outside: go
    # Rood may stay when the policy allows it, and then the preference applies too ...
    assert first(100, 80, "rood", rood_outside_origin_region=False)[0].location_id == "own"
    # ... but when rood must leave, no option pays for leaving: the cost is travel alone.
    [away] = first(100, 80, "rood")
    assert away.location_id == "other"
    assert "outside the origin region, as required for rood" in words(away)
    # (For rood, travel from the danger beyond the 75 km minimum is not charged, and the 5 km
    # of margin is a small benefit: the shortfall from 100 km of margin costs a little.)
    assert away.cost == pytest.approx(75_000 + 95 * W.rood_margin_per_km, abs=5)


def test_solidarity_breaks_ties_towards_regions_that_took_in_fewer():
    locations = [
        location("a", 90, region=OTHER),
        location("b", 90, bearing=180, region=THIRD),
    ]
    intake = {OTHER: 30, THIRD: 10}
    options = ranked(case("rood"), network(locations), intake_by_region=intake)
    assert [o.location_id for o in options] == ["b", "a"]
    assert "region GM0599 took in 10 people recently" in words(options[0])
    # Only a tie-breaker: capped, so it never outweighs more than recent_intake_max of travel.
    far_apart = [
        location("near", 90, region=OTHER),
        location("far", 90 + W.recent_intake_max / 1000 + 1, bearing=180, region=THIRD),
    ]
    busy = {OTHER: 100_000, THIRD: 0}
    options = ranked(case("oranje"), network(far_apart), intake_by_region=busy)
    assert options[0].location_id == "near"
    # Without the input there is no tie-breaker, and the reasons do not mention it.
    plain = ranked(case("rood"), network(locations))
    assert all("recently" not in reason for o in plain for reason in words(o))


def test_travel_is_measured_from_the_current_location_when_given():
    north = location("north", 100, bearing=0)
    south = location("south", 90.5, bearing=180)
    the_network = network([north, south])
    from_danger = ranked(case("oranje"), the_network)
    assert from_danger[0].location_id == "south"
    assert "90 km to travel from the danger location" in words(from_danger[0])

    current = point_at(30, 0)  # she already fled 30 km north
    from_current = ranked(case("oranje", current=current), the_network)
    assert from_current[0].location_id == "north"
    # Distances from the danger are unchanged; travel is from where she is now.
    by_id = {o.location_id: o for o in from_current}
    assert by_id["north"].distance_from_danger_km == 99  # 100 km minus the safety margin
    true_travel = geodesic(current, (north.lat, north.lon)).km
    assert by_id["north"].travel_km == int(true_travel) or by_id["north"].travel_km == int(
        true_travel - 0.01
    )
    assert f"{by_id['north'].travel_km} km to travel from the current location" in (
        words(by_id["north"])
    )


def test_ties_are_broken_by_location_id_then_unit_id():
    # Two locations at the very same spot; identical units.
    here = location("b-loc", 100)
    twin = location("a-loc", 100)
    units = [
        FreeUnit("z", "b-loc", 1),
        FreeUnit("y", "a-loc", 1),
        FreeUnit("x", "b-loc", 1),
        FreeUnit("w", "a-loc", 1),
    ]
    options = ranked(case("rood"), Network.build([here, twin], units))
    assert [o.unit_id for o in options] == ["w", "y", "x", "z"]
    assert len({o.cost for o in options}) == 1
    # The cut at the limit keeps the same order.
    limited = propose(case("rood"), Network.build([here, twin], units), rules(), limit=3,
                      units_per_location=2)
    assert [o.unit_id for o in limited.options] == ["w", "y", "x"]


def test_same_input_gives_the_same_output_whatever_the_order():
    rng = random.Random(4)
    locations = [
        location(
            f"loc-{i}",
            rng.uniform(0, 150),
            bearing=rng.uniform(0, 360),
            region=rng.choice([ORIGIN, OTHER, THIRD]),
            level=rng.choice(["groen", "oranje", "rood"]),
        )
        for i in range(40)
    ]
    units = [
        FreeUnit(f"unit-{i}-{j}", loc.id, rng.choice([1, 1, 2, 3, 5]))
        for i, loc in enumerate(locations)
        for j in range(3)
    ]
    the_case = case("oranje", household=2, current=point_at(20, 45))
    intake = {ORIGIN: 3, OTHER: 12}
    first = propose(the_case, Network.build(locations, units), rules(), 15, intake, 3)
    rng.shuffle(locations)
    rng.shuffle(units)
    again = propose(the_case, Network.build(locations, units), rules(), 15, intake, 3)
    assert first == again
    assert len(first.options) == 15


def test_weights_are_validated_and_change_the_ranking():
    with pytest.raises(ValueError, match="spare_bed"):
        Weights(spare_bed=-1)
    the_location = location("house", 60)
    units = [FreeUnit("single", "house", 1), FreeUnit("family", "house", 4)]
    the_network = Network.build([the_location], units)
    indifferent = rules(spare_bed=0)
    first, second = ranked(case("oranje"), the_network, indifferent)
    assert first.cost == second.cost  # spare beds no longer matter ...
    # ... so the tie-break decides: the smallest sufficient unit first (the best fit).
    assert first.unit_id == "single"


def test_the_danger_point_itself_is_zero_km_for_groen():
    [here] = ranked(case("groen", household=4), network([location("here", 0.0)]))
    assert here.distance_from_danger_km == 0 and here.travel_km == 0
    # A rood place outside the origin region for a groen case: two levels of surplus.
    assert here.cost == 2 * W.safety_surplus_per_level + W.outside_origin_region


def test_reasons_are_codes_with_the_numbers_the_words_need():
    # The solver explains in codes; the API and the pages give the words (api/reasons.py,
    # web/labels.py).
    the_location = location("house", 100, region=OTHER, level="rood",
                            features=frozenset({"pets_allowed"}))
    [option] = ranked(case("oranje", household=1, needs=frozenset({"pets_allowed"})),
                      Network.build([the_location], [FreeUnit("u", "house", 3)]),
                      intake_by_region={OTHER: 2})
    assert [r.code for r in option.reasons] == [
        "distance_from_danger", "travel", "outside_origin_region", "safety_level_surplus",
        "spare_beds", "offers_needs", "recent_intake"]
    by_code = {r.code: r.params for r in option.reasons}
    assert by_code["distance_from_danger"] == {
        "distance_km": option.distance_from_danger_km, "min_km": 25, "risk_level": "oranje",
        "uncertainty_km": 0.0}
    assert by_code["travel"] == {"km": option.travel_km, "start": "danger"}
    assert by_code["safety_level_surplus"] == {"level": "rood", "risk_level": "oranje",
                                               "surplus": 1}
    assert by_code["spare_beds"] == {"unit_kind": "family_unit", "spare": 2}
    assert by_code["offers_needs"] == {"needs": ["pets_allowed"]}
    assert by_code["recent_intake"] == {"region_code": OTHER, "people": 2}
