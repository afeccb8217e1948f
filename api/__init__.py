"""The JSON API: flask-smorest blueprints under /api/v1, registered by `init_app(app)`."""

from __future__ import annotations

from flask import Flask

API_VERSION = "v1"


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its OpenAPI document and docs page, its body rules."""
    from api import security
    from api.docs import docs_blueprint
    from api.examples import WorkflowExamples
    from api.resources import (
        batch_proposals,
        escalation,
        health,
        holds,
        locations,
        placement_requests,
        placements,
        places,
        policy,
        regions,
        solidarity,
        units,
        users,
        waitlist,
    )
    from api.smorest import Api

    app.config.setdefault("API_TITLE", "shelter-match")
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {
            "description": (
                "National placement service for the vrouwenopvang: live availability, "
                "safe proposals, holds, placements and solidarity balances. Every error "
                "is application/problem+json (RFC 9457)."
            )
        },
        "components": {"securitySchemes": {"bearerAuth": {"type": "http",
                                                            "scheme": "bearer"}}},
    })
    security.init_app(app)
    api = Api(app, spec_kwargs={"extra_plugins": [WorkflowExamples()]})
    for module in (
        health, regions, places, policy, locations, units, solidarity,
        placement_requests, holds, placements, batch_proposals, users, escalation, waitlist,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_blueprint)
    app.extensions["shelter_match.api"] = api
