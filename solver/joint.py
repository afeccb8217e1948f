"""Joint assignment: place the most cases at once, at the least total cost, proven optimal.

The model is a min-cost flow, in the style of the OR-Tools assignment samples:

    source --1--> case --1, cost--> capacity class --size--> sink

A capacity class is a set of interchangeable units (same location, same beds), so a
maximum flow of least cost is an assignment that places the most cases, no unit twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from solver.distance import whole_km
from solver.distance_cache import DistanceCache
from solver.model import Assignment, Case, FreeUnit, JointAssignment, Rules
from solver.network import Network
from solver.ranking import location_costs_all
from solver.rules import fitting_classes_all, screen_all
from solver.vocabulary import LEVEL_RANK, LEVELS

SOURCE, SINK = 0, 1
# How many (case, slot) entries the arcs are chosen from at once: some 60 cases against the
# 4,500 slots of the network at scale 10, 2 MB per matrix of keys, which the CPU's cache holds.
BLOCK_ENTRIES = 262_144


def assign_jointly(
    cases: Sequence[Case],
    network: Network,
    rules: Rules,
    intake_by_region: Mapping[str, int] | None = None,
    *,
    seniority: Sequence[int] | None = None,
    declined: Mapping[str, frozenset[str]] | None = None,
    cache: DistanceCache | None = None,
) -> JointAssignment:
    """Return the optimal joint assignment of free units to the cases, no unit twice.

    Optimal means, in this order of priority:

    1. ``placed`` is the largest number of cases that can be placed together;
    2. among such assignments, the most rood cases are placed, then the most oranje cases
       (risk priority). This only decides *which* cases stay unplaced when not all of them
       fit; it never lowers (1), because it is applied to maximum flows only;
    3. among those, the total cost is least, where the total cost is the sum, over the placed
       cases, of the cost that ``propose`` gives the case's unit (travel, scarce capacity,
       leaving the origin region, solidarity). ``total_cost`` reports this sum.

    With ``seniority`` (the waiting list: one number per case, smaller for who has waited
    longer), (2) becomes a total order: rood before oranje before groen, then longest
    waiting, then case id; among the maximum assignments the placed cases are the first
    ones in that order that can be placed together (for every k, as many of the first k
    cases as any maximum assignment places). ``declined`` maps a case id to units it must
    not be given (an offer she declined); the other cases may still take them.

    Every assignment satisfies the same rules as ``propose``. An unplaced case has the reason
    ``no_feasible_unit`` when ``propose`` would offer it nothing, else
    ``units_needed_by_others``. Assignments come back in the order of ``cases``.

    ``cache`` (the matcher's, kept between its runs) spares measuring again the distances
    from points it has seen to locations it has seen; the assignment is the same with it.
    """
    # Data: the slots units are handed out from. A slot is a capacity class, except that
    # a unit some case declined is a slot of its own, so that exactly that case can be
    # kept from it; the rest of its class stays one slot.
    declined = declined or {}
    slots = _slots(network, frozenset().union(*declined.values()) if declined else frozenset())
    # Each case's fitting slots, with the cost of a unit of each: a row per case, a column
    # per slot, all cases screened in one pass.
    screenings = screen_all(cases, network, rules, cache)
    fitting = fitting_classes_all(cases, network, screenings)[:, slots.class_of]
    _keep_declined_away(fitting, cases, declined, slots)
    per_location = location_costs_all(cases, network, rules, screenings, intake_by_region)
    household_size = np.array([case.household_size for case in cases], np.int64)
    fits_somewhere: NDArray[np.bool_] = np.asarray(fitting.any(axis=1), dtype=np.bool_)

    # Variables: one arc per (case, kept slot), flow 1 when the case takes a unit of it.
    # A block of cases at a time: each block's cases x slots matrices stay in the CPU's
    # cache, where the same work runs faster than on 500 x 5,000 at once.
    k = int(np.count_nonzero(fits_somewhere))
    rows = max(1, BLOCK_ENTRIES // max(len(slots.size), 1))
    blocks = [
        _cheapest_slots(fitting[start:start + rows],
                        _cost_keys(per_location[start:start + rows],
                                   household_size[start:start + rows], network, slots,
                                   rules.weights.spare_bed),
                        slots.size, k, first_case=start)
        for start in range(0, len(cases), rows)
    ]
    arc_case, arc_class, arc_cost = (np.concatenate([np.empty(0, np.int64),
                                                     *(block[part] for block in blocks)])
                                     for part in range(3))
    used_classes = np.flatnonzero(np.bincount(arc_class, minlength=len(slots.size)))
    case_nodes = 2 + np.arange(len(cases))
    class_nodes = 2 + len(cases) + np.arange(len(used_classes))
    node_of_class = np.zeros(len(slots.size), np.int64)
    node_of_class[used_classes] = class_nodes
    arc_class_node = node_of_class[arc_class]

    # Objective: the cost of each case arc, plus risk priority on the arc from the source into
    # each case, `step` per level below rood. Every total cost is below `step`, so no saving
    # in cost can buy back a priority step. The maximum flow fixes how many are placed; the
    # sets of cases that can be placed together form a (transversal) matroid, so the least
    # priority among them is what placing rood first, then oranje, then groen gives (greedy
    # optimality): the most rood cases, then the most oranje ones.
    most = np.zeros(len(cases), np.int64)
    np.maximum.at(most, arc_case, arc_cost)  # each case's dearest arc
    step = 1 + sum(most.tolist())
    top = len(LEVELS) - 1
    if seniority is None:
        priority = [(top - LEVEL_RANK[case.risk_level]) * step for case in cases]
    else:
        # The waiting list: a total order (risk, then who waited longest, then id). Greedy
        # optimality holds for any weights that respect the order, so its position will
        # do: the least total weight among maximum flows is the greedy basis, which places
        # the most of the first k cases for every k. Positions times `step` keep every
        # priority above any saving in cost.
        ranked = sorted(range(len(cases)), key=lambda c: (
            top - LEVEL_RANK[cases[c].risk_level], seniority[c], cases[c].id))
        priority = [0] * len(cases)
        for position, c in enumerate(ranked):
            priority[c] = position * step

    flow = min_cost_flow.SimpleMinCostFlow()
    # Constraints: every case takes at most one unit ...
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(len(cases), SOURCE, np.int32),
        case_nodes.astype(np.int32),
        np.ones(len(cases), np.int64),
        np.array(priority, dtype=np.int64),
    )
    # ... of a class it fits ...
    case_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        case_nodes[arc_case].astype(np.int32),
        arc_class_node.astype(np.int32),
        np.ones(len(arc_case), np.int64),
        arc_cost.astype(np.int64),
    )
    # ... and no class gives out more units than it has free (so no unit twice).
    flow.add_arcs_with_capacity_and_unit_cost(
        class_nodes.astype(np.int32),
        np.full(len(used_classes), SINK, np.int32),
        slots.size[used_classes].astype(np.int64),
        np.zeros(len(used_classes), np.int64),
    )
    flow.set_node_supply(SOURCE, len(cases))
    flow.set_node_supply(SINK, -len(cases))

    # Solve: a maximum flow of least cost; the algorithm proves its optimality.
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not reach an optimum: {status}")

    # Read back: hand out the units of each slot in unit-id order, cases in input order.
    taken = np.flatnonzero(flow.flows(np.asarray(case_arcs)) > 0)
    placed = arc_case[taken]
    at_location = network.class_location[slots.class_of[arc_class[taken]]]
    danger_km = whole_km(screenings.danger_m[placed, at_location]).tolist()
    travel_km = whole_km(screenings.travel_m[placed, at_location]).tolist()
    chosen = {c: (j, unit_cost, danger, travel) for c, j, unit_cost, danger, travel in zip(
        placed.tolist(), arc_class[taken].tolist(), arc_cost[taken].tolist(), danger_km,
        travel_km, strict=True)}
    handed_out: dict[int, Iterator[FreeUnit]] = {}
    singled = frozenset(unit for unit in slots.unit_id if unit is not None)
    assignments = []
    for c, case in enumerate(cases):
        if c not in chosen:
            reason = "units_needed_by_others" if fits_somewhere[c] else "no_feasible_unit"
            assignments.append(Assignment(case.id, None, None, None, None, None, reason))
            continue
        j, unit_cost, danger, travel = chosen[c]
        if j not in handed_out:
            members = network.class_units(int(slots.class_of[j]))
            one = slots.unit_id[j]
            handed_out[j] = iter([unit for unit in members if unit.id == one] if one else
                                 [unit for unit in members if unit.id not in singled])
        unit = next(handed_out[j])
        assignments.append(
            Assignment(
                case_id=case.id,
                unit_id=unit.id,
                location_id=unit.location_id,
                distance_from_danger_km=danger,
                travel_km=travel,
                cost=unit_cost,
                reason=None,
            )
        )
    return JointAssignment(
        assignments=tuple(assignments),
        placed=len(chosen),
        total_cost=sum(unit_cost for _, unit_cost, _, _ in chosen.values()),
    )


def _keep_declined_away(fitting: NDArray[np.bool_], cases: Sequence[Case],
                        declined: Mapping[str, frozenset[str]], slots: _Slots) -> None:
    """Mark in `fitting` that no case may take the slot of a unit she declined."""
    slot_of_unit = {unit: j for j, unit in enumerate(slots.unit_id) if unit is not None}
    for c, case in enumerate(cases):
        refused = declined.get(case.id)
        if refused:
            fitting[c, [slot_of_unit[unit] for unit in refused if unit in slot_of_unit]] = False


def _cost_keys(per_location: NDArray[np.int64], household_size: NDArray[np.int64],
               network: Network, slots: _Slots, spare_bed: int) -> NDArray[np.int64]:
    """Return, per case and slot, `cost * slots + slot`: the cost of a unit, ties by slot.

    A unit costs its location's cost plus its spare beds (beds - household) at a price. The
    key orders by cost, then slot order, in one integer; it is built with as few passes over
    the cases x slots matrix (500 x 5,000 in the matcher's worst case) as the sum allows:
    what depends on the case alone is added per location, what depends on the slot alone
    per slot.
    """
    count = len(slots.size)
    beds = network.class_beds[slots.class_of]
    most = int(per_location.max(initial=0)) + int(beds.max(initial=0)) * spare_bed
    if most >= np.iinfo(np.int64).max // max(count, 1) - 1:
        raise OverflowError("costs too large for the joint assignment")
    per_case_location = (per_location - household_size[:, None] * spare_bed) * count
    key = per_case_location[:, network.class_location[slots.class_of]]
    key += beds * spare_bed * count + np.arange(count)
    return np.asarray(key, dtype=np.int64)


def _cheapest_slots(fitting: NDArray[np.bool_], key: NDArray[np.int64],
                    size: NDArray[np.int64], k: int, first_case: int = 0
                    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Return the arcs (case, slot, cost) to keep: each case's cheapest fitting slots.

    Prune each case to its cheapest slots that together hold at least k units, where k is
    the number of cases that fit anywhere. This keeps an optimum: if an optimal assignment
    gave a case a unit outside them, the at most k - 1 other placed cases hold at most
    k - 1 units, so one unit in the kept slots is free; moving the case there places the
    same cases and costs no more.

    The arcs come case by case, cheapest first, ties by slot order (location id, beds),
    which does not depend on the order of the input: the pruning and so the result stay
    deterministic. `key` is _cost_keys'; it is overwritten (a slot a case does not fit
    becomes the largest key), which spares a copy of a large matrix. The rows are cases
    first_case, first_case + 1, ...
    """
    cases, slots = fitting.shape
    nothing = np.empty(0, np.int64)
    if not cases or not slots or not k:
        return nothing, nothing, nothing
    last = np.iinfo(np.int64).max
    np.putmask(key, ~fitting, last)
    # At most k slots are kept (each holds a unit), so only the k cheapest need sorting.
    if k < slots:
        cheapest = np.argpartition(key, k - 1, axis=1)[:, :k]
    else:
        cheapest = np.broadcast_to(np.arange(slots), key.shape)
    rows = np.arange(cases)[:, None]
    cheapest_keys = key[rows, cheapest]
    by_key = np.argsort(cheapest_keys, axis=1)
    order, ordered_keys = cheapest[rows, by_key], cheapest_keys[rows, by_key]
    # Keep a slot while the cheaper fitting slots before it hold fewer than k units.
    units = np.where(ordered_keys != last, size[order], 0)
    keep = (units > 0) & (np.cumsum(units, axis=1) - units < k)
    case, position = np.nonzero(keep)  # case by case, cheapest first
    return (case.astype(np.int64) + first_case, order[case, position].astype(np.int64),
            ordered_keys[case, position] // slots)


class _Slots(NamedTuple):
    class_of: NDArray[np.int64]  # per slot, its capacity class
    size: NDArray[np.int64]  # per slot, its free units
    unit_id: list[str | None]  # per slot, the one declined unit it holds, or None


def _slots(network: Network, singled: frozenset[str]) -> _Slots:
    """Return the capacity classes, with every unit in `singled` split off as its own slot."""
    if not singled:
        return _Slots(np.arange(len(network.class_size), dtype=np.int64),
                      network.class_size.astype(np.int64), [None] * len(network.class_size))
    # Only the classes that hold a singled unit are split; the others stay as they are.
    class_of_unit = np.empty(len(network.units), np.int64)
    class_of_unit[network.class_members] = np.repeat(np.arange(len(network.class_size)),
                                                     network.class_size)
    split_classes = {int(class_of_unit[m]) for m, unit in enumerate(network.units)
                     if unit.id in singled}
    class_of: list[int] = []
    size: list[int] = []
    unit_id: list[str | None] = []
    for j in range(len(network.class_size)):
        if j not in split_classes:
            class_of.append(j)
            size.append(int(network.class_size[j]))
            unit_id.append(None)
            continue
        units = network.class_units(j)
        split = [unit.id for unit in units if unit.id in singled]
        if len(split) < len(units):
            class_of.append(j)
            size.append(len(units) - len(split))
            unit_id.append(None)
        for one in split:
            class_of.append(j)
            size.append(1)
            unit_id.append(one)
    return _Slots(np.array(class_of, dtype=np.int64), np.array(size, dtype=np.int64), unit_id)
