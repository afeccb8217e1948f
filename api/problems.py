"""Write errors as RFC 9457 problem documents (application/problem+json).

The app routes every error of an API call here (app/errors.py): HTTP errors raised by
Flask and webargs, and domain errors raised by services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from shelter_match.errors import DomainError, QuotaExceeded, ValidationFailed

PROBLEM_JSON = "application/problem+json"
# What a client is told to wait when the database is unavailable (503): about as long as a
# PostgreSQL restart or a failover takes; the timeouts bound how long each try may take.
RETRY_AFTER_SECONDS = 5


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Return a problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail, "instance": request.path}
    if errors is not None:
        body["errors"] = dict(errors)
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages to {"household.adults": [...]}."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    return {prefix or "_schema": [str(messages)]}


def _webargs_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    # webargs nests messages by location ("json", "query", "headers"); clients know the
    # fields, not where we parsed them from, so the location is dropped.
    messages = data.get("messages") or data.get("errors") or {}
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        if isinstance(fields, Mapping):
            flat.update(flatten_messages(fields))
        else:
            flat.update(flatten_messages(fields, location))
    return flat


def http_problem(error: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 400 from a bad JSON body, 422 from webargs)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if status == 422:
        errors = _webargs_errors(data)
        fields = ", ".join(sorted(errors))
        return problem(422, "Unprocessable content", f"Invalid value for: {fields}.",
                       errors=errors, headers=headers)
    if status == 400 and "json" in (data.get("messages") or {}):
        return problem(400, "Bad request", "The request body is not valid JSON.",
                       headers=headers)
    detail = data.get("message") or error.description or error.name
    return problem(status, error.name, detail, headers=headers)


def domain_problem(error: DomainError) -> Response:
    """Answer an error raised on purpose by a service."""
    errors = error.errors if isinstance(error, ValidationFailed) else None
    headers = {}
    if isinstance(error, QuotaExceeded):
        headers["Retry-After"] = str(error.retry_after)
    return problem(error.status, error.title, error.detail, errors=errors, headers=headers,
                   **error.extra)
