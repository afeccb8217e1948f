"""The 35 centrumgemeente regions."""

from flask.views import MethodView

from api.auth import ALL_ROLES
from api.database import db_session
from api.schemas.places import RegionDetailSchema
from api.schemas.regions import RegionSchema
from api.smorest import Blueprint
from shelter_match.errors import NotFound
from shelter_match.models import Region
from shelter_match.services.places import gemeenten_of_region
from shelter_match.services.regions import list_regions

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="Regions.")


@blp.route("")
class Regions(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, RegionSchema(many=True))
    def get(self):
        """List the regions (centrumgemeenten)."""
        return list_regions(db_session())


@blp.route("/<code>")
class RegionByCode(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, RegionDetailSchema)
    def get(self, code):
        """Show a region with its gemeenten (each Dutch gemeente lies in exactly one)."""
        session = db_session()
        region = session.get(Region, code)
        if region is None:
            raise NotFound(f"No region with code {code!r}.")
        return {"code": region.code, "name": region.name, "lat": region.lat, "lon": region.lon,
                "gemeenten": [{"code": g.gemeente_code, "name": g.gemeente_name}
                              for g in gemeenten_of_region(session, code)]}
