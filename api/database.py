"""This request's database session, lent to the API by the app (app/database.py)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from shelter_match.db import REQUEST_DATABASE, RequestDatabase


def database() -> RequestDatabase:
    """Return the request's database as the app lends it."""
    lent: RequestDatabase = current_app.extensions[REQUEST_DATABASE]
    return lent


def db_session() -> Session:
    """Return this request's session (the app commits it below 400, else rolls back)."""
    return database().session()
