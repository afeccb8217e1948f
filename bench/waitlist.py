"""Benchmark the waiting list: offer latency over HTTP, the matcher's run, a busy week.

    .venv/bin/python bench/waitlist.py [--quick] [--skip-http] [--only http|run|week]
                                      [--repeat N]

`--only run` times part 2 alone (no PostgreSQL, a few seconds): the loop when working on
the matcher's speed.

1. Latency (PostgreSQL, one gunicorn server and one `shelter-match matcher` process): a
   rood request waits; a coordinator frees the one unit that fits (PATCH); the time from
   the PATCH's answer (its commit) until GET shows the request `offered`, polled every
   10 ms. Target p95 < 2 s. The matcher's period is 5 s: only its NOTIFY wake-up can
   meet the target.
2. The matcher's decision for 500 waiting requests and 10,000 free units (the demo network
   at scale 10, all free: the worst case), in memory: building the network and the
   lexicographic joint assignment (solver.assign_jointly with seniority and declined
   units). Target < 200 ms. Writing the offers is timed apart, on PostgreSQL. Twice:
   cold, a new solver.DistanceCache for every decision (a matcher that just started:
   every distance measured), and warm, one cache that the previous decision filled (the
   matcher's steady state, every waiting request seen by an earlier run: the same 500
   requests, the same locations), taking turns; with the median and p95 of each, their
   ratio, and whether both decided the same.
3. A simulated busy week on the demo network (scale 1, its own free and occupied units):
   97% of its units occupied at the start, arrivals at 1.3 times the rate at which beds
   free, risk and household shares and
   stays (log-normal, median 14 days) as in seed/history.py; every hour the waiting list
   is matched either by the matcher (joint, optimal) or first come, first served (each
   in arrival order takes the best option of `propose`). Offers are taken at once.
   Placed, still waiting, and the median wait of those placed.

Prints, never asserts. Times are wall clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests as http  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.harness import percentile  # noqa: E402
from seed.demo_network import generate_network  # noqa: E402
from seed.history import MEDIAN_STAY_DAYS, STAY_SPREAD  # noqa: E402
from solver import (  # noqa: E402
    DistanceCache,
    JointAssignment,
    Network,
    Rules,
    assign_jointly,
    propose,
)

HTTP_TARGET_S = 2.0
FREE_AT_START = 0.03
DEMAND = 1.3  # arrivals per bed that frees
RUN_TARGET_MS = 200.0


# --- 1. Latency over HTTP ---------------------------------------------------------------------


def http_latency(samples: int) -> list[float]:
    from shelter_match.clock import FrozenClock
    from shelter_match.db import create_database_engine
    from shelter_match.models import Unit
    from shelter_match.services import users
    from shelter_match.services.auth import principal_for
    from shelter_match.services.availability import update_unit
    from shelter_match.services.locations import LocationData, UnitData, create_location
    from shelter_match.services.quotas import set_user_quotas
    from testbed.cli import SCRIPT
    from testbed.databases import create_migrated_database, drop_database
    from testbed.live import running_service

    url = create_migrated_database("postgresql")
    engine = create_database_engine(url)
    clock = FrozenClock(datetime.now(UTC))
    with Session(engine) as session, session.begin():
        location = create_location(session, LocationData(
            name="Veilig Huis Noord", region_code="GM0014", safety_level="rood", lat=53.22,
            lon=6.57, address="Noorderweg 3", features=(), units=[UnitData("N1", 4)]),
            now=clock.now())
        unit_id = session.scalar(select(Unit.id).where(Unit.location_id == location.id))
        coordinator, coordinator_token = users.create_user(
            session, name="coco", role="coordinator", now=clock.now(),
            location_ids=(location.id,))
        _worker, worker_token = users.create_user(session, name="nina", role="crisis_worker",
                                                  now=clock.now(), organisation="VT Rijnmond")
        # A benchmark asks far more in an hour than a person: lift her quotas.
        set_user_quotas(session, "nina", {"requests_per_hour": 100_000,
                                          "proposals_per_hour": 100_000},
                        actor=None, now=clock.now())
        update_unit(session, unit_id, actor=principal_for(session, coordinator),
                    now=clock.now(), status="closed")
    engine.dispose()
    worker = {"Authorization": f"Bearer {worker_token}"}
    coord = {"Authorization": f"Bearer {coordinator_token}"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    env["SHELTER_MATCH_DATABASE_URL"] = url
    log = Path(tempfile.mkstemp(prefix="bench-matcher-", suffix=".log")[1])
    with log.open("w") as sink:
        matcher = subprocess.Popen([SCRIPT, "matcher"], stdout=sink, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    latencies = []
    try:
        with running_service("serve", database_url=url, workers=2) as (base, _output):
            api = f"{base}/api/v1"
            while "matcher: active" not in log.read_text():
                time.sleep(0.1)
            for i in range(samples):
                created = http.post(f"{api}/placement-requests", headers=worker, timeout=30, json={
                    "case_reference": f"VT-2026-{i:04d}", "origin_region_code": "GM0599",
                    "risk_level": "rood", "danger": {"place": "Schiedam"},
                    "household": {"adults": 1, "children": 1}}).json()
                request = f"{api}/placement-requests/{created['id']}"
                assert http.post(f"{request}/waitlist", headers=worker,
                                 timeout=30).status_code == 200
                time.sleep(0.3)  # the join's own run is over
                freed = http.patch(f"{api}/units/{unit_id}", json={"status": "free"},
                                   headers=coord, timeout=30)
                start = time.perf_counter()
                assert freed.status_code == 200, freed.text
                while http.get(request, headers=worker, timeout=30).json()["status"] != "offered":
                    if time.perf_counter() - start > 30:
                        raise RuntimeError("no offer within 30 s")
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - start)
                assert http.post(f"{request}/cancel", json={"outcome": "other"},
                                 headers=worker, timeout=30).status_code == 200
                closed = http.patch(f"{api}/units/{unit_id}", json={"status": "closed"},
                                    headers=coord, timeout=30)
                assert closed.status_code == 200, closed.text
    finally:
        os.killpg(matcher.pid, signal.SIGTERM)
        matcher.wait(timeout=30)
        log.unlink(missing_ok=True)
        drop_database(url)
    return latencies


# --- 2. The matcher's decision at national scale x 10 ----------------------------------------


def matcher_decision(repeat: int) -> dict[str, tuple[list[float], list[float],
                                                      JointAssignment]]:
    """Return, cold and warm, build and assignment times (ms) and the last decision.

    Cold: a new DistanceCache for each decision. Warm: one cache, filled by a decision
    before the first one timed, as the matcher's previous run would have. A cold and a
    warm decision take turns, so that a load that comes and goes weighs on both alike.
    """
    from bench.solver import random_cases, solver_network

    demo = generate_network(scale=10, seed=0)
    locations, units = solver_network(demo, only_free=False)  # all free: the worst case
    cases = random_cases(demo, 500, seed=7)
    rng = random.Random(3)
    declined = {case.id: frozenset(rng.sample([u.id for u in units], 2))
                for case in rng.sample(cases, 50)}  # 50 cases declined two units each
    kept = DistanceCache()

    def decide(cache: DistanceCache) -> tuple[float, float, JointAssignment]:
        start = time.perf_counter()
        network = Network.build(locations, units)
        built = time.perf_counter()
        joint = assign_jointly(cases, network, Rules.default(),
                               seniority=list(range(len(cases))), declined=declined,
                               cache=cache)
        done = time.perf_counter()
        return (built - start) * 1000, (done - built) * 1000, joint

    decide(kept)  # the previous run: it fills the cache
    times: dict[str, tuple[list[float], list[float]]] = {"cold": ([], []), "warm": ([], [])}
    last: dict[str, JointAssignment] = {}
    for _ in range(repeat):
        for name in times:
            build_ms, solve_ms, last[name] = decide(DistanceCache() if name == "cold" else kept)
            times[name][0].append(build_ms)
            times[name][1].append(solve_ms)
    return {name: (*times[name], last[name]) for name in times}


# --- 3. A busy week ----------------------------------------------------------------------------


def busy_week(days: int = 7, seed: int = 11) -> dict[str, dict[str, float]]:
    from bench.solver import random_cases, solver_network

    demo = generate_network(scale=1, seed=0)
    locations, all_units = solver_network(demo, only_free=False)
    closed = {f"{d.key}/{i}" for d in demo for i, u in enumerate(d.units) if u.status == "closed"}
    units = [u for u in all_units if u.id not in closed]
    rng = random.Random(seed)
    # A busy week starts nearly full: all but FREE_AT_START of the units are occupied.
    occupied = {u.id for u in units if rng.random() > FREE_AT_START}
    hours = days * 24
    # Units occupied at the start leave after a uniform share of a stay.
    initial = {u: rng.uniform(0, 1) * _stay_hours(rng) for u in sorted(occupied)}
    freeing = sum(at < hours for at in initial.values()) + len(units) - len(occupied)
    per_hour = DEMAND * freeing / hours  # demand above what frees: a busy week
    arrivals: list[tuple[int, object]] = []
    pool = random_cases(demo, int(per_hour * hours * 2) + 50, seed=seed)
    index = 0
    for hour in range(hours):
        for _ in range(_poisson(rng, per_hour)):
            arrivals.append((hour, pool[index]))
            index += 1
    stays = [_stay_hours(rng) for _ in range(len(arrivals))]
    return {policy: _simulate(policy, locations, units, initial, arrivals, stays, hours)
            for policy in ("matcher", "first come, first served")}


def _stay_hours(rng: random.Random) -> float:
    return MEDIAN_STAY_DAYS * 24 * math.exp(rng.gauss(0, STAY_SPREAD))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _simulate(policy, locations, units, initial, arrivals, stays, hours):
    rules = Rules.default()
    leaves = dict(initial)  # unit id -> hour it frees
    waiting: list[tuple[int, int, object]] = []  # (arrival hour, order, case)
    waits, rood_waits, rood_placed, placed_ids = [], [], 0, set()
    next_arrival = 0
    for hour in range(hours):
        for unit_id in [u for u, at in leaves.items() if at <= hour]:
            del leaves[unit_id]
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] == hour:
            waiting.append((hour, next_arrival, arrivals[next_arrival][1]))
            next_arrival += 1
        free = [u for u in units if u.id not in leaves]
        if not waiting or not free:
            continue
        taken: list[tuple[tuple[int, int, object], str]] = []
        if policy == "matcher":
            cases = [entry[2] for entry in waiting]
            joint = assign_jointly(cases, Network.build(locations, free), rules,
                                   seniority=[entry[1] for entry in waiting])
            taken = [(entry, a.unit_id) for entry, a in zip(waiting, joint.assignments,
                                                           strict=True) if a.unit_id]
        else:
            for entry in waiting:
                options = propose(entry[2], Network.build(locations, free), rules,
                                  limit=1).options
                if options:
                    taken.append((entry, options[0].unit_id))
                    free = [u for u in free if u.id != options[0].unit_id]
        for entry, unit_id in taken:
            leaves[unit_id] = hour + stays[entry[1]]
            waits.append(hour - entry[0])
            if entry[2].risk_level == "rood":
                rood_placed += 1
                rood_waits.append(hour - entry[0])
            placed_ids.add(entry[1])
        waiting = [entry for entry in waiting if entry[1] not in placed_ids]
    rood_arrived = sum(case.risk_level == "rood" for _, case in arrivals)
    return {"arrived": len(arrivals), "placed": len(waits),
            "still_waiting": len(waiting), "median_wait_h": statistics.median(waits) if waits
            else float("nan"), "mean_wait_h": statistics.fmean(waits) if waits else float("nan"),
            "rood_mean_wait_h": statistics.fmean(rood_waits) if rood_waits else float("nan"),
            "rood_placed": rood_placed, "rood_arrived": rood_arrived}


# --- Report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--skip-http", action="store_true", help="no PostgreSQL part")
    parser.add_argument("--repeat", type=int,
                        help="samples of part 2 (default 10, 3 with --quick)")
    parser.add_argument("--only", choices=("http", "run", "week"),
                        help="run one part: 1 (http), 2 (run) or 3 (week)")
    args = parser.parse_args()
    parts = {args.only} if args.only else {"http", "run", "week"} - (
        {"http"} if args.skip_http else set())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu(s)")
    if "http" in parts:
        samples = 10 if args.quick else 40
        latencies = http_latency(samples)
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(f"1. freeing commit -> offer visible over HTTP, n={samples}: "
              f"median {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
              f"{max(latencies) * 1000:.0f} ms (target p95 < {HTTP_TARGET_S:.0f} s: "
              f"{'met' if p95 < HTTP_TARGET_S else 'NOT met'})")
    if "run" in parts:
        matcher_report(args.repeat or (3 if args.quick else 10))
    if "week" in parts:
        week_report()


def matcher_report(repeat: int) -> None:
    print(f"2. matcher decision, 500 waiting x 10,000 free units, n={repeat} each, "
          "cold and warm in turn:")
    decisions = matcher_decision(repeat)
    medians, p95s = {}, {}
    for name, what in (("cold", "cold: a new distance cache each decision (a matcher that "
                                "just started)"),
                       ("warm", "warm: the matcher's steady state (every waiting request "
                                "seen by an earlier run)")):
        builds, solves, joint = decisions[name]
        total = [b + s for b, s in zip(builds, solves, strict=True)]
        medians[name], p95s[name] = statistics.median(total), percentile(total, 0.95)
        print(f"   {what}: Network.build median {statistics.median(builds):.0f} ms; "
              f"assignment median {statistics.median(solves):.0f} ms p95 "
              f"{percentile(solves, 0.95):.0f} ms; together median {medians[name]:.0f} ms "
              f"p95 {p95s[name]:.0f} ms (target < {RUN_TARGET_MS:.0f} ms: "
              f"{'met' if p95s[name] < RUN_TARGET_MS else 'NOT met'}); "
              f"{joint.placed} placed, total cost {joint.total_cost}")
    same = decisions["cold"][2] == decisions["warm"][2]
    print(f"   warm/cold: median {medians['warm'] / medians['cold']:.2f}, p95 "
          f"{p95s['warm'] / p95s['cold']:.2f}; the same decision: {'yes' if same else 'NO'}")


def week_report() -> None:
    week = busy_week()
    for policy, figures in week.items():
        print(f"3. busy week, {policy:24}: {figures['arrived']} arrived, "
              f"{figures['placed']} placed ({figures['rood_placed']} of "
              f"{figures['rood_arrived']} rood), {figures['still_waiting']} still waiting, "
              f"wait of those placed: median {figures['median_wait_h']:.1f} h, mean "
              f"{figures['mean_wait_h']:.1f} h (rood mean {figures['rood_mean_wait_h']:.1f} h)")


if __name__ == "__main__":
    main()
