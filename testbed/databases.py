"""Create and drop real test databases (PostgreSQL and SQLite files).

Used by the test fixtures and by the benchmarks, so both run against the same kind of
database the service uses in production.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from seed.loaders import seed_regions
from shelter_match.db import create_database_engine
from shelter_match.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "SHELTER_MATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except OperationalError:
        return False


def create_postgres_database() -> str:
    """Create an empty PostgreSQL database; return its URL."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"shelter_match_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def create_empty_database(backend: str, folder: Path | None = None) -> str:
    """Create an empty database of `backend` ("sqlite" or "postgresql"); return its URL."""
    if backend == "sqlite":
        folder = folder or Path(tempfile.mkdtemp(prefix="shelter-match-"))
        return f"sqlite:///{folder / 'test.sqlite3'}"
    return create_postgres_database()


def create_migrated_database(backend: str, folder: Path | None = None) -> str:
    """Create a database at the newest migration with the 35 regions; return its URL."""
    url = create_empty_database(backend, folder)
    engine = create_database_engine(url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        seed_regions(session)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    """Drop a database made by this module (SQLite files go with their temp folder)."""
    if not url.startswith("postgresql"):
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = make_url(url).database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
