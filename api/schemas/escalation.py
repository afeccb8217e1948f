"""Schemas of the duty officers' API: escalations, the waiting list, overrides, channels."""

import marshmallow as ma

from api.schemas.fields import UTCDateTime
from shelter_match.services.overrides import MAX_REASON
from solver.vocabulary import LEVELS


class EscalationSchema(ma.Schema):
    """A request nobody could place in time: pseudonymous, no place, no address."""

    request_id = ma.fields.String()
    case_reference = ma.fields.String(allow_none=True,
                                      metadata={"description": "Erased by retention."})
    risk_level = ma.fields.String(metadata={"enum": list(LEVELS)})
    origin_region_code = ma.fields.String()
    waiting_since = UTCDateTime(metadata={"description": "When the request was made."})
    level = ma.fields.String(metadata={"enum": ["regional", "national"]})
    escalated_at = UTCDateTime(metadata={"description": "When it reached this level: due "
                                                        "the moment its time passed."})
    cause = ma.fields.String(allow_none=True, metadata={
        "enum": ["offer_expired", "no_show", "other"],
        "description": "Why it escalated at once; null when by time alone."})


class EscalationQueryArgsSchema(ma.Schema):
    region_code = ma.fields.String(metadata={"description": "Only this origin region (one "
                                                            "you are on duty for)."})


class OverrideInSchema(ma.Schema):
    """An exception to one rule for one request. No override lowers a minimum distance."""

    rood_in_origin_region = ma.fields.Boolean(
        load_default=True, truthy={True}, falsy={False},
        metadata={"description": "This rood request may be placed in her origin region."})
    reason = ma.fields.String(required=True, metadata={
        "description": f"Why, in at most {MAX_REASON} characters; never a name, BSN or "
                       "birth date (checked as for a case reference).",
        "example": "Achterwacht: enige passende plek, dader woont buiten de regio."})


class OverrideSchema(ma.Schema):
    id = ma.fields.String()
    rood_in_origin_region = ma.fields.Boolean()
    reason = ma.fields.String(allow_none=True)
    created_by = ma.fields.String(metadata={"description": "The user's id."})
    created_at = UTCDateTime()


class OverridesSchema(ma.Schema):
    request_id = ma.fields.String()
    overrides = ma.fields.List(ma.fields.Nested(OverrideSchema))


class ChannelInSchema(ma.Schema):
    """Where an audience is told; a member left out (or null) clears that channel."""

    email = ma.fields.Email(load_default=None, allow_none=True)
    webhook_url = ma.fields.String(load_default=None, allow_none=True)
    webhook_secret = ma.fields.String(load_default=None, allow_none=True, load_only=True,
                                      metadata={"description": "The HMAC-SHA256 key (32-200 "
                                                               "characters); never shown."})


class ChannelSchema(ma.Schema):
    audience = ma.fields.String(metadata={"example": "duty:GM0599"})
    email = ma.fields.String(allow_none=True)
    webhook_url = ma.fields.String(allow_none=True)
    has_webhook_secret = ma.fields.Boolean()
    updated_at = UTCDateTime()


class DeliveryAttemptSchema(ma.Schema):
    delivery_id = ma.fields.String()
    channel = ma.fields.String(metadata={"enum": ["email", "webhook"]})
    event = ma.fields.String(metadata={"enum": ["offer_made", "escalation", "no_show"]})
    audience = ma.fields.String()
    attempted_at = UTCDateTime()
    ok = ma.fields.Boolean()
    detail = ma.fields.String()
