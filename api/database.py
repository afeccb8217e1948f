"""One database session per request; the request owns the transaction.

A request that ends with a status below 400 commits; anything else rolls back, so an
error never leaves half a change behind.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine, make_session_factory

EXTENSION = "shelter_match.sessions"


def init_app(app: Flask) -> None:
    """Create the engine and register the per-request session handling."""
    connection = app.config.get("DATABASE_CONNECTION")
    if connection is not None:
        # Tests bind every request to one connection inside an outer transaction; each
        # request's commit becomes a savepoint that the test rolls back at its end.
        def factory() -> Session:
            return Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
        app.extensions[EXTENSION] = factory
        app.extensions["shelter_match.engine"] = connection.engine
    else:
        engine = create_database_engine(app.config["DATABASE_URL"])
        app.extensions[EXTENSION] = make_session_factory(engine)
        app.extensions["shelter_match.engine"] = engine

    @app.after_request
    def finish_transaction(response):
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
    def close_session(_error=None):
        # Reached with a session still open only when after_request did not run.
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def after_transaction(callback) -> None:
    """Run `callback()` once this request's transaction has committed or rolled back.

    For writes that must survive the request's rollback (counting a failed login); they
    open their own session, which on SQLite would otherwise wait for the request's lock.
    """
    g.setdefault("after_transaction", []).append(callback)


def new_session() -> Session:
    """Return a session of its own, outside this request's transaction."""
    return current_app.extensions[EXTENSION]()


def db_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session
