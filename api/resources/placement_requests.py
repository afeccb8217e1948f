"""Placement requests and their proposals: the crisis worker's first two steps."""

from flask import url_for
from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.idempotency import idempotent
from api.schemas.placements import (
    CancelSchema,
    PlacementRequestCreateSchema,
    PlacementRequestQueryArgsSchema,
    PlacementRequestSchema,
    ProposalArgsSchema,
    ProposalSchema,
)
from api.smorest import Blueprint
from shelter_match.services import holds, proposals, requests, waitlist
from shelter_match.services.requests import PointData, RequestData

blp = Blueprint("placement_requests", __name__, url_prefix="/api/v1/placement-requests",
                description="Placement requests (pseudonymous) and their proposals.")

ROLES = ("crisis_worker", "admin")
QUOTA = ("Her hourly quota is used up (`policy.quotas`, or her own): nothing was done; "
         "`Retry-After` says in how many seconds a call fits again. Audited.")


@blp.route("")
class PlacementRequests(MethodView):
    @blp.requires(*ROLES)
    @blp.arguments(PlacementRequestQueryArgsSchema, location="query")
    @blp.response(200, PlacementRequestSchema(many=True))
    def get(self, args):
        """List my organisation's placement requests (admin: all), newest first."""
        return requests.list_requests(db_session(), actor=current_principal(), now=now(),
                                      status=args.get("status"))

    @blp.requires(*ROLES)
    @idempotent()
    @blp.arguments(PlacementRequestCreateSchema)
    @blp.response(201, PlacementRequestSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description=QUOTA)
    def post(self, data):
        """Create a placement request; a place name is resolved offline (422 with suggestions)."""
        session = db_session()
        principal = current_principal()
        dangers = data["danger"] if isinstance(data["danger"], list) else [data["danger"]]
        detail = data["household"].get("children_detail")
        created = requests.create_request(
            session,
            RequestData(
                case_reference=data["case_reference"],
                origin_region_code=data["origin_region_code"],
                origin_place=data["origin"]["place"] if data["origin"] else None,
                risk_level=data["risk_level"],
                danger=PointData(**dangers[0]),
                more_dangers=([PointData(**point) for point in dangers[1:]]
                              if isinstance(data["danger"], list) else None),
                target_group=data["target_group"],
                children_detail=(None if detail is None
                                 else [(child["age"], child["sex"]) for child in detail]),
                current=PointData(**data["current"]) if data["current"] is not None else None,
                adults=data["household"]["adults"],
                children=data["household"]["children"],
                needs=data["needs"],
                excluded_region_codes=data["excluded_region_codes"],
                excluded_location_ids=data["excluded_location_ids"],
            ),
            actor=principal,
            now=now(),
        )
        view = requests.view_request(session, created.id, actor=principal, now=now())
        location = url_for("placement_requests.PlacementRequestById", request_id=created.id)
        return view, 201, {"Location": location}


@blp.route("/<request_id>")
class PlacementRequestById(MethodView):
    @blp.requires(*ROLES)
    @blp.response(200, PlacementRequestSchema)
    def get(self, request_id):
        """Show a placement request with its status now (held, open, placed, cancelled)."""
        return requests.view_request(db_session(), request_id, actor=current_principal(),
                                     now=now())


@blp.route("/<request_id>/cancel")
class PlacementRequestCancel(MethodView):
    @blp.requires(*ROLES)
    @blp.arguments(CancelSchema)
    @blp.response(200, PlacementRequestSchema)
    @blp.alt_response(409, response="CONFLICT", description="The request is placed or "
                      "cancelled already.")
    def post(self, args, request_id):
        """Cancel an open request with an optional `outcome`; its active hold is released
        (409 once placed)."""
        session = db_session()
        principal = current_principal()
        holds.cancel_request(session, request_id, actor=principal, now=now(),
                             outcome=args["outcome"])
        return requests.view_request(session, request_id, actor=principal, now=now())


@blp.route("/<request_id>/waitlist")
class PlacementRequestWaitlist(MethodView):
    @blp.requires(*ROLES)
    @blp.response(200, PlacementRequestSchema)
    @blp.alt_response(409, response="CONFLICT", description="The request is placed or "
                      "cancelled.")
    def post(self, request_id):
        """Put the request on the waiting list: the matcher offers her a bed when one frees.

        `status` becomes `waiting`; joining again is 200 and changes nothing (idempotent).
        An offer shows as `status: offered` with `offer`; confirm or release its hold as
        any other. A declined offer's unit is never offered to the request again.
        """
        return waitlist.join_waitlist(db_session(), request_id, actor=current_principal(),
                                      now=now())


@blp.route("/<request_id>/proposals")
class PlacementRequestProposals(MethodView):
    @blp.requires(*ROLES)
    @blp.arguments(ProposalArgsSchema)
    @blp.response(200, ProposalSchema)
    @blp.alt_response(409, response="CONFLICT", description="The request is placed or "
                      "cancelled.")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description=QUOTA)
    def post(self, args, request_id):
        """Rank the units free now that are safe for this request; nothing is held.

        Allowed while the request is open or held (to see alternatives while phoning);
        409 once it is placed or cancelled. No fitting unit is 200 with `options: []`
        and the `excluded` summary saying why.
        """
        proposal = proposals.propose_for_request(
            db_session(), request_id, actor=current_principal(), now=now(), limit=args["limit"],
            units_per_location=args["units_per_location"],
        )
        return proposal
