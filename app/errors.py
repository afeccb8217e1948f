"""Route every error to its answer: problem+json for the API, a page for people.

One home for all error output: HTTP errors raised by Flask and webargs, domain errors
raised by services, and unexpected exceptions (logged with their traceback, never shown).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from api import problems
from app.routing import is_page_request
from shelter_match.db import REQUEST_DATABASE, RequestDatabase
from shelter_match.errors import DomainError, QuotaExceeded
from shelter_match.services import quotas
from web import pages

log = logging.getLogger("shelter_match.app")


def handle_http_exception(error: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 400 from a bad JSON body, 422 from webargs)."""
    if is_page_request():
        # A person who mistyped a page's address gets a page, not problem+json.
        return pages.http_error_page(error)
    return problems.http_problem(error)


def handle_domain_error(error: DomainError) -> Response:
    """Answer an error raised on purpose by a service."""
    if isinstance(error, QuotaExceeded):
        audit_quota_refusal(error)
    if is_page_request():
        response = pages.error_page(error.status)
        if isinstance(error, QuotaExceeded):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    return problems.domain_problem(error)


def audit_quota_refusal(error: QuotaExceeded) -> None:
    """Audit a call refused for its quota once the request has rolled back (API and pages)."""
    now = current_app.config["CLOCK"].now()
    lent: RequestDatabase = current_app.extensions[REQUEST_DATABASE]
    lent.write_after_transaction(lambda session: quotas.record_refusal(session, error, now))


def handle_unexpected_error(error: Exception) -> Response:
    """Log an unexpected exception with its traceback; answer 500 without details."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    if is_page_request():
        return pages.error_page(500)
    return problems.problem(500, "Internal server error",
                            "Something went wrong on our side; it has been logged.")


def init_app(app: Flask) -> None:
    """Register the error handlers of the whole app."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected_error)
