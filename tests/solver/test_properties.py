"""Property tests on random small instances, against a simple reference that uses geopy.

The reference re-implements the contract's rules the obvious way, one location at a time
with the true geodesic distance; the joint assignment is compared with a brute force over
every possible assignment.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import count

from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import Case, FreeUnit, Location, Network, Rules, Weights, assign_jointly, propose
from solver.vocabulary import EXCLUSION_REASONS, LEVEL_RANK, LEVELS, TARGET_GROUPS

REGIONS = ("GM0344", "GM0363", "GM0599")
SOME_FEATURES = ("pets_allowed", "men", "wheelchair_accessible")
# A location this close above the minimum distance may be excluded by the safe-side margin
# (at most ~5 m at Dutch distances); the reference leaves it open either way.
BORDER_KM = 0.01

coordinates = st.tuples(st.floats(51.0, 53.5), st.floats(3.5, 7.0))
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def networks(draw, max_locations: int = 6, max_units: int = 12):
    """Return (locations, free units) of a small random network."""
    locations = []
    for i in range(draw(st.integers(0, max_locations))):
        lat, lon = draw(coordinates)
        locations.append(
            Location(
                id=f"L{i}",
                name=f"Locatie {i}",
                region_code=draw(st.sampled_from(REGIONS)),
                safety_level=draw(st.sampled_from(LEVELS)),
                lat=lat,
                lon=lon,
                features=frozenset(draw(st.sets(st.sampled_from(SOME_FEATURES), max_size=3))),
                target_group=draw(st.sampled_from(TARGET_GROUPS)),
                accepts_night_intake=draw(st.booleans()),
                accepts_boys_up_to_age=draw(st.none() | st.integers(8, 17)),
            )
        )
    ids = count()
    units = [
        FreeUnit(f"U{next(ids)}", location.id, draw(st.integers(1, 5)))
        for location in locations
        for _ in range(draw(st.integers(0, 3)))
    ]
    return locations, units[:max_units]


@st.composite
def cases(draw, location_ids=(), id: str = "C"):
    """Return a random case; its exclusions may name the given locations."""
    lat, lon = draw(coordinates)
    current = draw(st.none() | coordinates)
    return Case(
        id=id,
        origin_region_code=draw(st.sampled_from(REGIONS)),
        risk_level=draw(st.sampled_from(LEVELS)),
        danger_lat=lat,
        danger_lon=lon,
        current_lat=current[0] if current else None,
        current_lon=current[1] if current else None,
        household_size=draw(st.integers(1, 4)),
        needs=frozenset(draw(st.sets(st.sampled_from(SOME_FEATURES), max_size=2))),
        excluded_region_codes=frozenset(draw(st.sets(st.sampled_from(REGIONS), max_size=1))),
        excluded_location_ids=frozenset(
            draw(st.sets(st.sampled_from(location_ids), max_size=2)) if location_ids else ()
        ),
        danger_uncertainty_km=draw(st.sampled_from([0.0, 0.0, 2.5, 5.0])),
        more_dangers=tuple(
            (*draw(coordinates), draw(st.sampled_from([0.0, 1.0])))
            for _ in range(draw(st.sampled_from([0, 0, 1, 2])))),
        target_group=draw(st.sampled_from(("women", "women", "men"))),
        at_night=draw(st.booleans()),
        oldest_boy_age=draw(st.none() | st.integers(0, 17)),
    )


rule_sets = st.builds(
    lambda groen, oranje, rood, leave, own_level, weights: Rules(
        {"groen": groen, "oranje": max(oranje, groen), "rood": max(rood, oranje, groen)},
        rood_outside_origin_region=leave,
        weights=weights,
        location_level_min_distance=own_level,
    ),
    st.integers(0, 30),
    st.integers(0, 100),
    st.integers(0, 200),
    st.booleans(),
    st.booleans(),
    # Sometimes the defaults, sometimes weights that make the cost disagree with risk
    # priority (no price on surplus safety), so that the objective's order is tested.
    st.builds(
        Weights,
        safety_surplus_per_level=st.sampled_from([0, 50_000]),
        spare_bed=st.sampled_from([0, 10_000]),
        outside_origin_region=st.sampled_from([0, 30_000]),
    ),
)


def reference(case: Case, locations, units, rules: Rules):
    """Return {location id: (first failing rule or None, on the border?)} the obvious way."""
    verdicts = {}
    for location in locations:
        # The danger may lie anywhere within its uncertainty of the given point, so the
        # distance is what is left, and never less than nothing: with a minimum of 0 km (the
        # policy's groen default) a location inside that radius is not too close. Of several
        # dangers, the nearest counts.
        from_danger_km = nearest_danger_km(case, location)
        minimum = rules.min_distance_km[case.risk_level]
        own_minimum = (rules.min_distance_km[location.safety_level]
                       if rules.location_level_min_distance else 0)
        must_leave = case.risk_level == "rood" and rules.rood_outside_origin_region
        boy = case.oldest_boy_age
        fails = {
            "excluded_by_request": location.region_code in case.excluded_region_codes
            or location.id in case.excluded_location_ids,
            "origin_region_not_allowed": must_leave
            and location.region_code == case.origin_region_code,
            "target_group_mismatch": location.target_group not in ("all", case.target_group),
            "safety_level_too_low": LEVEL_RANK[location.safety_level] < LEVEL_RANK[case.risk_level],
            "too_close_to_danger": from_danger_km < minimum,
            "too_close_for_location": from_danger_km < own_minimum,
            "no_night_intake": case.at_night and not location.accepts_night_intake,
            "boys_age_limit": boy is not None and location.accepts_boys_up_to_age is not None
            and boy > location.accepts_boys_up_to_age,
            "missing_features": not case.needs <= location.features,
            "no_free_unit_large_enough": not any(
                u.location_id == location.id and u.beds >= case.household_size for u in units
            ),
        }
        first = next((reason for reason in EXCLUSION_REASONS if fails[reason]), None)
        on_border = any(m <= from_danger_km < m + BORDER_KM for m in (minimum, own_minimum))
        verdicts[location.id] = (first, on_border)
    return verdicts


def nearest_danger_km(case: Case, location: Location) -> float:
    dangers = [(case.danger_lat, case.danger_lon, case.danger_uncertainty_km),
               *case.more_dangers]
    return min(max(true_km(lat, lon, location) - uncertainty, 0.0)
               for lat, lon, uncertainty in dangers)


def true_km(lat, lon, location) -> float:
    return geodesic((lat, lon), (location.lat, location.lon)).km


def test_reference_and_solver_agree_on_a_location_inside_the_dangers_uncertainty():
    """The counterexample hypothesis found once in a few runs (a flaky CI): a groen case with
    no minimum distance, its danger 2.5 km uncertain, a location at the danger's point. No
    minimum means nothing is too close; the reference used to say `too_close_to_danger`."""
    location = Location(id="L0", name="Locatie 0", region_code="GM0344", safety_level="groen",
                        lat=51.0, lon=4.0, features=frozenset())
    unit = FreeUnit("U0", "L0", 1)
    case = Case(id="C", origin_region_code="GM0344", risk_level="groen", danger_lat=51.0,
                danger_lon=4.0, current_lat=None, current_lon=None, household_size=1,
                danger_uncertainty_km=2.5)
    rules = Rules({"groen": 0, "oranje": 0, "rood": 0}, rood_outside_origin_region=False)
    for units, expected in (([], "no_free_unit_large_enough"), ([unit], None)):
        assert reference(case, [location], units, rules)["L0"][0] == expected
        proposal = propose(case, Network.build([location], units), rules, limit=10)
        assert [o.location_id for o in proposal.options] == ([] if expected else ["L0"])
        if not expected:
            assert proposal.options[0].distance_from_danger_km == 0


@PROPERTY_SETTINGS
@given(data=st.data(), network_data=networks(), rules=rule_sets)
def test_proposals_follow_the_rules_and_miss_nothing(data, network_data, rules):
    locations, units = network_data
    case = data.draw(cases([location.id for location in locations]))
    network = Network.build(locations, units)
    proposal = propose(case, network, rules, limit=1000, units_per_location=1000)
    verdicts = reference(case, locations, units, rules)
    location_of = {location.id: location for location in locations}
    unit_of = {unit.id: unit for unit in units}

    # Every option satisfies every rule, checked against the true geodesic.
    for option in proposal.options:
        location, unit = location_of[option.location_id], unit_of[option.unit_id]
        assert unit.location_id == location.id and option.beds == unit.beds
        assert unit.beds >= case.household_size
        assert verdicts[location.id][0] is None
        from_danger = nearest_danger_km(case, location)
        assert option.distance_from_danger_km >= rules.min_distance_km[case.risk_level]
        assert option.distance_from_danger_km <= from_danger
        assert option.distance_from_danger_km >= math.floor(from_danger - BORDER_KM)
        travel = true_km(*case.travel_origin, location)
        assert math.floor(travel - BORDER_KM) <= option.travel_km <= travel
        assert option.in_origin_region == (location.region_code == case.origin_region_code)
        assert option.reasons

    # Every feasible unit appears, once, ranked by cost; only border cases may be missing.
    expected = {
        unit.id
        for unit in units
        if verdicts[unit.location_id][0] is None and unit.beds >= case.household_size
    }
    offered = [option.unit_id for option in proposal.options]
    border_units = {u.id for u in units if verdicts[u.location_id][1]}
    assert len(offered) == len(set(offered))
    assert set(offered) <= expected
    assert expected - set(offered) <= border_units
    assert [option.rank for option in proposal.options] == list(range(1, len(offered) + 1))
    # Specialised places after general ones, then cheapest first.
    keys = [(any(r.code == "specialised_place" for r in option.reasons), option.cost)
            for option in proposal.options]
    assert keys == sorted(keys)

    # The summary gives each location without an option its first failing rule.
    with_options = {option.location_id for option in proposal.options}
    summary = {exclusion.reason: exclusion.locations for exclusion in proposal.excluded}
    assert sum(summary.values()) + len(with_options) == len(locations)
    if not any(on_border for _, on_border in verdicts.values()):
        assert summary == Counter(reason for reason, _ in verdicts.values() if reason)
    if not proposal.options and locations:
        assert proposal.excluded

    # A smaller limit gives the head of the same ranking.
    limit = data.draw(st.integers(1, 4))
    assert propose(case, network, rules, limit=limit,
                   units_per_location=1000).options == proposal.options[:limit]

    # One option per location by default: its smallest sufficient unit.
    one_each = propose(case, network, rules, limit=1000).options
    assert len({o.location_id for o in one_each}) == len(one_each) == len(with_options)
    for option in one_each:
        assert option.beds == min(u.beds for u in units if u.location_id == option.location_id
                                  and u.beds >= case.household_size)


def brute_force(cases, options_by_case):
    """Return the best (placed, rood placed, oranje placed, -cost) over every assignment."""
    best = (0, 0, 0, 0)

    def extend(i, used, placed, rood, oranje, cost):
        nonlocal best
        if i == len(cases):
            best = max(best, (placed, rood, oranje, -cost))
            return
        extend(i + 1, used, placed, rood, oranje, cost)  # leave case i unplaced
        risk = cases[i].risk_level
        for unit_id, unit_cost in options_by_case[i].items():
            if unit_id not in used:
                extend(
                    i + 1,
                    used | {unit_id},
                    placed + 1,
                    rood + (risk == "rood"),
                    oranje + (risk == "oranje"),
                    cost + unit_cost,
                )

    extend(0, frozenset(), 0, 0, 0, 0)
    return best


@PROPERTY_SETTINGS
@given(data=st.data(), network_data=networks(max_locations=4, max_units=6), rules=rule_sets)
def test_joint_assignment_equals_the_brute_force_optimum(data, network_data, rules):
    locations, units = network_data
    ids = [location.id for location in locations]
    how_many = data.draw(st.integers(1, 4))
    the_cases = [data.draw(cases(ids, id=f"C{i}")) for i in range(how_many)]
    network = Network.build(locations, units)
    options_by_case = [
        {o.unit_id: o.cost
         for o in propose(case, network, rules, limit=1000, units_per_location=1000).options}
        for case in the_cases
    ]

    joint = assign_jointly(the_cases, network, rules)

    placed, rood, oranje, minus_cost = brute_force(the_cases, options_by_case)
    assert joint.placed == placed
    placed_risks = Counter(
        case.risk_level
        for case, assignment in zip(the_cases, joint.assignments, strict=True)
        if assignment.unit_id
    )
    assert (placed_risks["rood"], placed_risks["oranje"]) == (rood, oranje)
    assert joint.total_cost == -minus_cost

    used = [a.unit_id for a in joint.assignments if a.unit_id is not None]
    assert len(used) == len(set(used)) == joint.placed
    for case, assignment, options in zip(
        the_cases, joint.assignments, options_by_case, strict=True
    ):
        assert assignment.case_id == case.id
        if assignment.unit_id is None:
            expected = "units_needed_by_others" if options else "no_feasible_unit"
            assert assignment.reason == expected
        else:
            assert assignment.cost == options[assignment.unit_id]
            assert assignment.reason is None
