"""Locations with their live availability, their units, confirmations and unit history."""

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from api.auth import ALL_ROLES, current_principal, now
from api.database import db_session
from api.idempotency import idempotent
from api.schemas.locations import (
    AvailabilityConfirmationSchema,
    IntakePhoneSchema,
    LocationPatchSchema,
    LocationQueryArgsSchema,
    LocationSchema,
    LocationSummarySchema,
    NewLocationSchema,
    NewUnitSchema,
    UnitChangeQueryArgsSchema,
    UnitChangeSchema,
    UnitSchema,
)
from api.smorest import Blueprint
from shelter_match.services.availability import (
    confirm_availability,
    get_location,
    get_unit,
    list_locations,
    list_locations_json,
    list_unit_changes,
    location_detail,
)
from shelter_match.services.intake_phone import get_intake_phone, set_intake_phone
from shelter_match.services.locations import (
    LocationData,
    UnitData,
    add_unit_to_location,
    create_location,
    update_location,
)

blp = Blueprint(
    "locations", __name__, url_prefix="/api/v1/locations",
    description="Shelter locations and their live availability. The address and coordinates "
                "of a location appear only for an admin and the location's own coordinators. "
                "A coordinator who writes to another location gets 403, not 404: every role "
                "may list the locations, so saying that one exists leaks nothing.",
)

WRITERS = ("admin", "coordinator")
DISCRETION = ("`address`, `lat` and `lon` appear only for an admin and the location's own "
              "coordinators; each answer that carries them is audited.")


@blp.route("")
class Locations(MethodView):
    # Unknown query parameters are 422 here: a misspelt filter must not silently widen the
    # list to the whole country.
    @blp.requires(*ALL_ROLES)
    @blp.arguments(LocationQueryArgsSchema, location="query", unknown=ma.RAISE)
    @blp.response(200, LocationSummarySchema(many=True))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="Counts use the effective status: a unit whose hold has expired is "
                         "free. Sorted by name. An unknown `region_code` is 422. " + DISCRETION)
    def get(self, args):
        """List the locations with their free units and beds."""
        session, viewer = db_session(), current_principal()
        region_code = args.get("region_code")
        # The one fast path (measured, see list_locations_json): PostgreSQL writes the
        # schema's JSON itself; a test holds the two to the same answer.
        body = list_locations_json(session, viewer=viewer, now=now(), region_code=region_code)
        if body is not None:
            return Response(body, mimetype="application/json")
        return list_locations(session, viewer=viewer, now=now(), region_code=region_code)

    @blp.requires("admin")
    @idempotent()
    @blp.arguments(NewLocationSchema)
    @blp.response(201, LocationSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="Unit labels are unique within a location: a label used twice is "
                         "422 naming `units.N.label`.")
    def post(self, body):
        """Create a location with its units (admin)."""
        session, principal = db_session(), current_principal()
        units = [UnitData(u["label"], u["beds"], u.get("status", "free")) for u in body["units"]]
        location = create_location(
            session,
            LocationData(**{**body, "units": units}),
            now=now(),
            actor=principal,
        )
        detail = location_detail(session, location.id, viewer=principal, now=now())
        return detail, 201, {"Location": f"{blp.url_prefix}/{location.id}"}


@blp.route("/<location_id>")
class LocationById(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, LocationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(description="Units are sorted by label and carry their effective status and "
                         "`version` (for If-Match). " + DISCRETION)
    def get(self, location_id):
        """Show a location with its units."""
        return get_location(db_session(), location_id, viewer=current_principal(), now=now())

    @blp.requires("admin")
    @blp.arguments(LocationPatchSchema)
    @blp.response(200, LocationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="Changes only the fields sent: name, safety_level, features, "
                         "accepts_night_intake, address, lat, lon. The region and the units do "
                         "not change here. Audited as `location.updated` (field names only for "
                         "the address and coordinates).")
    def patch(self, changes, location_id):
        """Edit a location (admin)."""
        session, principal = db_session(), current_principal()
        update_location(session, location_id, changes, actor=principal, now=now())
        return location_detail(session, location_id, viewer=principal, now=now())


@blp.route("/<location_id>/intake-phone")
class LocationIntakePhone(MethodView):
    @blp.requires(*WRITERS)
    @blp.response(200, IntakePhoneSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, location_id):
        """Show a location's 24/7 intake line (admin, its own coordinator)."""
        return get_intake_phone(db_session(), location_id, actor=current_principal())

    @blp.requires(*WRITERS)
    @blp.arguments(IntakePhoneSchema)
    @blp.response(200, IntakePhoneSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="Admin or the location's own coordinator (another coordinator: "
                         "403). Not a Dutch phone number: 422 naming `intake_phone`. "
                         "Audited as `location.intake_phone_set` (never the number).")
    def put(self, body, location_id):
        """Set or clear a location's 24/7 intake line."""
        return set_intake_phone(db_session(), location_id, body["intake_phone"],
                                actor=current_principal(), now=now())


@blp.route("/<location_id>/units")
class LocationUnits(MethodView):
    @blp.requires(*WRITERS)
    @idempotent()
    @blp.arguments(NewUnitSchema)
    @blp.response(201, UnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="Admin or the location's own coordinator. A label the location uses "
                         "already is 422 naming `label`. Refreshes availability_updated_at.")
    def post(self, body, location_id):
        """Add a unit to a location."""
        session = db_session()
        unit = add_unit_to_location(
            session, location_id, UnitData(body["label"], body["beds"],
                                           body.get("status", "free")),
            actor=current_principal(), now=now(),
        )
        view = get_unit(session, unit.id, now=now())
        return view, 201, {"Location": f"/api/v1/units/{unit.id}",
                           "ETag": f'"{view.version}"'}


@blp.route("/<location_id>/availability-confirmations")
class AvailabilityConfirmations(MethodView):
    @blp.requires(*WRITERS)
    @idempotent()
    @blp.response(201, AvailabilityConfirmationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(description="The location's own coordinator (or an admin) says \"checked, still "
                         "correct\": availability_updated_at becomes now and the location is "
                         "no longer stale. No body. Audited as "
                         "`location.availability_confirmed`.")
    def post(self, location_id):
        """Confirm that a location's availability is still correct."""
        return confirm_availability(db_session(), location_id, actor=current_principal(),
                                    now=now())


@blp.route("/<location_id>/unit-changes")
class LocationUnitChanges(MethodView):
    @blp.requires(*WRITERS)
    @blp.arguments(UnitChangeQueryArgsSchema, location="query", unknown=ma.RAISE)
    @blp.response(200, UnitChangeSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(description="The history of the location's units, oldest first, for its own "
                         "coordinators and admins: every creation, change by hand, hold, "
                         "release, expiry, confirmation and discharge, so that occupancy over "
                         "time can be shown.")
    def get(self, args, location_id):
        """List the changes of a location's units."""
        return list_unit_changes(db_session(), location_id, actor=current_principal(),
                                 since=args.get("since"), unit_id=args.get("unit_id"),
                                 limit=args["limit"])
