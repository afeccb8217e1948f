"""Benchmark live availability: the national list and a unit PATCH, at 1× and 10× scale.

    .venv/bin/python bench/availability.py [--scales 1,10] [--repeat 300] [--quick]

For each scale, seeds the demo network on a fresh PostgreSQL database (about 100
locations and 1,000 units per unit of scale), serves it with gunicorn (2 workers) and
times through real HTTP: GET /api/v1/locations as a crisis worker (no addresses) and as
an admin (addresses, plus the audit row of the disclosure), the region filter, one
location's detail, and PATCH /api/v1/units/{id} with and without If-Match. In this
process it also times the two ways the list can be written: the service's rows dumped
through the marshmallow schema (what a coordinator, and SQLite, get), and the list
written as JSON by PostgreSQL itself (the one fast path: crisis workers and admins).
Prints, never asserts.
"""

from __future__ import annotations

import argparse
import json

import requests
from harness import Stats, measure, seeded_service
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.schemas.locations import LocationSummarySchema
from shelter_match.clock import system_clock
from shelter_match.db import create_database_engine
from shelter_match.services.auth import Principal
from shelter_match.services.availability import list_locations, list_locations_json

TARGET_P95_MS = 50
WORKER = Principal(user_id="bench", name="bench", role="crisis_worker")


def bench_scale(scale: int, repeat: int) -> list[Stats]:
    with seeded_service(scale=scale, workers=2) as service:
        engine = create_database_engine(service.database_url)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum does soon after a load
        http = requests.Session()
        base = service.base_url
        worker, admin = service.headers("crisis_worker"), service.headers("admin")
        coordinator = service.headers("coordinator")

        def get(path: str, headers: dict[str, str]):
            def call():
                response = http.get(f"{base}{path}", headers=headers, timeout=30)
                response.raise_for_status()
                return response
            return call

        listed = get("/api/v1/locations", worker)().json()
        units = sum(row["units_total"] for row in listed)
        own = next(row for row in get("/api/v1/locations", coordinator)().json()
                   if "address" in row)
        detail = get(f"/api/v1/locations/{own['id']}", coordinator)().json()
        # A unit that is free by hand (no hold, no placement), toggled free <-> closed.
        unit = next(u for u in detail["units"] if u["status"] == "free")
        unit_url = f"{base}/api/v1/units/{unit['id']}"
        state = {"etag": f'"{unit["version"]}"', "status": "free"}
        print(f"scale {scale}: {len(listed)} locations, {units} units, "
              f"list body {len(get('/api/v1/locations', worker)().content) // 1024} KiB")

        def patch(with_if_match: bool):
            def call():
                state["status"] = "closed" if state["status"] == "free" else "free"
                headers = {**coordinator, "If-Match": state["etag"]} if with_if_match \
                    else coordinator
                response = http.patch(unit_url, json={"status": state["status"]},
                                      headers=headers, timeout=30)
                response.raise_for_status()
                state["etag"] = response.headers["ETag"]
            return call

        label = f"scale {scale:2}:"
        stats = [
            measure(f"{label} GET /locations (crisis worker)",
                    get("/api/v1/locations", worker), repeat),
            measure(f"{label} GET /locations (admin: addresses, audited)",
                    get("/api/v1/locations", admin), repeat),
            measure(f"{label} GET /locations?region_code=GM0344",
                    get("/api/v1/locations?region_code=GM0344", worker), repeat),
            measure(f"{label} GET /locations/{{id}}", get(f"/api/v1/locations/{own['id']}",
                                                          coordinator), repeat),
            measure(f"{label} PATCH /units/{{id}} with If-Match", patch(True), repeat),
            measure(f"{label} PATCH /units/{{id}} without If-Match", patch(False), repeat),
        ]
        with Session(engine) as session:
            summaries = list_locations(session, viewer=WORKER, now=system_clock.now())
            schema = LocationSummarySchema(many=True)
            stats += [
                measure(f"{label} list_locations SQL + rows (in process)",
                        lambda: list_locations(session, viewer=WORKER,
                                               now=system_clock.now()), repeat),
                measure(f"{label} JSON by marshmallow schema (in process)",
                        lambda: json.dumps(schema.dump(summaries)), repeat),
                measure(f"{label} list_locations_json: SQL writes JSON (in process)",
                        lambda: list_locations_json(session, viewer=WORKER,
                                                    now=system_clock.now()), repeat),
            ]
        engine.dispose()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--quick", action="store_true",
                        help="50 samples per measure instead of --repeat (about 2 minutes)")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 50
    results = {}
    for scale in (int(s) for s in args.scales.split(",")):
        results[scale] = bench_scale(scale, args.repeat)
    print()
    for stats in results.values():
        for row in stats:
            print(row.row())
    for scale, stats in results.items():
        listing, rows, schema, by_sql = stats[0], stats[6], stats[7], stats[8]
        verdict = "meets" if listing.p95_ms < TARGET_P95_MS else "MISSES"
        print(f"scale {scale}: GET /locations p95 {listing.p95_ms:.1f} ms {verdict} the "
              f"{TARGET_P95_MS} ms target; rows + schema / SQL-written JSON ratio "
              f"{(rows.median_ms + schema.median_ms) / by_sql.median_ms:.1f}")


if __name__ == "__main__":
    main()
