"""Create engines and sessions for the two supported databases.

PostgreSQL in production, SQLite as the embedded default. Services take a Session and
never commit: whoever opened it (a request, a CLI command) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shelter_match.errors import DatabaseUnavailable


def create_database_engine(url: URL | str, **options: object) -> Engine:
    """Return an engine tuned for the backend of `url`."""
    if isinstance(url, str):
        from shelter_match.config import parse_database_url

        url = parse_database_url(url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            # Several gunicorn workers and threads share one file: wait for the write
            # lock instead of failing at once.
            connect_args={"timeout": 30, "check_same_thread": False},
            **options,
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        # pysqlite's own transaction handling begins lazily and never for SELECT; take
        # control so that BEGIN IMMEDIATE makes a writing transaction serialise at its
        # start (the SQLite equivalent of a row lock) instead of failing at commit.
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    # The session speaks UTC: psycopg then hands back datetimes in datetime.UTC itself, which
    # UTCDateTime passes through as they are (converting each from the server's zone cost
    # more than the query on the national list). No SQL here depends on the session's zone:
    # local dates (solidarity) are worked out in Python.
    connect_args: dict[str, Any] = dict(options.pop("connect_args", None) or {})  # type: ignore[call-overload]
    connect_args.setdefault("options", "-c TimeZone=UTC")
    options["connect_args"] = connect_args
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    return create_engine(url, **options)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see above
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front: two requests that both read-then-write can
    # never interleave, and a waiting writer honours busy_timeout instead of deadlocking.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Where the app lends its RequestDatabase to the API and the pages (app.extensions).
REQUEST_DATABASE = "shelter_match.request_database"


@dataclass(frozen=True)
class RequestDatabase:
    """The database as one web request sees it, lent by the app to the API and the pages.

    `session()` is the request's session: the app commits it when the answer is below 400
    and rolls it back otherwise. `write_after_transaction(write)` runs `write` in a session
    of its own, committed, once the request's transaction has ended.
    """

    session: Callable[[], Session]
    write_after_transaction: Callable[[Callable[[Session], None]], None]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory used by requests and commands."""
    return sessionmaker(bind=engine, expire_on_commit=False)


P = ParamSpec("P")
R = TypeVar("R")


def command(function: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """Run a service command in a savepoint: when it raises, nothing it wrote remains.

    The one rule for every caller: a page that catches a DomainError and answers 303
    commits the rest of its request, but nothing of the refused command; the API answers
    400 or more, which rolls the whole request back anyway; the CLI exits non-zero.
    """

    @wraps(function)
    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with session.begin_nested():
            return function(session, *args, **kwargs)

    return run


def rowcount(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE matched (the result of session.execute)."""
    count: int = cast(CursorResult[Any], result).rowcount
    return count


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with one line when the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "no answer"
        raise DatabaseUnavailable(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}"
        ) from None
