"""Liveness and readiness probes for load balancers and monitoring."""

from flask import current_app
from flask.views import MethodView

from api.problems import RETRY_AFTER_SECONDS, problem
from api.smorest import Blueprint
from shelter_match.db import answers_within

blp = Blueprint("health", __name__, description="Liveness and readiness.")
# A load balancer's probe has its own timeout, often 5 s: answer well within it.
READY_DEADLINE = 2.0


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200)
    def get(self):
        """Tell that the process is alive (never touches the database)."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Tell whether the database answers (within two seconds: never hangs)."""
        if not answers_within(current_app.extensions["shelter_match.engine"], READY_DEADLINE):
            current_app.logger.warning("readiness check: database does not answer")
            return problem(503, "Service unavailable", "The database does not answer.",
                           headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return {"status": "ok"}
