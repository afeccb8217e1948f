"""Liveness and readiness probes for load balancers and monitoring."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.database import db_session
from api.problems import problem
from api.smorest import Blueprint

blp = Blueprint("health", __name__, description="Liveness and readiness.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200)
    def get(self):
        """Tell that the process is alive."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Tell whether the database answers."""
        try:
            db_session().execute(text("SELECT 1"))
        except SQLAlchemyError:
            current_app.logger.warning("readiness check: database does not answer")
            return problem(503, "Service unavailable", "The database does not answer.")
        return {"status": "ok"}
