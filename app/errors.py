"""Route every error to its answer: problem+json for the API, a page for people.

One home for all error output: HTTP errors raised by Flask and webargs, domain errors
raised by services, the database being down or too slow (503 with Retry-After), and
unexpected exceptions (logged, never shown). The request's COMMIT fails through here too
(app/database.py).

An outage makes every request fail the same way, hundreds a second: each failure is one
log line, and its traceback is written at most once a minute per kind of error.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from api import problems
from api.problems import RETRY_AFTER_SECONDS
from app.routing import is_page_request
from shelter_match.db import (
    REQUEST_DATABASE,
    RequestDatabase,
    is_database_unavailable,
    unavailable_reason,
)
from shelter_match.errors import DomainError, QuotaExceeded
from shelter_match.services import quotas
from web import pages

log = logging.getLogger("shelter_match.app")


class TracebackLimiter:
    """Allow one traceback per kind of error per interval; the rest log one line each."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, kind: str) -> bool:
        moment = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and moment - last < self.interval:
                return False
            self._last[kind] = moment
            return True


TRACEBACKS = "shelter_match.tracebacks"


def _traceback_allowed(error: BaseException) -> bool:
    limiter: TracebackLimiter = current_app.extensions[TRACEBACKS]
    return limiter.allow(_kind(error))


def _kind(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    kinds = [type(error).__qualname__] + ([type(original).__qualname__] if original else [])
    return "/".join(kinds)


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


def handle_database_unavailable(error: Exception) -> Response:
    """Answer 503 with Retry-After: the database is down, restarting or too slow."""
    log.error("database unavailable on %s %s: %s", request.method, request.path,
              unavailable_reason(error), exc_info=error if _traceback_allowed(error) else None)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    outcome_unknown = bool(g.get("commit_outcome_unknown"))
    if is_page_request():
        response = pages.error_page(503, pages.OUTCOME_UNKNOWN if outcome_unknown else None)
        response.headers.update(headers)
        return response
    if outcome_unknown:
        # The connection ended during the COMMIT: the change may have been saved.
        return problems.problem(
            503, "Service unavailable",
            "The connection to the database ended while saving: the change may have been "
            "saved. Retry with the same Idempotency-Key to get its outcome.",
            headers=headers, outcome="unknown")
    return problems.problem(503, "Service unavailable",
                            "The database does not answer in time. Try again shortly.",
                            headers=headers)
def audit_quota_refusal(error: QuotaExceeded) -> None:
    """Audit a call refused for its quota once the request has rolled back (API and pages)."""
    now = current_app.config["CLOCK"].now()
    lent: RequestDatabase = current_app.extensions[REQUEST_DATABASE]
    lent.write_after_transaction(lambda session: quotas.record_refusal(session, error, now))


def handle_unexpected_error(error: Exception) -> Response:
    """Log an unexpected exception (its traceback rate-limited); answer 500 without details."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if is_database_unavailable(error):
        return handle_database_unavailable(error)
    log.error("unhandled error on %s %s: %s", request.method, request.path, _kind(error),
              exc_info=error if _traceback_allowed(error) else None)
    if is_page_request():
        return pages.error_page(500)
    return problems.problem(500, "Internal server error",
                            "Something went wrong on our side; it has been logged.")


def init_app(app: Flask) -> None:
    """Register the error handlers of the whole app."""
    app.extensions[TRACEBACKS] = TracebackLimiter()
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected_error)
