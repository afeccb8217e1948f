"""Benchmark the crisis worker's path on PostgreSQL through real HTTP (gunicorn).

    .venv/bin/python bench/placements.py [--scales 1 10] [--repeat 300] [--workers 4]
                                         [--holds 400] [--clients 16] [--quick]

For each scale: seeds the demo network (about 100 locations and 1,000 units per unit of
scale), creates requests all over the country through the API, and times
`POST /placement-requests/{id}/proposals` (median, p95; target p95 < 50 ms at scale 10).
Then `--clients` concurrent clients, each with its own connection, hold `--holds` distinct
units for distinct requests, and the holds per second are reported. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time

import requests
from harness import measure, seeded_service

TARGET_P95_MS = 50
PLACES = ("Schiedam", "Utrecht", "Zwolle", "Groningen", "Eindhoven", "Amsterdam", "Leeuwarden",
          "Maastricht", "Enschede", "Middelburg", "Den Helder", "Nijmegen", "Tilburg", "Almere",
          "Emmen", "Venlo", "Gouda", "Deventer", "Alkmaar", "Breda")
RISKS = ("groen", "oranje", "rood")


def create_requests(http: requests.Session, api: str, headers: dict, count: int) -> list[str]:
    """Create `count` requests with varied dangers, risks and households; return their ids."""
    regions = [r["code"] for r in http.get(f"{api}/regions", headers=headers).json()]
    ids = []
    for i in range(count):
        body = {
            "case_reference": f"BENCH-{i:05d}",
            "origin_region_code": regions[i % len(regions)],
            "risk_level": RISKS[i % len(RISKS)],
            "danger": {"place": PLACES[i % len(PLACES)]},
            "household": {"adults": 1, "children": (i // 3) % 3},
        }
        created = http.post(f"{api}/placement-requests", json=body, headers=headers)
        created.raise_for_status()
        ids.append(created.json()["id"])
    return ids


def distinct_units(http: requests.Session, api: str, headers: dict,
                   request_ids: list[str]) -> list[tuple[str, str]]:
    """Pair requests with distinct units from their own proposals (no contention)."""
    taken: set[str] = set()
    pairs = []
    for request_id in request_ids:
        options = http.post(f"{api}/placement-requests/{request_id}/proposals",
                            json={"limit": 50}, headers=headers).json()["options"]
        unit = next((o["unit_id"] for o in options if o["unit_id"] not in taken), None)
        if unit is not None:
            taken.add(unit)
            pairs.append((request_id, unit))
    return pairs


def hold_throughput(api: str, headers: dict, pairs: list[tuple[str, str]],
                    clients: int) -> tuple[float, dict[int, int]]:
    """Hold every (request, unit) pair with `clients` threads; return holds/s and statuses."""
    work = iter(pairs)
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        with requests.Session() as http:
            barrier.wait()
            while True:
                with lock:
                    pair = next(work, None)
                if pair is None:
                    return
                answer = http.post(f"{api}/placement-requests/{pair[0]}/holds",
                                   json={"unit_id": pair[1]}, headers=headers)
                with lock:
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return statuses.get(201, 0) / elapsed, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--holds", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true",
                        help="50 proposals per measure and 100 holds")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.holds = 50, 100

    for scale in args.scales:
        with seeded_service(scale=scale, workers=args.workers) as service:
            api = f"{service.base_url}/api/v1"
            headers = service.headers("crisis_worker")
            http = requests.Session()
            locations = http.get(f"{api}/locations", headers=headers).json()
            units = sum(location["units_total"] for location in locations)
            free = sum(location["units_free"] for location in locations)
            print(f"scale {scale}: {len(locations)} locations, {units} units ({free} free), "
                  f"{args.workers} gunicorn workers")

            request_ids = create_requests(http, api, headers, 60)
            cycle = itertools.cycle(request_ids)

            def proposals(limit: int, http=http, api=api, cycle=cycle, headers=headers) -> None:
                answer = http.post(f"{api}/placement-requests/{next(cycle)}/proposals",
                                   json={"limit": limit}, headers=headers)
                answer.raise_for_status()

            for limit in (10, 50):
                stats = measure(f"POST …/proposals limit={limit} (scale {scale})",
                                lambda limit=limit: proposals(limit), repeat=args.repeat)
                verdict = "" if scale < 10 or limit != 10 else (
                    "  (target p95 < 50 ms: " +
                    ("met)" if stats.p95_ms < TARGET_P95_MS else "NOT met)"))
                print(stats.row() + verdict)

            holders = create_requests(http, api, headers, args.holds)
            pairs = distinct_units(http, api, headers, holders)
            rate, statuses = hold_throughput(api, headers, pairs, args.clients)
            print(f"holds: {len(pairs)} distinct units by {args.clients} concurrent clients: "
                  f"{rate:.0f} holds/s (answers: {dict(sorted(statuses.items()))})")


if __name__ == "__main__":
    main()
