"""The composition root: `create_app()` builds the Flask app (flaskr style).

The app owns what every answer shares: the request's database session and transaction,
security headers, error routing and the client address the throttle counts by. It
registers the API (`api`) and the pages (`web`) side by side; neither knows the other.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask

import api
import web
from app import bodies, database, errors, security
from shelter_match.clock import system_clock
from shelter_match.config import load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app; `test_config` overrides the environment."""
    settings = load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        DATABASE_TIMEOUTS=settings.timeouts,
        SECRET_KEY=settings.secret_key,
        CLOCK=system_clock,
        MAX_CONTENT_LENGTH=64 * 1024,
        PROXY_COUNT=settings.proxy_count,
        WEB_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WEB_SESSION_IDLE_TIMEOUT=timedelta(minutes=settings.session_idle_minutes),
    )
    if test_config:
        app.config.update(test_config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Flask runs after_request hooks last-registered first: the transaction ends (and a failed
    # COMMIT becomes its error answer) before the security headers are set on the answer.
    security.init_app(app)
    database.init_app(app)
    errors.init_app(app)
    bodies.init_app(app)  # before the API's hooks, which parse JSON bodies
    api.init_app(app)
    web.init_app(app)
    return app
