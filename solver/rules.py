"""Feasibility: which locations and units a case may use, and why the others are excluded."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver.distance import safe_distance_m, to_areas_m
from solver.model import Case, Exclusion, Location, Rules
from solver.network import Network
from solver.vocabulary import (
    EXCLUSION_REASONS,
    LEVEL_RANK,
    LEVELS,
    SPECIALISED_FEATURES,
    TARGET_GROUPS,
)

# The reason code of a location that has at least one fitting unit.
OPEN = -1
ALL_GROUPS = TARGET_GROUPS.index("all")


@dataclass(frozen=True, slots=True)
class Screening:
    """One case against every location of a network."""

    danger_m: NDArray[np.int64]  # safe-side whole metres from the nearest danger, per location
    travel_m: NDArray[np.int64]  # safe-side whole metres of travel, per location
    reason: NDArray[np.int64]  # index into EXCLUSION_REASONS, or OPEN
    min_distance_km: int
    origin_region: int  # index into network.region_codes, -1 when no location is there
    must_leave_origin: bool
    stale: NDArray[np.bool_]  # availability older than the policy's stale_after_hours
    specialised: NDArray[np.bool_]  # specialised in something this case does not need
    # Per rule (in EXCLUSION_REASONS order), which locations fail it: for relaxations.
    failures: tuple[NDArray[np.bool_], ...] = ()


def danger_distances_m(case: Case, network: Network) -> tuple[NDArray[np.int64],
                                                             NDArray[np.float64]]:
    """Return safe-side whole metres from the nearest danger, and from the first danger point.

    Whole metres, rounded down: a lower bound stays a lower bound. A danger may lie up to its
    uncertainty away from its given point, so (triangle inequality) that is subtracted too.
    Every danger of a family network counts: the nearest one decides. A location may lie
    anywhere in its public area, so each danger is measured to the area's nearest point
    (distance.to_areas_m); `here` goes to the area's centre, for travel.
    """
    here = safe_distance_m(case.danger_lat, case.danger_lon, network.lat, network.lon)
    danger_m = _less_uncertainty(to_areas_m(here, network.radius_m), case.danger_uncertainty_km)
    for lat, lon, uncertainty_km in case.more_dangers:
        there = safe_distance_m(lat, lon, network.lat, network.lon)
        danger_m = np.minimum(
            danger_m, _less_uncertainty(to_areas_m(there, network.radius_m), uncertainty_km))
    return danger_m, here


def _less_uncertainty(metres: NDArray[np.float64] | NDArray[np.int64],
                      uncertainty_km: float) -> NDArray[np.int64]:
    uncertainty_m = math.ceil(uncertainty_km * 1000)
    return np.asarray(np.maximum(metres.astype(np.int64) - uncertainty_m, 0), dtype=np.int64)


def screen(case: Case, network: Network, rules: Rules) -> Screening:
    """Return distances and the first failing rule of every location for this case."""
    risk = LEVEL_RANK[case.risk_level]
    min_distance_km = rules.min_distance_km[case.risk_level]
    origin_region = network.region_of(case.origin_region_code)
    must_leave_origin = (case.risk_level == "rood" and rules.rood_outside_origin_region
                         and not case.rood_in_origin_region_allowed)

    danger_m, here = danger_distances_m(case, network)
    # Travel is not a safety rule: it is measured from where the client is, or else from
    # the first danger point itself.
    travel_lat, travel_lon = case.travel_origin
    if (travel_lat, travel_lon) == (case.danger_lat, case.danger_lon):
        travel_m = here.astype(np.int64)
    else:
        travel = safe_distance_m(travel_lat, travel_lon, network.lat, network.lon)
        travel_m = travel.astype(np.int64)

    excluded_regions = [network.region_of(code) for code in case.excluded_region_codes]
    excluded_locations = [
        network.location_index[location_id]
        for location_id in case.excluded_location_ids
        if location_id in network.location_index
    ]
    by_request = np.isin(network.region_index, excluded_regions)
    by_request[excluded_locations] = True
    needs = network.needs_mask(case.needs)
    case_group = TARGET_GROUPS.index(case.target_group)
    # The minimum distance each location's own safety level asks for, in metres.
    own_level_m = np.array([rules.min_distance_km[level] * 1000 for level in LEVELS],
                           dtype=np.int64)[network.safety_rank]

    # Each rule as "this location fails it".
    failures = {
        # The request excludes the location or its region.
        "excluded_by_request": by_request,
        # A rood case must leave its own region when the policy says so.
        "origin_region_not_allowed": must_leave_origin & (network.region_index == origin_region),
        # The location takes in her target group (women, men) or everyone.
        "target_group_mismatch": (network.target_group != ALL_GROUPS)
                                 & (network.target_group != case_group),
        # The location must be at least as secure as the risk is high.
        "safety_level_too_low": network.safety_rank < risk,
        # The location must be far enough from every danger (whole km, rounded down).
        "too_close_to_danger": danger_m < min_distance_km * 1000,
        # A location's own level protects it, whatever the case's risk level.
        "too_close_for_location": rules.location_level_min_distance & (danger_m < own_level_m),
        # At night only a location with night intake can take her in.
        "no_night_intake": case.at_night & ~network.night_intake,
        # An older boy than the location takes in excludes it.
        "boys_age_limit": (case.oldest_boy_age is not None)
                          & (network.boys_up_to_age < (case.oldest_boy_age or 0)),
        # The location must offer every need.
        "missing_features": (network.feature_bits & needs) != needs,
        # Some free unit must hold the whole household.
        "no_free_unit_large_enough": network.max_beds < case.household_size,
    }
    # np.select reports the first rule that fails, in the order of EXCLUSION_REASONS, which is
    # what the exclusion summary promises.
    conditions = tuple(np.asarray(failures[code], dtype=np.bool_) for code in EXCLUSION_REASONS)
    return Screening(
        danger_m=danger_m,
        travel_m=travel_m,
        reason=first_failing(conditions),
        min_distance_km=min_distance_km,
        origin_region=origin_region,
        must_leave_origin=must_leave_origin,
        stale=stale_locations(case, network, rules),
        specialised=specialised_locations(case, network),
        failures=conditions,
    )


def first_failing(conditions: tuple[NDArray[np.bool_], ...]) -> NDArray[np.int64]:
    """Return per location the index of the first failing rule, or OPEN."""
    reason = np.select(list(conditions), list(range(len(conditions))), default=OPEN)
    return np.asarray(reason, dtype=np.int64)


def stale_locations(case: Case, network: Network, rules: Rules) -> NDArray[np.bool_]:
    """Return which locations' availability is older than the policy's stale limit."""
    if case.now_s is None:
        return np.zeros(len(network.locations), np.bool_)
    return np.asarray(case.now_s - network.updated_s > rules.stale_after_hours * 3600,
                      dtype=np.bool_)


def unneeded_specialities(case: Case) -> tuple[str, ...]:
    """Return the specialities (SPECIALISED_FEATURES) this case does not need."""
    return tuple(feature for feature in SPECIALISED_FEATURES
                 if feature not in case.needs
                 and not (feature == "men" and case.target_group == "men"))


def specialities_unneeded_at(case: Case, location: Location) -> list[str]:
    """Return what one location is specialised in that this case does not need."""
    unneeded = unneeded_specialities(case)
    found = [feature for feature in unneeded if feature in location.features]
    if "men" in unneeded and "men" not in found and location.target_group != "women":
        found.append("men")
    return found


def specialised_locations(case: Case, network: Network) -> NDArray[np.bool_]:
    """Return which locations are specialised in something this case does not need."""
    unneeded = unneeded_specialities(case)
    mask = 0
    for feature in unneeded:
        if feature in network.feature_bit:
            mask |= 1 << network.feature_bit[feature]
    specialised = (network.feature_bits & mask) != 0
    if "men" in unneeded:
        # A place that also takes men keeps its rooms for them first.
        specialised |= network.target_group != TARGET_GROUPS.index("women")
    return np.asarray(specialised, dtype=np.bool_)


def relaxed_open_locations(case: Case, network: Network, screening: Screening,
                           need: str) -> int:
    """Return how many locations would have a fitting unit if the case did not need `need`.

    Only the needs rule is recomputed; every safety rule and the request's own exclusions
    stay exactly as they were screened.
    """
    needs = network.needs_mask(case.needs - {need})
    conditions = list(screening.failures)
    at = EXCLUSION_REASONS.index("missing_features")
    conditions[at] = np.asarray((network.feature_bits & needs) != needs, dtype=np.bool_)
    return int(np.count_nonzero(first_failing(tuple(conditions)) == OPEN))


def fitting_units(case: Case, network: Network, screening: Screening) -> NDArray[np.bool_]:
    """Return, per free unit, whether this case may take it (one household per unit)."""
    location_open = screening.reason == OPEN
    return np.asarray(location_open[network.unit_location]
                      & (network.unit_beds >= case.household_size), dtype=np.bool_)


def fitting_classes(case: Case, network: Network, screening: Screening) -> NDArray[np.bool_]:
    """Return, per capacity class, whether this case may take a unit of it."""
    location_open = screening.reason == OPEN
    return np.asarray(location_open[network.class_location]
                      & (network.class_beds >= case.household_size), dtype=np.bool_)


def exclusion_summary(screening: Screening) -> tuple[Exclusion, ...]:
    """Count the locations without a fitting unit per first failing rule; omit zero counts."""
    counts = np.bincount(
        screening.reason[screening.reason != OPEN], minlength=len(EXCLUSION_REASONS)
    )
    return tuple(
        Exclusion(reason, int(count))
        for reason, count in zip(EXCLUSION_REASONS, counts, strict=True)
        if count
    )
