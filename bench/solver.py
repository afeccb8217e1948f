"""Benchmark the solver against a naive baseline, on the demo network. Prints, never asserts.

    .venv/bin/python bench/solver.py [--quick]

Everything runs in this process, without a database: the demo network of seed/demo_network.py
at scale 10 (about 1,000 locations and 10,000 units, all treated as free, the worst case for
speed) and at scale 1 with its own free/occupied statuses (a busy night). Measures:

1. ranking one request (propose) against the whole network, with Network.build timed apart;
2. the proven-optimal joint assignment of 200 requests;
3. the same for a naive baseline written here: geopy's geodesic per pair in a Python loop for
   ranking, and a greedy first-come, nearest-feasible assignment;
4. on simulated busy nights: how many are placed, and how much scarce capacity (secure
   places, family units) greedy and optimal spend on cases that do not need it;
5. the largest error of the fast distance against geopy, and whether it ever overestimates.

Times are medians and p95 of one run, wall clock, on whatever machine runs it. The naive
baseline is slow by nature (a geodesic object per pair), so it runs on fewer samples; each
line says how many.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# This file is called solver.py: take its folder off the path so `import solver` finds the
# package, and put the repository root on it.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import ortools  # noqa: E402
from geopy.distance import geodesic  # noqa: E402

from bench.harness import percentile  # noqa: E402
from seed.demo_network import DemoLocation, generate_network  # noqa: E402
from seed.history import HOUSEHOLD_SHARES, RISK_SHARES  # noqa: E402
from solver import (  # noqa: E402
    Case,
    FreeUnit,
    Location,
    Network,
    Rules,
    assign_jointly,
    propose,
    safe_distance_m,
)
from solver.distance import DOMAIN_LAT, DOMAIN_LON, LAMBERT_SAFETY_MARGIN  # noqa: E402
from solver.model import ROOD_MARGIN_CAP_KM  # noqa: E402
from solver.rules import specialities_unneeded_at  # noqa: E402
from solver.vocabulary import EXCLUSION_REASONS, FEATURES, LEVEL_RANK  # noqa: E402

RANKING_TARGET_MS = 5.0
JOINT_TARGET_S = 2.0
JOINT_REQUESTS = 200
NEED_SHARE = 0.08  # requests with one special need
CURRENT_SHARE = 0.25  # requests where the client is no longer at the danger


# --- Data -----------------------------------------------------------------------------------


def solver_network(demo: Sequence[DemoLocation], only_free: bool) -> tuple[list, list]:
    """Return (locations, units) for the solver; all units, or only the free ones."""
    locations = [
        Location(d.key, d.name, d.region_code, d.safety_level, d.lat, d.lon, frozenset(d.features))
        for d in demo
    ]
    units = [
        FreeUnit(f"{d.key}/{i}", d.key, unit.beds)
        for d in demo
        for i, unit in enumerate(d.units)
        if unit.status == "free" or not only_free
    ]
    return locations, units


def _shared(rng: random.Random, shares: dict):
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def random_cases(demo: Sequence[DemoLocation], count: int, seed: int) -> list[Case]:
    """Return a realistic mix of requests: risk and household shares as in seed/history.py.

    The danger lies within 15 km of a random location (people live where shelters are,
    roughly); its region is the origin. A quarter of the clients have already moved.
    """
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        home = rng.choice(demo)
        lat, lon = _jitter(rng, home.lat, home.lon, 15)
        current = _jitter(rng, lat, lon, 40) if rng.random() < CURRENT_SHARE else None
        cases.append(
            Case(
                id=f"req-{seed}-{i:04d}",
                origin_region_code=home.region_code,
                risk_level=_shared(rng, RISK_SHARES),
                danger_lat=lat,
                danger_lon=lon,
                current_lat=current[0] if current else None,
                current_lon=current[1] if current else None,
                household_size=_shared(rng, HOUSEHOLD_SHARES),
                needs=frozenset([rng.choice(FEATURES)] if rng.random() < NEED_SHARE else []),
            )
        )
    return cases


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    distance, angle = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return (
        lat + distance * math.cos(angle) / 111.2,
        lon + distance * math.sin(angle) / (111.2 * math.cos(math.radians(lat))),
    )


# --- The naive baseline -----------------------------------------------------------------------


def naive_propose(case: Case, locations, units_by_location, rules: Rules, limit: int = 10):
    """Rank like propose, the obvious way: a geopy geodesic per pair, in a Python loop."""
    weights = rules.weights
    risk = LEVEL_RANK[case.risk_level]
    minimum = rules.min_distance_km[case.risk_level]
    must_leave = case.risk_level == "rood" and rules.rood_outside_origin_region
    danger = (case.danger_lat, case.danger_lon)
    options, excluded = [], dict.fromkeys(EXCLUSION_REASONS, 0)
    for location in locations:
        here = (location.lat, location.lon)
        distance_m = geodesic(danger, here).meters
        fits = [u for u in units_by_location.get(location.id, ()) if u.beds >= case.household_size]
        fails = {
            "excluded_by_request": location.region_code in case.excluded_region_codes
            or location.id in case.excluded_location_ids,
            "origin_region_not_allowed": must_leave
            and location.region_code == case.origin_region_code,
            "target_group_mismatch": location.target_group not in ("all", case.target_group),
            "safety_level_too_low": LEVEL_RANK[location.safety_level] < risk,
            "too_close_to_danger": distance_m < minimum * 1000,
            "too_close_for_location": rules.location_level_min_distance
            and distance_m < rules.min_distance_km[location.safety_level] * 1000,
            "no_night_intake": case.at_night and not location.accepts_night_intake,
            "boys_age_limit": case.oldest_boy_age is not None
            and location.accepts_boys_up_to_age is not None
            and case.oldest_boy_age > location.accepts_boys_up_to_age,
            "missing_features": not case.needs <= location.features,
            "no_free_unit_large_enough": not fits,
        }
        first = next((reason for reason in EXCLUSION_REASONS if fails[reason]), None)
        if first:
            excluded[first] += 1
            continue
        outside = location.region_code != case.origin_region_code and not must_leave
        travel_m = distance_m
        if case.current_lat is not None:
            travel_m = geodesic(case.travel_origin, here).meters
        margin_cost = 0
        if case.risk_level == "rood":
            # The margin beyond the minimum is a small benefit; travel from the danger that
            # only adds margin is not charged.
            margin_m = max(int(distance_m) - minimum * 1000, 0)
            if case.current_lat is None:
                travel_m = max(int(travel_m) - margin_m, 0)
            cap_m = ROOD_MARGIN_CAP_KM * 1000
            margin_cost = (cap_m - min(margin_m, cap_m)) * weights.rood_margin_per_km // 1000
        # One option per location: its smallest sufficient unit.
        unit = min(fits, key=lambda u: (u.beds, u.id))
        cost = (
            int(travel_m) * weights.travel_per_km // 1000
            + (LEVEL_RANK[location.safety_level] - risk) * weights.safety_surplus_per_level
            + (unit.beds - case.household_size) * weights.spare_bed
            + outside * weights.outside_origin_region
            + margin_cost
        )
        # Specialised places after every general one.
        tier = bool(specialities_unneeded_at(case, location))
        options.append((tier, cost, location.id, unit.id))
    options.sort()
    return [(cost, loc, unit) for _, cost, loc, unit in options[:limit]], excluded


def greedy_assign(cases: Sequence[Case], locations, units_by_location, rules: Rules):
    """Assign first come, first served, each to the nearest feasible free unit (geopy).

    Return {case id: (location, unit, travel km)}. A fair baseline, not a straw man: the cheap
    rules and the free units are checked before any distance, the distance from the danger
    doubles as travel when the client is still there, and within the nearest location the
    case takes the smallest unit that holds the household.
    """
    taken: set[str] = set()
    result = {}
    for case in cases:
        risk = LEVEL_RANK[case.risk_level]
        minimum = rules.min_distance_km[case.risk_level]
        must_leave = case.risk_level == "rood" and rules.rood_outside_origin_region
        danger = (case.danger_lat, case.danger_lon)
        best = None
        for location in locations:
            if (
                location.region_code in case.excluded_region_codes
                or location.id in case.excluded_location_ids
                or (must_leave and location.region_code == case.origin_region_code)
                or LEVEL_RANK[location.safety_level] < risk
                or not case.needs <= location.features
            ):
                continue
            free = [
                u
                for u in units_by_location.get(location.id, ())
                if u.id not in taken and u.beds >= case.household_size
            ]
            if not free:
                continue
            here = (location.lat, location.lon)
            from_danger = geodesic(danger, here).km
            if from_danger < minimum:
                continue
            if rules.location_level_min_distance \
                    and from_danger < rules.min_distance_km[location.safety_level]:
                continue  # the location's own level (CONTRACT 4.1)
            travel = from_danger
            if case.current_lat is not None:
                travel = geodesic(case.travel_origin, here).km
            if best is None or travel < best[0]:
                best = (travel, location, min(free, key=lambda u: u.beds))
        if best is not None:
            travel, location, unit = best
            taken.add(unit.id)
            result[case.id] = (location, unit, travel)
    return result


# --- Measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Wall times of one action over several samples, in seconds."""

    timings: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        return percentile(self.timings, 0.95)


def timed_over(items: Sequence, action: Callable[[object], object]) -> tuple[Timing, list]:
    """Run `action(item)` for each item; return the wall times and the results."""
    timings, results = [], []
    for item in items:
        start = time.perf_counter()
        results.append(action(item))
        timings.append(time.perf_counter() - start)
    return Timing(timings), results


@dataclass
class NightOutcome:
    placed: int = 0
    rood_placed: int = 0
    secure_to_non_rood: int = 0  # rood-level units given to groen/oranje cases
    family_to_small: int = 0  # units of 3+ beds given to households of 1-2
    spare_family_beds: int = 0  # empty beds in the family units that were used
    travel_km: float = 0.0

    def add(self, case: Case, location: Location, beds: int, travel_km: float) -> None:
        self.placed += 1
        self.rood_placed += case.risk_level == "rood"
        self.secure_to_non_rood += location.safety_level == "rood" and case.risk_level != "rood"
        if beds >= 3:
            self.family_to_small += case.household_size <= 2
            self.spare_family_beds += beds - case.household_size
        self.travel_km += travel_km


def busy_nights(nights: int, requests: int) -> tuple[NightOutcome, NightOutcome, int, int, int]:
    """Return (greedy, optimal, requests, rood requests, free units) summed over the nights."""
    rules = Rules.default()
    greedy, optimal = NightOutcome(), NightOutcome()
    rood_total = free_total = 0
    for night in range(nights):
        demo = generate_network(scale=1, seed=night)
        locations, units = solver_network(demo, only_free=True)
        free_total += len(units)
        by_location: dict[str, list[FreeUnit]] = {}
        for unit in units:
            by_location.setdefault(unit.location_id, []).append(unit)
        location_of = {location.id: location for location in locations}
        unit_of = {unit.id: unit for unit in units}
        cases = random_cases(demo, requests, seed=1000 + night)
        rood_total += sum(case.risk_level == "rood" for case in cases)

        case_of = {case.id: case for case in cases}
        for case_id, (location, unit, travel) in greedy_assign(
            cases, locations, by_location, rules
        ).items():
            greedy.add(case_of[case_id], location, unit.beds, travel)

        joint = assign_jointly(cases, Network.build(locations, units), rules)
        for case, assignment in zip(cases, joint.assignments, strict=True):
            if assignment.unit_id is not None:
                location = location_of[assignment.location_id]
                travel = geodesic(case.travel_origin, (location.lat, location.lon)).km
                optimal.add(case, location, unit_of[assignment.unit_id].beds, travel)
    return greedy, optimal, nights * requests, rood_total, free_total


@dataclass
class DistanceErrors:
    pairs: int = 0
    longest_km: float = 0.0
    worst_short_m: float = 0.0  # of the safe distance, below the geodesic
    worst_short_relative: float = 0.0
    overestimates: int = 0  # of the safe distance: must be 0
    raw_worst_over_relative: float = 0.0  # of Lambert's formula before the safety margin


def distance_errors(pairs: int, seed: int = 0) -> DistanceErrors:
    """Compare safe_distance_m with geopy's geodesic on random pairs inside the domain."""
    rng = np.random.default_rng(seed)
    origins = 200
    per_origin = pairs // origins
    errors = DistanceErrors()
    corner_pairs = [
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[1], DOMAIN_LON[1])),
        ((DOMAIN_LAT[0], DOMAIN_LON[1]), (DOMAIN_LAT[1], DOMAIN_LON[0])),
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[1], DOMAIN_LON[0])),
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[0], DOMAIN_LON[1])),
    ]
    batches = [(a, np.array([b[0]]), np.array([b[1]])) for a, b in corner_pairs]
    for _ in range(origins):
        origin = (rng.uniform(*DOMAIN_LAT), rng.uniform(*DOMAIN_LON))
        lats = rng.uniform(*DOMAIN_LAT, per_origin)
        lons = rng.uniform(*DOMAIN_LON, per_origin)
        # A fifth of the targets within a few km, some within metres: short pairs too.
        near = per_origin // 5
        lats[:near] = origin[0] + rng.normal(0, 0.02, near)
        lons[:near] = origin[1] + rng.normal(0, 0.03, near)
        lats[:3] = origin[0] + rng.normal(0, 1e-5, 3)
        lats = np.clip(lats, *DOMAIN_LAT)
        lons = np.clip(lons, *DOMAIN_LON)
        batches.append((origin, lats, lons))
    # geopy's geodesic, one instance for all pairs: the same Karney algorithm and result as
    # geodesic(a, b), without building the ellipsoid again for every pair.
    reference_km = geodesic().measure
    for origin, lats, lons in batches:
        ours = safe_distance_m(origin[0], origin[1], lats, lons)
        reference = 1000 * np.array([reference_km(origin, p) for p in zip(lats, lons, strict=True)])
        short = reference - ours
        positive = np.maximum(reference, 1e-9)
        errors.pairs += len(lats)
        errors.longest_km = max(errors.longest_km, float(reference.max()) / 1000)
        errors.overestimates += int(np.sum(short < 0))
        errors.worst_short_m = max(errors.worst_short_m, float(short.max()))
        errors.worst_short_relative = max(
            errors.worst_short_relative, float((short / positive).max())
        )
        # Every pair is in the domain, so the safe distance is Lambert's times (1 - margin).
        raw_over = ours / (1 - LAMBERT_SAFETY_MARGIN) - reference
        errors.raw_worst_over_relative = max(
            errors.raw_worst_over_relative, float((raw_over / positive).max())
        )
    return errors


# --- The run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    args = parser.parse_args()
    quick = args.quick
    rules = Rules.default()

    print("shelter-match solver benchmark: .venv/bin/python bench/solver.py")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, ortools "
        f"{ortools.__version__}, {platform.machine()}, {_cpus()} cores"
    )
    demo = generate_network(scale=10, seed=0)
    locations, units = solver_network(demo, only_free=False)
    print(
        f"network: seed/demo_network.py scale 10 seed 0: {len(locations)} locations, "
        f"{len(units)} units, all treated as free"
    )
    by_location: dict[str, list[FreeUnit]] = {}
    for unit in units:
        by_location.setdefault(unit.location_id, []).append(unit)

    # 1. Ranking one request.
    print("\n1. Ranking one request against the whole network")
    network = Network.build(locations, units)
    build, _ = timed_over(range(10 if quick else 50), lambda _: Network.build(locations, units))
    requests = random_cases(demo, 60 if quick else 400, seed=1)
    propose(requests[0], network, rules)  # warm up
    ranking, _ = timed_over(requests, lambda case: propose(case, network, rules))
    both, _ = timed_over(
        requests[:100], lambda case: propose(case, Network.build(locations, units), rules)
    )
    naive_requests = requests[: 3 if quick else 11]
    naive, naive_results = timed_over(
        naive_requests, lambda case: naive_propose(case, locations, by_location, rules)
    )
    agree = sum(
        [(o.location_id, o.unit_id) for o in propose(case, network, rules).options]
        == [(loc, unit) for _, loc, unit in result[0]]
        for case, result in zip(naive_requests, naive_results, strict=True)
    )
    header()
    row("Network.build alone", build, "ms", f"{len(build.timings)} builds")
    row(
        "propose, network prebuilt",
        ranking,
        "ms",
        f"{len(requests)} requests; target < {RANKING_TARGET_MS:g} ms "
        f"({'met' if ranking.median * 1e3 < RANKING_TARGET_MS else 'MISSED'})",
    )
    row("Network.build + propose", both, "ms", "when availability changed since the last one")
    row(
        "naive: geopy per pair, Python loop",
        naive,
        "ms",
        f"{len(naive_requests)} requests; same top 10 as propose: {agree}",
    )
    ratio("speed-up, network prebuilt", naive, ranking)
    ratio("speed-up, build included", naive, both)

    # 2. Joint assignment of 200 requests.
    # --quick: smaller batches, since the greedy baseline takes most of the run time.
    per_batch = 50 if quick else JOINT_REQUESTS
    print(f"\n2. Joint assignment of {per_batch} requests against {len(units)} units")
    batches = [random_cases(demo, per_batch, seed=100 + i) for i in range(3 if quick else 9)]
    # assign_jointly raises unless OR-Tools reports OPTIMAL: a result is a proof.
    joint, joint_results = timed_over(batches, lambda cases: assign_jointly(cases, network, rules))
    # The baseline on one batch only: it makes ~1,000 geodesic calls per request.
    greedy, greedy_results = timed_over(
        batches[:1], lambda cases: greedy_assign(cases, locations, by_location, rules)
    )
    header()
    target = (
        f"; target < {JOINT_TARGET_S:g} s ({'met' if joint.median < JOINT_TARGET_S else 'MISSED'})"
        if per_batch == JOINT_REQUESTS
        else f"; the target is for {JOINT_REQUESTS} requests"
    )
    row(
        "optimal: min-cost flow, proven",
        joint,
        "s",
        f"{len(batches)} batches, network prebuilt; status OPTIMAL in all{target}",
    )
    row(
        "naive: greedy, geopy per pair",
        greedy,
        "s",
        f"{len(greedy_results)} batch (one run)",
    )
    ratio("speed-up", greedy, joint)
    first = joint_results[0]
    print(
        f"   placed in the first batch: optimal {first.placed}, greedy {len(greedy_results[0])} "
        f"of {per_batch} (every unit free, so nearly all fit; section 3 is the busy case)"
    )

    # 3. Busy nights: scarce capacity, the demo network's own occupancy.
    nights, per_night = (2, 150) if quick else (5, 200)
    greedy, optimal, total, rood_total, free_total = busy_nights(nights, per_night)
    print(
        f"\n3. Busy nights: {nights} nights x {per_night} requests ({rood_total} rood) against "
        f"the free units of demo scale 1 ({free_total} free units in all), default policy"
    )
    rows = [
        ("placed", "placed"),
        ("rood placed", "rood_placed"),
        ("secure (rood-level) units used by groen/oranje", "secure_to_non_rood"),
        ("family units (3+ beds) used by households of 1-2", "family_to_small"),
        ("empty beds in the family units used", "spare_family_beds"),
    ]
    print(f"   {'':52} {'greedy':>8} {'optimal':>8} {'difference':>11}")
    for label, name in rows:
        g, o = getattr(greedy, name), getattr(optimal, name)
        print(f"   {label:52} {g:8d} {o:8d} {o - g:+11d}")
    print(
        f"   {'mean travel per placed request (km)':52} "
        f"{greedy.travel_km / max(greedy.placed, 1):8.1f} "
        f"{optimal.travel_km / max(optimal.placed, 1):8.1f}"
    )

    # 4. Distance error.
    errors = distance_errors(10_000 if quick else 100_000)
    print(
        f"\n4. Safe distance vs geopy geodesic (WGS84), {errors.pairs:,} Dutch pairs up to "
        f"{errors.longest_km:.0f} km"
    )
    over = errors.overestimates
    print(
        f"   largest error: {errors.worst_short_m:.2f} m short, "
        f"{errors.worst_short_relative * 100:.5f} % relative; overestimates: {over} "
        f"({'never an overestimate' if over == 0 else 'UNSAFE'})"
    )
    raw = errors.raw_worst_over_relative
    print(
        f"   Lambert's formula before the safety margin of {LAMBERT_SAFETY_MARGIN:.2e}: "
        f"largest overestimate {raw:.1e} relative"
        + (f", so the margin is {LAMBERT_SAFETY_MARGIN / raw:,.0f} times that" if raw > 0 else "")
    )


def header() -> None:
    print(f"   {'':38} {'median':>11} {'p95':>11}")


def row(label: str, timing: Timing, unit: str, note: str = "") -> None:
    """Print one aligned line: the median and p95 of a timing, in ms or s."""
    scale, digits = (1e3, 2) if unit == "ms" else (1.0, 3)
    median = f"{timing.median * scale:.{digits}f} {unit}"
    p95 = f"{timing.p95 * scale:.{digits}f} {unit}"
    print(f"   {label:38} {median:>11} {p95:>11}   {note}".rstrip())


def ratio(label: str, slow: Timing, fast: Timing) -> None:
    """Print how many times faster the median of `fast` is than that of `slow`."""
    print(f"   {label:38} {f'x{slow.median / fast.median:,.0f}':>11}   (ratio of medians)")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    main()
