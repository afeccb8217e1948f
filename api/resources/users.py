"""Users' quotas: an admin may raise (or lower) one user's hourly quotas."""

from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.schemas.users import UserQuotasSchema, UserQuotasUpdateSchema
from api.smorest import Blueprint
from shelter_match.services import quotas

blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                description="Users: their hourly quotas (admin).")

QUOTAS = ("Quotas count the placement requests she made and the proposals she was shown "
          "in the last hour (a joint proposal counts each of its requests); beyond them a "
          "call is 429 with Retry-After. Without her own quotas the policy's apply "
          "(`policy.quotas`).")


@blp.route("/<name>/quotas")
class UserQuotas(MethodView):
    @blp.requires("admin")
    @blp.response(200, UserQuotasSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(description=QUOTAS)
    def get(self, name):
        """Show a user's hourly quotas and what she used of them (admin)."""
        return quotas.quotas_of(db_session(), name, now())

    @blp.requires("admin")
    @blp.arguments(UserQuotasUpdateSchema)
    @blp.response(200, UserQuotasSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description=f"{QUOTAS} Only the members sent change; null returns one to the "
                         "policy's. Audited as `user.quotas_set` (before and after).")
    def put(self, values, name):
        """Set a user's own hourly quotas (admin)."""
        return quotas.set_user_quotas(db_session(), name, values, actor=current_principal(),
                                      now=now())
