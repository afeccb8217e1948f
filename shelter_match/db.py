"""Create engines and sessions for the two supported databases.

PostgreSQL in production, SQLite as the embedded default. Services take a Session and
never commit: whoever opened it (a request, a CLI command) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import psycopg
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from shelter_match.config import DatabaseTimeouts
from shelter_match.errors import DatabaseUnavailable


def create_database_engine(url: URL | str, timeouts: DatabaseTimeouts | None = None,
                           **options: object) -> Engine:
    """Return an engine tuned for the backend of `url`.

    With `timeouts` (the server's engine) no call waits longer for the database than they
    allow: it fails with an error that `is_database_unavailable` recognises. Without (the
    CLI: migrations, seeding), statements may take as long as they need.
    """
    if isinstance(url, str):
        from shelter_match.config import parse_database_url

        url = parse_database_url(url)
    if url.get_backend_name() == "sqlite":
        busy_seconds = timeouts.statement if timeouts else 30.0
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            # Several gunicorn workers and threads share one file: wait for the write
            # lock instead of failing at once.
            connect_args={"timeout": busy_seconds, "check_same_thread": False},
            **options,
        )
        event.listen(engine, "connect", partial(_configure_sqlite_connection,
                                                busy_ms=int(busy_seconds * 1000)))
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
    server_options = "-c TimeZone=UTC"
    if timeouts:
        # Enforced by the server: a statement or a lock wait that takes too long is
        # cancelled (SQLSTATE 57014 or 55P03) and the connection stays usable.
        server_options += (f" -c statement_timeout={int(timeouts.statement * 1000)}"
                           f" -c lock_timeout={int(timeouts.lock * 1000)}")
        # libpq counts whole seconds, at least 2 (psycopg's default is 130).
        connect_args.setdefault("connect_timeout", max(2, round(timeouts.connect)))
        options.setdefault("pool_timeout", timeouts.connect)
    connect_args.setdefault("options", server_options)
    options["connect_args"] = connect_args
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    engine = create_engine(url, **options)
    if timeouts:
        deadline = timeouts.deadline

        @event.listens_for(engine, "do_connect")
        def connect_with_deadline(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = DeadlineConnection.connect(*cargs, **cparams)
            connection.deadline = deadline
            return connection

        # The pool's ping on checkout: a healthy server answers it in milliseconds, so one
        # that takes a second is not answering (the pool then opens a new connection).
        ping = engine.dialect.do_ping

        def ping_within_a_second(dbapi_connection: Any) -> bool:
            dbapi_connection.deadline = min(1.0, deadline)
            try:
                return ping(dbapi_connection)
            finally:
                dbapi_connection.deadline = deadline

        engine.dialect.do_ping = ping_within_a_second  # type: ignore[method-assign]

    return engine


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that gives up on a server that stops answering.

    statement_timeout is the server's: a server that is frozen or cut off enforces nothing,
    and the socket stays open (the kernel still acknowledges), so without this a request
    would wait forever. Past the deadline the connection is closed (the pool then drops
    it) and the call fails as a lost connection does.
    """

    deadline: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        # Waiting for notifications (LISTEN) without a timeout means to wait for them for as
        # long as it takes; every other wait without one is for an answer from the server.
        imposed = timeout is None and getattr(gen, "__name__", "") != "notifies"
        try:
            return super().wait(gen, interval, self.deadline if imposed else timeout)
        except psycopg.OperationalError as error:
            if not imposed or type(error).__name__ != "_WaitTimeout":
                raise
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.deadline:g} s") from None


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see above
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
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


# Readiness probes run here, so that a probe can give up on time while its connection
# attempt finishes in the background (bounded by the engine's own timeouts).
_probes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="database-probe")


def answers_within(engine: Engine, seconds: float) -> bool:
    """Return whether the database answers `SELECT 1` within `seconds`."""
    try:
        return _probes.submit(_select_one, engine).result(timeout=seconds)
    except FutureTimeout:
        return False


def _select_one(engine: Engine) -> bool:
    # A raw DBAPI connection: no BEGIN IMMEDIATE on SQLite (a probe must not queue for the
    # write lock), and nothing of a request's session.
    try:
        connection = engine.raw_connection()
    except Exception:
        return False
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        cursor.close()
        connection.rollback()
        return True
    except Exception:
        connection.invalidate()
        return False
    finally:
        connection.close()


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


# SQLSTATEs that say "the database cannot answer now", not "this request is wrong": connection
# exceptions (08), insufficient resources (53: too many connections, disk full), operator
# intervention (57: shutdown, starting up, a statement cancelled by statement_timeout), system
# errors (58), a lock not granted within lock_timeout (55P03), and a deadlock or serialization
# failure that the same request would survive when tried again (40P01, 40001).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
UNAVAILABLE_SQLSTATES = frozenset({"55P03", "40P01", "40001"})
# SQLite says the same in words: the write lock not granted within busy_timeout, a file it
# cannot open or read. "no such table" and the like are bugs, not outages.
SQLITE_UNAVAILABLE_MESSAGES = ("database is locked", "database is busy", "database table is locked",
                               "unable to open database file", "disk i/o error")


def is_database_unavailable(error: BaseException) -> bool:
    """Return whether `error` means the database is down, restarting or too slow right now.

    Such an error is the database's state, not the request's fault: the API answers it with
    503 and Retry-After. Anything else from the database (a constraint, a bug) is not.
    """
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 4:  # a wrapped cause, e.g. raised inside a savepoint
        if _means_unavailable(current):
            return True
        current = current.__cause__
        seen += 1
    return False


def _means_unavailable(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in UNAVAILABLE_SQLSTATES
    if type(original).__module__.startswith("psycopg"):
        # psycopg gives no SQLSTATE when the connection itself failed: refused, lost,
        # closed, or no answer within the client's deadline.
        return isinstance(error, OperationalError) or type(original).__name__ == "InterfaceError"
    message = str(original).lower()
    return any(text in message for text in SQLITE_UNAVAILABLE_MESSAGES)


def unavailable_reason(error: BaseException) -> str:
    """Return one line that says why the database failed (for the log, never for a client)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else 'no detail'}"
