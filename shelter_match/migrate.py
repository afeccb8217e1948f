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
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return
    # SQLite changes a table by rebuilding it: create a copy, drop the old, rename. With
    # foreign keys on, dropping a table that other rows refer to fails (or, with ON DELETE
    # CASCADE, deletes those rows). So, as SQLite's own procedure says: foreign keys off
    # (only possible outside a transaction), migrate, check every reference, on again.
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration broke {len(broken)} reference(s), e.g. "
                                       f"{broken[0]}; nothing was changed")
        finally:
            driver.execute("PRAGMA foreign_keys = ON")


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None when it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Return the newest revision in the migration history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head
