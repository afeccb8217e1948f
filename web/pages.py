"""What every page shares: the request's database, the clock, rendering, error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, make_response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from shelter_match.db import REQUEST_DATABASE, RequestDatabase

ERROR_TEXTS = {
    400: (_l("This form has expired"),
          _l("The form was incomplete or had expired. Go back, reload the page and try "
             "again.")),
    403: (_l("No access"), _l("Your role does not give access to this page.")),
    404: (_l("Not found"), _l("This page does not exist, or what it showed is gone.")),
    405: (_l("Not possible"), _l("This page cannot be used like that.")),
    409: (_l("Already changed"), _l("Someone or something changed this in the meantime. "
                                    "Reload the page to see how things stand now.")),
    412: (_l("Already changed"), _l("Someone changed this in the meantime. Reload the "
                                    "page to see how things stand now.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    422: (_l("Not accepted"), _l("Some of what you filled in is not right.")),
    429: (_l("Too many attempts"), _l("Wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side; it has been "
                                         "logged. Try again, or phone the helpdesk.")),
    503: (_l("Temporarily unavailable"), _l("The service cannot reach its database just now. "
                                            "Try again in a minute; if it lasts, phone the "
                                            "helpdesk.")),
}


def database() -> RequestDatabase:
    """Return the request's database as the app lends it (app/database.py)."""
    lent: RequestDatabase = current_app.extensions[REQUEST_DATABASE]
    return lent


def db_session() -> Any:
    """Return this request's database session (the app commits below 400)."""
    return database().session()


def write_after_transaction(write: Callable[[Any], None]) -> None:
    """Run `write` in a session of its own once this request's transaction has ended."""
    database().write_after_transaction(write)


def now() -> datetime:
    """Return the current time from the app's clock (tests may freeze it)."""
    moment: datetime = current_app.config["CLOCK"].now()
    return moment


def render(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page; every page is HTML that no one may cache (see app/security.py)."""
    return make_response(render_template(template, **context), status)


def is_page_path(path: str) -> bool:
    """Return whether a path belongs to the pages (not the API or the health checks)."""
    return not (path.startswith("/api/") or path in ("/healthz", "/readyz"))


MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a page of this site, else None (no open redirect).

    Only a plain path of our own: browsers drop tabs and newlines and read a backslash as a
    slash, so `/%09/evil.example` or a backslash after the first slash would leave the site,
    and a CR or LF would split the Location header. A target with a control character, a
    space or a backslash is refused, and so is one whose path holds them percent-encoded or
    starts with `//` once decoded.
    """
    if not target or len(target) > MAX_NEXT_LENGTH or not _plain_path(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not _plain_path(unquote(parts.path)):
        return None
    return target if is_page_path(parts.path) else None


def _plain_path(text: str) -> bool:
    return (text.startswith("/") and not text.startswith("//") and "\\" not in text
            and all("!" <= character <= "~" for character in text))


# The detail of a 503 whose COMMIT may have landed (app.errors).
OUTCOME_UNKNOWN = "outcome-unknown"


def error_page(status: int, detail: str | None = None) -> Response:
    """Render a friendly error page for people."""
    status = status if status in ERROR_TEXTS else (500 if status >= 500 else 400)
    title, text = ERROR_TEXTS[status]
    if status == 400 and detail != "csrf":
        title, text = _("Not accepted"), _("The request could not be read. Go back and try "
                                            "again.")
    if status == 503 and detail == OUTCOME_UNKNOWN:
        # The COMMIT may have landed: sending the form again could do it twice.
        text = _("The connection to the database ended while saving: what you did may have "
                 "been saved. Look at your overview before you try again.")
    # Service messages are written for integrators, in English; people get our own words.
    return render("error.html", status=status, title=title, text=text)


def http_error_page(error: HTTPException) -> Response:
    """Render the error page of an HTTP error, with the headers it carries (Retry-After)."""
    response = error_page(error.code or 500, getattr(error, "description", None))
    for name, value in (getattr(error, "data", None) or {}).get("headers", {}).items():
        response.headers[name] = value
    return response

