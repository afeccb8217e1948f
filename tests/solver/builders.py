"""Small builders for hand-made solver instances: points at exact geodesic distances."""

from __future__ import annotations

from geopy.distance import geodesic

from solver import Case, FreeUnit, Location, Network, Option, Rules, Weights

# The danger in the tests: the centre of Utrecht, in the middle of the country, so that a
# point 150 km away in any direction is still in (or near) the Netherlands.
DANGER = (52.0907, 5.1214)
ORIGIN = "GM0344"  # Utrecht
OTHER = "GM0363"  # Amsterdam
THIRD = "GM0599"  # Rotterdam


def point_at(km: float, bearing: float = 0.0, start: tuple[float, float] = DANGER):
    """Return (lat, lon) exactly `km` (geodesic) from `start` in direction `bearing`."""
    p = geodesic(kilometers=km).destination(start, bearing)
    return p.latitude, p.longitude


def location(
    id: str,
    km: float,
    *,
    bearing: float = 0.0,
    region: str = OTHER,
    level: str = "rood",
    features: frozenset[str] = frozenset(),
    start: tuple[float, float] = DANGER,
    **extra,
) -> Location:
    """Return a location `km` from the start point (the danger by default)."""
    lat, lon = point_at(km, bearing, start)
    return Location(id, f"Locatie {id}", region, level, lat, lon, features, **extra)


def units_for(*locations: Location, beds: int = 4) -> list[FreeUnit]:
    """Return one free unit of `beds` beds at each location."""
    return [FreeUnit(f"{loc.id}-u", loc.id, beds) for loc in locations]


def case(
    risk: str = "oranje",
    household: int = 1,
    *,
    origin: str = ORIGIN,
    current: tuple[float, float] | None = None,
    id: str = "case-1",
    **extra,
) -> Case:
    """Return a case whose danger is DANGER."""
    return Case(
        id=id,
        origin_region_code=origin,
        risk_level=risk,
        danger_lat=DANGER[0],
        danger_lon=DANGER[1],
        current_lat=current[0] if current else None,
        current_lon=current[1] if current else None,
        household_size=household,
        **extra,
    )


def network(locations, units=None) -> Network:
    """Return the network of these locations; one 4-bed unit each unless units are given."""
    return Network.build(locations, units_for(*locations) if units is None else units)


def rules(rood_outside_origin_region: bool = True, *, location_level: bool = False,
          stale_after_hours: int = 12, **weights) -> Rules:
    """Return the contract's default distances (groen 0, oranje 25, rood 75 km).

    The location-level rule (CONTRACT 4.1) is off unless asked for: most instances here
    put rood locations near the danger to test one other rule at a time; its own tests
    (test_rules_v2.py) turn it on, as the policy does by default.
    """
    return Rules(
        {"groen": 0, "oranje": 25, "rood": 75},
        rood_outside_origin_region=rood_outside_origin_region,
        weights=Weights(**weights),
        location_level_min_distance=location_level,
        stale_after_hours=stale_after_hours,
    )


def words(option: Option) -> list[str]:
    """Return an option's reasons as the API writes them (api/reasons.py), to read in tests."""
    from api.reasons import sentences

    return sentences(option.reasons)
