"""Joint proposals: one assignment for several open requests at once."""

from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.schemas.placements import BatchProposalArgsSchema, BatchProposalSchema
from api.smorest import Blueprint
from shelter_match.services import proposals

blp = Blueprint("batch_proposals", __name__, url_prefix="/api/v1/batch-proposals",
                description="Joint proposals over several open requests; nothing is held.")


@blp.route("")
class BatchProposals(MethodView):
    @blp.requires("crisis_worker", "admin")
    @blp.arguments(BatchProposalArgsSchema)
    @blp.response(200, BatchProposalSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description=(
        "Her hourly proposals quota cannot take every request of the batch (each counts): "
        "nothing was done; `Retry-After` says when it fits. Audited."))
    def post(self, args):
        """Assign units to several open requests together: no unit twice, most placed.

        Among the assignments that place the most requests, the one of least total cost.
        A crisis worker may list her own open (or held) requests, an admin any; an unknown,
        another's, closed or duplicate id is 422 naming `request_ids`. Nothing is held:
        hold each unit as usual.
        """
        return proposals.propose_jointly(db_session(), args["request_ids"],
                                         actor=current_principal(), now=now())
