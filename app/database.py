"""One database session per request; the request owns the transaction.

A request that ends with a status below 400 commits; anything else rolls back, so an
error never leaves half a change behind. A service command that refuses (a DomainError)
has already undone its own writes in its savepoint (shelter_match.db.command), so a page
that catches the error and answers 303 commits only what else the request did.
The API and the pages reach the session through the RequestDatabase lent to them here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from shelter_match.db import (
    REQUEST_DATABASE,
    RequestDatabase,
    create_database_engine,
    make_session_factory,
)

SESSIONS = "shelter_match.sessions"


def init_app(app: Flask) -> None:
    """Create the engine, lend the request's database and end its transaction."""
    connection = app.config.get("DATABASE_CONNECTION")
    if connection is not None:
        # Tests bind every request to one connection inside an outer transaction; each
        # request's commit becomes a savepoint that the test rolls back at its end.
        def factory() -> Session:
            return Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
        app.extensions[SESSIONS] = factory
        app.extensions["shelter_match.engine"] = connection.engine
    else:
        engine = create_database_engine(app.config["DATABASE_URL"])
        app.extensions[SESSIONS] = make_session_factory(engine)
        app.extensions["shelter_match.engine"] = engine
    app.extensions[REQUEST_DATABASE] = RequestDatabase(
        session=db_session, write_after_transaction=write_after_transaction)

    @app.after_request
    def finish_transaction(response: Response) -> Response:
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        for callback in g.pop("after_transaction", []):
            callback()
        return response

    @app.teardown_request
    def close_session(_error: BaseException | None = None) -> None:
        # Reached with a session still open only when after_request did not run.
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def db_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[SESSIONS]()
    session: Session = g.db_session
    return session


def write_after_transaction(write: Callable[[Session], None]) -> None:
    """Run `write` in a session of its own once this request's transaction has ended.

    For writes that must survive the request's rollback (counting a failed sign-in). Its
    own session, after the request's: on SQLite it would otherwise wait for the request's
    write lock, which the request holds until it ends.
    """
    factory = current_app.extensions[SESSIONS]

    def run() -> None:
        session = factory()
        try:
            write(session)
            session.commit()
        finally:
            session.close()

    g.setdefault("after_transaction", []).append(run)
