import marshmallow as ma

from shelter_match.services.policy import (
    MAX_DISTANCE_KM,
    MAX_HOLD_MINUTES,
    MAX_STALE_AFTER_HOURS,
)

Range = ma.validate.Range


class MinDistanceSchema(ma.Schema):
    """Minimum distance from the danger, in km, per risk level."""

    groen = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))
    oranje = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))
    rood = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))


class PolicySchema(ma.Schema):
    """The placement policy. PUT replaces it whole; it applies to what happens next."""

    min_distance_km = ma.fields.Nested(MinDistanceSchema, required=True)
    rood_outside_origin_region = ma.fields.Boolean(
        required=True,
        truthy={True},
        falsy={False},
        metadata={"description": "A rood case must be placed outside her origin region."},
    )
    hold_minutes = ma.fields.Integer(
        required=True, strict=True, validate=Range(1, MAX_HOLD_MINUTES),
        metadata={"description": "How long a hold keeps a unit."},
    )
    stale_after_hours = ma.fields.Integer(
        required=True, strict=True, validate=Range(1, MAX_STALE_AFTER_HOURS),
        metadata={"description": "Availability older than this is shown as stale."},
    )
