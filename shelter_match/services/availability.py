"""Live availability: what each location has free now, and the hand changes to its units.

Everything here reads units through their effective status (unit_state): a hold past its
`held_until` frees its unit in every answer and every count, whether or not a sweeper ran.
What a caller sees of a location depends on who she is: the address and coordinates go
only to an admin and the location's own coordinators, and each such disclosure is audited.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.models import (
    Location,
    Region,
    Unit,
    UnitChange,
    User,
)
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.locations import (
    get_location_or_404,
    require_manager,
    validate_unit_values,
)
from shelter_match.services.policy import get_policy
from shelter_match.services.public_areas import PublicArea
from shelter_match.services.unit_state import (
    UnitRecord,
    effective_status,
    is_free_sql,
    mark_availability_checked,
    read_unit,
    read_units,
    set_by_hand,
)

MAX_HISTORY_ROWS = 5000
# What the summary holds only for those entitled to it (admin, the location's coordinators).
SECRET_FIELDS = ("address", "lat", "lon")


@dataclass(frozen=True)
class UnitView:
    """A unit as it is at a moment: its effective status (an expired hold reads as free)."""

    id: str
    location_id: str
    label: str
    beds: int
    status: str
    held_until: datetime | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class LocationSummary:
    """A location with what it has free now; its secret point only for the entitled."""

    id: str
    name: str
    region_code: str
    safety_level: str
    features: list[str]
    accepts_night_intake: bool
    units_total: int
    units_free: int
    beds_free: int
    availability_updated_at: datetime
    stale: bool
    place: str  # the public place and area: every role sees them (CONTRACT 4.1)
    gemeente_code: str
    public_area: PublicArea
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    target_group: str = "women"
    accepts_boys_up_to_age: int | None = None

    @property
    def shows_address(self) -> bool:
        """Return whether this view carries the secret address and coordinates."""
        return self.address is not None


@dataclass(frozen=True)
class LocationDetail(LocationSummary):
    """A location with its units, by label."""

    units: list[UnitView] = field(default_factory=list)


@dataclass(frozen=True)
class AvailabilityConfirmation:
    """A coordinator's "checked, still correct"."""

    location_id: str
    confirmed_at: datetime
    availability_updated_at: datetime
    stale: bool


@dataclass(frozen=True)
class UnitChangeView:
    """One change of a unit: who (None: the system), when, why, from what to what."""

    id: int
    unit_id: str
    changed_at: datetime
    changed_by: str | None
    cause: str
    from_status: str | None
    to_status: str
    from_beds: int | None
    to_beds: int


_LOCATION_COLUMNS = (
    Location.id,
    Location.name,
    Location.region_code,
    Location.safety_level,
    cast(Location.features, String).label("features"),
    Location.accepts_night_intake,
    Location.target_group,
    Location.accepts_boys_up_to_age,
    Location.availability_updated_at,
    Location.place,
    Location.gemeente_code,
    Location.area_lat,
    Location.area_lon,
    Location.area_radius_km,
    Location.address,
    Location.lat,
    Location.lon,
)
# --- reading ---------------------------------------------------------------------------


def list_locations(
    session: Session, *, viewer: Principal, now: datetime, region_code: str | None = None
) -> list[LocationSummary]:
    """Return every location (of one region) with its free units and beds, best known now."""
    _check_region(session, region_code)
    summaries = _summaries(session, viewer=viewer, now=now, region_code=region_code)
    _audit_disclosure(session, viewer, summaries, now, listing=True, region_code=region_code)
    return summaries


def list_locations_json(
    session: Session, *, viewer: Principal, now: datetime, region_code: str | None = None
) -> str | None:
    """Return list_locations as JSON text written by PostgreSQL, or None where it is not.

    The one fast path of the API's serialisation. The national list is the hottest answer
    of the service (every crisis worker, every minute); building 1,000 summaries in Python
    and dumping them through the schema cost more than the query itself (measured with
    bench/availability.py at 10x scale: 18 ms for this query against 26 ms of rows plus
    32 ms of marshmallow), while PostgreSQL writes the same JSON in the same pass. For a
    viewer who sees no address this query does not even read the address and coordinates;
    an admin sees every one, and the list is audited as list_locations audits it. None on
    SQLite and for a coordinator (addresses of some locations only): the caller then dumps
    list_locations through the schema. A test holds the two to the same JSON.
    """
    if session.get_bind().dialect.name != "postgresql" or viewer.role == "coordinator":
        return None
    _check_region(session, region_code)
    stale_before = now - timedelta(hours=get_policy(session).stale_after_hours)
    secrets = (Location.address, Location.lat, Location.lon) if viewer.is_admin else ()
    # Exactly the fields of the list, named as in the JSON: each row becomes one object.
    # Sorted once, by the aggregate: a sort inside the subquery would be thrown away.
    rows = _summary_query(
        now,
        (Location.id, Location.name, Location.region_code, Location.safety_level,
         Location.features, Location.accepts_night_intake, Location.target_group,
         Location.accepts_boys_up_to_age),
        then=(rfc3339_sql(Location.availability_updated_at).label("availability_updated_at"),
              (Location.availability_updated_at < stale_before).label("stale"),
              Location.place, Location.gemeente_code,
              func.json_build_object("lat", Location.area_lat, "lon", Location.area_lon,
                                     "radius_km", Location.area_radius_km
                                     ).label("public_area"), *secrets),
        region_code=region_code,
    ).order_by(None).subquery("location")
    listing = func.json_agg(aggregate_order_by(rows.table_valued(), rows.c.name, rows.c.id))
    session.flush()
    body, count = session.connection().execute(
        select(func.coalesce(cast(listing, Text), "[]"), func.count())).one()
    if secrets and count:
        _audit_listing(session, viewer, count, now, region_code)
    text: str = body
    return text


def _check_region(session: Session, region_code: str | None) -> None:
    if region_code is not None and session.get(Region, region_code) is None:
        raise ValidationFailed({"region_code": [f"Unknown region code {region_code!r}."]})


def rfc3339_sql(moment: Any) -> Any:
    """Return SQL writing a time as clock.rfc3339 does: UTC, to the second, with a Z."""
    return func.to_char(func.timezone("UTC", moment), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def get_location(
    session: Session, location_id: str, *, viewer: Principal, now: datetime
) -> LocationDetail:
    """Return one location with its units, as `viewer` may see it; audit a disclosure."""
    location = location_detail(session, location_id, viewer=viewer, now=now)
    _audit_disclosure(session, viewer, [location], now, listing=False)
    return location


def location_detail(
    session: Session, location_id: str, *, viewer: Principal, now: datetime
) -> LocationDetail:
    """Return one location with its units, as `viewer` may see it (no audit: for writers)."""
    found = _summaries(session, viewer=viewer, now=now, location_id=location_id)
    if not found:
        raise NotFound("No location with this id.")
    units = read_units(session, Unit.location_id == location_id)
    return LocationDetail(**vars(found[0]), units=[unit_view(unit, now) for unit in units])


def get_unit(session: Session, unit_id: str, *, now: datetime) -> UnitView:
    """Return one unit with its effective status."""
    unit = read_unit(session, unit_id)
    if unit is None:
        raise NotFound("No unit with this id.")
    return unit_view(unit, now)


def _summaries(
    session: Session,
    *,
    viewer: Principal,
    now: datetime,
    region_code: str | None = None,
    location_id: str | None = None,
) -> list[LocationSummary]:
    query = _summary_query(now, region_code=region_code, location_id=location_id)
    stale_before = now - timedelta(hours=get_policy(session).stale_after_hours)
    session.flush()  # the Core connection below does not autoflush pending ORM changes
    summaries = []
    # Core rather than session.execute: the ORM's per-row machinery costs more than the
    # query itself on a national list (measured: bench/availability.py).
    for (id_, name, region, level, features, night, target_group, boys_up_to_age, updated_at,
         place, gemeente_code, area_lat, area_lon, area_radius_km, address, lat, lon,
         total, free_units, free_beds) in session.connection().execute(query).all():
        # Discretion: the secret point stays in the database for everyone else.
        entitled = viewer.manages_location(id_)
        area = PublicArea(place, gemeente_code, area_lat, area_lon, area_radius_km)
        summaries.append(LocationSummary(
            id_, name, region, level, _feature_list(features), bool(night), int(total),
            int(free_units), int(free_beds), updated_at, updated_at < stale_before,
            place, gemeente_code, area,
            address=address if entitled else None, lat=lat if entitled else None,
            lon=lon if entitled else None,
            target_group=target_group, accepts_boys_up_to_age=boys_up_to_age))
    return summaries


def _summary_query(now: datetime, columns: Sequence[Any] = _LOCATION_COLUMNS, *,
                   then: Sequence[Any] = (), region_code: str | None = None,
                   location_id: str | None = None) -> Any:
    """Return the SELECT of the locations' `columns`, their unit counts and `then`, by name."""
    # One query: the units are counted per location by the database (GROUP BY) and joined
    # to the locations, so a national list costs one round trip and no ORM object per unit.
    free = is_free_sql(now)
    counts = select(
        Unit.location_id,
        func.count().label("units_total"),
        func.count().filter(free).label("units_free"),
        func.sum(Unit.beds).filter(free).label("beds_free"),
    ).group_by(Unit.location_id)
    if location_id is not None:
        counts = counts.where(Unit.location_id == location_id)
    elif region_code is not None:
        counts = counts.join(Location, Location.id == Unit.location_id).where(
            Location.region_code == region_code
        )
    totals = counts.subquery()
    query = (
        select(
            *columns,
            func.coalesce(totals.c.units_total, 0).label("units_total"),
            func.coalesce(totals.c.units_free, 0).label("units_free"),
            func.coalesce(totals.c.beds_free, 0).label("beds_free"),
            *then,
        )
        .outerjoin(totals, totals.c.location_id == Location.id)
        .order_by(Location.name, Location.id)
    )
    if location_id is not None:
        query = query.where(Location.id == location_id)
    if region_code is not None:
        query = query.where(Location.region_code == region_code)
    return query


# A location's features are read as their JSON text: a handful of distinct lists repeat
# over a thousand locations, and decoding each row's JSON cost more than the whole query.
_decoded_features: dict[str, tuple[str, ...]] = {}


def _feature_list(text: str | None) -> list[str]:
    if text is None:
        return []
    decoded = _decoded_features.get(text)
    if decoded is None:
        decoded = tuple(json.loads(text))
        if len(_decoded_features) < 4096:
            _decoded_features[text] = decoded
    return list(decoded)


def _audit_disclosure(
    session: Session,
    viewer: Principal,
    locations: Sequence[LocationSummary],
    now: datetime,
    *,
    listing: bool,
    region_code: str | None = None,
) -> None:
    # Every answer that carries an address is audited. The event names the location that
    # was shown, and counts those of a list (an admin's list is every location of the
    # filter; a coordinator's, her own), so a national list does not write 1,000 ids.
    disclosed = [location.id for location in locations if location.shows_address]
    if not disclosed:
        return
    if not listing:
        audit.record(session, actor=viewer, action="location.address_disclosed",
                     object_type="location", object_id=disclosed[0], now=now)
    else:
        _audit_listing(session, viewer, len(disclosed), now, region_code)


def _audit_listing(session: Session, viewer: Principal, count: int, now: datetime,
                   region_code: str | None) -> None:
    audit.record(session, actor=viewer, action="location.addresses_listed",
                 object_type="location", object_id=None, now=now,
                 locations=count, region_code=region_code)


def unit_view(unit: UnitRecord, now: datetime) -> UnitView:
    """Return a unit as it is at `now`: an expired hold reads as free, without held_until."""
    status = effective_status(unit, now)
    return UnitView(unit.id, unit.location_id, unit.label, unit.beds, status,
                    unit.held_until if status == "held" else None, unit.version,
                    unit.updated_at)


def without_secrets(location: LocationDetail) -> LocationDetail:
    """Return a location as a page that must never carry its address shows it."""
    return replace(location, address=None, lat=None, lon=None)


# --- changing a unit by hand -----------------------------------------------------------


@command
def update_unit(
    session: Session,
    unit_id: str,
    *,
    actor: Principal,
    now: datetime,
    status: str | None = None,
    beds: int | None = None,
    if_match: Collection[int] | None = None,
) -> UnitView:
    """Set a unit's status and/or beds by hand; return the unit with its new version.

    `if_match` holds the versions the caller accepts (from If-Match); None applies the
    change to the current version (unit_state.set_by_hand has the rules).
    """
    if status is None and beds is None:
        message = "Send status, beds or both."
        raise ValidationFailed({"status": [message], "beds": [message]})
    errors = validate_unit_values(status, beds)
    if errors:
        raise ValidationFailed(errors)
    current = read_unit(session, unit_id)
    if current is None:
        raise NotFound("No unit with this id.")
    require_manager(actor, current.location_id)
    changed = set_by_hand(session, current, actor=actor, now=now, status=status, beds=beds,
                          if_match=if_match)
    return unit_view(changed, now)


# --- confirmations and history ---------------------------------------------------------


@command
def confirm_availability(
    session: Session, location_id: str, *, actor: Principal, now: datetime
) -> AvailabilityConfirmation:
    """Record "checked, still correct" for a location: its availability is fresh as of now."""
    get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    mark_availability_checked(session, location_id, now)
    audit.record(session, actor=actor, action="location.availability_confirmed",
                 object_type="location", object_id=location_id, now=now)
    return AvailabilityConfirmation(location_id, confirmed_at=now, availability_updated_at=now,
                                    stale=False)


def list_unit_changes(
    session: Session,
    location_id: str,
    *,
    actor: Principal,
    since: datetime | None = None,
    unit_id: str | None = None,
    limit: int = 1000,
) -> list[UnitChangeView]:
    """Return the history of a location's units, oldest first (admin or its coordinator)."""
    get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    query = (
        select(UnitChange, User.name)
        .outerjoin(User, User.id == UnitChange.changed_by)
        .where(UnitChange.location_id == location_id)
        .order_by(UnitChange.changed_at, UnitChange.id)
        .limit(max(1, min(limit, MAX_HISTORY_ROWS)))
    )
    if since is not None:
        query = query.where(UnitChange.changed_at >= since)
    if unit_id is not None:
        query = query.where(UnitChange.unit_id == unit_id)
    return [
        UnitChangeView(change.id, change.unit_id, change.changed_at, user_name, change.cause,
                       change.from_status, change.to_status, change.from_beds, change.to_beds)
        for change, user_name in session.execute(query)
    ]
