"""Idempotency-Key: a retried POST on a flaky night connection never creates twice.

One mechanism for every POST that creates something (`@idempotent()` under
`@blp.requires`). The first answer to a key is stored with the request's own transaction
and replayed for 24 hours to the same user sending the same method, path and body; the
same key with another request is 422. Errors are not stored: an answer of 400 or more
rolls the transaction back, the key row with it, so a retry really tries again.

Concurrent duplicates: the key row is inserted *before* the work, inside the request's
transaction. On PostgreSQL a second insert of the same key waits on the unique index until
the first transaction ends; if it committed, the insert fails and the stored answer is
replayed; if it rolled back, the second goes ahead and does the work itself. On SQLite
writers are serialised by BEGIN IMMEDIATE, so the second simply sees the first's row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import current_principal, now
from api.database import db_session
from shelter_match.errors import Conflict, ValidationFailed
from shelter_match.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
WINDOW = timedelta(hours=24)
# Headers worth replaying; others (dates, security headers) are set afresh on every answer.
KEPT_HEADERS = ("Content-Type", "Location")

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "A unique key per intended action (e.g. a UUID). Retrying with the same key and "
        "body within 24 hours returns the first answer (with `Idempotent-Replayed: true`) "
        "and creates nothing new; the same key with another request is 422. Errors are "
        "not stored."
    ),
}

ReplayHook = Callable[[Session, dict[str, Any]], None]


def _key_errors(key: str) -> list[str]:
    if not key or len(key) > MAX_KEY_LENGTH:
        return [f"Must be 1 to {MAX_KEY_LENGTH} characters."]
    if not all("\x21" <= ch <= "\x7e" for ch in key):
        return ["Use visible ASCII characters only (e.g. a UUID)."]
    return []


def fingerprint() -> str:
    """Return the SHA-256 of the request's body, canonical when it is JSON."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    return hashlib.sha256(body).hexdigest()


def claim(session: Session, *, user_id: str, key: str, method: str, path: str,
          digest: str) -> IdempotencyKey | None:
    """Insert the key row; return the stored row instead when the key is taken."""
    moment = now()
    # Keys older than the window are forgotten: drop this user's, so they can be reused.
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                 IdempotencyKey.created_at <= moment - WINDOW))
    try:
        # A savepoint: a failed insert must not end the request's transaction.
        with session.begin_nested():
            session.add(IdempotencyKey(user_id=user_id, key=key, method=method, path=path,
                                       request_fingerprint=digest, created_at=moment,
                                       response_headers={}))
        return None
    except IntegrityError:
        return session.scalar(
            select(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )


def replay(stored: IdempotencyKey, method: str, path: str, digest: str) -> Response:
    """Return the stored answer, or 422 when the key was used for another request."""
    if (stored.method, stored.path, stored.request_fingerprint) != (method, path, digest):
        raise ValidationFailed(
            {HEADER: ["This key was already used for a different request; use a new key "
                      "for a new action."]}
        )
    if stored.response_status is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    response = Response(stored.response_body, status=stored.response_status)
    for name, value in stored.response_headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(on_replay: ReplayHook | None = None) -> Callable:
    """Honour Idempotency-Key on a creating POST; `on_replay(session, body)` runs on replays.

    Place it directly under `@blp.requires(...)`: it needs the authenticated caller.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            errors = _key_errors(key)
            if errors:
                raise ValidationFailed({HEADER: errors})
            session = db_session()
            user_id = current_principal().user_id
            method, path, digest = request.method, request.path, fingerprint()
            stored = claim(session, user_id=user_id, key=key, method=method, path=path,
                           digest=digest)
            if stored is not None:
                answer = replay(stored, method, path, digest)
                if on_replay is not None:
                    on_replay(session, json.loads(stored.response_body or "{}"))
                return answer
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                session.execute(
                    IdempotencyKey.__table__.update()
                    .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
                    .values(response_status=response.status_code,
                            response_body=response.get_data(as_text=True),
                            response_headers={name: response.headers[name]
                                              for name in KEPT_HEADERS
                                              if name in response.headers})
                )
            return response

        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        manual = wrapper._apidoc.setdefault("manual_doc", {})
        manual["parameters"] = [*manual.get("parameters", []), HEADER_DOC]
        return wrapper

    return decorate
