"""The waiting list: who waits for a bed, and who has an offer."""

from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.schemas.placements import PlacementRequestSchema
from api.smorest import Blueprint
from shelter_match.services import waitlist

blp = Blueprint("waitlist", __name__, url_prefix="/api/v1/waitlist",
                description="The waiting list (requests waiting or offered).")


@blp.route("")
class Waitlist(MethodView):
    @blp.requires("crisis_worker", "duty_officer", "admin")
    @blp.response(200, PlacementRequestSchema(many=True))
    def get(self):
        """List the waiting and offered requests (crisis worker: her organisation's; duty
        officer: her regions', without the offer; admin: all), rood first, then longest
        waiting."""
        return waitlist.list_waitlist(db_session(), actor=current_principal(), now=now())
