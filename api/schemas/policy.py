import marshmallow as ma

from shelter_match.services.policy import (
    CLOCK_TIME,
    DEFAULT_ESCALATION_MINUTES,
    DEFAULT_NIGHT_HOURS,
    DEFAULT_PLACE_RADIUS_KM,
    DEFAULT_POLICY,
    DEFAULT_QUOTAS,
    DEFAULT_WEIGHTS,
    MAX_ADDRESS_VIEW_MINUTES,
    MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS,
    MAX_DISTANCE_KM,
    MAX_ESCALATION_MINUTES,
    MAX_HOLD_EXTENSION_MINUTES,
    MAX_HOLD_MINUTES,
    MAX_PLACE_RADIUS_KM,
    MAX_QUOTA,
    MAX_STALE_AFTER_HOURS,
    MAX_WEIGHT,
)

Range = ma.validate.Range


class MinDistanceSchema(ma.Schema):
    """Minimum distance from the danger, in km, per risk level."""

    groen = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))
    oranje = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))
    rood = ma.fields.Integer(required=True, strict=True, validate=Range(0, MAX_DISTANCE_KM))


def _weight(name: str, description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True, load_default=DEFAULT_WEIGHTS[name], validate=Range(0, MAX_WEIGHT),
        metadata={"description": description, "example": DEFAULT_WEIGHTS[name]},
    )


class RankingWeightsSchema(ma.Schema):
    """How proposals are ranked: the solver's weights, in metre-equivalents.

    1000 weighs as one km of extra travel; options are ranked by their total cost.
    Optional in PUT: a missing member takes the solver's default.
    """

    travel_per_km = _weight("travel_per_km", "Cost of one km of travel: the yardstick.")
    safety_surplus_per_level = _weight(
        "safety_surplus_per_level", "Cost of each safety level beyond the case's risk level "
        "(keeps the scarce secure places for rood cases).")
    spare_bed = _weight("spare_bed", "Cost of each bed left empty in the unit (keeps family "
                        "units for families).")
    outside_origin_region = _weight(
        "outside_origin_region", "Cost of a place outside the origin region (own region "
        "first); not charged when a rood case must leave it.")
    recent_intake_per_person = _weight(
        "recent_intake_per_person", "Cost per person the destination region took in from "
        "elsewhere in the last 90 days (solidarity tie-breaker).")
    recent_intake_max = _weight("recent_intake_max", "The most the intake tie-breaker adds.")
    stale_availability = _weight(
        "stale_availability", "Cost of a location whose availability is older than "
        "stale_after_hours: at equal travel a fresh location ranks first.")
    specialised_place = _weight(
        "specialised_place", "Cost of a place specialised in something the case does not "
        "need (honour-related violence, trafficking, men); proposals list such places after "
        "every suitable general place whatever this weight, joint assignments weigh it.")
    rood_margin_per_km = _weight(
        "rood_margin_per_km", "For rood: the benefit of each km from the danger beyond the "
        "minimum (up to 100 km). Travel from the danger that only adds such margin is not "
        "charged, so ranking never pulls a rood case to the edge of the circle.")


class PlaceRadiusSchema(ma.Schema):
    """How far (km) the danger may lie from the centre of a place given by name, per kind."""

    gemeente = ma.fields.Integer(strict=True, load_default=DEFAULT_PLACE_RADIUS_KM["gemeente"],
                                 validate=Range(0, MAX_PLACE_RADIUS_KM))
    place = ma.fields.Integer(strict=True, load_default=DEFAULT_PLACE_RADIUS_KM["place"],
                              validate=Range(0, MAX_PLACE_RADIUS_KM),
                              metadata={"description": "A town or village (not a gemeente)."})


class NightHoursSchema(ma.Schema):
    """The night, local time in Europe/Amsterdam; from later than to spans midnight."""

    from_ = ma.fields.String(data_key="from", attribute="from", required=True,
                             validate=ma.validate.Regexp(CLOCK_TIME, error="Must be HH:MM."),
                             metadata={"example": "22:00"})
    to = ma.fields.String(required=True,
                          validate=ma.validate.Regexp(CLOCK_TIME, error="Must be HH:MM."),
                          metadata={"example": "08:00"})


class QuotasSchema(ma.Schema):
    """Hourly quotas per user; beyond them a call is 429 with Retry-After."""

    requests_per_hour = ma.fields.Integer(
        strict=True, load_default=DEFAULT_QUOTAS["requests_per_hour"],
        validate=Range(0, MAX_QUOTA),
        metadata={"description": "Placement requests a user may make in an hour.",
                  "example": DEFAULT_QUOTAS["requests_per_hour"]})
    proposals_per_hour = ma.fields.Integer(
        strict=True, load_default=DEFAULT_QUOTAS["proposals_per_hour"],
        validate=Range(0, MAX_QUOTA),
        metadata={"description": "Proposals a user may be shown in an hour; a joint proposal "
                                 "counts each of its requests.",
                  "example": DEFAULT_QUOTAS["proposals_per_hour"]})


def _escalation(level: str) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, load_default=DEFAULT_ESCALATION_MINUTES[level],
                             validate=Range(1, MAX_ESCALATION_MINUTES))


class EscalationMinutesSchema(ma.Schema):
    """Minutes without a placement after which a request escalates, per risk level."""

    groen = _escalation("groen")
    oranje = _escalation("oranje")
    rood = _escalation("rood")


class PolicySchema(ma.Schema):
    """The placement policy. PUT replaces it whole (a key left out takes its default); it
    applies to what happens next."""

    min_distance_km = ma.fields.Nested(
        MinDistanceSchema, load_default=lambda: dict(DEFAULT_POLICY.min_distance_km))
    rood_outside_origin_region = ma.fields.Boolean(
        load_default=DEFAULT_POLICY.rood_outside_origin_region,
        truthy={True},
        falsy={False},
        metadata={"description": "A rood case must be placed outside her origin region."},
    )
    hold_minutes = ma.fields.Integer(
        load_default=DEFAULT_POLICY.hold_minutes, strict=True,
        validate=Range(1, MAX_HOLD_MINUTES),
        metadata={"description": "How long a hold keeps a unit."},
    )
    stale_after_hours = ma.fields.Integer(
        load_default=DEFAULT_POLICY.stale_after_hours, strict=True,
        validate=Range(1, MAX_STALE_AFTER_HOURS),
        metadata={"description": "Availability older than this is shown as stale."},
    )
    ranking_weights = ma.fields.Nested(
        RankingWeightsSchema, load_default=lambda: dict(DEFAULT_WEIGHTS),
        metadata={"description": "How proposals are ranked (optional; solver defaults)."},
    )
    close_open_requests_after_days = ma.fields.Integer(
        strict=True, load_default=30, validate=Range(1, MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS),
        metadata={"description": "A request left open this many days after it was made is "
                                 "closed with outcome `other` by `shelter-match purge`, so "
                                 "that its client details are erased in turn (never one on "
                                 "the waiting list). Optional; 30.", "example": 30},
    )
    location_level_min_distance = ma.fields.Boolean(
        load_default=True, truthy={True}, falsy={False},
        metadata={"description": "A location is offered only where the danger is at least "
                                 "min_distance_km of the location's own safety level away, "
                                 "whatever the case's risk level (reason "
                                 "too_close_for_location). Optional; true."})
    night_hours = ma.fields.Nested(
        NightHoursSchema, load_default=lambda: dict(DEFAULT_NIGHT_HOURS),
        metadata={"description": "Within these hours (Europe/Amsterdam) a location without "
                                 "night intake is not offered (reason no_night_intake). "
                                 'Optional; {"from": "22:00", "to": "08:00"}.'})
    hold_extension_minutes = ma.fields.Integer(
        strict=True, load_default=DEFAULT_POLICY.hold_extension_minutes,
        validate=Range(1, MAX_HOLD_EXTENSION_MINUTES),
        metadata={"description": "A hold (or offer) may be extended once, by this many "
                                 "minutes from when it would have expired. Optional; 15."},
    )
    address_view_minutes = ma.fields.Integer(
        strict=True, load_default=DEFAULT_POLICY.address_view_minutes,
        validate=Range(1, MAX_ADDRESS_VIEW_MINUTES),
        metadata={"description": "After confirming on the pages, the same crisis worker may "
                                 "open the address page again this long; each showing is "
                                 "audited. Optional; 15."},
    )
    offer_minutes = ma.fields.Integer(
        load_default=DEFAULT_POLICY.offer_minutes, strict=True,
        validate=Range(1, MAX_HOLD_MINUTES),
        metadata={"description": "How long the matcher's offer to a waiting request stays "
                                 "open (optional; 30).", "example": 30},
    )
    danger_place_radius_km = ma.fields.Nested(
        PlaceRadiusSchema, load_default=lambda: dict(DEFAULT_PLACE_RADIUS_KM),
        metadata={"description": "The least extra distance kept from a danger given as a place "
                                 "name, per kind (gemeente; place: a woonplaats, postcode or "
                                 "town abroad). The place's own extent (a radius that covers "
                                 "it) counts when it is larger (optional; 5 km)."},
    )
    quotas = ma.fields.Nested(
        QuotasSchema, load_default=lambda: dict(DEFAULT_QUOTAS),
        metadata={"description": "Hourly quotas per user (optional; 30 requests, 300 "
                                 "proposals). An admin may set one user's own: "
                                 "PUT /api/v1/users/{name}/quotas."},
    )
    escalation_minutes = ma.fields.Nested(
        EscalationMinutesSchema, load_default=lambda: dict(DEFAULT_ESCALATION_MINUTES),
        metadata={"description": "A request open or waiting this many minutes without a "
                                 "placement escalates to its origin region's duty officers, "
                                 "after twice as long to the national duty (optional; rood "
                                 "60, oranje 240, groen 1440)."},
    )
