"""The 35 centrumgemeente regions."""

from flask.views import MethodView

from api.auth import ALL_ROLES
from api.database import db_session
from api.schemas.regions import RegionSchema
from api.smorest import Blueprint
from shelter_match.services.regions import list_regions

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="Regions.")


@blp.route("")
class Regions(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, RegionSchema(many=True))
    def get(self):
        """List the regions (centrumgemeenten)."""
        return list_regions(db_session())
