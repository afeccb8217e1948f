"""Bring a database's schema to the newest migration (`shelter-match db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Return an Alembic configuration that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`; running it twice is harmless."""
    config = alembic_config()
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, config, revision)
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _upgrade_sqlite(engine: Engine, config: Config, revision: str) -> None:
    """Upgrade SQLite with foreign keys off, as SQLite prescribes for rebuilding tables.

    Batch mode changes a table by copying it and dropping the old one; with foreign keys
    on, dropping a table others refer to (users, placement_requests) deletes or cascades
    their rows, and the pragma cannot change inside a transaction. Off for the upgrade, then
    `foreign_key_check` proves nothing was left dangling before it is committed.
    """
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")  # autocommit: no transaction is open yet
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if dangling:
                    raise RuntimeError(f"the upgrade left dangling references: {dangling[:3]}")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None when it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Return the newest revision in the migration history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head
