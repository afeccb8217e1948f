"""`shelter-match matcher` as real processes on PostgreSQL: one active, restart-safe, woken."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.matcher import ACTIVE_LOCK, Matcher
from shelter_match.models import Hold, MatcherWakeup, PlacementRequest, Unit
from shelter_match.services import waitlist
from shelter_match.services.availability import update_unit
from testbed.live import running_command
from tests.factories import make_caller, make_location, make_request, principal_of

pytestmark = pytest.mark.slow


@contextmanager
def matcher_process(database_url: str) -> Iterator[subprocess.Popen[str]]:
    """Run `shelter-match matcher` (a short period, for the test's patience)."""
    with running_command("matcher", "--period", "0.5",
                         env={"SHELTER_MATCH_DATABASE_URL": database_url}) as (process, log):
        process.log = log  # type: ignore[attr-defined]
        yield process


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def active_pids(engine) -> set[int]:
    """Return the backend pids that hold the active matcher's advisory lock."""
    with engine.connect() as connection:
        return set(connection.scalars(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objid = :key"), {"key": ACTIVE_LOCK}))


def is_active(process) -> bool:
    return "matcher: active" in process.log.read_text()


def world(engine, *, waiting: int = 1, units: int = 1):
    """A closed rood location far from Schiedam and `waiting` rood requests on the list."""
    clock = FrozenClock(datetime.now(UTC))
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker", organisation="VT Rijnmond")
        location = make_location(session, clock, region_code="GM0014", safety_level="rood",
                                 lat=53.22, lon=6.57,
                                 units=tuple((f"N{i}", 4) for i in range(units)))
        coordinator = principal_of(session, make_caller(
            session, clock, "coordinator", location_ids=(location.id,)))
        unit_ids = list(session.scalars(select(Unit.id).where(Unit.location_id == location.id)
                                        .order_by(Unit.label)))
        for unit_id in unit_ids:
            update_unit(session, unit_id, actor=coordinator, now=clock.now(), status="closed")
        location_id = location.id
        request_ids = []
        for _ in range(waiting):
            request = make_request(session, clock, worker, risk_level="rood")
            waitlist.join_waitlist(session, request.id, actor=principal_of(session, worker),
                                   now=clock.now())
            request_ids.append(request.id)
            clock.advance(seconds=1)
    return {"worker": worker, "coordinator": coordinator, "units": unit_ids,
            "requests": request_ids, "clock": clock, "location_ids": [location_id]}


def free_units(engine, the_world, unit_ids):
    with Session(engine) as session, session.begin():
        for unit_id in unit_ids:
            update_unit(session, unit_id, actor=the_world["coordinator"],
                        now=datetime.now(UTC), status="free")


def active_offers(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return list(session.execute(select(Hold.request_id, Hold.unit_id).where(
            Hold.offer, Hold.status == "active")).all())


def test_two_matchers_one_active_and_the_other_takes_over(postgres_url):
    engine = create_database_engine(postgres_url)
    try:
        the_world = world(engine)
        with matcher_process(postgres_url) as first, matcher_process(postgres_url) as second:
            wait_for(lambda: is_active(first) or is_active(second), what="an active matcher")
            time.sleep(1.5)  # the other has had time to try, and stands by
            assert len(active_pids(engine)) == 1
            assert [is_active(first), is_active(second)].count(True) == 1
            active, standby = (first, second) if is_active(first) else (second, first)
            os.killpg(active.pid, signal.SIGKILL)  # no goodbye: its connection just drops
            active.wait()
            wait_for(lambda: is_active(standby), what="the standby to take over")
            assert len(active_pids(engine)) == 1
            free_units(engine, the_world, the_world["units"])
            offers = wait_for(lambda: active_offers(engine), what="an offer")
            assert offers == [(the_world["requests"][0], the_world["units"][0])]
    finally:
        engine.dispose()


def test_a_matcher_killed_mid_run_loses_and_duplicates_nothing(postgres_url):
    engine = create_database_engine(postgres_url)
    try:
        the_world = world(engine, waiting=2, units=2)
        first, second = the_world["requests"]
        free_units(engine, the_world, the_world["units"])
        # Hold the second request's row: the run offers to the first, then waits for it.
        blocker = engine.connect()
        transaction = blocker.begin()
        blocker.execute(text("SELECT id FROM placement_requests WHERE id = :id FOR UPDATE"),
                        {"id": second})
        with matcher_process(postgres_url) as process:
            wait_for(lambda: _blocked_on_a_row(engine), what="the run to wait mid-way")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        transaction.rollback()
        blocker.close()
        # Nothing of the dead run remains: no offer, both units free, the wake-ups kept.
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Hold)) == 0
            assert set(session.scalars(select(Unit.status))) == {"free"}
            assert session.scalar(select(func.count()).select_from(MatcherWakeup)) > 0
        with matcher_process(postgres_url):
            offers = wait_for(lambda: len(active_offers(engine)) == 2 and active_offers(engine),
                              what="both offers")
        assert sorted(request for request, _ in offers) == sorted([first, second])
        assert len({unit for _, unit in offers}) == 2
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Hold)) == 2  # once each
            assert session.scalar(select(func.count()).select_from(MatcherWakeup)) == 0
    finally:
        engine.dispose()


def _blocked_on_a_row(engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE placement_requests%'")))


def test_two_matchers_in_one_process_never_run_at_once(postgres_url):
    """The run lock: two Matcher objects that both think they are active never overlap."""
    engine = create_database_engine(postgres_url)
    try:
        the_world = world(engine)
        free_units(engine, the_world, the_world["units"])
        with engine.connect() as holder:
            transaction = holder.begin()
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACTIVE_LOCK + 1})
            assert Matcher(engine).run_once(force=True) is None  # another run is going on
            transaction.rollback()
        run = Matcher(engine).run_once(force=True)
        assert run is not None and len(run.offers) == 1
        with Session(engine) as session:
            assert session.get(PlacementRequest, the_world["requests"][0]).status == "waiting"
    finally:
        engine.dispose()
