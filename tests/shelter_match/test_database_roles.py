"""On PostgreSQL the service runs as a role that owns nothing (`db grant`).

A real owner role migrates a database it owns; the service's role gets its grants from
`shelter-match db grant` and then cannot change the audit log in any way: no UPDATE,
DELETE or TRUNCATE, no disabling of triggers, no dropping. Everything the service itself
does still works as that role.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests as http
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from testbed.cli import run_cli
from testbed.databases import POSTGRES_ADMIN_URL
from tests.conftest import _require_postgres
from tests.factories import make_caller, make_location
from tests.live import running_service

pytestmark = pytest.mark.postgres_only
ROLES_SQL = Path(__file__).resolve().parents[2] / "deploy" / "roles.sql"


@dataclass
class Installation:
    owner_url: str
    service_url: str
    owner: str
    service: str


def _admin():
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def installation() -> Iterator[Installation]:
    """A database owned by a migration role, and a service role with its grants."""
    _require_postgres()
    suffix = uuid.uuid4().hex[:10]
    owner, service, database = f"sm_owner_{suffix}", f"sm_app_{suffix}", f"sm_roles_{suffix}"
    admin = _admin()
    admin_url = make_url(POSTGRES_ADMIN_URL)
    # The shipped script, as a deployer runs it with psql.
    created = subprocess.run(
        ["psql", "-X", "-q", "-h", admin_url.host or "127.0.0.1",
         "-p", str(admin_url.port or 5432), "-U", admin_url.username or "postgres",
         "-d", admin_url.database or "postgres", "-v", f"owner={owner}", "-v", f"app={service}",
         "-v", f"db={database}", "-f", str(ROLES_SQL)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PGPASSWORD": admin_url.password or ""})
    assert created.returncode == 0, created.stderr
    base = admin_url.set(database=database)
    found = Installation(
        owner_url=base.set(username=owner).render_as_string(hide_password=False),
        service_url=base.set(username=service).render_as_string(hide_password=False),
        owner=owner, service=service)
    try:
        for args in (("db", "upgrade"), ("seed", "regions"), ("db", "grant", "--role", service)):
            done = run_cli(*args, database_url=found.owner_url)
            assert done.returncode == 0, done.stderr
        yield found
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {service}"))
            connection.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


def refused(url: str, statement: str) -> str:
    """Run `statement` as the user of `url`; return PostgreSQL's refusal (fail if allowed)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            try:
                connection.execute(text(statement))
            except DBAPIError as error:
                return str(error.orig)
            raise AssertionError(f"{statement!r} was allowed")
    finally:
        engine.dispose()


def test_the_service_works_as_its_own_role(installation):
    for args in (("user", "add", "nina", "--role", "crisis_worker"),
                 ("user", "revoke", "nina"),
                 ("purge", "--older-than", "30"),
                 ("holds", "sweep")):
        done = run_cli(*args, database_url=installation.service_url)
        assert done.returncode == 0, (args, done.stderr)
    verified = run_cli("audit", "verify", database_url=installation.service_url)
    engine = create_engine(installation.service_url)
    with engine.connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    engine.dispose()
    assert verified.returncode == 0 and f"intact: {events} event(s)" in verified.stdout, verified


@pytest.mark.parametrize("table", ["audit_events", "audit_chain"])
@pytest.mark.parametrize(("statement", "why"), [
    ("UPDATE {table} SET {column} = {column}", "permission denied"),
    ("DELETE FROM {table}", "permission denied"),
    ("TRUNCATE {table}", "permission denied"),
    ("ALTER TABLE {table} DISABLE TRIGGER ALL", "must be owner"),
    ("ALTER TABLE {table} DISABLE TRIGGER USER", "must be owner"),
    ("DROP TABLE {table}", "must be owner"),
])
def test_the_service_role_cannot_change_the_audit_log(installation, table, statement, why):
    column = "action" if table == "audit_events" else "hash"
    message = refused(installation.service_url, statement.format(table=table, column=column))
    assert why in message


@pytest.mark.parametrize("statement", [
    "SET session_replication_role = replica",   # would switch every trigger off
    "UPDATE alembic_version SET version_num = '0001'",
    "CREATE TABLE audit_shadow (id integer)",
    "CREATE TRIGGER t BEFORE INSERT ON regions FOR EACH ROW EXECUTE FUNCTION "
    "audit_log_append_only()",
])
def test_the_service_role_cannot_switch_off_guards_or_change_the_schema(installation, statement):
    message = refused(installation.service_url, statement)
    assert "permission denied" in message or "must be owner" in message


def test_even_the_owner_cannot_truncate_the_audit_log_without_dropping_its_guard(installation):
    for table in ("audit_events", "audit_chain"):
        assert "append-only" in refused(installation.owner_url, f"TRUNCATE {table}")


@pytest.mark.parametrize(("role", "message"), [
    ("nobody_{suffix}", "there is no database role"),
    ("{owner}", "not for yourself"),
    ("postgres", "superuser"),
    ("Robert'); DROP TABLE regions; --", "role: Must be a PostgreSQL role name"),
])
def test_db_grant_refuses_roles_that_must_not_run_the_service(installation, role, message):
    role = role.format(suffix=uuid.uuid4().hex[:6], owner=installation.owner)
    done = run_cli("db", "grant", "--role", role, database_url=installation.owner_url)
    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_db_grant_refuses_a_role_that_owns_tables(installation):
    superuser = make_url(installation.owner_url).set(
        username=make_url(POSTGRES_ADMIN_URL).username)
    engine = create_engine(superuser)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE scratch (id integer)"))
            connection.execute(text(f"ALTER TABLE scratch OWNER TO {installation.service}"))
        done = run_cli("db", "grant", "--role", installation.service,
                       database_url=installation.owner_url)
        assert done.returncode == 1 and "must own nothing" in done.stderr
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE scratch"))
        engine.dispose()


def test_db_grant_is_for_postgresql_only(tmp_path):
    assert run_cli("db", "upgrade", instance=tmp_path).returncode == 0
    done = run_cli("db", "grant", "--role", "shelter_match_app", instance=tmp_path)
    assert done.returncode == 1
    assert "PostgreSQL" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_night_over_http_as_the_service_role_leaves_an_intact_chain(installation):
    """gunicorn as the service role: request, proposals, hold, confirm (an audited
    disclosure); then the chain verifies."""
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(installation.service_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                      safety_level="rood", lat=53.22, lon=6.57, address="Noorderweg 3",
                      units=(("N1", 3),))
    engine.dispose()
    with running_service("serve", database_url=installation.service_url) as (base, log):
        assert "warning: serving as a database role" not in log.read_text()
        api = f"{base}/api/v1"
        created = http.post(f"{api}/placement-requests", headers=worker.headers, timeout=30,
                            json={"case_reference": "VT-2026-0042", "origin_region_code": "GM0599",
                                  "risk_level": "rood", "danger": {"place": "schiedam"},
                                  "household": {"adults": 1, "children": 2}})
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        option = http.post(f"{api}/placement-requests/{request_id}/proposals", json={},
                           headers=worker.headers, timeout=30).json()["options"][0]
        hold = http.post(f"{api}/placement-requests/{request_id}/holds",
                         json={"unit_id": option["unit_id"]}, headers=worker.headers, timeout=30)
        assert hold.status_code == 201, hold.text
        placed = http.post(f"{api}/holds/{hold.json()['id']}/confirm", headers=worker.headers,
                           timeout=30)
        assert placed.status_code == 201, placed.text
    verified = run_cli("audit", "verify", database_url=installation.service_url)
    assert verified.returncode == 0, verified.stderr
    listed = run_cli("audit", "--action", "address.disclosed",
                     database_url=installation.service_url)
    assert listed.stdout.count("\n") == 1
