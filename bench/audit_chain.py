"""What the audit log's hash chain costs on the write path, and what verifying costs.

An audited transaction commits one event the way the services write it (linked into the
chain at commit), against the same event written past the chain (a Core INSERT, which the
commit hook does not link): the difference is the chain's price. Then eight writers at
once, to see the serialisation of the chain's lock, and `verify_chain` over the log.

    .venv/bin/python bench/audit_chain.py [--quick]

Runs on PostgreSQL (SHELTER_MATCH_TEST_POSTGRES_URL) and SQLite; prints, never asserts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.harness import measure  # noqa: E402
from shelter_match.db import create_database_engine  # noqa: E402
from shelter_match.models import AuditEvent  # noqa: E402
from shelter_match.services import audit  # noqa: E402
from testbed.databases import create_migrated_database, drop_database  # noqa: E402

DETAIL = {"request_id": "3f0c2a51-5a55-4cf1-9d8e-2b4b8f1f0e11", "unit_id": "u-17",
          "location_id": "7a4f6e0c-2d52-4f1e-8a55-0d5b8e0f6a21"}


def chained(engine) -> None:
    with Session(engine) as session, session.begin():
        audit.record(session, actor=None, action="bench.event", object_type="hold",
                     object_id="h-1", now=datetime.now(UTC), **DETAIL)


def unchained(engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(insert(AuditEvent).values(
            at=datetime.now(UTC), action="bench.event", object_type="hold", object_id="h-1",
            detail=DETAIL))


def throughput(engine, write, writers: int, per_writer: int) -> float:
    """Return audited commits per second with `writers` threads writing at once."""
    start_line = threading.Barrier(writers + 1)

    def writer() -> None:
        start_line.wait()
        for _ in range(per_writer):
            write(engine)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return writers * per_writer / (time.perf_counter() - started)


def run(backend: str, repeat: int, writers: int, per_writer: int) -> None:
    url = create_migrated_database(backend, Path(tempfile.mkdtemp(prefix="bench-audit-")))
    engine = create_database_engine(url)
    try:
        print(f"-- {backend}")
        for stats in (measure(f"{backend}: commit 1 event, chained", lambda: chained(engine),
                              repeat),
                      measure(f"{backend}: commit 1 event, not chained",
                              lambda: unchained(engine), repeat),
                      measure(f"{backend}: commit 1 event, chained (again)",
                              lambda: chained(engine), repeat)):
            print(stats.row())
        for name, write in (("chained", chained), ("not chained", unchained)):
            rate = throughput(engine, write, writers, per_writer)
            print(f"{backend}: {writers} writers at once, {name:12} {rate:8.0f} commits/s")
        # The unchained events above are "inserted" to verify; count only the walk's time.
        with engine.connect() as connection:
            started = time.perf_counter()
            report = audit.verify_chain(connection)
            took = time.perf_counter() - started
        print(f"{backend}: verify_chain over {report.events} linked events: {took * 1000:.0f} ms "
              f"({took / max(report.events, 1) * 1e6:.1f} µs per event)")
    finally:
        engine.dispose()
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    repeat, per_writer = (50, 20) if args.quick else (500, 200)
    for backend in ("postgresql", "sqlite"):
        run(backend, repeat, writers=8, per_writer=per_writer)


if __name__ == "__main__":
    main()
