"""The shared words of the domain: safety levels, features, exclusion and option reasons.

They live in the lowest layer so that the solver, the domain and the API use one list.
"""

# Ordered from least to most secure; a location may take a case whose risk is at most
# its own safety level.
LEVELS: tuple[str, ...] = ("groen", "oranje", "rood")
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

# One vocabulary for what a location offers (features) and what a request needs (needs).
FEATURES: tuple[str, ...] = (
    "wheelchair_accessible",
    "pets_allowed",
    "men",
    "lhbti",
    "honour_related_violence",
    "human_trafficking",
)

UNIT_STATUSES: tuple[str, ...] = ("free", "held", "occupied", "closed")

# Why a location was not proposed, in the order the rules are checked: the first rule
# that excludes a location is the one reported for it.
# CONTRACT 4.2 fixes this order.
EXCLUSION_REASONS: tuple[str, ...] = (
    "excluded_by_request",
    "origin_region_not_allowed",
    "target_group_mismatch",
    "safety_level_too_low",
    "too_close_to_danger",
    "too_close_for_location",
    "no_night_intake",
    "boys_age_limit",
    "missing_features",
    "no_free_unit_large_enough",
)

# Whom a location takes in, and whom a request is for (CONTRACT 4.2). A location of target
# group "all" takes both.
TARGET_GROUPS: tuple[str, ...] = ("women", "men", "all")
REQUEST_TARGET_GROUPS: tuple[str, ...] = ("women", "men")

# Places whose expertise is scarce: offered to a case that does not need it only after
# every suitable general place. "men" stands for a place that also takes men.
SPECIALISED_FEATURES: tuple[str, ...] = ("honour_related_violence", "human_trafficking", "men")

# Rules that protect the client or the location, or that the request itself set: never
# relaxed when the answer suggests what dropping a need would give.
NEVER_RELAXED: frozenset[str] = frozenset(EXCLUSION_REASONS) - {
    "missing_features", "no_free_unit_large_enough"}

# Why an option is safe and how it ranks: the codes of solver.model.Reason, one per rule
# or cost term. The solver gives codes and numbers; the API and the pages give the words.
OPTION_REASONS: tuple[str, ...] = (
    "distance_from_danger",  # distance_km, min_km, risk_level, uncertainty_km
    "travel",  # km, start ("danger" or "current")
    "in_origin_region",
    "outside_origin_region",
    "outside_origin_region_required",  # risk_level
    "safety_level_matches",  # level
    "safety_level_surplus",  # level, risk_level, surplus
    "fits_exactly",  # unit_kind ("room" or "family_unit"), beds
    "spare_beds",  # unit_kind, spare
    "offers_needs",  # needs
    "recent_intake",  # region_code, people
    "specialised_place",  # features: what the place is specialised in that the case needs not
    "stale_availability",  # hours: how old the location's availability is
)
