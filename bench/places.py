"""Benchmark place look-up: GET /api/v1/places?q= for the whole name table, in process.

    .venv/bin/python bench/places.py [--repeat 20] [--backends sqlite,postgresql] [--quick]

For every name of tests/data/place_names.csv (cities, villages, namesakes, qualifiers,
Frisian names, postcodes, typos, islands, border towns, the Caribbean) it times the API call
through Flask's test client (routing, auth, the gazetteer, the region query, JSON) on each
engine, and the gazetteer's lookup alone; it reports the table's hit rate, the time a new
process takes to import and load the gazetteer, and the size of the data file. Prints, never
asserts.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import percentile
from sqlalchemy.orm import Session

from shelter_match.clock import system_clock
from shelter_match.db import create_database_engine
from shelter_match.gazetteer import DATA, Gazetteer
from shelter_match.services import users
from testbed.databases import create_migrated_database, drop_database, postgres_available

TABLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "place_names.csv"
TARGET_MS = 5.0


def name_table() -> list[dict[str, str]]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def row(name: str, timings: list[float]) -> str:
    return (f"{name:48} n={len(timings):6}  median {statistics.median(timings):7.3f} ms  "
            f"p95 {percentile(timings, 0.95):7.3f} ms  max {max(timings):7.2f} ms")


def hit(gazetteer: Gazetteer, query: str, expected: str) -> bool:
    """Whether the gazetteer answers a row of the table as written (see the test)."""
    answer = gazetteer.lookup(query)
    if expected == "ambiguous":
        return answer.status == "ambiguous"
    if expected == "outside":
        return answer.status == "outside"
    if expected.startswith("abroad:"):
        return answer.status == "found" and answer.place.country == expected[7:]
    if expected.startswith("similar:"):
        first = gazetteer.search(query, limit=1)
        return bool(first) and first[0].gemeente_code == expected[8:]
    return answer.status == "found" and answer.place.gemeente_code == expected


def load_time(runs: int) -> list[float]:
    """Seconds a fresh interpreter takes to import the gazetteer and build it."""
    code = ("import time; t = time.perf_counter(); "
            "from shelter_match.gazetteer import Gazetteer; Gazetteer.default(); "
            "print((time.perf_counter() - t) * 1000)")
    return [float(subprocess.run([sys.executable, "-c", code], check=True,
                                 capture_output=True, text=True).stdout) for _ in range(runs)]


def api_timings(backend: str, rows: list[dict[str, str]],
                repeat: int) -> tuple[list[float], list[float]]:
    """Time GET /places for every row, and GET /policy as often: the floor of any
    authenticated call on this engine (token look-up, throttle check, transaction)."""
    from app import create_app

    with tempfile.TemporaryDirectory() as folder:
        url = create_migrated_database(backend, Path(folder))
        try:
            engine = create_database_engine(url)
            with Session(engine) as session, session.begin():
                _, token = users.create_user(session, name="bench-places", role="crisis_worker",
                                             now=system_clock.now())
            engine.dispose()
            app = create_app({"DATABASE_URL": url})
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            for item in rows[:20]:  # warm up: connections, the gazetteer, the trigram index
                client.get("/api/v1/places", query_string={"q": item["query"]}, headers=headers)
            timings, floor = [], []
            for _ in range(repeat):
                for item in rows:
                    start = time.perf_counter()
                    response = client.get("/api/v1/places", query_string={"q": item["query"]},
                                          headers=headers)
                    timings.append((time.perf_counter() - start) * 1000)
                    assert response.status_code in (200, 422)
                    start = time.perf_counter()
                    client.get("/api/v1/policy", headers=headers)
                    floor.append((time.perf_counter() - start) * 1000)
            return timings, floor
        finally:
            drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the table")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="3 passes, 3 load runs")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    rows = name_table()

    loads = load_time(3 if args.quick else 10)
    print(f"data file: {DATA.stat().st_size / 1024:.0f} KiB ({DATA.name})")
    print(f"import + load in a new process: median {statistics.median(loads):.0f} ms, "
          f"max {max(loads):.0f} ms (n={len(loads)})")
    gazetteer = Gazetteer.default()
    hits = sum(hit(gazetteer, r["query"], r["expected"]) for r in rows)
    print(f"name table: {len(rows)} names, {hits} as expected "
          f"({100 * hits / len(rows):.1f}% hit rate)")

    timings = []
    for _ in range(repeat):
        for item in rows:
            start = time.perf_counter()
            gazetteer.search(item["query"])
            timings.append((time.perf_counter() - start) * 1000)
    print(row("gazetteer.search alone (in process)", timings))
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgresql" and not postgres_available():
            print(f"{backend}: not reachable, skipped")
            continue
        timings, floor = api_timings(backend, rows, repeat)
        print(row(f"GET /api/v1/places?q= ({backend}, test client)", timings))
        print(row(f"GET /api/v1/policy, for comparison ({backend})", floor))
        verdict = "under" if statistics.median(timings) < TARGET_MS else "OVER"
        print(f"  median {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
