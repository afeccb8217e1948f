"""What every page shares: the request's transaction, the clock, rendering, error pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from shelter_match.errors import DomainError

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
}


def database() -> Any:
    return current_app.extensions["shelter_match.web"]


def db_session() -> Any:
    """Return this request's database session (the app commits below 400)."""
    return database().session()


def new_session() -> Any:
    """Return a database session of its own, outside this request's transaction."""
    return database().new_session()


def run_after_transaction(callback: Callable[[], None]) -> None:
    """Run `callback` once this request's transaction has ended."""
    database().after_transaction(callback)


def now():
    """Return the current time from the app's clock (tests may freeze it)."""
    return current_app.config["CLOCK"].now()


def render(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page; every page is HTML that no one may cache (see api.security)."""
    return make_response(render_template(template, **context), status)


def is_page_path(path: str) -> bool:
    """Return whether a path belongs to the pages (not the API or the health checks)."""
    return not (path.startswith("/api/") or path in ("/healthz", "/readyz"))


def is_page_request() -> bool:
    """Return whether this request is for a page (of the web blueprint) rather than the API."""
    if request.url_rule is None:  # nothing matched: a mistyped page address, or the API's
        return is_page_path(request.path)
    return (request.blueprint or "").split(".")[0] == "web"


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a page of this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target if is_page_path(urlsplit(target).path) else None


def error_page(status: int, detail: str | None = None) -> Response:
    """Render a friendly error page for people."""
    status = status if status in ERROR_TEXTS else (500 if status >= 500 else 400)
    title, text = ERROR_TEXTS[status]
    if status == 400 and detail != "csrf":
        title, text = _("Not accepted"), _("The request could not be read. Go back and try "
                                            "again.")
    # Service messages are written for integrators, in English; people get our own words.
    return render("error.html", status=status, title=title, text=text)


def rollback() -> None:
    """Undo what this request wrote so far (before a redirect that reports an error)."""
    db_session().rollback()


def register_handlers(site: Blueprint) -> None:
    """Answer errors on the pages with pages, not problem+json."""

    @site.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = error_page(error.code or 500, getattr(error, "description", None))
        for name, value in (getattr(error, "data", None) or {}).get("headers", {}).items():
            response.headers[name] = value
        return response

    @site.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return error_page(error.status)


def init_app(app: Flask) -> None:
    """Register the template helpers every page uses."""
    from web import templating

    templating.init_app(app)

