"""The solver's data: what goes in (locations, free units, a case, the rules) and what comes out.

All are frozen dataclasses, so a Network built from them can be shared between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solver.vocabulary import LEVELS

# The contract's policy defaults (CONTRACT §3 Policy).
DEFAULT_MIN_DISTANCE_KM: Mapping[str, int] = {"groen": 0, "oranje": 25, "rood": 75}


def _check_level(value: str, what: str) -> None:
    if value not in LEVELS:
        raise ValueError(f"{what} must be one of {', '.join(LEVELS)}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    name: str
    region_code: str
    safety_level: str
    lat: float
    lon: float
    features: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_level(self.safety_level, "safety_level")
        # Accept any iterable of features from callers, but keep the frozenset promise.
        object.__setattr__(self, "features", frozenset(self.features))


@dataclass(frozen=True, slots=True)
class FreeUnit:
    id: str
    location_id: str
    beds: int

    def __post_init__(self) -> None:
        if self.beds < 1:
            raise ValueError(f"unit {self.id!r} must have at least one bed")


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    origin_region_code: str
    risk_level: str
    danger_lat: float
    danger_lon: float
    current_lat: float | None
    current_lon: float | None
    household_size: int
    needs: frozenset[str] = frozenset()
    excluded_region_codes: frozenset[str] = frozenset()
    excluded_location_ids: frozenset[str] = frozenset()
    # How far (km) the real danger may lie from (danger_lat, danger_lon), e.g. when it was
    # given as a place name: every distance from the danger is shortened by this much, so it
    # stays a lower bound of the distance from wherever the danger really is.
    danger_uncertainty_km: float = 0.0
    # A duty officer's override (CONTRACT 4.5): this rood case may stay in her origin
    # region. It lifts that one rule only; no distance or safety rule is ever relaxed.
    rood_in_origin_region_allowed: bool = False

    def __post_init__(self) -> None:
        _check_level(self.risk_level, "risk_level")
        if not self.danger_uncertainty_km >= 0:  # also rejects NaN
            raise ValueError("danger_uncertainty_km must be zero or more")
        if self.household_size < 1:
            raise ValueError("household_size must be at least 1")
        if (self.current_lat is None) != (self.current_lon is None):
            raise ValueError("current_lat and current_lon must be given together")
        for name in ("needs", "excluded_region_codes", "excluded_location_ids"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))

    @property
    def travel_origin(self) -> tuple[float, float]:
        """Return where travel starts: the current location when known, else the danger."""
        if self.current_lat is None or self.current_lon is None:
            return self.danger_lat, self.danger_lon
        return self.current_lat, self.current_lon


@dataclass(frozen=True, slots=True)
class Weights:
    """Integer cost weights in metres-equivalent: one unit of cost weighs as one metre of travel.

    Only the differences between options matter, so each default is chosen as "how many
    kilometres further would we rather travel than do this".
    """

    # The yardstick: a kilometre of travel is 1,000 metres-equivalent. Travel is what a client
    # at night feels most, so everything else is expressed as a detour.
    travel_per_km: int = 1_000
    # Secure places are the scarcest (about a quarter of locations) and the only ones a rood
    # case may use. A case takes a place one level more secure than it needs only when the
    # fitting place is over 50 km (roughly half an hour by car) further away; two levels
    # (rood for groen) only over 100 km.
    safety_surplus_per_level: int = 50_000
    # Family units are what families with children wait for; a single adult in a 4-bed unit
    # (3 spare beds) is worth a 30 km detour to a single room, one spare bed only 10 km.
    spare_bed: int = 10_000
    # The agreed principle is help in the own region where possible (school, work, network,
    # the region's own budget): an own-region place wins unless another is over 30 km nearer.
    # Not charged when the rules make a rood case leave its region (every option is outside).
    outside_origin_region: int = 30_000
    # Solidarity tie-breaker: each person the destination region took in recently costs
    # 100 m, so among nearly equal options the region that took in fewer is preferred ...
    recent_intake_per_person: int = 100
    # ... but never by more than 5 km in total, so it stays a tie-breaker between regions of
    # very different size instead of sending clients across the country.
    recent_intake_max: int = 5_000

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            # Negative weights would reward waste; bool is an int but never a weight.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name} must be a non-negative integer")


@dataclass(frozen=True, slots=True)
class Rules:
    min_distance_km: Mapping[str, int]
    rood_outside_origin_region: bool
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        for level in LEVELS:
            value = self.min_distance_km.get(level)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"min_distance_km[{level!r}] must be a non-negative integer")

    @classmethod
    def default(cls) -> Rules:
        """Return the contract's default policy with the default weights."""
        return cls(dict(DEFAULT_MIN_DISTANCE_KM), rood_outside_origin_region=True)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an option is safe or how it ranks: a code of OPTION_REASONS and its numbers."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Option:
    rank: int
    location_id: str
    location_name: str
    region_code: str
    unit_id: str
    beds: int
    safety_level: str
    distance_from_danger_km: int
    travel_km: int
    in_origin_region: bool
    cost: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: str
    locations: int


@dataclass(frozen=True, slots=True)
class Proposal:
    options: tuple[Option, ...]
    excluded: tuple[Exclusion, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    case_id: str
    unit_id: str | None
    location_id: str | None
    distance_from_danger_km: int | None
    travel_km: int | None
    cost: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class JointAssignment:
    assignments: tuple[Assignment, ...]
    placed: int
    total_cost: int
