"""The waiting list's joint assignment, proven against brute force on small random nights.

Lexicographic: most placed; then rood before oranje before groen, then who waited
longest (the placed cases are the first ones in that order that can be placed together);
then least total cost. A unit a case declined is never given to it, and stays open to others.
"""

from __future__ import annotations

import itertools
import random

import pytest

from solver import FreeUnit, Network, assign_jointly, propose
from solver.ranking import location_costs
from solver.rules import fitting_classes, screen
from solver.vocabulary import LEVEL_RANK
from tests.solver.builders import case, location, rules


def unit_costs(cases, network, the_rules):
    """Return {case id: {unit id: cost}} for every unit a case may take (the solver's costs)."""
    table = {}
    for one in cases:
        screening = screen(one, network, the_rules)
        fits = fitting_classes(one, network, screening)
        allowed = {unit.id for j in range(len(fits)) if fits[j]
                   for unit in network.class_units(j)}
        # The same rules as a proposal: every unit allowed here is one propose offers.
        offered = {o.unit_id for o in propose(one, network, the_rules, limit=10_000).options}
        assert offered <= allowed
        per_location = location_costs(one, network, the_rules, screening, None)
        at = {loc.id: index for index, loc in enumerate(network.locations)}
        table[one.id] = {
            unit.id: int(per_location[at[unit.location_id]])
            + (unit.beds - one.household_size) * the_rules.weights.spare_bed
            for unit in network.units if unit.id in allowed}
    return table


def brute_force(cases, units, costs, seniority, declined):
    """Return the best key over every assignment, and the key function."""
    order = sorted(range(len(cases)), key=lambda c: (
        -LEVEL_RANK[cases[c].risk_level], seniority[c], cases[c].id))

    def key(chosen):  # chosen: per case a unit id or None
        placed = [chosen[c] is not None for c in order]
        cost = sum(costs[cases[c].id][u] for c, u in enumerate(chosen) if u is not None)
        return (sum(placed), tuple(placed), -cost)

    choices = [[None] + [u.id for u in units if u.id in costs[one.id]
                         and u.id not in declined.get(one.id, ())] for one in cases]
    best = None
    for chosen in itertools.product(*choices):
        taken = [u for u in chosen if u is not None]
        if len(taken) != len(set(taken)):
            continue
        k = key(chosen)
        if best is None or k > best:
            best = k
    return best, key


@pytest.mark.parametrize("seed", range(60))
def test_matches_brute_force_on_random_nights(seed):
    rng = random.Random(seed)
    locations = [location(f"L{i}", rng.choice([10, 30, 60, 90, 120]),
                          bearing=rng.uniform(0, 360), level=rng.choice(["oranje", "rood"]))
                 for i in range(rng.randint(1, 3))]
    units = [FreeUnit(f"U{i}", rng.choice(locations).id, rng.choice([1, 2, 4]))
             for i in range(rng.randint(1, 4))]
    network = Network.build(locations, units)
    cases = [case(rng.choice(["groen", "oranje", "rood"]), rng.choice([1, 1, 2, 3]),
                  id=f"C{i}") for i in range(rng.randint(1, 5))]
    seniority = [rng.randint(0, 3) for _ in cases]
    declined = {one.id: frozenset(u.id for u in units if rng.random() < 0.25)
                for one in cases if rng.random() < 0.5}
    the_rules = rules()
    costs = unit_costs(cases, network, the_rules)
    best, key = brute_force(cases, units, costs, seniority, declined)

    joint = assign_jointly(cases, network, the_rules, seniority=seniority, declined=declined)
    chosen = [a.unit_id for a in joint.assignments]
    assert [a.case_id for a in joint.assignments] == [c.id for c in cases]
    taken = [u for u in chosen if u is not None]
    assert len(taken) == len(set(taken))  # no unit twice
    for one, unit in zip(cases, chosen, strict=True):
        if unit is not None:
            assert unit in costs[one.id]  # a unit the proposals would offer her
            assert unit not in declined.get(one.id, ())
    assert key(chosen) == best
    assert joint.placed == best[0] and joint.total_cost == -best[2]


def test_longest_waiting_first_among_equal_risk_then_rood_before_it():
    only = location("secure", 100)
    network = Network.build([only], [FreeUnit("last-bed", "secure", 1)])
    waiting = [case("oranje", id="new"), case("oranje", id="old"), case("groen", id="older")]
    joint = assign_jointly(waiting, network, rules(), seniority=[5, 1, 0])
    assert {a.case_id: a.unit_id for a in joint.assignments} == {
        "new": None, "old": "last-bed", "older": None}
    with_rood = [*waiting, case("rood", id="rood-newest")]
    joint = assign_jointly(with_rood, network, rules(), seniority=[5, 1, 0, 9])
    assert [a.case_id for a in joint.assignments if a.unit_id] == ["rood-newest"]


def test_a_declined_unit_goes_to_another_and_never_back():
    only = location("secure", 100)
    network = Network.build([only], [FreeUnit("a", "secure", 2), FreeUnit("b", "secure", 2)])
    waiting = [case("rood", id="she"), case("groen", id="other")]
    joint = assign_jointly(waiting, network, rules(), seniority=[0, 1],
                           declined={"she": frozenset({"a"})})
    assert {a.case_id: a.unit_id for a in joint.assignments} == {"she": "b", "other": "a"}
    alone = assign_jointly([waiting[0]], Network.build([only], [FreeUnit("a", "secure", 2)]),
                           rules(), seniority=[0], declined={"she": frozenset({"a"})})
    assert alone.placed == 0 and alone.assignments[0].reason == "no_feasible_unit"
