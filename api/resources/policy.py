"""The placement policy."""

from flask.views import MethodView

from api.auth import ALL_ROLES, current_principal, now
from api.database import db_session
from api.schemas.policy import PolicySchema
from api.smorest import Blueprint
from shelter_match.services.policy import get_policy, replace_policy

blp = Blueprint("policy", __name__, url_prefix="/api/v1/policy", description="Policy.")


@blp.route("")
class Policy(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, PolicySchema)
    def get(self):
        """Show the current placement policy."""
        return get_policy(db_session()).as_document()

    @blp.requires("admin")
    @blp.arguments(PolicySchema)
    @blp.response(200, PolicySchema)
    def put(self, document):
        """Replace the placement policy (admin)."""
        policy = replace_policy(db_session(), document, actor=current_principal(), now=now())
        return policy.as_document()
