"""The API's own hardening: JSON bodies only, no NUL characters, throttled authentication.

Headers and the client's address (behind trusted proxies) are the app's (app/security.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound, TooManyRequests, UnsupportedMediaType

from api.database import database
from shelter_match.errors import ValidationFailed
from shelter_match.services import throttle

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
JSON_TYPES = ("application/json",)

class Throttled(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed authentications from this client; try again later.")
        self.data = {"headers": {"Retry-After": str(retry_after)}}


def client_address() -> str:
    return request.remote_addr or "unknown"


def refuse_if_throttled(session: Session, now: datetime) -> None:
    """Raise 429 when this client has failed to authenticate too often."""
    key = throttle.client_key(client_address())
    until = throttle.blocked_until(session, key, now)
    if until is not None:
        raise Throttled(max(1, int((until - now).total_seconds())))


def note_failed_authentication() -> None:
    """Count this failed authentication once the request's transaction has rolled back."""
    key = throttle.client_key(client_address())
    now = current_app.config["CLOCK"].now()
    database().write_after_transaction(lambda session: throttle.record_failure(session, key, now))


NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (\\u0000)."


def fields_with_nul(value: Any, path: str = "") -> list[str]:
    """Return the dotted names of the JSON strings (keys too) that hold a NUL character."""
    if isinstance(value, str):
        return [path or "body"] if NUL in value else []
    if isinstance(value, list):
        return [name for index, item in enumerate(value)
                for name in fields_with_nul(item, f"{path}.{index}" if path else str(index))]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            found += [name] if NUL in str(key) else fields_with_nul(item, name)
        return found
    return []


def refuse_nul_characters() -> None:
    """Answer 404/422 for a NUL character in the path, query or JSON body of an API call.

    No text we keep may hold one (PostgreSQL refuses it outright, which would be a 500),
    and no honest client sends one.
    """
    if NUL in request.path:
        raise NotFound("No such resource.")
    errors = {key: [NUL_MESSAGE] for key, values in request.args.lists()
              if NUL in key or any(NUL in value for value in values)}
    if request.is_json and request.content_length:
        errors.update({name: [NUL_MESSAGE]
                       for name in fields_with_nul(request.get_json(silent=True))})
    if errors:
        raise ValidationFailed(errors)


def init_app(app: Flask) -> None:
    """Register the API's body rules for every request under /api/."""

    @app.before_request
    def require_json_bodies() -> None:
        if not request.path.startswith("/api/"):
            return
        has_body = bool(request.content_length or request.headers.get("Transfer-Encoding"))
        if has_body and request.method in WRITE_METHODS and request.mimetype not in JSON_TYPES:
            raise UnsupportedMediaType("Send the body as application/json.")
        refuse_nul_characters()
