"""Benchmark the solidarity balances: a full year at 10× national scale, on PostgreSQL.

    .venv/bin/python bench/solidarity.py [--scale 10] [--days 365] [--repeat 50] [--quick]

Seeds the demo network at `scale` (about 100 locations per unit of scale), replaces its
history with `days` days of placements through `shelter-match seed history`, and times
GET /api/v1/solidarity (JSON and CSV) and /flows for the whole period through real HTTP
(gunicorn), plus the service's database work alone in this process. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import requests
from harness import measure, seeded_service
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shelter_match.clock import system_clock
from shelter_match.db import create_database_engine
from shelter_match.models import Placement
from shelter_match.services.solidarity import make_period, region_balances
from testbed.cli import run_cli

TARGET_MS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--quick", action="store_true",
                        help="10 samples per measure (the seeding takes as long as ever)")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 10

    with seeded_service(scale=args.scale) as service:
        started = time.perf_counter()
        loaded = run_cli("seed", "history", "--days", str(args.days),
                         database_url=service.database_url, timeout=900)
        if loaded.returncode != 0:
            raise SystemExit(loaded.stderr)
        load_seconds = time.perf_counter() - started
        engine = create_database_engine(service.database_url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # What autovacuum does soon after a bulk load (and after the 90 demo days that
            # `seed demo` loaded were replaced): clear dead rows, gather statistics.
            connection.execute(text("VACUUM ANALYZE"))
            placements = connection.scalar(select(func.count()).select_from(Placement))
            open_ = connection.scalar(
                select(func.count()).select_from(Placement).where(Placement.ended_at.is_(None)))
        print(f"scale {args.scale}: {placements} placements ({open_} open) over {args.days} "
              f"days, loaded by `shelter-match seed history` in {load_seconds:.1f} s")

        today = system_clock.now().astimezone(ZoneInfo("Europe/Amsterdam")).date()
        period = make_period(today - timedelta(days=args.days - 1), today)
        year = f"from={period.start}&to={period.end}"
        month = f"from={today - timedelta(days=29)}&to={today}"
        http = requests.Session()
        headers = service.headers("region_reviewer")
        csv_headers = {**headers, "Accept": "text/csv"}

        def get(path: str, query: str, extra: dict[str, str]):
            def call():
                response = http.get(f"{service.base_url}{path}?{query}", headers=extra,
                                    timeout=30)
                response.raise_for_status()
                return response
            return call

        body = get("/api/v1/solidarity", year, headers)().json()
        totals = body["totals"]
        print(f"year {body['from']}..{body['to']}: {len(body['regions'])} regions, "
              f"{totals['placements_out'] + totals['placements_own']} placements started, "
              f"{totals['bed_nights_in'] + totals['bed_nights_own']} bed-nights, "
              f"Σout={totals['placements_out']} Σin={totals['placements_in']} "
              f"Σnet={totals['net_bed_nights']}")

        with Session(engine) as session:
            stats = [
                measure("service region_balances, year (SQL only, in process)",
                        lambda: region_balances(session, period, system_clock.now()),
                        args.repeat),
            ]
        stats += [
            measure("GET /api/v1/solidarity, year, JSON", get("/api/v1/solidarity", year,
                                                              headers), args.repeat),
            measure("GET /api/v1/solidarity, year, CSV", get("/api/v1/solidarity", year,
                                                             csv_headers), args.repeat),
            measure("GET /api/v1/solidarity/flows, year, JSON",
                    get("/api/v1/solidarity/flows", year, headers), args.repeat),
            measure("GET /api/v1/solidarity/flows, year, CSV",
                    get("/api/v1/solidarity/flows", year, csv_headers), args.repeat),
            measure("GET /api/v1/solidarity, last 30 days, JSON",
                    get("/api/v1/solidarity", month, headers), args.repeat),
        ]
        engine.dispose()
    for row in stats:
        print(row.row())
    year_json = stats[1]
    verdict = "meets" if year_json.median_ms < TARGET_MS else "MISSES"
    print(f"full-year JSON median {year_json.median_ms:.1f} ms {verdict} the "
          f"{TARGET_MS} ms target; CSV/JSON ratio {stats[2].median_ms / year_json.median_ms:.2f}")


if __name__ == "__main__":
    main()
