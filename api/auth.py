"""Bearer-token authentication and role checks for the API.

`requires(*roles)` is the one gate every endpoint passes through; it also documents the
security requirement and the 401/403 answers in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from api.database import db_session
from api.security import note_failed_authentication, refuse_if_throttled
from shelter_match.services.auth import Principal, authenticate_token

ALL_ROLES = ("crisis_worker", "coordinator", "region_reviewer", "duty_officer", "admin")
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "An API token."}


class AuthenticationRequired(Unauthorized):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.data = {"headers": {"WWW-Authenticate": 'Bearer realm="shelter-match"'}}


def bearer_token() -> str | None:
    """Return the token of the Authorization header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> Principal:
    """Return the caller, or raise 401."""
    if "principal" in g:
        return g.principal
    token = bearer_token()
    if token is None:
        raise AuthenticationRequired("Send an API token: 'Authorization: Bearer TOKEN'.")
    session = db_session()
    # The token first: a valid token is never refused because others failed to
    # authenticate from the same address (CONTRACT §2). Guessing a 256-bit token is hopeless
    # anyway; the throttle turns a flood of bad ones into cheap 429s.
    principal = authenticate_token(session, token, now())
    if principal is None:
        refuse_if_throttled(session, now())
        note_failed_authentication()
        raise AuthenticationRequired("The API token is unknown, expired or revoked.")
    g.principal = principal
    return principal


def current_principal() -> Principal:
    """Return the authenticated caller of this request."""
    return g.principal


def now():
    """Return the current time from the app's clock (tests may freeze it)."""
    return current_app.config["CLOCK"].now()


def requires(*roles: str) -> Callable:
    """Allow the decorated view only to callers with one of `roles`."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            principal = authenticate()
            if principal.role not in roles:
                raise Forbidden(f"The role {principal.role} may not do this.")
            return view(*args, **kwargs)

        guarded.allowed_roles = tuple(roles)  # read by the authorisation matrix test
        apidoc = getattr(guarded, "_apidoc", {})
        manual = apidoc.setdefault("manual_doc", {})
        manual["security"] = [{"bearerAuth": []}]
        manual.setdefault("description", "")
        manual["description"] = (
            f"{manual['description']}\n\nAllowed roles: {', '.join(roles)}.".strip()
        )
        guarded._apidoc = apidoc
        return guarded

    return decorate
