"""The database down, restarting or too slow: 503 with Retry-After, within seconds, never 500.

Real databases throughout: a PostgreSQL port where nothing listens, an SQLite file whose
write lock another connection holds, a PostgreSQL row lock, a connection the server ends
between the last statement and the COMMIT, a COMMIT applied whose answer never arrives.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import psycopg
import pytest
from psycopg import errors as psycopg_errors
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.orm import Session

from api.database import db_session
from shelter_match.clock import FrozenClock
from shelter_match.config import DatabaseTimeouts
from shelter_match.db import create_database_engine, is_database_unavailable
from testbed.databases import POSTGRES_ADMIN_URL, create_migrated_database
from testbed.live import free_port
from testbed.lost_reply_proxy import lost_reply_proxy
from tests.conftest import NIGHT
from tests.factories import Caller, make_caller, make_location
from tests.web.helpers import make_person, session_csrf, signed_in

SHORT = DatabaseTimeouts(connect=2, statement=0.5, lock=0.3)


def unit_and_its_coordinator(engine) -> tuple[str, Caller]:
    """Create a location with units; return one unit's id and the location's coordinator."""
    clock = FrozenClock(NIGHT)
    with Session(engine) as session, session.begin():
        location = make_location(session, clock)
        unit_id = session.scalar(text("SELECT id FROM units WHERE location_id = :id LIMIT 1"),
                                 {"id": location.id})
        coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    return unit_id, coordinator


def make_app(database_url: str, timeouts: DatabaseTimeouts = SHORT):
    from app import create_app

    return create_app({"DATABASE_URL": database_url, "DATABASE_TIMEOUTS": timeouts,
                       "CLOCK": FrozenClock(NIGHT)})


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit()
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "psycopg" not in body and "sqlite" not in body.lower()


def assert_problem_503(response) -> None:
    assert_unavailable(response)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503


def test_unreachable_postgresql_is_503_with_retry_after_and_one_log_line(caplog):
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    client = app.test_client()
    caplog.set_level(logging.INFO, logger="shelter_match.app")
    for _ in range(3):
        started = time.monotonic()
        assert_problem_503(client.get("/api/v1/regions", headers={"Authorization": "Bearer x"}))
        assert time.monotonic() - started < 3
    failures = [r for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert len(failures) == 3
    assert all("\n" not in r.getMessage() for r in failures)
    # The traceback once a minute, not once per failure (an outage is hundreds a second).
    assert [r.exc_info is not None for r in failures] == [True, False, False]
    # Liveness never asks the database; readiness answers 503 within its own deadline.
    assert client.get("/healthz").status_code == 200
    started = time.monotonic()
    assert_problem_503(client.get("/readyz"))
    assert time.monotonic() - started < 3


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return create_migrated_database("sqlite", tmp_path)


def test_sqlite_write_lock_held_too_long_is_503_for_api_and_pages(sqlite_url):
    engine = create_database_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        caller = make_caller(session, FrozenClock(NIGHT), "crisis_worker")
    engine.dispose()
    client = make_app(sqlite_url).test_client()
    page = client.get("/aanmelden").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]

    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    blocker.isolation_level = None
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert_problem_503(client.get("/api/v1/regions", headers=caller.headers))
        answer = client.post("/aanmelden", data={"name": "someone", "password": "x" * 12,
                                                 "csrf_token": csrf})
        assert time.monotonic() - started < 3
        # A person gets a page in her language, not problem+json.
        assert_unavailable(answer)
        assert answer.mimetype == "text/html"
        assert "Tijdelijk niet beschikbaar" in answer.get_data(as_text=True)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert client.get("/api/v1/regions", headers=caller.headers).status_code == 200


def test_a_failing_commit_is_answered_by_the_apps_handler(sqlite_url):
    """Not the view's 200 whose work was lost, nor Werkzeug's own error page."""
    app = make_app(sqlite_url)

    def commit_fails():
        session = db_session()
        session.execute(text("UPDATE regions SET name = 'Changed' WHERE code = 'GM0363'"))
        event.listen(session, "before_commit", lambda _session: 1 / 0)
        return {"done": True}

    app.add_url_rule("/api/v1/test-commit-fails", view_func=commit_fails)
    answer = app.test_client().get("/api/v1/test-commit-fails")
    assert answer.status_code == 500
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"  # still hardened
    check = create_engine(sqlite_url)
    with check.connect() as connection:
        name = connection.execute(text("SELECT name FROM regions WHERE code = 'GM0363'"))
        assert name.scalar() == "Amsterdam"
    check.dispose()


@pytest.mark.postgres_only
def test_connection_lost_at_commit_is_503_and_nothing_is_written(postgres_url):
    app = make_app(postgres_url)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def connection_ends_before_commit():
        session = db_session()
        session.execute(text("UPDATE regions SET name = 'Changed' WHERE code = 'GM0363'"))
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return {"done": True}

    app.add_url_rule("/api/v1/test-commit-lost", view_func=connection_ends_before_commit)
    client = app.test_client()
    answer = client.get("/api/v1/test-commit-lost")
    assert_problem_503(answer)
    # The service cannot know whether the COMMIT landed, and says so.
    assert answer.json["outcome"] == "unknown"
    assert "Idempotency-Key" in answer.json["detail"]
    admin.dispose()
    check = create_engine(postgres_url)
    with check.connect() as connection:
        name = connection.execute(text("SELECT name FROM regions WHERE code = 'GM0363'"))
        assert name.scalar() == "Amsterdam"
    check.dispose()
    # The pool dropped the dead connection: the next request is served.
    assert client.get("/readyz").status_code == 200


@pytest.mark.postgres_only
def test_a_row_lock_held_elsewhere_is_503_within_the_lock_timeout(postgres_url):
    engine = create_database_engine(postgres_url)
    unit_id, coordinator = unit_and_its_coordinator(engine)
    client = make_app(postgres_url).test_client()
    with engine.connect() as blocker, blocker.begin():
        blocker.execute(text("SELECT id FROM units WHERE id = :id FOR UPDATE"), {"id": unit_id})
        started = time.monotonic()
        answer = client.patch(f"/api/v1/units/{unit_id}", json={"status": "closed"},
                              headers=coordinator.headers)
        assert time.monotonic() - started < 3  # lock_timeout 0.3 s, not forever
        assert_problem_503(answer)
    answer = client.patch(f"/api/v1/units/{unit_id}", json={"status": "closed"},
                          headers=coordinator.headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    engine.dispose()


@pytest.mark.postgres_only
def test_the_client_deadline_spares_a_listen_that_waits_longer(postgres_url):
    """A statement gets `deadline` seconds; waiting for a notification may take longer."""
    engine = create_database_engine(postgres_url, timeouts=SHORT)
    assert SHORT.deadline < 2
    listener = engine.raw_connection()
    try:
        dbapi = listener.driver_connection
        dbapi.autocommit = True
        dbapi.execute("LISTEN faults")

        def notify_later():
            time.sleep(SHORT.deadline + 1)
            with engine.connect() as connection:
                connection.execute(text("NOTIFY faults, 'late'"))
                connection.commit()

        sender = threading.Thread(target=notify_later)
        sender.start()
        received = [note.payload for note in dbapi.notifies(stop_after=1)]
        sender.join()
        assert received == ["late"]
        assert not dbapi.closed
        # An ordinary statement on the same connection still has its deadline.
        assert dbapi.execute("SELECT 1").fetchone() == (1,)
    finally:
        listener.close()
        engine.dispose()


def _wrapped(original: Exception) -> Exception:
    from sqlalchemy.exc import DBAPIError

    return DBAPIError.instance("SELECT 1", {}, original, type(original).__mro__[-2])


@pytest.mark.parametrize("original, unavailable", [
    (psycopg_errors.LockNotAvailable("lock timeout"), True),
    (psycopg_errors.QueryCanceled("statement timeout"), True),
    (psycopg_errors.AdminShutdown("terminating connection"), True),
    (psycopg_errors.CannotConnectNow("the database system is starting up"), True),
    (psycopg_errors.TooManyConnections("too many clients"), True),
    (psycopg_errors.DeadlockDetected("deadlock"), True),
    (psycopg.OperationalError("server closed the connection unexpectedly"), True),
    (psycopg_errors.UniqueViolation("duplicate key"), False),
    (psycopg_errors.UndefinedTable("no such relation"), False),
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("no such table: units"), False),
    (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
])
def test_which_database_errors_mean_unavailable(original, unavailable):
    """An outage is 503; a constraint or a bug stays what it is (409, 500)."""
    assert is_database_unavailable(_wrapped(original)) is unavailable


@pytest.mark.postgres_only
def test_commit_applied_but_its_answer_lost_is_503_unknown_and_the_key_gives_the_outcome(
        postgres_url):
    """The COMMIT lands, the connection dies before its answer: the one 503 that saved."""
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, FrozenClock(NIGHT), "crisis_worker")
    url = make_url(postgres_url)
    with lost_reply_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        client = make_app(url.set(host="127.0.0.1", port=proxy.port)
                          .render_as_string(hide_password=False)).test_client()
        headers = {**worker.headers, "Idempotency-Key": "night-call-1"}
        case = {"case_reference": "VT-2026-11-22-0042", "origin_region_code": "GM0599",
                "risk_level": "rood", "danger": {"place": "Schiedam"},
                "household": {"adults": 1, "children": 0}}
        proxy.arm()
        answer = client.post("/api/v1/placement-requests", json=case, headers=headers)
        assert proxy.lost.is_set(), "the proxy never saw the COMMIT"
        assert_problem_503(answer)
        assert answer.json["outcome"] == "unknown"
        with engine.connect() as connection:  # it was saved, though the service heard nothing
            saved = connection.execute(text(
                "SELECT id FROM placement_requests WHERE case_reference = 'VT-2026-11-22-0042'"
            )).scalars().all()
        assert len(saved) == 1
        # Retrying with the same key answers the first outcome and creates nothing new.
        retry = client.post("/api/v1/placement-requests", json=case, headers=headers)
        assert retry.status_code == 201, retry.get_data(as_text=True)
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json["id"] == saved[0]
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM placement_requests")).scalar()
    assert count == 1
    engine.dispose()


@pytest.mark.postgres_only
def test_a_page_whose_commit_answer_is_lost_says_it_may_have_been_saved(postgres_url):
    """A form sent again could do it twice: the page says to look first."""
    engine = create_database_engine(postgres_url)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        worker = make_person(session, FrozenClock(NIGHT), "crisis_worker")
    url = make_url(postgres_url)
    with lost_reply_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        client = signed_in(make_app(url.set(host="127.0.0.1", port=proxy.port)
                                    .render_as_string(hide_password=False)).test_client(),
                           worker)
        csrf = session_csrf(client)
        proxy.arm()
        answer = client.post("/crisis/aanvragen/nieuw", data={
            "case_reference": "VT-2026-0043", "origin_region_code": "GM0599",
            "risk_level": "rood", "danger_place": "Schiedam", "household-adults": "1",
            "household-children": "0", "csrf_token": csrf})
        assert proxy.lost.is_set(), "the proxy never saw the COMMIT"
        assert_unavailable(answer)
        assert "misschien wel opgeslagen" in answer.get_data(as_text=True)
    engine.dispose()
