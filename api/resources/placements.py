"""Placements: households in units, until discharge."""

from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.idempotency import idempotent
from api.schemas.placements import DischargeSchema, PlacementQueryArgsSchema, PlacementSchema
from api.smorest import Blueprint
from shelter_match.services import arrivals, placements
from shelter_match.services.placements import PlacementView

blp = Blueprint("placements", __name__, url_prefix="/api/v1/placements",
                description="Placements: who is where, for coordinators and admins.")

ROLES = ("coordinator", "admin")


def _disclosed(view: PlacementView) -> PlacementView:
    # Every answer that carries an address is audited, as the confirmation is.
    if view.show_address:
        placements.note_address_disclosed(db_session(), actor=current_principal(),
                                          location_id=view.location.id, now=now(),
                                          placement_id=view.placement.id)
    return view


def _disclosed_again(session, body: dict) -> None:
    # A replayed answer carries the address again (coordinators and admins): audited.
    placements.note_address_disclosed(session, actor=current_principal(),
                                      location_id=body["location_id"], now=now(),
                                      placement_id=body["id"], replayed=True)


@blp.route("")
class Placements(MethodView):
    @blp.requires(*ROLES)
    @blp.arguments(PlacementQueryArgsSchema, location="query")
    @blp.response(200, PlacementSchema(many=True))
    def get(self, args):
        """List placements at my locations (admin: all), newest first."""
        session, principal = db_session(), current_principal()
        views = placements.list_placements(session, actor=principal,
                                           location_id=args.get("location_id"),
                                           open_only=args["open"],
                                           arrival_status=args.get("arrival_status"))
        placements.note_addresses_listed(session, actor=principal, views=views, now=now())
        return views


@blp.route("/<placement_id>")
class PlacementById(MethodView):
    @blp.requires(*ROLES)
    @blp.response(200, PlacementSchema)
    def get(self, placement_id):
        """Show a placement at one of my locations."""
        return _disclosed(placements.get_placement(db_session(), placement_id,
                                                   actor=current_principal()))


@blp.route("/<placement_id>/discharge")
class PlacementDischarge(MethodView):
    @blp.requires(*ROLES)
    @blp.arguments(DischargeSchema)
    @blp.response(200, PlacementSchema)
    @blp.alt_response(409, response="CONFLICT", description="Discharged already.")
    def post(self, args, placement_id):
        """End a placement (she left); the unit becomes free."""
        view = placements.discharge(db_session(), placement_id, actor=current_principal(),
                                    now=now(), ended_at=args["ended_at"])
        return _disclosed(view)


@blp.route("/<placement_id>/arrival")
class PlacementArrival(MethodView):
    @blp.requires(*ROLES)
    @idempotent(on_replay=_disclosed_again)
    @blp.response(200, PlacementSchema)
    @blp.alt_response(409, response="CONFLICT", description="Not on the way (arrived, "
                      "not come or discharged already).")
    def post(self, placement_id):
        """She has arrived: the placement is no longer on the way (arrival_status arrived)."""
        return _disclosed(arrivals.mark_arrived(db_session(), placement_id,
                                                actor=current_principal(), now=now()))


@blp.route("/<placement_id>/no-show")
class PlacementNoShow(MethodView):
    @blp.requires(*ROLES)
    @idempotent(on_replay=_disclosed_again)
    @blp.response(200, PlacementSchema)
    @blp.alt_response(409, response="CONFLICT", description="Not on the way (arrived, "
                      "not come or discharged already).")
    def post(self, placement_id):
        """She did not come: the unit is free and the request open again (arrival_status
        no_show, ended_at now); her organisation is alerted and the request escalates."""
        return _disclosed(arrivals.mark_no_show(db_session(), placement_id,
                                                actor=current_principal(), now=now()))
