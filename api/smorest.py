"""The project's flask-smorest `Api` and `Blueprint`: project-wide behaviour has one home.

Errors are documented as problem+json (api.problems writes them), and
`Blueprint.requires` gates a view by role and documents its 401, 403 and 503 answers.
"""

from __future__ import annotations

import http
from collections.abc import Callable

import flask_smorest
import marshmallow as ma
from flask_smorest.utils import prepare_response

from api import auth
from api.problems import PROBLEM_JSON


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"example": "Conflict"})
    status = ma.fields.Integer(required=True, metadata={"example": 409})
    detail = ma.fields.String(required=True, metadata={"example": "The unit is not free."})
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation errors by field name (422 only)."},
    )
    # RFC 9457 extension members some answers carry; documented so clients may rely on them.
    suggestions = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Place names the gazetteer knows, close to an unknown one, "
                                 "by field (`danger`, `current`); 422 of a placement request."},
    )
    quota = ma.fields.String(metadata={
        "description": "The hourly quota used up: requests_per_hour or proposals_per_hour "
                       "(429)."})
    limit = ma.fields.Integer(metadata={"description": "That quota's limit (429)."})
    retry_after = ma.fields.Integer(metadata={
        "description": "Seconds until a call fits again, as in Retry-After (429)."})
    reason = ma.fields.String(metadata={
        "description": "Why a unit does not fit a request, as a proposal's exclusion reason "
                       "code (409 of a hold)."})
    outcome = ma.fields.String(metadata={
        "description": "`unknown` (503): the connection ended while the change was being "
                       "saved, so it may have been saved; retry with the same "
                       "Idempotency-Key to get its outcome."})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Leave error handling to the app (app/errors.py sends API errors to api.problems)."""

    def _register_responses(self):
        """Document every error status as problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status == 503:
                response["description"] = ("The database is down, restarting or too slow; "
                                           "try again after Retry-After seconds. With "
                                           "`outcome: unknown` the change may have been "
                                           "saved: retry with the same Idempotency-Key.")
                response["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"}}}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as problem+json.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    def requires(self, *roles: str) -> Callable:
        """Allow the view only to `roles`; document the security scheme, 401, 403 and 503."""

        def decorate(view: Callable) -> Callable:
            guarded = auth.requires(*roles)(view)
            guarded = self.alt_response(401, response="UNAUTHORIZED")(guarded)
            # Every gated view reads the database (the token, at least).
            guarded = self.alt_response(503, response="SERVICE_UNAVAILABLE")(guarded)
            return self.alt_response(403, response="FORBIDDEN")(guarded)

        return decorate
