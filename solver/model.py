"""The solver's data: what goes in (locations, free units, a case, the rules) and what comes out.

All are frozen dataclasses, so a Network built from them can be shared between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solver.vocabulary import LEVELS, REQUEST_TARGET_GROUPS, TARGET_GROUPS

# The contract's policy defaults (CONTRACT §3 Policy).
DEFAULT_MIN_DISTANCE_KM: Mapping[str, int] = {"groen": 0, "oranje": 25, "rood": 75}


def _check_level(value: str, what: str) -> None:
    if value not in LEVELS:
        raise ValueError(f"{what} must be one of {', '.join(LEVELS)}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Location:
    """A location as the solver sees it: somewhere within `radius_km` of (lat, lon).

    The service gives the location's public area here (its place's centre and radius), never
    its secret point, so nothing the solver answers can depend on the point. The distance
    from a danger is measured to the nearest point of the disc, travel to its centre.
    """

    id: str
    name: str
    region_code: str
    safety_level: str
    lat: float
    lon: float
    features: frozenset[str] = frozenset()
    radius_km: float = 0.0
    target_group: str = "women"
    accepts_night_intake: bool = True
    # The oldest boy (in years) the location takes in with his mother; None: no limit.
    accepts_boys_up_to_age: int | None = None
    # When the location's availability was last updated or confirmed (POSIX seconds);
    # None: unknown, counted as stale.
    availability_updated_s: float | None = None
    # The public place the location's area is drawn around (CONTRACT 4.1): shown on options.
    place: str = ""

    def __post_init__(self) -> None:
        _check_level(self.safety_level, "safety_level")
        if not self.radius_km >= 0:  # also rejects NaN
            raise ValueError("radius_km must be zero or more")
        if self.target_group not in TARGET_GROUPS:
            raise ValueError(f"target_group must be one of {', '.join(TARGET_GROUPS)}")
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
    # Further dangers (a family network), each (lat, lon, uncertainty_km): every rule about
    # the danger holds for each of them as for the first.
    more_dangers: tuple[tuple[float, float, float], ...] = ()
    target_group: str = "women"
    # The age of the oldest boy in the household, None when there is none (or unknown).
    oldest_boy_age: int | None = None
    # Whether she would arrive within the policy's night hours (the caller tells the time).
    at_night: bool = False
    # When the proposal is made (POSIX seconds), for the staleness of availability.
    now_s: float | None = None
    # A duty officer's override (CONTRACT 4.5): this rood case may stay in her origin
    # region. It lifts that one rule only; no distance or safety rule is ever relaxed.
    rood_in_origin_region_allowed: bool = False

    def __post_init__(self) -> None:
        _check_level(self.risk_level, "risk_level")
        if not self.danger_uncertainty_km >= 0:  # also rejects NaN
            raise ValueError("danger_uncertainty_km must be zero or more")
        if self.target_group not in REQUEST_TARGET_GROUPS:
            raise ValueError(f"target_group must be one of {', '.join(REQUEST_TARGET_GROUPS)}")
        object.__setattr__(self, "more_dangers", tuple(
            (float(lat), float(lon), float(km)) for lat, lon, km in self.more_dangers))
        if not all(km >= 0 for _, _, km in self.more_dangers):
            raise ValueError("a danger's uncertainty must be zero or more")
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
    # Availability older than the policy's stale_after_hours may be wrong (the best-known
    # failure of bed registries): a phone call to a stale place often ends in "full". At
    # equal travel a fresh place ranks first; a stale one wins only when over 20 km nearer.
    stale_availability: int = 20_000
    # Specialised places (honour-related violence, trafficking, men) go to a case that does
    # not need them only after every suitable general place; in a joint assignment this
    # cost (1,000 km) is larger than any difference of the other terms across the country.
    specialised_place: int = 1_000_000
    # For rood, distance from the danger beyond the minimum is a small benefit, never a cost:
    # travel that only moves her further from the danger is not charged, and each km of
    # margin (up to ROOD_MARGIN_CAP_KM) counts as this many metres less travel.
    rood_margin_per_km: int = 100

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            # Negative weights would reward waste; bool is an int but never a weight.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name} must be a non-negative integer")


# The margin beyond a rood minimum distance that still counts as a benefit.
ROOD_MARGIN_CAP_KM = 100


@dataclass(frozen=True, slots=True)
class Rules:
    min_distance_km: Mapping[str, int]
    rood_outside_origin_region: bool
    weights: Weights = field(default_factory=Weights)
    # A location is offered only where the danger is at least the minimum distance of its
    # own safety level away, whatever the case's risk level (CONTRACT 4.1).
    location_level_min_distance: bool = True
    stale_after_hours: int = 12

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
    availability_updated_s: float | None = None
    stale: bool = False
    place: str = ""


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: str
    locations: int


@dataclass(frozen=True, slots=True)
class Relaxation:
    """How many options the case would have with one of its needs dropped."""

    drop: str  # "needs:pets_allowed"
    options: int


@dataclass(frozen=True, slots=True)
class Proposal:
    options: tuple[Option, ...]
    excluded: tuple[Exclusion, ...]
    relaxations: tuple[Relaxation, ...] = ()


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
