"""One small hand-built instance per rule: exactly which locations are options, and why not."""

from __future__ import annotations

import pytest

from solver import FreeUnit, Network, Rules, propose
from solver.vocabulary import EXCLUSION_REASONS
from tests.solver.builders import (
    ORIGIN,
    OTHER,
    THIRD,
    case,
    location,
    network,
    rules,
    words,
)


def verdict(the_case, the_network, the_rules=None):
    """Return ({location id of an option}, {reason: count}) with every option listed."""
    proposal = propose(the_case, the_network, the_rules or rules(), limit=10_000)
    options = {option.location_id for option in proposal.options}
    return options, {exclusion.reason: exclusion.locations for exclusion in proposal.excluded}


def test_too_close_to_danger_uses_the_minimum_of_the_risk_level():
    locations = [
        location("at-74.9", 74.9, bearing=0),
        location("at-75.1", 75.1, bearing=90),
        location("at-120", 120, bearing=180),
    ]
    assert verdict(case("rood"), network(locations)) == (
        {"at-75.1", "at-120"},
        {"too_close_to_danger": 1},
    )
    # Oranje needs only 25 km, groen nothing.
    near = [location("at-24.9", 24.9), location("at-25.1", 25.1, bearing=90)]
    assert verdict(case("oranje"), network(near)) == ({"at-25.1"}, {"too_close_to_danger": 1})
    assert verdict(case("groen"), network([location("here", 0.0)])) == ({"here"}, {})


def test_too_close_allows_for_an_uncertain_danger():
    # 80 km from the given point, but the danger may be up to 6 km away from it: 74 km.
    locations = [location("at-80", 80), location("at-82", 82, bearing=90)]
    the_case = case("rood", danger_uncertainty_km=6)
    assert verdict(the_case, network(locations)) == ({"at-82"}, {"too_close_to_danger": 1})
    [option] = propose(the_case, network(locations), rules()).options
    assert option.distance_from_danger_km == 75  # 82 - 6 = 76 minus the safety margin
    assert "allowing 6 km" in words(option)[0]


def test_safety_level_must_be_at_least_the_risk_level():
    locations = [
        location("groen", 50, level="groen"),
        location("oranje", 50, bearing=90, level="oranje"),
        location("rood", 50, bearing=180, level="rood"),
    ]
    assert verdict(case("oranje"), network(locations)) == (
        {"oranje", "rood"},
        {"safety_level_too_low": 1},
    )
    assert verdict(case("groen"), network(locations)) == ({"groen", "oranje", "rood"}, {})
    far = [location(f"{level}-far", 100, level=level) for level in ("groen", "oranje")]
    assert verdict(case("rood"), network(far)) == (set(), {"safety_level_too_low": 2})


def test_every_need_must_be_a_feature():
    locations = [
        location("none", 50),
        location("pets", 50, bearing=90, features=frozenset({"pets_allowed"})),
        location("both", 50, bearing=180, features=frozenset({"pets_allowed", "men"})),
    ]
    one_need = case("oranje", needs=frozenset({"pets_allowed"}))
    assert verdict(one_need, network(locations)) == ({"pets", "both"}, {"missing_features": 1})
    two_needs = case("oranje", needs=frozenset({"pets_allowed", "men"}))
    assert verdict(two_needs, network(locations)) == ({"both"}, {"missing_features": 2})
    # A need that no location knows can never be met; it is not silently ignored.
    unknown = case("oranje", needs=frozenset({"horses_allowed"}))
    assert verdict(unknown, network(locations)) == (set(), {"missing_features": 3})


def test_a_free_unit_must_hold_the_whole_household():
    small, exact = location("small", 50), location("exact", 50, bearing=90)
    empty = location("empty", 50, bearing=180)
    units = [
        FreeUnit("small-1", "small", 1),
        FreeUnit("small-2", "small", 2),
        FreeUnit("exact-3", "exact", 3),
    ]
    the_network = Network.build([small, exact, empty], units)
    assert verdict(case("oranje", household=3), the_network) == (
        {"exact"},
        {"no_free_unit_large_enough": 2},
    )
    proposal = propose(case("oranje", household=2), the_network, rules(), limit=100)
    assert {option.unit_id for option in proposal.options} == {"small-2", "exact-3"}


def test_the_request_may_exclude_regions_and_locations():
    locations = [
        location("in-third", 50, region=THIRD),
        location("in-other", 50, bearing=90, region=OTHER),
        location("named", 50, bearing=180, region=OTHER),
        location("kept", 50, bearing=270, region=ORIGIN),
    ]
    the_case = case(
        "oranje",
        excluded_region_codes=frozenset({THIRD}),
        excluded_location_ids=frozenset({"named", "no-such-location"}),
    )
    assert verdict(the_case, network(locations)) == (
        {"in-other", "kept"},
        {"excluded_by_request": 2},
    )


def test_rood_must_leave_the_origin_region_when_the_policy_says_so():
    locations = [location("own", 100, region=ORIGIN), location("away", 100, bearing=90)]
    assert verdict(case("rood"), network(locations)) == (
        {"away"},
        {"origin_region_not_allowed": 1},
    )
    allowed = rules(rood_outside_origin_region=False)
    assert verdict(case("rood"), network(locations), allowed) == ({"own", "away"}, {})
    # Only rood has to leave.
    assert verdict(case("oranje"), network(locations)) == ({"own", "away"}, {})


def test_the_first_failing_rule_is_reported():
    # One location that fails every rule; each step lifts the rule reported before it, in
    # the order of CONTRACT 4.2.
    bad = location("bad", 10, region=ORIGIN, level="oranje", target_group="men",
                   accepts_night_intake=False, accepts_boys_up_to_age=12)
    the_network = Network.build([bad], [FreeUnit("bad-1", "bad", 1)])
    own_level = Rules({"groen": 5, "oranje": 25, "rood": 75}, rood_outside_origin_region=True,
                      location_level_min_distance=True)
    case_only = Rules({"groen": 5, "oranje": 25, "rood": 75}, rood_outside_origin_region=True,
                      location_level_min_distance=False)
    pets = frozenset({"pets_allowed"})
    worst = {"needs": pets, "at_night": True, "oldest_boy_age": 14, "target_group": "men"}
    steps = [
        (case("rood", 2, **worst, excluded_location_ids=frozenset({"bad"})), own_level),
        (case("rood", 2, **worst), own_level),
        (case("rood", 2, **{**worst, "target_group": "women"}, origin=OTHER), own_level),
        (case("rood", 2, **worst, origin=OTHER), own_level),
        (case("oranje", 2, **worst, origin=OTHER), own_level),
        (case("groen", 2, **worst, origin=OTHER), own_level),
        (case("groen", 2, **worst, origin=OTHER), case_only),
        (case("groen", 2, **{**worst, "at_night": False}, origin=OTHER), case_only),
        (case("groen", 2, needs=pets, target_group="men", origin=OTHER), case_only),
        (case("groen", 2, target_group="men", origin=OTHER), case_only),
    ]
    reported = [verdict(c, the_network, r) for c, r in steps]
    assert reported == [(set(), {reason: 1}) for reason in EXCLUSION_REASONS]
    assert verdict(case("groen", 1, target_group="men", origin=OTHER), the_network,
                   case_only) == ({"bad"}, {})


def test_summary_accounts_for_every_location_and_no_place_always_says_why():
    locations = [
        location("close", 10, level="rood"),
        location("open", 100, bearing=90, level="oranje"),
        location("ok", 100, bearing=180),
        location("full", 100, bearing=270),
    ]
    units = [FreeUnit("close-1", "close", 4), FreeUnit("ok-1", "ok", 4)]
    the_network = Network.build(locations, units)
    options, excluded = verdict(case("rood"), the_network)
    assert options == {"ok"}
    assert excluded == {
        "too_close_to_danger": 1,
        "safety_level_too_low": 1,
        "no_free_unit_large_enough": 1,
    }
    assert len(options) + sum(excluded.values()) == len(locations)

    proposal = propose(case("rood", household=5), the_network, rules())
    assert proposal.options == ()
    assert sum(e.locations for e in proposal.excluded) == len(locations)
    # Summary order follows EXCLUSION_REASONS, and zero counts are left out.
    reasons = [e.reason for e in proposal.excluded]
    assert reasons == [r for r in EXCLUSION_REASONS if r in reasons]
    assert all(e.locations > 0 for e in proposal.excluded)


def test_one_household_per_unit_and_every_unit_once():
    the_location = location("house", 60)
    units = [FreeUnit(f"u{i}", "house", beds) for i, beds in enumerate([1, 2, 3, 4])]
    proposal = propose(case("groen"), Network.build([the_location], units), rules(), limit=10,
                       units_per_location=5)
    assert sorted(option.unit_id for option in proposal.options) == ["u0", "u1", "u2", "u3"]
    assert [option.rank for option in proposal.options] == [1, 2, 3, 4]


def test_an_empty_network_gives_no_options_and_nothing_to_explain():
    proposal = propose(case(), Network.build([], []), rules())
    assert proposal.options == () and proposal.excluded == ()


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="risk_level"):
        case("paars")
    with pytest.raises(ValueError, match="household_size"):
        case(household=0)
    with pytest.raises(ValueError, match="unknown location"):
        Network.build([], [FreeUnit("u", "nowhere", 1)])
    twice = location("twice", 10)
    with pytest.raises(ValueError, match="location ids"):
        Network.build([twice, twice], [])
    with pytest.raises(ValueError, match="unit ids"):
        Network.build([twice], [FreeUnit("u", "twice", 1), FreeUnit("u", "twice", 2)])
    with pytest.raises(ValueError, match="min_distance_km"):
        Rules({"groen": 0, "oranje": 25}, rood_outside_origin_region=True)
    with pytest.raises(ValueError, match="limit"):
        propose(case(), network([twice]), rules(), limit=0)
