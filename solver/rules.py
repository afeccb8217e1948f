"""Feasibility: which locations and units a case may use, and why the others are excluded."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver.distance import safe_distance_m
from solver.model import Case, Exclusion, Rules
from solver.network import Network
from solver.vocabulary import EXCLUSION_REASONS, LEVEL_RANK

# The reason code of a location that has at least one fitting unit.
OPEN = -1


@dataclass(frozen=True, slots=True)
class Screening:
    """One case against every location of a network."""

    danger_m: NDArray[np.int64]  # safe-side whole metres from the danger, per location
    travel_m: NDArray[np.int64]  # safe-side whole metres of travel, per location
    reason: NDArray[np.int64]  # index into EXCLUSION_REASONS, or OPEN
    min_distance_km: int
    origin_region: int  # index into network.region_codes, -1 when no location is there
    must_leave_origin: bool


def screen(case: Case, network: Network, rules: Rules) -> Screening:
    """Return distances and the first failing rule of every location for this case."""
    risk = LEVEL_RANK[case.risk_level]
    min_distance_km = rules.min_distance_km[case.risk_level]
    origin_region = network.region_of(case.origin_region_code)
    must_leave_origin = (case.risk_level == "rood" and rules.rood_outside_origin_region
                         and not case.rood_in_origin_region_allowed)

    # Whole metres, rounded down: a lower bound stays a lower bound. The danger may lie up to
    # its uncertainty away from the given point, so (triangle inequality) subtract that too.
    here = safe_distance_m(case.danger_lat, case.danger_lon, network.lat, network.lon)
    uncertainty_m = math.ceil(case.danger_uncertainty_km * 1000)
    danger_m = np.maximum(here.astype(np.int64) - uncertainty_m, 0)
    # Travel is not a safety rule: it is measured from where the client is, or else from
    # the given danger point itself.
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

    # Each rule as "this location fails it".
    failures = {
        # The request excludes the location or its region.
        "excluded_by_request": by_request,
        # A rood case must leave its own region when the policy says so.
        "origin_region_not_allowed": must_leave_origin & (network.region_index == origin_region),
        # The location must be at least as secure as the risk is high.
        "safety_level_too_low": network.safety_rank < risk,
        # The location must be far enough from the danger (whole km, rounded down).
        "too_close_to_danger": danger_m < min_distance_km * 1000,
        # The location must offer every need.
        "missing_features": (network.feature_bits & needs) != needs,
        # Some free unit must hold the whole household.
        "no_free_unit_large_enough": network.max_beds < case.household_size,
    }
    # np.select reports the first rule that fails, in the order of EXCLUSION_REASONS, which is
    # what the exclusion summary promises.
    conditions = [failures[code] for code in EXCLUSION_REASONS]
    reason = np.select(conditions, list(range(len(conditions))), default=OPEN)
    return Screening(
        danger_m=danger_m,
        travel_m=travel_m,
        reason=reason.astype(np.int64),
        min_distance_km=min_distance_km,
        origin_region=origin_region,
        must_leave_origin=must_leave_origin,
    )


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
