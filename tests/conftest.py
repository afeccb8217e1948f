"""Shared fixtures: real databases on both engines, an app bound to a test transaction.

Every test that asks for `session`, `app` or `client` runs once on SQLite and once on
PostgreSQL. The schema is created with the real migrations, once per engine; each test
runs inside a transaction that is rolled back at its end (warehouse style), so tests are
isolated and fast. Tests that need a real server with its own connections use
`fresh_database_url` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import settings
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from testbed.databases import (
    POSTGRES_ADMIN_URL,
    create_migrated_database,
    drop_database,
    postgres_available,
)
from tests import leak_scanner

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = [b for b in os.environ.get("SHELTER_MATCH_TEST_BACKENDS", "sqlite,postgresql")
            .split(",") if b]
# 03:00 on a November night, when crisis workers call.
NIGHT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


# Property tests draw new random examples at every run on a developer's machine (a failure
# is kept in .hypothesis/ and replayed first next time). CI draws the same examples every
# run: a red CI must mean that the change broke something, never that this run happened to
# draw an example no run drew before; such an example is found by `make test` locally.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


def pytest_configure(config) -> None:
    leak_scanner.install()


@pytest.fixture(autouse=True)
def no_location_leaks(request):
    """Fail any test during which the app sent a secret address or coordinates to a caller
    not entitled to them (see tests/leak_scanner.py)."""
    leak_scanner.scanner.reset()
    yield
    leaks = list(leak_scanner.scanner.leaks)
    leak_scanner.scanner.reset()
    if leaks:
        pytest.fail("secret location data leaked:\n" + "\n".join(map(str, leaks)),
                    pytrace=False)


def _require_postgres() -> None:
    if not postgres_available():
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The database engine under test: every dependent test runs on each."""
    if request.param == "postgresql":
        _require_postgres()
    return request.param


@pytest.fixture(scope="session")
def engine(backend, tmp_path_factory):
    """A migrated database with the 35 regions, shared by the tests of one engine."""
    url = create_migrated_database(backend, tmp_path_factory.mktemp("db"))
    engine = create_database_engine(url)
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def connection(engine) -> Iterator:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session(connection) -> Iterator[Session]:
    """A session whose commits become savepoints of the test's transaction."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def clock() -> FrozenClock:
    """A clock standing at 03:00 UTC on a November night; tests move it."""
    return FrozenClock(NIGHT)


@pytest.fixture
def app(connection, clock):
    """The Flask app, bound to the test's transaction and clock."""
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_CONNECTION": connection, "CLOCK": clock})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fresh_database_url(backend, tmp_path_factory) -> Iterator[str]:
    """A new, migrated database with regions, for tests that run a real server."""
    url = create_migrated_database(backend, tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database with regions, for concurrency tests."""
    _require_postgres()
    url = create_migrated_database("postgresql")
    yield url
    drop_database(url)


def pytest_terminal_summary(terminalreporter) -> None:
    """Show how many cases the fuzzer generated and how many failed (also under xdist)."""
    lines = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.getreports(outcome):
            found = dict(report.user_properties)
            if "fuzz_cases" in found:
                lines.append(f"{report.nodeid}: {found['fuzz_cases']} cases, "
                             f"{found['fuzz_failures']} failures")
    if lines:
        terminalreporter.write_sep("-", "schemathesis fuzzing")
        for line in lines:
            terminalreporter.write_line(line)
