"""Ranking: the integer cost of every fitting unit for one case, and the proposal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from solver.distance import whole_km
from solver.model import (
    ROOD_MARGIN_CAP_KM,
    Case,
    Location,
    Option,
    Proposal,
    Reason,
    Relaxation,
    Rules,
)
from solver.network import Network
from solver.rules import (
    Screening,
    Screenings,
    exclusion_summary,
    fitting_classes,
    per_case,
    relaxed_open_locations,
    screen,
    specialities_unneeded_at,
)
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
    costs = location_costs_all([case], network, rules, Screenings.of(screening),
                               intake_by_region)
    return np.asarray(costs[0], dtype=np.int64)


def location_costs_all(
    cases: Sequence[Case],
    network: Network,
    rules: Rules,
    screenings: Screenings,
    intake_by_region: Mapping[str, int] | None,
) -> NDArray[np.int64]:
    """Return, per case and location, the part of the cost that does not depend on the unit.

    Written once for a column of cases against a row of locations, like rules.screen_all.
    """
    weights = rules.weights
    rood = per_case(cases, lambda case: case.risk_level == "rood", np.bool_)
    from_danger = per_case(cases, lambda case: case.current_lat is None, np.bool_)
    risk = per_case(cases, lambda case: LEVEL_RANK[case.risk_level], np.int64)
    # For rood, distance from the danger beyond the minimum is a small benefit, never a cost:
    # travel from the danger that only adds margin is not charged (else ranking by travel
    # would pull her to the edge of the circle), and the margin up to ROOD_MARGIN_CAP_KM
    # counts a little (the shortfall from the cap is what costs).
    margin_m = np.maximum(screenings.danger_m - screenings.min_distance_km[:, None] * 1000, 0)
    travel_m = np.where(rood & from_danger, np.maximum(screenings.travel_m - margin_m, 0),
                        screenings.travel_m)
    cap_m = ROOD_MARGIN_CAP_KM * 1000
    margin_benefit = np.where(
        rood, (cap_m - np.minimum(margin_m, cap_m)) * weights.rood_margin_per_km // 1000, 0)
    travel = travel_m * weights.travel_per_km // 1000
    surplus = np.maximum(network.safety_rank - risk, 0)
    # Help in the own region where possible; pointless when the rules forbid it.
    outside = ((network.region_index != screenings.origin_region[:, None])
               & ~screenings.must_leave_origin[:, None])
    cost = (
        travel
        + surplus * weights.safety_surplus_per_level
        + outside * weights.outside_origin_region
        + margin_benefit
        + screenings.stale * weights.stale_availability
        + screenings.specialised * weights.specialised_place
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
    units_per_location: int = 1,
) -> Proposal:
    """Return the best `limit` fitting units, best first, and why the others are out.

    Each location gives at most `units_per_location` options: its best-fitting units, the
    smallest that hold the household first. A place specialised in something the case does
    not need comes after every suitable general place; otherwise options go cheapest first,
    ties broken by location id, then unit id. The exclusion summary covers every location
    without any fitting unit, whatever the limit; the relaxations say, per need of the case,
    how many locations dropping that need alone would open.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if units_per_location < 1:
        raise ValueError("units_per_location must be at least 1")
    screening = screen(case, network, rules)
    per_location = location_costs(case, network, rules, screening, intake_by_region)

    # Capacity classes (location, beds) come in location id, then beds order, so within a
    # location the smallest sufficient class comes first. Take units class by class until
    # the location has given units_per_location.
    classes = np.flatnonzero(fitting_classes(case, network, screening))
    at = network.class_location[classes]
    sizes = network.class_size[classes]
    before = np.cumsum(sizes) - sizes  # units of earlier fitting classes, all locations
    group_start = np.flatnonzero(np.diff(at, prepend=-1) != 0)
    first_of_group = np.repeat(group_start, np.diff(np.append(group_start, len(classes))))
    taken_before = before - before[first_of_group] if len(classes) else before
    take = np.minimum(sizes, np.maximum(units_per_location - taken_before, 0))
    keep = take > 0
    classes, at, take = classes[keep], at[keep], take[keep]
    spare_beds = network.class_beds[classes] - case.household_size
    costs = per_location[at] + spare_beds * rules.weights.spare_bed
    # Specialised places after every general one: a tier above any cost.
    tier = screening.specialised[at].astype(np.int64)
    keys = tier * (int(costs.max(initial=0)) + 1) + costs

    # Classes in (key, location id, beds) order; hand out their units (by unit id) until
    # the limit. np.lexsort's last key is the first.
    order = np.lexsort((network.class_beds[classes], at, keys))
    best: list[tuple[int, int]] = []  # (class, unit index)
    for c in order.tolist():
        j = int(classes[c])
        members = network.class_members[network.class_start[j]:network.class_start[j + 1]]
        chosen = sorted(members.tolist(), key=lambda m: network.units[m].id)[:int(take[c])]
        best.extend((c, m) for m in chosen)
        if len(best) >= limit:
            break
    best = best[:limit]

    options = tuple(
        _option(rank, unit, int(costs[c]), case, network, rules, screening, intake_by_region)
        for rank, (c, unit) in enumerate(best, 1)
    )
    relaxations = tuple(
        Relaxation(f"needs:{need}", relaxed_open_locations(case, network, screening, need))
        for need in sorted(case.needs)
    )
    return Proposal(options=options, excluded=exclusion_summary(screening),
                    relaxations=relaxations)


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
            case, location, unit.beds, distance_km, travel_km, screening, intake_by_region,
            rules,
        ),
        availability_updated_s=location.availability_updated_s,
        place=location.place,
        stale=bool(screening.stale[at]),
    )


def explain(
    case: Case,
    location: Location,
    beds: int,
    distance_km: int,
    travel_km: int,
    screening: Screening,
    intake_by_region: Mapping[str, int] | None,
    rules: Rules | None = None,
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
    specialised = specialities_unneeded_at(case, location)
    if specialised:
        reasons.append(Reason("specialised_place", {"features": specialised}))
    if (rules is not None and case.now_s is not None
            and case.now_s - (location.availability_updated_s or float("-inf"))
            > rules.stale_after_hours * 3600):
        hours = (None if location.availability_updated_s is None
                 else int((case.now_s - location.availability_updated_s) // 3600))
        reasons.append(Reason("stale_availability", {"hours": hours}))
    return tuple(reasons)
