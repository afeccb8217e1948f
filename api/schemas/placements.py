"""Schemas of the crisis worker's path: requests, proposals, holds, placements.

Each dumps what its service returns (RequestView, ProposalView, HoldView, PlacementView,
JointProposal): the one way each resource is written.
"""

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from api.reasons import sentences
from api.schemas.escalation import OverrideSchema
from api.schemas.fields import UTCDateTime, drop_unless
from shelter_match.clock import rfc3339
from shelter_match.models import ARRIVAL_STATUSES, OUTCOMES
from shelter_match.services.proposals import MAX_UNITS_PER_LOCATION
from shelter_match.services.requests import (
    MAX_ADULTS,
    MAX_CASE_REFERENCE,
    MAX_CHILD_AGE,
    MAX_CHILDREN,
    MAX_DANGERS,
    MAX_EXCLUSIONS,
    MAX_PLACE_NAME,
    SEXES,
    STATUSES,
)
from solver.vocabulary import EXCLUSION_REASONS, FEATURES, LEVELS, REQUEST_TARGET_GROUPS

Range = ma.validate.Range
OneOf = ma.validate.OneOf
HOLD_STATUSES = ("active", "expired", "released", "confirmed", "cancelled")
MAX_PROPOSALS = 50
MAX_BATCH = 200


class PointInSchema(ma.Schema):
    """Where: a Dutch place name, or coordinates in the Netherlands; exactly one of them."""

    place = ma.fields.String(validate=ma.validate.Length(1, MAX_PLACE_NAME),
                             metadata={"example": "Schiedam",
                                       "description": "A gemeente, woonplaats or postcode "
                                                      "(\"3011\", \"3011 AB\"); case and accents "
                                                      "are forgiven. A name several places "
                                                      "carry is 422 with the qualified names "
                                                      "to choose from (\"Hengelo (Gld)\"). "
                                                      "A danger may be a town within about "
                                                      "50 km across the border."})
    lat = ma.fields.Float(allow_nan=False, metadata={"example": 51.92})
    lon = ma.fields.Float(allow_nan=False, metadata={"example": 4.40})


class DangerField(ma.fields.Field):
    """One point (v1), or a list of 1 to MAX_DANGERS points: a family network (v2)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict):
            return PointInSchema().load(value)
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_DANGERS:
                raise ma.ValidationError(f"Give 1 to {MAX_DANGERS} dangers.")
            points, errors = [], {}
            for n, item in enumerate(value):
                try:
                    if not isinstance(item, dict):
                        raise ma.ValidationError({"_schema": ["Must be an object."]})
                    points.append(PointInSchema().load(item))
                except ma.ValidationError as error:
                    errors[n] = error.messages
            if errors:
                raise ma.ValidationError(errors)
            return points
        raise ma.ValidationError("Give a point ({place} or {lat, lon}) or a list of points.")


class ChildSchema(ma.Schema):
    """One child: age in whole years and sex; never a name or a birth date."""

    age = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_CHILD_AGE))
    sex = ma.fields.String(required=True, validate=OneOf(SEXES))


class OriginInSchema(ma.Schema):
    """Her home: a Dutch gemeente, woonplaats or postcode (not a place abroad)."""

    place = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_PLACE_NAME),
                             metadata={"example": "Schiedam"})


class HouseholdSchema(ma.Schema):
    adults = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_ADULTS),
                               metadata={"description": "1 or more: a minor alone (0) is 422, "
                                         "pointing to youth care (jeugdzorg) and Veilig Thuis."})
    children = ma.fields.Integer(strict=True, load_default=0, validate=Range(0, MAX_CHILDREN))
    children_detail = ma.fields.List(
        ma.fields.Nested(ChildSchema), load_default=None, allow_none=True,
        validate=ma.validate.Length(max=MAX_CHILDREN),
        metadata={"description": "Optional: one entry per child (as many as `children`). A "
                                 "location with accepts_boys_up_to_age below a boy's age is "
                                 "not offered (boys_age_limit). Erased by retention."})

    @ma.post_dump
    def leave_out_undescribed(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data.get("children_detail", ()) is None:
            del data["children_detail"]  # not described: answered as in v1
        return data


class HouseholdSizeSchema(ma.Schema):
    """How many are on the way: no ages, no names."""

    adults = ma.fields.Integer()
    children = ma.fields.Integer()


class PlacementRequestCreateSchema(ma.Schema):
    """A new placement request. No names, BSNs or notes: a pseudonymous case reference."""

    case_reference = ma.fields.String(
        required=True, validate=ma.validate.Length(1, MAX_CASE_REFERENCE),
        metadata={"example": "VT-2026-0042",
                  "description": "Pseudonymous: letters, digits, '.', '_', '/', '-', with at "
                                 "least one digit. Refused (422): a name, nine digits "
                                 "passing the BSN elfproef anywhere in it (also written "
                                 "1234.56.782 or 123 456 782), and a full date more than "
                                 "12 years ago (a birth date)."})
    origin_region_code = ma.fields.String(load_default=None, metadata={
        "example": "GM0599",
        "description": "Her region. Required unless `origin` names where she lives; when both "
                       "are given they must agree (else 422)."})
    origin = ma.fields.Nested(OriginInSchema, load_default=None, metadata={
        "description": "Where she lives: the region follows from it (the answer always holds "
                       "`origin_region_code`)."})
    risk_level = ma.fields.String(required=True, validate=OneOf(LEVELS))
    danger = DangerField(required=True, metadata={
        "description": "Where the danger is: a point, or (v2) a list of up to 5 points or "
                       "places, a family network; every rule holds for each. Errors of a list "
                       "are named danger.N. Stored rounded to about 1 km; shown only to its "
                       "crisis worker.",
        "oneOf": [{"$ref": "#/components/schemas/PointIn"},
                  {"type": "array", "minItems": 1, "maxItems": MAX_DANGERS,
                   "items": {"$ref": "#/components/schemas/PointIn"}}]})
    target_group = ma.fields.String(load_default=None, validate=OneOf(REQUEST_TARGET_GROUPS),
                                    metadata={"description": "women (default) or men; the v1 "
                                              "need `men` means men."})
    current = ma.fields.Nested(PointInSchema, load_default=None,
                               metadata={"description": "Where she is now (for travel_km)."})
    household = ma.fields.Nested(HouseholdSchema, required=True)
    needs = ma.fields.List(ma.fields.String(validate=OneOf(FEATURES)), load_default=list,
                           validate=ma.validate.Length(max=len(FEATURES)))
    excluded_region_codes = ma.fields.List(ma.fields.String(), load_default=list,
                                           validate=ma.validate.Length(max=MAX_EXCLUSIONS))
    excluded_location_ids = ma.fields.List(ma.fields.String(), load_default=list,
                                           validate=ma.validate.Length(max=MAX_EXCLUSIONS))


class PointOutSchema(ma.Schema):
    place = ma.fields.String(allow_none=True, metadata={
        "description": "The gazetteer name the point was given as, if any."})
    lat = ma.fields.Float(metadata={"description": "Rounded to about 1 km."})
    lon = ma.fields.Float(metadata={"description": "Rounded to about 1 km."})
    uncertainty_km = ma.fields.Float(metadata={
        "description": "How far the real danger may lie from this point (rounding, and the "
                       "extent of a named place: a radius that covers the whole place, at "
                       "least policy.danger_place_radius_km); proposals subtract it from every "
                       "distance."})


class ActiveHoldSchema(ma.Schema):
    id = ma.fields.String()
    unit_id = ma.fields.String()
    location_id = ma.fields.String()
    expires_at = UTCDateTime()


class OfferSchema(ma.Schema):
    """The matcher's offer to a waiting request: a hold, confirmed or released as any."""

    hold_id = ma.fields.String()
    unit_id = ma.fields.String()
    location_id = ma.fields.String()
    place = ma.fields.String(allow_none=True, metadata={
        "description": "The location's public place (never its address)."})
    intake_phone = ma.fields.String(allow_none=True, metadata={
        "description": "The location's 24/7 intake line, to call before confirming."})
    expires_at = UTCDateTime()


class PlacementRequestSchema(ma.Schema):
    """A placement request. `held` is not stored: an open request with an active hold."""

    id = ma.fields.String(attribute="request.id")
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    created_at = UTCDateTime(attribute="request.created_at")
    closed_at = UTCDateTime(attribute="request.closed_at", allow_none=True)
    outcome = ma.fields.String(
        attribute="request.outcome", allow_none=True, metadata={
            "enum": list(OUTCOMES),
            "description": "Why a cancelled request closed without a placement (`other` when "
                           "nobody said, also when it was closed after being left open past "
                           "the policy's close_open_requests_after_days); null otherwise."})
    case_reference = ma.fields.String(attribute="request.case_reference", allow_none=True,
                                      metadata={"description": "Erased by retention."})
    origin_region_code = ma.fields.String(attribute="request.origin_region_code")
    risk_level = ma.fields.String(attribute="request.risk_level",
                                  metadata={"enum": list(LEVELS)})
    household = ma.fields.Nested(HouseholdSchema, attribute="request")
    household_size = ma.fields.Integer(attribute="request.household_size")
    target_group = ma.fields.String(attribute="request.target_group",
                                    metadata={"enum": list(REQUEST_TARGET_GROUPS)})
    needs = ma.fields.List(ma.fields.String(), attribute="request.needs")
    excluded_region_codes = ma.fields.List(ma.fields.String(),
                                           attribute="request.excluded_region_codes")
    excluded_location_ids = ma.fields.List(ma.fields.String(),
                                           attribute="request.excluded_location_ids")
    danger = ma.fields.Nested(PointOutSchema, allow_none=True, metadata={
        "description": "Only for the crisis workers of the request's organisation (absent "
                       "for others)."})
    current = ma.fields.Nested(PointOutSchema, allow_none=True, metadata={
        "description": "Only for the crisis workers of the request's organisation (absent "
                       "for others)."})
    dangers = ma.fields.List(ma.fields.Nested(PointOutSchema), allow_none=True, metadata={
        "description": "Every danger, the first (`danger`) included, when they were given as "
                       "a list; only for the crisis workers of the request's organisation."})
    active_hold = ma.fields.Nested(ActiveHoldSchema, allow_none=True)
    placement_id = ma.fields.String(allow_none=True)
    overrides = ma.fields.List(ma.fields.Nested(OverrideSchema), metadata={
        "description": "A duty officer's exceptions to this request's rules, with her reason."})
    waiting_since = UTCDateTime(attribute="request.waiting_since", allow_none=True, metadata={
        "description": "When it joined the waiting list (null: never)."})
    offer = ma.fields.Nested(OfferSchema, allow_none=True, metadata={
        "description": "While `status` is `offered`: the matcher's offer; null otherwise."})

    @ma.post_dump(pass_original=True)
    def leave_out_points(self, data: dict[str, Any], original: Any, **_kwargs: Any
                         ) -> dict[str, Any]:
        data = drop_unless(original.show_points, data, ("danger", "current", "dangers"))
        if data.get("dangers", ()) is None:
            del data["dangers"]  # the danger was given alone: answered as in v1
        return data


class PlacementRequestQueryArgsSchema(ma.Schema):
    status = ma.fields.String(validate=OneOf(STATUSES),
                              metadata={"description": "Status now (held: an active hold; "
                                        "offered: a waiting request with an active offer)."})


class ProposalArgsSchema(ma.Schema):
    limit = ma.fields.Integer(strict=True, load_default=10, validate=Range(1, MAX_PROPOSALS))
    units_per_location = ma.fields.Integer(
        strict=True, load_default=1, validate=Range(1, MAX_UNITS_PER_LOCATION),
        metadata={"description": "At most this many options per location (default 1): its "
                                 "best-fitting units, the smallest that hold the household "
                                 "first."})


class OptionSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "1 is the best."})
    location_id = ma.fields.String()
    location_name = ma.fields.String()
    place = ma.fields.String(metadata={
        "description": "The location's public place (a woonplaats or gemeente): where it is, "
                       "as far as anyone may know."})
    region_code = ma.fields.String()
    unit_id = ma.fields.String()
    beds = ma.fields.Integer()
    safety_level = ma.fields.String(metadata={"enum": list(LEVELS)})
    distance_from_danger_km = ma.fields.Integer(metadata={
        "description": "Whole km from the danger to the nearest point of the location's "
                       "public area, less the danger's uncertainty: never more than the true "
                       "geodesic distance (safe side)."})
    travel_km = ma.fields.Integer(allow_none=True, metadata={
        "description": "Whole km from where she is now (or from the danger when unknown) to "
                       "the centre of the location's public area: an estimate."})
    in_origin_region = ma.fields.Boolean()
    availability_updated_at = ma.fields.Function(
        lambda option: None if option.availability_updated_s is None
        else rfc3339(datetime.fromtimestamp(option.availability_updated_s, UTC)),
        metadata={"type": "string", "format": "date-time",
                  "description": "When the location's coordinator last changed or confirmed "
                                 "its availability."})
    stale = ma.fields.Boolean(metadata={
        "description": "availability_updated_at is older than policy.stale_after_hours: "
                       "phone to check. Ranked after a fresh location at equal travel "
                       "(policy.ranking_weights.stale_availability)."})
    reasons = ma.fields.Function(lambda option: sentences(option.reasons), metadata={
        "type": "array", "items": {"type": "string"},
        "description": "Why this option is safe and how it ranks, in plain words."})


class ExclusionSchema(ma.Schema):
    reason = ma.fields.String(metadata={"enum": list(EXCLUSION_REASONS)})
    locations = ma.fields.Integer(metadata={"description": "How many locations, each counted "
                                            "once under the first rule that excludes it."})


class RelaxationSchema(ma.Schema):
    drop = ma.fields.String(metadata={"example": "needs:pets_allowed",
                                      "description": "One need of the request."})
    options = ma.fields.Integer(metadata={
        "description": "How many locations would give an option without that need (one "
                       "option each, before `limit`). Safety rules and the request's own "
                       "exclusions are never relaxed."})


class ProposalSchema(ma.Schema):
    """Ranked options for a request; nothing is held. Never addresses or coordinates."""

    request_id = ma.fields.String()
    generated_at = UTCDateTime()
    options = ma.fields.List(ma.fields.Nested(OptionSchema))
    excluded = ma.fields.List(ma.fields.Nested(ExclusionSchema))
    relaxations = ma.fields.List(ma.fields.Nested(RelaxationSchema), metadata={
        "description": "Per need of the request: how many options dropping it would give."})


class HoldCreateSchema(ma.Schema):
    unit_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 36),
                               metadata={"description": "A unit_id from the proposals."})


class HoldSchema(ma.Schema):
    """A hold. `expired` is not stored: an active hold past its expires_at."""

    id = ma.fields.String(attribute="hold.id")
    request_id = ma.fields.String(attribute="hold.request_id")
    unit_id = ma.fields.String(attribute="hold.unit_id")
    unit_label = ma.fields.String(attribute="unit.label")
    location_id = ma.fields.String(attribute="hold.location_id")
    location_name = ma.fields.String(attribute="location.name")
    status = ma.fields.String(metadata={"enum": list(HOLD_STATUSES)})
    created_at = UTCDateTime(attribute="hold.created_at")
    expires_at = UTCDateTime(attribute="hold.expires_at")
    ended_at = UTCDateTime(attribute="hold.ended_at", allow_none=True)
    risk_level = ma.fields.String(attribute="request.risk_level",
                                  metadata={"enum": list(LEVELS)})
    origin_region_code = ma.fields.String(attribute="request.origin_region_code")
    household = ma.fields.Nested(HouseholdSizeSchema, attribute="request", metadata={
        "description": "Who is on the way: only the household's size, never a name."})
    extended_at = UTCDateTime(attribute="hold.extended_at", allow_none=True, metadata={
        "description": "When the hold was extended (once at most); null if never."})
    extendable = ma.fields.Boolean(metadata={
        "description": "Active and never extended: POST .../extend would succeed now."})
    intake_phone = ma.fields.Function(
        lambda view: view.intake_phone.number if view.intake_phone else None, metadata={
            "type": "string", "example": "+31201234567",
            "description": "The location's 24/7 intake line (E.164), only for the request's "
                           "crisis worker while the hold is active; each showing is audited. "
                           "Absent otherwise, and never on options or location lists."})
    intake_phone_uri = ma.fields.Function(
        lambda view: view.intake_phone.uri if view.intake_phone else None, metadata={
            "type": "string", "example": "tel:+31201234567",
            "description": "The same as a tappable `tel:` link."})

    @ma.post_dump(pass_original=True)
    def leave_out_phone(self, data: dict[str, Any], original: Any, **_kwargs: Any
                        ) -> dict[str, Any]:
        return drop_unless(getattr(original, "intake_phone", None) is not None, data,
                           ("intake_phone", "intake_phone_uri"))


class HoldQueryArgsSchema(ma.Schema):
    location_id = ma.fields.String()
    status = ma.fields.String(load_default="active", validate=OneOf(HOLD_STATUSES),
                              metadata={"description": "Status now; default active."})


class PlacementSchema(ma.Schema):
    """A household placed in a unit. The address only for those entitled to it."""

    id = ma.fields.String(attribute="placement.id")
    request_id = ma.fields.String(attribute="placement.request_id")
    hold_id = ma.fields.String(attribute="placement.hold_id", allow_none=True)
    location_id = ma.fields.String(attribute="placement.location_id")
    location_name = ma.fields.String(attribute="location.name")
    unit_id = ma.fields.String(attribute="placement.unit_id")
    unit_label = ma.fields.String(attribute="unit.label")
    origin_region_code = ma.fields.String(attribute="placement.origin_region_code")
    destination_region_code = ma.fields.String(attribute="placement.destination_region_code")
    household_size = ma.fields.Integer(attribute="placement.household_size")
    started_at = UTCDateTime(attribute="placement.started_at")
    ended_at = UTCDateTime(attribute="placement.ended_at", allow_none=True)
    arrival_status = ma.fields.String(attribute="placement.arrival_status", metadata={
        "enum": list(ARRIVAL_STATUSES),
        "description": "on_the_way until the location's coordinator marks her arrived "
                       "(POST .../arrival) or not come (POST .../no-show: the unit is free "
                       "and the request open again; ended_at is then set)."})
    arrival_marked_at = UTCDateTime(attribute="placement.arrival_marked_at", allow_none=True)
    address = ma.fields.String(attribute="location.address", metadata={
        "description": "Shown to whoever confirms (audited as address.disclosed) and to the "
                       "location's coordinators and admins."})

    @ma.post_dump(pass_original=True)
    def leave_out_address(self, data: dict[str, Any], original: Any, **_kwargs: Any
                          ) -> dict[str, Any]:
        return drop_unless(original.show_address, data, ("address",))


class PlacementQueryArgsSchema(ma.Schema):
    location_id = ma.fields.String()
    open = ma.fields.Boolean(load_default=False,
                             metadata={"description": "Only placements not yet discharged."})
    arrival_status = ma.fields.String(validate=OneOf(ARRIVAL_STATUSES), metadata={
        "description": "Only placements with this arrival status (on_the_way: who is "
                       "coming)."})


class DischargeSchema(ma.Schema):
    ended_at = ma.fields.AwareDateTime(load_default=None, metadata={
        "description": "When she left (default: now); not before started_at, not in the "
                       "future."})


class CancelSchema(ma.Schema):
    outcome = ma.fields.String(load_default="other", validate=ma.validate.OneOf(OUTCOMES),
                               metadata={"enum": list(OUTCOMES), "description":
                                         "Why it closes without a placement (default other)."})


class BatchProposalArgsSchema(ma.Schema):
    request_ids = ma.fields.List(ma.fields.String(), required=True,
                                 validate=ma.validate.Length(1, MAX_BATCH))


class AssignmentSchema(ma.Schema):
    request_id = ma.fields.String()
    unit_id = ma.fields.String(allow_none=True)
    location_id = ma.fields.String(allow_none=True)
    location_name = ma.fields.String(allow_none=True)
    region_code = ma.fields.String(allow_none=True)
    distance_from_danger_km = ma.fields.Integer(allow_none=True)
    travel_km = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True, metadata={
        "description": "Why this request got no unit (unit_id null)."})

    @ma.post_dump
    def leave_out_empty(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        # An assignment has a unit and its place, or no unit and a reason; never both.
        return {key: value for key, value in data.items()
                if value is not None or key == "unit_id"}


class BatchProposalSchema(ma.Schema):
    """A joint assignment: no unit twice, as many placed as possible, least total cost."""

    generated_at = UTCDateTime()
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    placed = ma.fields.Integer()
