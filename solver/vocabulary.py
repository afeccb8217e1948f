"""The shared words of the domain: safety levels, features, exclusion reasons.

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
EXCLUSION_REASONS: tuple[str, ...] = (
    "excluded_by_request",
    "origin_region_not_allowed",
    "safety_level_too_low",
    "too_close_to_danger",
    "missing_features",
    "no_free_unit_large_enough",
)
