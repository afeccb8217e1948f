"""The Flask app of shelter-match: `create_app()` builds it (flaskr style)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from shelter_match.clock import system_clock
from shelter_match.config import load_settings

API_VERSION = "v1"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app; `test_config` overrides the environment."""
    settings = load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        CLOCK=system_clock,
        MAX_CONTENT_LENGTH=64 * 1024,
        PROXY_COUNT=settings.proxy_count,
        API_TITLE="shelter-match",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "National placement service for the vrouwenopvang: live availability, "
                    "safe proposals, holds, placements and solidarity balances. Every error "
                    "is application/problem+json (RFC 9457)."
                )
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http",
                                                                "scheme": "bearer"}}},
        },
    )
    if test_config:
        app.config.update(test_config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import web
    from api import database, problems, security
    from api.docs import docs_blueprint
    from api.resources import (
        batch_proposals,
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
    )
    from api.smorest import Api

    database.init_app(app)
    problems.init_app(app)
    security.init_app(app)
    api = Api(app)
    for module in (
        health, regions, places, policy, locations, units, solidarity,
        placement_requests, holds, placements, batch_proposals,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_blueprint)
    app.extensions["shelter_match.api"] = api
    web.init_app(app, web.Database(session=database.db_session, new_session=database.new_session,
                                   after_transaction=database.after_transaction))
    return app
