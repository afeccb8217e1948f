"""Ranking: the integer cost of every fitting unit for one case, and the proposal."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from solver.distance import whole_km
from solver.model import Case, Location, Option, Proposal, Reason, Rules
from solver.network import Network
from solver.rules import Screening, exclusion_summary, fitting_units, screen
from solver.vocabulary import LEVEL_RANK

# A unit of this many beds or more is a family unit; a smaller one, a room.
FAMILY_UNIT_BEDS = 3


def location_costs(
    case: Case,
    network: Network,
    rules: Rules,
    screening: Screening,
    intake_by_region: Mapping[str, int] | None,
) -> NDArray[np.int64]:
    """Return the part of each location's cost that does not depend on the unit."""
    weights = rules.weights
    travel = screening.travel_m * weights.travel_per_km // 1000
    surplus = np.maximum(network.safety_rank - LEVEL_RANK[case.risk_level], 0)
    # Help in the own region where possible; pointless when the rules forbid it.
    outside = network.region_index != screening.origin_region
    if screening.must_leave_origin:
        outside = np.zeros_like(outside)
    cost = (
        travel
        + surplus * weights.safety_surplus_per_level
        + outside * weights.outside_origin_region
    )
    if intake_by_region:
        cost = cost + intake_costs(network, rules, intake_by_region)[network.region_index]
    return np.asarray(cost, dtype=np.int64)


def intake_costs(
    network: Network, rules: Rules, intake_by_region: Mapping[str, int]
) -> NDArray[np.int64]:
    """Return the solidarity tie-breaker cost of each region of the network."""
    weights = rules.weights
    intake = np.array([max(intake_by_region.get(code, 0), 0) for code in network.region_codes])
    return np.asarray(np.minimum(intake * weights.recent_intake_per_person,
                                 weights.recent_intake_max), dtype=np.int64)


def unit_costs(
    case: Case, network: Network, rules: Rules, per_location: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Return the cost of every free unit: its location's cost plus its spare beds."""
    spare_beds = np.maximum(network.unit_beds - case.household_size, 0)
    return np.asarray(per_location[network.unit_location] + spare_beds * rules.weights.spare_bed,
                      dtype=np.int64)


def propose(
    case: Case,
    network: Network,
    rules: Rules,
    limit: int = 10,
    intake_by_region: Mapping[str, int] | None = None,
) -> Proposal:
    """Return the best `limit` fitting units, cheapest first, and why the others are out.

    Ties in cost are broken by location id, then unit id. The exclusion summary covers
    every location without any fitting unit, whatever the limit.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    screening = screen(case, network, rules)
    candidates = np.flatnonzero(fitting_units(case, network, screening))
    per_location = location_costs(case, network, rules, screening, intake_by_region)
    costs = unit_costs(case, network, rules, per_location)[candidates]

    # Keep everything as cheap as the limit-th cheapest, then sort those few by cost and the
    # tie order (location id, unit id); argpartition alone would cut ties arbitrarily.
    if len(candidates) > limit:
        cutoff = np.partition(costs, limit - 1)[limit - 1]
        keep = costs <= cutoff
        candidates, costs = candidates[keep], costs[keep]
    best = sorted(
        zip(costs.tolist(), candidates.tolist(), strict=True),
        key=lambda pair: (pair[0], network.tie_order(pair[1])),
    )[:limit]

    options = tuple(
        _option(rank, unit, cost, case, network, rules, screening, intake_by_region)
        for rank, (cost, unit) in enumerate(best, 1)
    )
    return Proposal(options=options, excluded=exclusion_summary(screening))


def _option(
    rank: int,
    unit_index: int,
    cost: int,
    case: Case,
    network: Network,
    rules: Rules,
    screening: Screening,
    intake_by_region: Mapping[str, int] | None,
) -> Option:
    unit = network.units[unit_index]
    at = int(network.unit_location[unit_index])
    location = network.locations[at]
    distance_km = int(whole_km(screening.danger_m[at]))
    travel_km = int(whole_km(screening.travel_m[at]))
    in_origin = location.region_code == case.origin_region_code
    return Option(
        rank=rank,
        location_id=location.id,
        location_name=location.name,
        region_code=location.region_code,
        unit_id=unit.id,
        beds=unit.beds,
        safety_level=location.safety_level,
        distance_from_danger_km=distance_km,
        travel_km=travel_km,
        in_origin_region=in_origin,
        cost=cost,
        reasons=explain(
            case, location, unit.beds, distance_km, travel_km, screening, intake_by_region
        ),
    )


def explain(
    case: Case,
    location: Location,
    beds: int,
    distance_km: int,
    travel_km: int,
    screening: Screening,
    intake_by_region: Mapping[str, int] | None,
) -> tuple[Reason, ...]:
    """Return the reasons for one option, one per cost term or rule, as codes with numbers."""
    reasons = [
        Reason("distance_from_danger", {
            "distance_km": distance_km, "min_km": screening.min_distance_km,
            "risk_level": case.risk_level, "uncertainty_km": case.danger_uncertainty_km}),
        Reason("travel", {"km": travel_km,
                          "start": "danger" if case.current_lat is None else "current"}),
    ]
    if location.region_code == case.origin_region_code:
        reasons.append(Reason("in_origin_region"))
    elif screening.must_leave_origin:
        reasons.append(Reason("outside_origin_region_required", {"risk_level": case.risk_level}))
    else:
        reasons.append(Reason("outside_origin_region"))

    surplus = LEVEL_RANK[location.safety_level] - LEVEL_RANK[case.risk_level]
    if surplus == 0:
        reasons.append(Reason("safety_level_matches", {"level": location.safety_level}))
    else:
        reasons.append(Reason("safety_level_surplus", {
            "level": location.safety_level, "risk_level": case.risk_level, "surplus": surplus}))

    spare = beds - case.household_size
    kind = "family_unit" if beds >= FAMILY_UNIT_BEDS else "room"
    if spare == 0:
        reasons.append(Reason("fits_exactly", {"unit_kind": kind, "beds": beds}))
    else:
        reasons.append(Reason("spare_beds", {"unit_kind": kind, "spare": spare}))

    if case.needs:
        reasons.append(Reason("offers_needs", {"needs": sorted(case.needs)}))
    if intake_by_region is not None:
        intake = max(intake_by_region.get(location.region_code, 0), 0)
        reasons.append(Reason("recent_intake", {"region_code": location.region_code,
                                                "people": intake}))
    return tuple(reasons)
