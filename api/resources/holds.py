"""Holds: keep a unit while phoning; confirm it into a placement or release it."""

from flask import url_for
from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.idempotency import idempotent
from api.schemas.placements import (
    HoldCreateSchema,
    HoldQueryArgsSchema,
    HoldSchema,
    PlacementSchema,
)
from api.smorest import Blueprint
from shelter_match.services import holds, intake_phone, placements

blp = Blueprint("holds", __name__, url_prefix="/api/v1",
                description="Holds: a unit kept for a request for policy.hold_minutes.")


def _disclosed_again(session, body: dict) -> None:
    # A replayed confirmation shows the address again: that is a disclosure too.
    placements.note_address_disclosed(session, actor=current_principal(),
                                      location_id=body["location_id"], now=now(),
                                      placement_id=body["id"], replayed=True)


def _phone_shown_again(session, body: dict) -> None:
    # A replayed hold answer that carries the intake line shows it again: audited too.
    if body.get("intake_phone"):
        intake_phone.note_shown_again(session, actor=current_principal(),
                                      location_id=body["location_id"], hold_id=body["id"],
                                      now=now())


@blp.route("/placement-requests/<request_id>/holds")
class RequestHolds(MethodView):
    @blp.requires("crisis_worker", "admin")
    @idempotent(on_replay=_phone_shown_again)
    @blp.arguments(HoldCreateSchema)
    @blp.response(201, HoldSchema)
    @blp.alt_response(409, response="CONFLICT", description=(
        "The unit is not free, the request is not open or has an active hold, or the unit "
        "does not fit the request (checked again, as for proposals)."))
    def post(self, data, request_id):
        """Hold a unit for this request until expires_at (policy.hold_minutes)."""
        session = db_session()
        principal = current_principal()
        hold = holds.create_hold(session, request_id, data["unit_id"], actor=principal,
                                 now=now())
        view = holds.view_hold(session, hold.id, actor=principal, now=now(), show_phone="hold")
        return view, 201, {"Location": url_for("holds.HoldById", hold_id=hold.id)}


@blp.route("/holds")
class Holds(MethodView):
    @blp.requires("crisis_worker", "coordinator", "admin")
    @blp.arguments(HoldQueryArgsSchema, location="query")
    @blp.response(200, HoldSchema(many=True))
    def get(self, args):
        """List holds, newest first: a coordinator sees who is on the way to her locations.

        A coordinator sees the holds at her own locations, a crisis worker her own holds,
        an admin all. Default `status=active` (not yet expired); `expired` also finds the
        active holds past their expires_at.
        """
        views = holds.list_holds(db_session(), actor=current_principal(), now=now(),
                                 location_id=args.get("location_id"), status=args["status"])
        return views


@blp.route("/holds/<hold_id>")
class HoldById(MethodView):
    @blp.requires("crisis_worker", "coordinator", "admin")
    @blp.response(200, HoldSchema)
    def get(self, hold_id):
        """Show a hold with its status now (an active hold past expires_at is expired).

        The request's crisis worker gets the location's `intake_phone` while the hold is
        active; each showing is audited (`intake_phone.disclosed`).
        """
        return holds.view_hold(db_session(), hold_id, actor=current_principal(), now=now(),
                               show_phone="hold")


@blp.route("/holds/<hold_id>/confirm")
class HoldConfirm(MethodView):
    @blp.requires("crisis_worker", "coordinator", "admin")
    @idempotent(on_replay=_disclosed_again)
    @blp.response(201, PlacementSchema)
    @blp.alt_response(409, response="CONFLICT", description="The hold is not active "
                      "(expired, released or confirmed already).")
    def post(self, hold_id):
        """Confirm a hold: the unit is occupied; the answer holds the address (audited)."""
        view = placements.confirm_hold(db_session(), hold_id, actor=current_principal(),
                                       now=now())
        location = url_for("placements.PlacementById", placement_id=view.placement.id)
        return view, 201, {"Location": location}


@blp.route("/holds/<hold_id>/extend")
class HoldExtend(MethodView):
    @blp.requires("crisis_worker", "coordinator", "admin")
    @idempotent(on_replay=_phone_shown_again)
    @blp.response(200, HoldSchema)
    @blp.alt_response(409, response="CONFLICT", description="The hold is not active "
                      "(expired, released or confirmed), or was extended once already.")
    def post(self, hold_id):
        """Extend an active hold once, by policy.hold_extension_minutes (default 15).

        The new `expires_at` counts from the old one. Offers are holds: they extend alike.
        """
        session = db_session()
        principal = current_principal()
        hold = holds.extend_hold(session, hold_id, actor=principal, now=now())
        return holds.view_hold(session, hold.id, actor=principal, now=now(), show_phone="hold")


@blp.route("/holds/<hold_id>/release")
class HoldRelease(MethodView):
    @blp.requires("crisis_worker", "coordinator", "admin")
    @blp.response(200, HoldSchema)
    @blp.alt_response(409, response="CONFLICT", description="The hold is not active.")
    def post(self, hold_id):
        """Release an active hold: the unit is free again and the request open."""
        session = db_session()
        principal = current_principal()
        hold = holds.release_hold(session, hold_id, actor=principal, now=now())
        return holds.view_hold(session, hold.id, actor=principal, now=now())
