"""Feasibility: which locations and units a case may use, and why the others are excluded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver.distance import safe_distance_m, to_areas_m
from solver.distance_cache import DistanceCache
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


@dataclass(frozen=True, slots=True)
class Screenings:
    """Many cases against every location: the fields of Screening with a row per case."""

    danger_m: NDArray[np.int64]
    travel_m: NDArray[np.int64]
    reason: NDArray[np.int64]
    min_distance_km: NDArray[np.int64]  # per case
    origin_region: NDArray[np.int64]  # per case
    must_leave_origin: NDArray[np.bool_]  # per case
    stale: NDArray[np.bool_]
    specialised: NDArray[np.bool_]
    failures: tuple[NDArray[np.bool_], ...]

    def __getitem__(self, c: int) -> Screening:
        """Return case c's screening (its rows are views, not copies)."""
        return Screening(
            danger_m=self.danger_m[c],
            travel_m=self.travel_m[c],
            reason=self.reason[c],
            min_distance_km=int(self.min_distance_km[c]),
            origin_region=int(self.origin_region[c]),
            must_leave_origin=bool(self.must_leave_origin[c]),
            stale=self.stale[c],
            specialised=self.specialised[c],
            failures=tuple(failure[c] for failure in self.failures),
        )

    @classmethod
    def of(cls, screening: Screening) -> Screenings:
        """Return one case's screening as a batch of one, for code written for batches."""
        return cls(
            danger_m=screening.danger_m[None],
            travel_m=screening.travel_m[None],
            reason=screening.reason[None],
            min_distance_km=np.array([screening.min_distance_km], np.int64),
            origin_region=np.array([screening.origin_region], np.int64),
            must_leave_origin=np.array([screening.must_leave_origin], np.bool_),
            stale=screening.stale[None],
            specialised=screening.specialised[None],
            failures=tuple(failure[None] for failure in screening.failures),
        )


def per_case(cases: Sequence[Case], value: Callable[[Case], object],
             dtype: type[np.generic]) -> NDArray[Any]:
    """Return a column (one row per case) that broadcasts against a row of locations."""
    return np.fromiter((value(case) for case in cases), dtype, len(cases))[:, None]


def danger_distances_m(cases: Sequence[Case], network: Network,
                       cache: DistanceCache | None = None
                       ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Return safe-side whole metres from the nearest danger, and from the first danger point.

    One row per case, one column per location. Whole metres, rounded down: a lower bound
    stays a lower bound. A danger may lie up to its uncertainty away from its given point,
    so (triangle inequality) that is subtracted too. Every danger of a family network counts:
    the nearest one decides. A location may lie anywhere in its public area, so each danger
    is measured to the area's nearest point (distance.to_areas_m); `here` goes to the area's
    centre, for travel. With a `cache` (the matcher's), distances to the centres measured
    in an earlier run are taken from it: the same values to the bit.
    """
    # Every danger point of every case in one array, each case's first point first.
    points = [((case.danger_lat, case.danger_lon, case.danger_uncertainty_km),
               *case.more_dangers) for case in cases]
    first = np.cumsum([0, *(len(of_case) for of_case in points)], dtype=np.int64)[:-1]
    lat, lon, uncertainty_km = np.array(
        [point for of_case in points for point in of_case], np.float64).reshape(-1, 3).T
    to_centres = _to_centres_m(lat, lon, network, cache)
    # Rounded up like math.ceil, so the margin is never less than the uncertainty.
    uncertainty_m = np.ceil(uncertainty_km * 1000).astype(np.int64)[:, None]
    to_areas = np.maximum(to_areas_m(to_centres, network.radius_m) - uncertainty_m, 0)
    if len(first) == 0:
        return to_areas, to_centres
    return (np.asarray(np.minimum.reduceat(to_areas, first, axis=0), dtype=np.int64),
            to_centres[first])


def travel_distances_m(cases: Sequence[Case], network: Network,
                       from_danger: NDArray[np.float64], cache: DistanceCache | None = None
                       ) -> NDArray[np.int64]:
    """Return safe-side whole metres of travel, one row per case, one column per location.

    Travel is not a safety rule: it is measured from where the client is, or else from the
    first danger point itself (`from_danger`, already measured). `cache` as for
    danger_distances_m.
    """
    travel = from_danger.copy()
    elsewhere = [c for c, case in enumerate(cases)
                 if case.travel_origin != (case.danger_lat, case.danger_lon)]
    if elsewhere:
        lat, lon = np.array([cases[c].travel_origin for c in elsewhere], np.float64).T
        travel[elsewhere] = _to_centres_m(lat, lon, network, cache)
    return travel.astype(np.int64)


def _to_centres_m(lat: NDArray[np.float64], lon: NDArray[np.float64], network: Network,
                  cache: DistanceCache | None) -> NDArray[np.float64]:
    """Return safe-side metres from each point (a row each) to each location's centre."""
    if cache is not None:
        return cache.distances_m(lat, lon, network)
    return safe_distance_m(lat[:, None], lon[:, None], network.lat, network.lon)


def screen(case: Case, network: Network, rules: Rules) -> Screening:
    """Return distances and the first failing rule of every location for this case."""
    return screen_all([case], network, rules)[0]


def screen_all(cases: Sequence[Case], network: Network, rules: Rules,
               cache: DistanceCache | None = None) -> Screenings:
    """Return distances and the first failing rule of every location, for each case.

    The rules are written once, for a column of cases against a row of locations: the
    waiting list screens hundreds of cases against thousands of locations in one numpy pass
    (a loop of cases would cost more than the rules), and `screen` is a batch of one.
    `cache`: the matcher's distances from earlier runs (danger_distances_m).
    """
    risk = per_case(cases, lambda case: LEVEL_RANK[case.risk_level], np.int64)
    min_distance_km = per_case(cases, lambda case: rules.min_distance_km[case.risk_level],
                               np.int64)
    origin_region = per_case(cases, lambda case: network.region_of(case.origin_region_code),
                             np.int64)
    must_leave_origin = per_case(cases, lambda case: (
        case.risk_level == "rood" and rules.rood_outside_origin_region
        and not case.rood_in_origin_region_allowed), np.bool_)

    danger_m, here = danger_distances_m(cases, network, cache)
    travel_m = travel_distances_m(cases, network, here, cache)

    needs = per_case(cases, lambda case: network.needs_mask(case.needs), np.int64)
    case_group = per_case(cases, lambda case: TARGET_GROUPS.index(case.target_group), np.int64)
    # The minimum distance each location's own safety level asks for, in metres.
    own_level_m = np.array([rules.min_distance_km[level] * 1000 for level in LEVELS],
                           dtype=np.int64)[network.safety_rank]
    at_night = per_case(cases, lambda case: case.at_night, np.bool_)
    has_boy = per_case(cases, lambda case: case.oldest_boy_age is not None, np.bool_)
    oldest_boy_age = per_case(cases, lambda case: case.oldest_boy_age or 0, np.int64)
    household_size = per_case(cases, lambda case: case.household_size, np.int64)

    # Each rule as "this location fails it".
    failures = {
        # The request excludes the location or its region.
        "excluded_by_request": excluded_by_request(cases, network),
        # A rood case must leave its own region when the policy says so.
        "origin_region_not_allowed": must_leave_origin
                                     & (network.region_index == origin_region),
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
        "no_night_intake": at_night & ~network.night_intake,
        # An older boy than the location takes in excludes it.
        "boys_age_limit": has_boy & (network.boys_up_to_age < oldest_boy_age),
        # The location must offer every need.
        "missing_features": (network.feature_bits & needs) != needs,
        # Some free unit must hold the whole household.
        "no_free_unit_large_enough": network.max_beds < household_size,
    }
    # np.select reports the first rule that fails, in the order of EXCLUSION_REASONS, which is
    # what the exclusion summary promises.
    shape = danger_m.shape
    conditions = tuple(np.broadcast_to(np.asarray(failures[code], dtype=np.bool_), shape)
                       for code in EXCLUSION_REASONS)
    return Screenings(
        danger_m=danger_m,
        travel_m=travel_m,
        reason=first_failing(conditions),
        min_distance_km=min_distance_km[:, 0],
        origin_region=origin_region[:, 0],
        must_leave_origin=must_leave_origin[:, 0],
        stale=np.broadcast_to(stale_locations(cases, network, rules), shape),
        specialised=np.broadcast_to(specialised_locations(cases, network), shape),
        failures=conditions,
    )


def excluded_by_request(cases: Sequence[Case], network: Network) -> NDArray[np.bool_]:
    """Return, per case and location, whether the request excludes it or its region."""
    excluded = np.zeros((len(cases), len(network.locations)), np.bool_)
    for c, case in enumerate(cases):  # few requests exclude anything
        if case.excluded_region_codes:
            regions = [network.region_of(code) for code in case.excluded_region_codes]
            excluded[c] = np.isin(network.region_index, regions)
        locations = [network.location_index[location_id]
                     for location_id in case.excluded_location_ids
                     if location_id in network.location_index]
        excluded[c, locations] = True
    return excluded


def first_failing(conditions: tuple[NDArray[np.bool_], ...]) -> NDArray[np.int64]:
    """Return per location the index of the first failing rule, or OPEN."""
    reason = np.select(list(conditions), list(range(len(conditions))), default=OPEN)
    return np.asarray(reason, dtype=np.int64)


def stale_locations(cases: Sequence[Case], network: Network, rules: Rules
                    ) -> NDArray[np.bool_]:
    """Return, per case and location, whether availability is older than the stale limit."""
    # A case without a time (NaN) finds nothing stale: NaN compares false.
    now_s = per_case(cases, lambda case: np.nan if case.now_s is None else case.now_s,
                     np.float64)
    with np.errstate(invalid="ignore"):  # NaN - (-inf): unknown time, unknown update
        return np.asarray(now_s - network.updated_s > rules.stale_after_hours * 3600,
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


def specialised_locations(cases: Sequence[Case], network: Network) -> NDArray[np.bool_]:
    """Return, per case and location, whether it is specialised in something not needed."""
    def unneeded_bits(case: Case) -> int:
        return sum(1 << network.feature_bit[feature] for feature in unneeded_specialities(case)
                   if feature in network.feature_bit)

    mask = per_case(cases, unneeded_bits, np.int64)
    men_unneeded = per_case(cases, lambda case: "men" in unneeded_specialities(case), np.bool_)
    # A place that also takes men keeps its rooms for them first.
    takes_men = network.target_group != TARGET_GROUPS.index("women")
    return np.asarray(((network.feature_bits & mask) != 0) | (men_unneeded & takes_men),
                      dtype=np.bool_)


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
    return classes_fitting(network, screening.reason, case.household_size)


def fitting_classes_all(cases: Sequence[Case], network: Network, screenings: Screenings
                        ) -> NDArray[np.bool_]:
    """Return, per case and capacity class, whether the case may take a unit of it."""
    household_size = per_case(cases, lambda case: case.household_size, np.int64)
    return classes_fitting(network, screenings.reason, household_size)


def classes_fitting(network: Network, reason: NDArray[np.int64],
                    household_size: int | NDArray[np.int64]) -> NDArray[np.bool_]:
    """Return which classes are at an open location and hold the household (broadcasting)."""
    location_open = reason == OPEN
    return np.asarray(location_open[..., network.class_location]
                      & (network.class_beds >= household_size), dtype=np.bool_)


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
