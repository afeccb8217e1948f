"""Place look-up: what a crisis worker may type as a danger, a current place or her home."""

from flask.views import MethodView

from api.auth import ALL_ROLES
from api.database import db_session
from api.schemas.places import PlaceQueryArgsSchema, PlaceSchema
from api.smorest import Blueprint
from shelter_match.services.places import search_places

blp = Blueprint("places", __name__, url_prefix="/api/v1/places",
                description="Dutch woonplaatsen, gemeenten and postcodes, offline.")


@blp.route("")
class Places(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.arguments(PlaceQueryArgsSchema, location="query")
    @blp.response(200, PlaceSchema(many=True))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY",
                      description="An empty or too long `q`, or a place outside this network "
                                  "(Caribbean Netherlands).")
    def get(self, args):
        """Look up places by name or postcode, best match first.

        A name several places carry lists them all, each with a `qualified_name` to give
        instead (`match: choice`). An unknown name lists the names that look like it. The
        Caribbean parts of the Kingdom are outside this network: 422 saying so.
        """
        return search_places(db_session(), args["q"], limit=args["limit"])
