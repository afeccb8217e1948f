"""The matching rules of contract v2 (4.1, 4.2), one small instance per rule."""

from __future__ import annotations

from solver import FreeUnit, Network, propose
from tests.solver.builders import ORIGIN, THIRD, case, location, network, point_at, rules


def verdict(the_case, the_network, the_rules=None):
    """Return ({location id of an option}, {reason: count})."""
    proposal = propose(the_case, the_network, the_rules or rules(), limit=10_000)
    options = {option.location_id for option in proposal.options}
    return options, {exclusion.reason: exclusion.locations for exclusion in proposal.excluded}


def test_target_groups_women_men_and_all():
    locations = [
        location("women", 100),
        location("men", 100, bearing=90, target_group="men"),
        location("all", 100, bearing=180, target_group="all"),
    ]
    assert verdict(case("oranje"), network(locations)) == (
        {"women", "all"}, {"target_group_mismatch": 1})
    assert verdict(case("oranje", target_group="men"), network(locations)) == (
        {"men", "all"}, {"target_group_mismatch": 1})


def test_a_location_level_protects_it_whatever_the_risk_of_the_case():
    # A rood location 40 km from the danger: fine for the oranje case by its own minimum
    # (25 km), but the location keeps rood cases' dangers 75 km away.
    locations = [location("rood-40", 40), location("oranje-40", 40, bearing=90, level="oranje")]
    assert verdict(case("oranje"), network(locations), rules(location_level=True)) == (
        {"oranje-40"}, {"too_close_for_location": 1})
    assert verdict(case("oranje"), network(locations), rules(location_level=False)) == (
        {"rood-40", "oranje-40"}, {})
    # A groen case is kept 25 km from an oranje location.
    near = [location("oranje-20", 20, level="oranje"), location("groen-20", 20, level="groen",
                                                                 bearing=90)]
    assert verdict(case("groen"), network(near), rules(location_level=True)) == (
        {"groen-20"}, {"too_close_for_location": 1})


def test_no_night_intake_excludes_only_at_night():
    locations = [location("day", 100, accepts_night_intake=False),
                 location("always", 100, bearing=90)]
    assert verdict(case("oranje", at_night=True), network(locations)) == (
        {"always"}, {"no_night_intake": 1})
    assert verdict(case("oranje", at_night=False), network(locations)) == (
        {"day", "always"}, {})


def test_an_older_boy_than_the_location_takes_excludes_it():
    locations = [location("up-to-12", 100, accepts_boys_up_to_age=12),
                 location("no-limit", 100, bearing=90)]
    assert verdict(case("oranje", 3, oldest_boy_age=13), network(locations)) == (
        {"no-limit"}, {"boys_age_limit": 1})
    assert verdict(case("oranje", 3, oldest_boy_age=12), network(locations)) == (
        {"up-to-12", "no-limit"}, {})
    assert verdict(case("oranje", 3), network(locations)) == ({"up-to-12", "no-limit"}, {})


def test_every_danger_of_a_family_network_is_kept_at_the_minimum():
    # 100 km north of the first danger, but only 30 km from a second one.
    north = location("north", 100, bearing=0)
    south = location("south", 100, bearing=180)
    second = point_at(70, 0)
    the_case = case("rood", more_dangers=((second[0], second[1], 0.0),))
    options, excluded = verdict(the_case, network([north, south]))
    assert options == {"south"} and excluded == {"too_close_to_danger": 1}
    [option] = propose(the_case, network([north, south]), rules()).options
    # The distance shown is to the nearest danger.
    assert option.distance_from_danger_km == 99
    # The second danger's own uncertainty counts too.
    far_second = point_at(176, 0)  # 76 km from "north"
    assert verdict(case("rood", more_dangers=((*far_second, 0.0),)),
                   network([north, south]))[0] == {"north", "south"}
    assert verdict(case("rood", more_dangers=((*far_second, 2.0),)),
                   network([north, south]))[0] == {"south"}


def test_one_option_per_location_its_smallest_sufficient_unit():
    house = location("house", 60)
    units = [FreeUnit("big", "house", 5), FreeUnit("fits", "house", 2),
             FreeUnit("small", "house", 1), FreeUnit("fits-too", "house", 2)]
    the_network = Network.build([house], units)
    [only] = propose(case("groen", 2), the_network, rules()).options
    assert only.unit_id == "fits"  # smallest sufficient beds, then unit id
    several = propose(case("groen", 2), the_network, rules(), units_per_location=2).options
    assert [o.unit_id for o in several] == ["fits", "fits-too"]
    every = propose(case("groen", 2), the_network, rules(), units_per_location=5).options
    assert [o.unit_id for o in every] == ["fits", "fits-too", "big"]


def test_specialised_places_come_after_every_suitable_general_place():
    general = location("general", 180, bearing=0)
    honour = location("honour", 80, bearing=90, features=frozenset({"honour_related_violence"}))
    takes_men = location("takes-men", 90, bearing=180, target_group="all",
                         features=frozenset({"men"}))
    the_network = network([general, honour, takes_men])
    options = propose(case("oranje"), the_network, rules()).options
    assert [o.location_id for o in options] == ["general", "honour", "takes-men"]
    assert [r.code for r in options[0].reasons].count("specialised_place") == 0
    assert options[1].reasons[-1].code == "specialised_place"
    assert options[1].reasons[-1].params == {"features": ["honour_related_violence"]}
    assert options[2].reasons[-1].params == {"features": ["men"]}
    # For a case that needs the speciality, it is a place like any other: nearest first.
    needing = propose(case("oranje", needs=frozenset({"honour_related_violence"})),
                      the_network, rules()).options
    assert [o.location_id for o in needing] == ["honour"]
    men = propose(case("oranje", target_group="men"), the_network, rules()).options
    assert [o.location_id for o in men] == ["takes-men"]


def test_stale_availability_ranks_after_fresh_at_equal_travel():
    now = 1_800_000_000.0
    fresh = location("b-fresh", 100, availability_updated_s=now - 3600)
    stale = location("a-stale", 100, bearing=180, availability_updated_s=now - 13 * 3600)
    options = propose(case("oranje", now_s=now), network([fresh, stale]), rules()).options
    assert [o.location_id for o in options] == ["b-fresh", "a-stale"]
    assert [o.stale for o in options] == [False, True]
    assert options[1].reasons[-1].code == "stale_availability"
    assert options[1].reasons[-1].params == {"hours": 13}
    # Without the time of the proposal nothing is stale; ties go by location id.
    options = propose(case("oranje"), network([fresh, stale]), rules()).options
    assert [o.location_id for o in options] == ["a-stale", "b-fresh"]


def test_relaxations_count_what_dropping_one_need_would_open_never_a_safety_rule():
    locations = [
        location("pets-far", 100, features=frozenset({"pets_allowed"})),
        location("wheel-far", 100, bearing=90, features=frozenset({"wheelchair_accessible"})),
        location("plain-far", 100, bearing=180),
        location("plain-near", 10, bearing=270, features=frozenset({"pets_allowed"})),
        location("excluded", 100, bearing=45, region=ORIGIN),
    ]
    needs = frozenset({"pets_allowed", "wheelchair_accessible"})
    proposal = propose(case("rood", needs=needs, origin=THIRD,
                            excluded_region_codes=frozenset({ORIGIN})),
                       network(locations), rules())
    assert proposal.options == ()
    assert {r.drop: r.options for r in proposal.relaxations} == {
        # Dropping pets opens wheel-far only: plain-near stays too close, "excluded" stays
        # excluded by the request.
        "needs:pets_allowed": 1,
        "needs:wheelchair_accessible": 1,
    }
    # No needs, nothing to relax.
    assert propose(case("rood"), network(locations), rules()).relaxations == ()
