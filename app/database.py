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
        engine = create_database_engine(app.config["DATABASE_URL"],
                                        timeouts=app.config["DATABASE_TIMEOUTS"])
        app.extensions[SESSIONS] = make_session_factory(engine)
        app.extensions["shelter_match.engine"] = engine
    app.extensions[REQUEST_DATABASE] = RequestDatabase(
        session=db_session, write_after_transaction=write_after_transaction)

    @app.after_request
    def finish_transaction(response: Response) -> Response:
        try:
            end_transaction(commit=response.status_code < 400)
            for callback in g.pop("after_transaction", []):
                callback()
        except Exception as error:
            # A COMMIT can fail where no statement did (the database went away in between,
            # a deferred check): answer it as an error raised in a view, through the app's
            # handlers (503 with Retry-After when the database is unavailable), never with
            # the answer whose work was not saved, nor with Werkzeug's own error page.
            return current_app.make_response(current_app.handle_user_exception(error))
        return response

    @app.teardown_request
    def close_session(_error: BaseException | None = None) -> None:
        # Reached with a session still open only when after_request did not run.
        session = g.pop("db_session", None)
        if session is not None:
            _discard(session)


def end_transaction(*, commit: bool) -> None:
    """Commit or roll back this request's session, if it opened one, and close it."""
    session = g.pop("db_session", None)
    if session is None:
        return
    if not commit:
        # Nothing to keep: a rollback that fails because the connection is gone loses
        # nothing, and the answer (often a 503 already) stands.
        _discard(session)
        return
    try:
        session.commit()
    except Exception:
        # The COMMIT may have reached the database before the connection died: whether
        # the change was saved is unknown. The 503 says so (a client retries with its
        # Idempotency-Key to learn the outcome, never blindly).
        g.commit_outcome_unknown = True
        _discard(session)
        raise
    session.close()


def _discard(session: Session) -> None:
    """Roll back and close; a connection that is gone is dropped from the pool."""
    try:
        session.rollback()
        session.close()
    except Exception:
        session.invalidate()


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
