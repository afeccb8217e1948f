"""HTTP hardening that applies to every answer: headers, body rules, auth throttling."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import NotFound, TooManyRequests, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from api.database import after_transaction, new_session
from shelter_match.errors import ValidationFailed
from shelter_match.services import throttle
from web.pages import is_page_request

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
JSON_TYPES = ("application/json",)

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Answers hold availability and, for the entitled, addresses: never cache them.
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}


# The pages for people (web/): their own styles, scripts and images only, no inline script,
# forms posted only back here, never framed. Every page may show client data: no cache.
PAGE_HEADERS = {
    **API_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


class Throttled(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed authentications from this client; try again later.")
        self.data = {"headers": {"Retry-After": str(retry_after)}}


def client_address() -> str:
    return request.remote_addr or "unknown"


def refuse_if_throttled(session, now) -> None:
    """Raise 429 when this client has failed to authenticate too often."""
    key = throttle.client_key(client_address())
    until = throttle.blocked_until(session, key, now)
    if until is not None:
        raise Throttled(max(1, int((until - now).total_seconds())))


def note_failed_authentication() -> None:
    """Count this failed authentication once the request's transaction has rolled back."""
    key = throttle.client_key(client_address())
    now = current_app.config["CLOCK"].now()

    def count() -> None:
        session = new_session()
        try:
            throttle.record_failure(session, key, now)
            session.commit()
        finally:
            session.close()

    after_transaction(count)


NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (\\u0000)."


def fields_with_nul(value, path: str = "") -> list[str]:
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
    """Register the hardening for every request and response."""
    proxies = int(app.config.get("PROXY_COUNT", 0))
    if proxies:
        # Trust X-Forwarded-For only from the configured number of reverse proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.before_request
    def require_json_bodies():
        has_body = bool(request.content_length or request.headers.get("Transfer-Encoding"))
        if (
            has_body
            and request.method in WRITE_METHODS
            and request.path.startswith("/api/")
            and request.mimetype not in JSON_TYPES
        ):
            raise UnsupportedMediaType("Send the body as application/json.")
        if request.path.startswith("/api/"):
            refuse_nul_characters()

    @app.after_request
    def harden(response):
        is_page = response.mimetype == "text/html" and is_page_request()
        for name, value in (PAGE_HEADERS if is_page else API_HEADERS).items():
            response.headers.setdefault(name, value)
        response.headers.pop("Server", None)
        return response
