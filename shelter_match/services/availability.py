"""Live availability: what each location has free now, and the hand changes to its units.

Everything here reads units through their effective status (unit_state): a hold past its
`held_until` frees its unit in every answer and every count, whether or not a sweeper ran.
What a caller sees of a location depends on who she is: the address and coordinates go
only to an admin and the location's own coordinators, and each such disclosure is audited.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, case, cast, func, select
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

_LOCATION_COLUMNS = (
    Location.id,
    Location.name,
    Location.region_code,
    Location.safety_level,
    cast(Location.features, String).label("features"),
    Location.accepts_night_intake,
    Location.availability_updated_at,
    Location.address,
    Location.lat,
    Location.lon,
)
# --- reading ---------------------------------------------------------------------------


def list_locations(
    session: Session, *, viewer: Principal, now: datetime, region_code: str | None = None
) -> list[dict[str, Any]]:
    """Return every location (of one region) with its free units and beds, best known now."""
    _check_region(session, region_code)
    summaries = _summaries(session, viewer=viewer, now=now, region_code=region_code)
    _audit_disclosure(session, viewer, summaries, now, listing=True, region_code=region_code)
    return summaries


def list_locations_json(
    session: Session, *, viewer: Principal, now: datetime, region_code: str | None = None
) -> str | None:
    """Return list_locations as JSON text written by PostgreSQL, or None where it is not.

    The national list is the hottest answer of the service (every crisis worker, every
    minute). Building 1,000 rows in Python and encoding them cost more than the query
    (measured: bench/availability.py); PostgreSQL writes the same JSON in the same pass.
    Only for a viewer who can see no address (no admin, no coordinator): this query does
    not even read the address and coordinates, and there is no disclosure to audit.
    Times are RFC 3339 in UTC with a Z, as the API writes them everywhere. None on SQLite
    and for other viewers: the caller then uses list_locations.
    """
    if session.get_bind().dialect.name != "postgresql" or viewer.is_admin \
            or viewer.role == "coordinator":
        return None
    _check_region(session, region_code)
    stale_before = now - timedelta(hours=get_policy(session).stale_after_hours)
    # Exactly the fields of the list, named as in the JSON: each row becomes one object.
    # Sorted once, by the aggregate: a sort inside the subquery would be thrown away.
    rows = _summary_query(
        now,
        (Location.id, Location.name, Location.region_code, Location.safety_level,
         Location.features, Location.accepts_night_intake),
        then=(_rfc3339_sql(Location.availability_updated_at).label("availability_updated_at"),
              (Location.availability_updated_at < stale_before).label("stale")),
        region_code=region_code,
    ).order_by(None).subquery("location")
    listing = func.json_agg(aggregate_order_by(rows.table_valued(), rows.c.name, rows.c.id))
    session.flush()
    return session.connection().scalar(select(func.coalesce(cast(listing, Text), "[]")))


def _check_region(session: Session, region_code: str | None) -> None:
    if region_code is not None and session.get(Region, region_code) is None:
        raise ValidationFailed({"region_code": [f"Unknown region code {region_code!r}."]})


def _rfc3339_sql(moment):
    """Return SQL writing a time as rfc3339() does: UTC, Z, microseconds only when not 0."""
    utc = func.timezone("UTC", moment)
    return case(
        (func.date_trunc("second", moment) == moment,
         func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        else_=func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    )


def get_location(
    session: Session, location_id: str, *, viewer: Principal, now: datetime
) -> dict[str, Any]:
    """Return one location with its units, as `viewer` may see it; audit a disclosure."""
    location = location_detail(session, location_id, viewer=viewer, now=now)
    _audit_disclosure(session, viewer, [location], now, listing=False)
    return location


def location_detail(
    session: Session, location_id: str, *, viewer: Principal, now: datetime
) -> dict[str, Any]:
    """Return one location with its units, as `viewer` may see it (no audit: for writers)."""
    found = _summaries(session, viewer=viewer, now=now, location_id=location_id)
    if not found:
        raise NotFound("No location with this id.")
    units = read_units(session, Unit.location_id == location_id)
    return {**found[0], "units": [_unit_view(unit, now) for unit in units]}


def get_unit(session: Session, unit_id: str, *, now: datetime) -> dict[str, Any]:
    """Return one unit with its effective status."""
    unit = read_unit(session, unit_id)
    if unit is None:
        raise NotFound("No unit with this id.")
    return _unit_view(unit, now)


def _summaries(
    session: Session,
    *,
    viewer: Principal,
    now: datetime,
    region_code: str | None = None,
    location_id: str | None = None,
) -> list[dict[str, Any]]:
    query = _summary_query(now, region_code=region_code, location_id=location_id)
    stale_before = now - timedelta(hours=get_policy(session).stale_after_hours)
    session.flush()  # the Core connection below does not autoflush pending ORM changes
    summaries = []
    # Core rather than session.execute: the ORM's per-row machinery costs more than the
    # query itself on a national list (measured: bench/availability.py).
    for (id_, name, region, level, features, night, updated_at, address, lat, lon,
         total, free_units, free_beds) in session.connection().execute(query).all():
        summary: dict[str, Any] = {
            "id": id_,
            "name": name,
            "region_code": region,
            "safety_level": level,
            "features": _feature_list(features),
            "accepts_night_intake": bool(night),
            "units_total": int(total),
            "units_free": int(free_units),
            "beds_free": int(free_beds),
            "availability_updated_at": updated_at,
            "stale": updated_at < stale_before,
        }
        # Discretion: the keys are absent, not null, for everyone else.
        if viewer.manages_location(id_):
            summary.update(address=address, lat=lat, lon=lon)
        summaries.append(summary)
    return summaries


def _summary_query(now: datetime, columns=_LOCATION_COLUMNS, *, then=(),
                   region_code: str | None = None, location_id: str | None = None):
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
    counts = counts.subquery()
    query = (
        select(
            *columns,
            func.coalesce(counts.c.units_total, 0).label("units_total"),
            func.coalesce(counts.c.units_free, 0).label("units_free"),
            func.coalesce(counts.c.beds_free, 0).label("beds_free"),
            *then,
        )
        .outerjoin(counts, counts.c.location_id == Location.id)
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
    locations: list[dict[str, Any]],
    now: datetime,
    *,
    listing: bool,
    region_code: str | None = None,
) -> None:
    # Every answer that carries an address is audited. The event names the location that
    # was shown, and counts those of a list (an admin's list is every location of the
    # filter; a coordinator's, her own), so a national list does not write 1,000 ids.
    disclosed = [location["id"] for location in locations if "address" in location]
    if not disclosed:
        return
    if not listing:
        audit.record(session, actor=viewer, action="location.address_disclosed",
                     object_type="location", object_id=disclosed[0], now=now)
    else:
        audit.record(session, actor=viewer, action="location.addresses_listed",
                     object_type="location", object_id=None, now=now,
                     locations=len(disclosed), region_code=region_code)


def _unit_view(unit: UnitRecord, now: datetime) -> dict[str, Any]:
    status = effective_status(unit, now)
    return {
        "id": unit.id,
        "location_id": unit.location_id,
        "label": unit.label,
        "beds": unit.beds,
        "status": status,
        "held_until": unit.held_until if status == "held" else None,
        "version": unit.version,
        "updated_at": unit.updated_at,
    }


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
) -> dict[str, Any]:
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
    return _unit_view(changed, now)


# --- confirmations and history ---------------------------------------------------------


@command
def confirm_availability(
    session: Session, location_id: str, *, actor: Principal, now: datetime
) -> dict[str, Any]:
    """Record "checked, still correct" for a location: its availability is fresh as of now."""
    get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    mark_availability_checked(session, location_id, now)
    audit.record(session, actor=actor, action="location.availability_confirmed",
                 object_type="location", object_id=location_id, now=now)
    return {
        "location_id": location_id,
        "confirmed_at": now,
        "availability_updated_at": now,
        "stale": False,
    }


def list_unit_changes(
    session: Session,
    location_id: str,
    *,
    actor: Principal,
    since: datetime | None = None,
    unit_id: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
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
        {
            "id": change.id,
            "unit_id": change.unit_id,
            "changed_at": change.changed_at,
            "changed_by": user_name,
            "cause": change.cause,
            "from_status": change.from_status,
            "to_status": change.to_status,
            "from_beds": change.from_beds,
            "to_beds": change.to_beds,
        }
        for change, user_name in session.execute(query)
    ]

