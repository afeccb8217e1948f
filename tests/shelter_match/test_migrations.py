"""The one migration history builds the schema the models describe, on both engines."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from shelter_match.db import create_database_engine
from shelter_match.migrate import current_revision, head_revision, upgrade
from shelter_match.models import Base


def test_upgrade_empty_database_to_head_twice(fresh_database_url):
    engine = create_database_engine(fresh_database_url)
    try:
        assert current_revision(engine) == head_revision()
        upgrade(engine)  # a second run changes nothing and does not fail
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"regions", "locations", "units", "holds", "placements", "audit_events"} <= tables
    finally:
        engine.dispose()


def test_models_match_migrated_schema(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_audit_log_refuses_update_and_delete(engine, clock):
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, action, object_type, detail) "
                    "VALUES (:at, 'test.event', 'test', '{}')"
                ),
                {"at": clock.now().replace(tzinfo=None)},
            )
            for statement in ("UPDATE audit_events SET action = 'changed'",
                              "DELETE FROM audit_events"):
                savepoint = connection.begin_nested()
                try:
                    connection.execute(text(statement))
                except DBAPIError as error:
                    assert "append-only" in str(error)
                    savepoint.rollback()
                else:
                    raise AssertionError(f"{statement!r} was allowed")
        finally:
            transaction.rollback()


def test_0009_keeps_every_row_of_a_database_in_use(backend, tmp_path):
    """Upgrading a database with users, tokens, scopes, requests, holds and placements to
    the waiting list keeps them all: on SQLite the rebuilt placement_requests keeps its
    references, and users is never rebuilt (that would cascade to their tokens)."""
    from datetime import UTC, datetime

    from testbed.databases import create_empty_database, drop_database

    url = create_empty_database(backend, tmp_path)
    engine = create_database_engine(url)
    at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC).replace(tzinfo=None)
    tables = ("users", "api_tokens", "user_locations", "placement_requests", "holds",
              "placements", "units")
    try:
        upgrade(engine, "0004")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO regions (code, name, lat, lon) VALUES ('GM0599', 'R', 51.9, 4.5)"))
            connection.execute(text(
                "INSERT INTO users (id, name, role, created_at) VALUES "
                "('w', 'w', 'crisis_worker', :at), ('c', 'c', 'coordinator', :at)"), {"at": at})
            connection.execute(text(
                "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES "
                "('t', 'w', 'h', :at)"), {"at": at})
            connection.execute(text(
                "INSERT INTO locations (id, name, region_code, safety_level, lat, lon, address, "
                "features, accepts_night_intake, created_at, availability_updated_at) VALUES "
                "('l', 'L', 'GM0599', 'rood', 51.9, 4.5, 'a', '[]', true, :at, :at)"),
                {"at": at})
            connection.execute(text("INSERT INTO user_locations (user_id, location_id) "
                                    "VALUES ('c', 'l')"))
            connection.execute(text(
                "INSERT INTO units (id, location_id, label, beds, status, version, updated_at) "
                "VALUES ('u', 'l', 'A', 2, 'occupied', 1, :at)"), {"at": at})
            connection.execute(text(
                "INSERT INTO placement_requests (id, created_by, origin_region_code, risk_level, "
                "adults, children, needs, excluded_region_codes, excluded_location_ids, status, "
                "created_at) VALUES ('r', 'w', 'GM0599', 'rood', 1, 0, '[]', '[]', '[]', "
                "'placed', :at)"), {"at": at})
            connection.execute(text(
                "INSERT INTO holds (id, request_id, unit_id, location_id, created_by, created_at, "
                "expires_at, status) VALUES ('h', 'r', 'u', 'l', 'w', :at, :later, "
                "'confirmed')"), {"at": at, "later": at.replace(hour=4)})
            connection.execute(text(
                "INSERT INTO placements (id, request_id, hold_id, unit_id, location_id, "
                "origin_region_code, destination_region_code, household_size, created_by, "
                "started_at) VALUES ('p', 'r', 'h', 'u', 'l', 'GM0599', 'GM0599', 1, 'w', :at)"),
                {"at": at})
        with engine.connect() as connection:
            before = {t: connection.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                      for t in tables}
        upgrade(engine)
        with engine.connect() as connection:
            after = {t: connection.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                     for t in tables}
            assert connection.scalar(text("SELECT offer FROM holds")) in (False, 0)
        assert after == before and all(before.values())
        with engine.begin() as connection:  # the new status is allowed
            connection.execute(text("UPDATE placement_requests SET status = 'waiting'"))
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("UPDATE placement_requests SET status = 'bogus'"))
    finally:
        engine.dispose()
        drop_database(url)
