"""Build test data through the real services (never by hand-written rows)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from sqlalchemy.orm import Session

from shelter_match.clock import Clock
from shelter_match.models import Location, User
from shelter_match.services import users
from shelter_match.services.locations import LocationData, UnitData, create_location

_names = count(1)


@dataclass
class Caller:
    """A user and her token, with the headers to call the API as her."""

    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_caller(
    session: Session,
    clock: Clock,
    role: str,
    *,
    location_ids: tuple[str, ...] = (),
    region_code: str | None = None,
    organisation: str | None = None,
) -> Caller:
    """Create a user with a role and return her with her token."""
    user, token = users.create_user(
        session,
        name=f"{role}-{next(_names)}",
        role=role,
        now=clock.now(),
        location_ids=location_ids,
        region_code=region_code,
        organisation=organisation,
    )
    session.flush()
    return Caller(user, token)


def make_location(
    session: Session,
    clock: Clock,
    *,
    name: str | None = None,
    region_code: str | None = None,
    safety_level: str = "oranje",
    lat: float | None = None,
    lon: float | None = None,
    address: str = "Geheime Laan 1, Utrecht",
    features: tuple[str, ...] = (),
    units: tuple[tuple[str, int], ...] = (("A", 1), ("B", 4)),
    **extra: object,
) -> Location:
    """Create a location with units through the locations service.

    `extra`: further LocationData fields (target_group, accepts_night_intake, ...).

    Without coordinates it lies half a kilometre from its region's centre (a location must
    lie in its region; not on the centre itself, which the regions list publishes). Without
    a region (default Utrecht, GM0344) it is the region of the gemeente its point lies in.
    """
    if region_code is None:
        from shelter_match.services.places import region_of_point

        located = region_of_point(session, lat, lon) if lat is not None and lon is not None \
            else None
        region_code = located or "GM0344"
    if lat is None or lon is None:
        from shelter_match.models import Region

        region = session.get(Region, region_code)
        lat, lon = ((round(region.lat + 0.0043, 5), round(region.lon + 0.0061, 5)) if region
                    else (52.0943, 5.1261))
    location = create_location(
        session,
        LocationData(
            name=name or f"Opvang {next(_names)}",
            region_code=region_code,
            safety_level=safety_level,
            lat=lat,
            lon=lon,
            address=address,
            features=features,
            units=[UnitData(label, beds) for label, beds in units],
            **extra,  # type: ignore[arg-type]
        ),
        now=clock.now(),
    )
    session.flush()
    return location


def make_placement(
    session: Session,
    clock: Clock,
    *,
    started_at,
    ended_at=None,
    origin: str = "GM0599",
    destination: str = "GM0344",
    household_size: int = 1,
    unit=None,
    case_reference: str | None = None,
):
    """Insert a placed request and its placement the way the demo history does.

    Without `unit`, a new location with one unit is made in the destination region.
    """
    from sqlalchemy import select

    from seed.history import HistoryPlacement, history_user_id, insert_history
    from shelter_match.models import Unit

    if unit is None:
        location = make_location(session, clock, region_code=destination, units=(("A", 6),))
        unit = session.scalars(select(Unit).where(Unit.location_id == location.id)).one()
    placement = HistoryPlacement(
        case_reference=case_reference or f"TEST-{next(_names)}",
        unit_id=unit.id,
        location_id=unit.location_id,
        origin_region_code=origin,
        destination_region_code=destination,
        risk_level="oranje",
        adults=1,
        children=household_size - 1,
        danger_lat=52.0,
        danger_lon=4.5,
        started_at=started_at,
        ended_at=ended_at,
    )
    insert_history(session, [placement], created_by=history_user_id(session, clock.now()))
    session.flush()
    return placement


def principal_of(session: Session, caller: Caller):
    """Return the services' view of a caller (her role and location scope)."""
    from shelter_match.services.auth import principal_for

    return principal_for(session, caller.user)


def make_request(
    session: Session,
    clock: Clock,
    caller: Caller,
    *,
    case_reference: str | None = None,
    origin_region_code: str = "GM0599",
    risk_level: str = "oranje",
    danger_place: str | None = "Schiedam",
    danger: tuple[float, float] | None = None,
    current: tuple[float, float] | None = None,
    adults: int = 1,
    children: int = 0,
    needs: tuple[str, ...] = (),
    excluded_region_codes: tuple[str, ...] = (),
    excluded_location_ids: tuple[str, ...] = (),
):
    """Create a placement request through the requests service, as `caller`."""
    from shelter_match.services.requests import PointData, RequestData, create_request

    point = PointData(lat=danger[0], lon=danger[1]) if danger else PointData(place=danger_place)
    request = create_request(
        session,
        RequestData(
            case_reference=case_reference or f"VT-2026-{next(_names):04d}",
            origin_region_code=origin_region_code,
            risk_level=risk_level,
            danger=point,
            current=PointData(lat=current[0], lon=current[1]) if current else None,
            adults=adults,
            children=children,
            needs=needs,
            excluded_region_codes=excluded_region_codes,
            excluded_location_ids=excluded_location_ids,
        ),
        actor=principal_of(session, caller),
        now=clock.now(),
    )
    session.flush()
    return request


def hold_unit_for_test(
    session: Session,
    clock: Clock,
    unit_id: str,
    *,
    adults: int = 1,
    children: int = 0,
    minutes: int = 30,
):
    """Insert an active hold on a unit by hand, with the unit marked held, as holds leave it.

    For availability tests that must not depend on the holds service: a request of the given
    household, a hold expiring in `minutes`, and the unit `held` until then (version + 1).
    """
    from datetime import timedelta

    from sqlalchemy import update

    from shelter_match.models import Hold, PlacementRequest, Unit

    worker = make_caller(session, clock, "crisis_worker")
    unit = session.get(Unit, unit_id)
    now = clock.now()
    expires_at = now + timedelta(minutes=minutes)
    request = PlacementRequest(
        case_reference=f"TEST-HOLD-{next(_names)}", created_by=worker.user.id,
        origin_region_code="GM0599", risk_level="oranje", danger_lat=51.92, danger_lon=4.40,
        adults=adults, children=children, status="open", created_at=now,
    )
    session.add(request)
    session.flush()
    hold = Hold(request_id=request.id, unit_id=unit.id, location_id=unit.location_id,
                created_by=worker.user.id, created_at=now, expires_at=expires_at,
                status="active")
    session.add(hold)
    session.execute(
        update(Unit).where(Unit.id == unit.id)
        .values(status="held", held_until=expires_at, version=Unit.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire(unit)
    return hold


def place_unit_for_test(session: Session, clock: Clock, unit_id: str, *, household_size: int = 1):
    """Insert an open placement in a unit by hand, with the unit occupied (version + 1)."""
    from sqlalchemy import update

    from shelter_match.models import Location, Placement, PlacementRequest, Unit

    worker = make_caller(session, clock, "crisis_worker")
    unit = session.get(Unit, unit_id)
    location = session.get(Location, unit.location_id)
    now = clock.now()
    request = PlacementRequest(
        case_reference=f"TEST-PLACED-{next(_names)}", created_by=worker.user.id,
        origin_region_code="GM0599", risk_level="oranje", danger_lat=51.92, danger_lon=4.40,
        adults=1, children=household_size - 1, status="placed", created_at=now, closed_at=now,
    )
    session.add(request)
    session.flush()
    placement = Placement(
        request_id=request.id, unit_id=unit.id, location_id=unit.location_id,
        origin_region_code="GM0599", destination_region_code=location.region_code,
        household_size=household_size, created_by=worker.user.id, started_at=now,
    )
    session.add(placement)
    session.execute(
        update(Unit).where(Unit.id == unit.id)
        .values(status="occupied", held_until=None, version=Unit.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire(unit)
    return placement
