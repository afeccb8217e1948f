"""Schemas of locations, their units, availability confirmations and unit history.

`address`, `lat` and `lon` are in the schema but in a response only for an admin and the
location's own coordinators: the service leaves the keys out for everyone else.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.schemas.fields import UTCDateTime, drop_unless
from shelter_match.services.availability import SECRET_FIELDS, LocationSummary
from shelter_match.services.locations import (
    HELD_BY_HAND,
    MAX_ADDRESS,
    MAX_BEDS_PER_UNIT,
    MAX_BOY_AGE,
    MAX_LABEL,
    MAX_NAME,
    NL_LAT,
    NL_LON,
    SETTABLE_STATUSES,
)
from solver.vocabulary import FEATURES, LEVELS, TARGET_GROUPS, UNIT_STATUSES

Range = ma.validate.Range
Length = ma.validate.Length
OneOf = ma.validate.OneOf
ONLY_FOR_ENTITLED = ("Only for an admin and the location's own coordinators; "
                     "absent for everyone else.")


class SettableStatus(OneOf):
    """The statuses a person may set; `held` gets its own explanation."""

    def __call__(self, value):
        if value == "held":
            raise ma.ValidationError(HELD_BY_HAND)
        return super().__call__(value)


def _beds(required: bool = False) -> ma.fields.Integer:
    return ma.fields.Integer(
        required=required, strict=True, validate=Range(0, MAX_BEDS_PER_UNIT),
        metadata={"description": "Beds in the unit; one household at a time.", "example": 3},
    )


def _status(description: str) -> ma.fields.String:
    return ma.fields.String(
        validate=SettableStatus(
            SETTABLE_STATUSES, error=f"Must be one of: {', '.join(SETTABLE_STATUSES)}."
        ),
        metadata={"description": description},
    )


# --- responses -------------------------------------------------------------------------


HOLD_DETAIL = ("held_until",)


class UnitSchema(ma.Schema):
    """A unit with its effective status (a hold past its expiry reads as free)."""

    id = ma.fields.String(required=True)
    location_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True, metadata={"example": "Gezinsunit 2"})
    beds = ma.fields.Integer(required=True, metadata={"example": 3})
    status = ma.fields.String(required=True, validate=OneOf(UNIT_STATUSES))
    held_until = UTCDateTime(
        allow_none=True, metadata={"description": "When the hold ends; null unless held. "
                                                  "Only for an admin and the location's own "
                                                  "coordinators."}
    )
    version = ma.fields.Integer(
        required=True,
        metadata={"description": 'Grows with every change; send it back as If-Match: "N".'},
    )
    updated_at = UTCDateTime(required=True)


class PublicAreaSchema(ma.Schema):
    """A disc that holds the location's secret point: public to every role."""

    lat = ma.fields.Float(required=True, metadata={"description": "The place's centre."})
    lon = ma.fields.Float(required=True)
    radius_km = ma.fields.Float(required=True, metadata={
        "description": "From 5 to 15 km; the disc covers the whole place."})


PLACE_DESCRIPTION = ("The public place (woonplaats or gemeente, its qualified name): shown to "
                     "every role. The location lies in `public_area`, a disc around the "
                     "place's centre.")


class LocationSummarySchema(ma.Schema):
    """A location with what it has free now and how fresh that is."""

    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"example": "Veilig Huis Utrecht 3"})
    region_code = ma.fields.String(required=True, metadata={"example": "GM0344"})
    safety_level = ma.fields.String(required=True, validate=OneOf(LEVELS))
    features = ma.fields.List(ma.fields.String(validate=OneOf(FEATURES)), required=True)
    accepts_night_intake = ma.fields.Boolean(required=True)
    target_group = ma.fields.String(required=True, validate=OneOf(TARGET_GROUPS), metadata={
        "description": "Whom it takes in: women, men or all."})
    accepts_boys_up_to_age = ma.fields.Integer(allow_none=True, required=True, metadata={
        "description": "The oldest boy (years) it takes in with his mother; null: no limit."})
    units_total = ma.fields.Integer(required=True)
    units_free = ma.fields.Integer(required=True, metadata={"description": "Units free now."})
    beds_free = ma.fields.Integer(
        required=True, metadata={"description": "Sum of the beds of the units free now."}
    )
    availability_updated_at = UTCDateTime(
        required=True,
        metadata={"description": "Last change by hand or confirmation by a coordinator."},
    )
    stale = ma.fields.Boolean(
        required=True,
        metadata={"description": "availability_updated_at is older than "
                                 "policy.stale_after_hours."},
    )
    place = ma.fields.String(required=True, metadata={"description": PLACE_DESCRIPTION,
                                                      "example": "Zeist"})
    gemeente_code = ma.fields.String(required=True, metadata={"example": "GM0355"})
    public_area = ma.fields.Nested(PublicAreaSchema, required=True)
    address = ma.fields.String(metadata={"description": ONLY_FOR_ENTITLED})
    lat = ma.fields.Float(metadata={"description": ONLY_FOR_ENTITLED})
    lon = ma.fields.Float(metadata={"description": ONLY_FOR_ENTITLED})

    @ma.post_dump(pass_original=True)
    def leave_out_secrets(self, data: dict[str, Any], original: LocationSummary,
                          **_kwargs: Any) -> dict[str, Any]:
        return drop_unless(original.shows_address, data, SECRET_FIELDS)


class LocationSchema(LocationSummarySchema):
    """A location with its units."""

    units = ma.fields.List(ma.fields.Nested(UnitSchema), required=True)

    @ma.post_dump(pass_original=True)
    def leave_out_hold_detail(self, data: dict[str, Any], original: LocationSummary,
                              **_kwargs: Any) -> dict[str, Any]:
        # When a hold ends follows one case: only the location's writers (admin, its own
        # coordinators, who see the address too) see it; others see the status only.
        for unit in data.get("units", []):
            drop_unless(original.shows_address, unit, HOLD_DETAIL)
        return data


class AvailabilityConfirmationSchema(ma.Schema):
    """A coordinator's "checked, still correct"."""

    location_id = ma.fields.String(required=True)
    confirmed_at = UTCDateTime(required=True)
    availability_updated_at = UTCDateTime(required=True)
    stale = ma.fields.Boolean(required=True)


class UnitChangeSchema(ma.Schema):
    """One change of a unit: who (null: the system), when, why, from what to what."""

    id = ma.fields.Integer(required=True)
    unit_id = ma.fields.String(required=True)
    changed_at = UTCDateTime(required=True)
    changed_by = ma.fields.String(allow_none=True, metadata={"description": "User name."})
    cause = ma.fields.String(
        required=True,
        metadata={"description": "created, manual, hold, release, expire, confirm, "
                                 "discharge or cancel."},
    )
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(required=True)
    from_beds = ma.fields.Integer(allow_none=True)
    to_beds = ma.fields.Integer(required=True)


# --- requests --------------------------------------------------------------------------


class LocationQueryArgsSchema(ma.Schema):
    region_code = ma.fields.String(
        metadata={"description": "Only the locations of this region.", "example": "GM0344"}
    )


class NewUnitSchema(ma.Schema):
    """A unit to add; a label is unique within its location."""

    label = ma.fields.String(required=True, validate=Length(1, MAX_LABEL))
    beds = _beds(required=True)
    status = _status("free (default), occupied or closed.")


def _boys_age(**default: Any) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True, allow_none=True, validate=Range(0, MAX_BOY_AGE), **default,
        metadata={"description": "The oldest boy (years) taken in with his mother; null: "
                                 "no limit. An older boy excludes the location "
                                 "(boys_age_limit)."})


class NewLocationSchema(ma.Schema):
    """A new location with its units (admin)."""

    name = ma.fields.String(required=True, validate=Length(1, MAX_NAME))
    region_code = ma.fields.String(required=True, metadata={"example": "GM0344"})
    safety_level = ma.fields.String(required=True, validate=OneOf(LEVELS))
    lat = ma.fields.Float(required=True, validate=Range(*NL_LAT))
    lon = ma.fields.Float(required=True, validate=Range(*NL_LON))
    address = ma.fields.String(required=True, validate=Length(1, MAX_ADDRESS))
    features = ma.fields.List(ma.fields.String(validate=OneOf(FEATURES)), load_default=list)
    accepts_night_intake = ma.fields.Boolean(load_default=True, truthy={True}, falsy={False})
    target_group = ma.fields.String(load_default=None, validate=OneOf(TARGET_GROUPS), metadata={
        "description": "women, men or all. Left out: all when features list the v1 `men`, "
                       "else women."})
    accepts_boys_up_to_age = _boys_age(load_default=None)
    units = ma.fields.List(ma.fields.Nested(NewUnitSchema), load_default=list)
    place = ma.fields.String(validate=Length(1, 100), metadata={
        "description": "The public place: a woonplaats or gemeente that holds the point, with "
                       "a disc of at most 15 km (a larger gemeente such as Rotterdam is 422: "
                       "choose its woonplaats). Omitted: derived from the point."})


class LocationPatchSchema(ma.Schema):
    """The fields to change (admin); the rest stay as they are."""

    name = ma.fields.String(validate=Length(1, MAX_NAME))
    safety_level = ma.fields.String(validate=OneOf(LEVELS))
    features = ma.fields.List(ma.fields.String(validate=OneOf(FEATURES)))
    accepts_night_intake = ma.fields.Boolean(truthy={True}, falsy={False})
    target_group = ma.fields.String(validate=OneOf(TARGET_GROUPS))
    accepts_boys_up_to_age = _boys_age()
    address = ma.fields.String(validate=Length(1, MAX_ADDRESS))
    lat = ma.fields.Float(validate=Range(*NL_LAT))
    lon = ma.fields.Float(validate=Range(*NL_LON))
    place = ma.fields.String(validate=Length(1, 100), metadata={
        "description": "The public place: a woonplaats or gemeente that holds the point, with "
                       "a disc of at most 15 km (a larger gemeente such as Rotterdam is 422: "
                       "choose its woonplaats). Omitted: derived from the point."})


class UnitPatchSchema(ma.Schema):
    """The unit's new status and/or beds."""

    status = _status("free, occupied or closed; held comes only from a hold.")
    beds = _beds()


class UnitChangeQueryArgsSchema(ma.Schema):
    since = UTCDateTime(
        metadata={"description": "Only changes at or after this time (RFC 3339).",
                  "example": "2026-11-01T00:00:00Z"}
    )
    unit_id = ma.fields.String(metadata={"description": "Only the changes of this unit."})
    limit = ma.fields.Integer(
        load_default=1000, validate=Range(1, 5000),
        metadata={"description": "At most this many changes, oldest first; to read on, ask "
                                 "again with since = the last changed_at and skip the ids "
                                 "you have."},
    )


class IntakePhoneSchema(ma.Schema):
    """A location's 24/7 intake line, for its coordinators and admins."""

    location_id = ma.fields.String(attribute="id", dump_only=True)
    intake_phone = ma.fields.String(
        required=True, allow_none=True, validate=Length(max=30),
        metadata={"example": "+31201234567",
                  "description": "A Dutch number (020 123 4567, 06 12345678, +31 20 123 4567, "
                                 "0800 1234); stored and answered in E.164. Empty or null "
                                 "clears it. Shown to a crisis worker only on her holds and "
                                 "offers (audited), never on options or lists."})
    intake_phone_uri = ma.fields.Function(
        lambda location: f"tel:{location.intake_phone}" if location.intake_phone else None,
        dump_only=True, allow_none=True,
        metadata={"type": "string", "example": "tel:+31201234567"})
