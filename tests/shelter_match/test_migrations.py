"""The one migration history builds the schema the models describe, on both engines."""

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
