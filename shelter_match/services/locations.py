"""Create locations and their units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from shelter_match.errors import ValidationFailed
from shelter_match.models import Location, Region, Unit
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.unit_state import record_change
from solver.vocabulary import FEATURES, LEVELS

# The service is for the Netherlands; a point outside this box is a typo (lat/lon swapped).
NL_LAT = (50.5, 53.8)
NL_LON = (3.0, 7.5)
MAX_BEDS_PER_UNIT = 20


@dataclass(frozen=True)
class UnitData:
    label: str
    beds: int
    status: str = "free"


@dataclass(frozen=True)
class LocationData:
    name: str
    region_code: str
    safety_level: str
    lat: float
    lon: float
    address: str
    features: Sequence[str] = ()
    accepts_night_intake: bool = True
    units: Sequence[UnitData] = field(default_factory=tuple)


def validate_location(session: Session, data: LocationData) -> dict[str, list[str]]:
    """Return the field errors of a new location (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Must not be empty."]
    if session.get(Region, data.region_code) is None:
        errors["region_code"] = [f"Unknown region code {data.region_code!r}."]
    if data.safety_level not in LEVELS:
        errors["safety_level"] = [f"Must be one of: {', '.join(LEVELS)}."]
    if not NL_LAT[0] <= data.lat <= NL_LAT[1]:
        errors["lat"] = [f"Must lie in the Netherlands ({NL_LAT[0]} to {NL_LAT[1]})."]
    if not NL_LON[0] <= data.lon <= NL_LON[1]:
        errors["lon"] = [f"Must lie in the Netherlands ({NL_LON[0]} to {NL_LON[1]})."]
    if not data.address.strip():
        errors["address"] = ["Must not be empty."]
    unknown = sorted(set(data.features) - set(FEATURES))
    if unknown:
        errors["features"] = [f"Unknown feature(s): {', '.join(unknown)}."]
    errors.update(validate_units(data.units))
    return errors


def validate_units(units: Sequence[UnitData], prefix: str = "units") -> dict[str, list[str]]:
    """Return the field errors of new units, named like `units.2.beds`."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, unit in enumerate(units):
        if not unit.label.strip():
            errors[f"{prefix}.{index}.label"] = ["Must not be empty."]
        elif unit.label in seen:
            errors[f"{prefix}.{index}.label"] = [f"Label {unit.label!r} is used twice."]
        seen.add(unit.label)
        if not 0 <= unit.beds <= MAX_BEDS_PER_UNIT:
            errors[f"{prefix}.{index}.beds"] = [f"Must be from 0 to {MAX_BEDS_PER_UNIT}."]
        if unit.status not in ("free", "occupied", "closed"):
            errors[f"{prefix}.{index}.status"] = ["Must be free, occupied or closed."]
    return errors


def create_location(
    session: Session, data: LocationData, *, now: datetime, actor: Principal | None = None
) -> Location:
    """Create a location with its units; raise ValidationFailed and write nothing if invalid."""
    errors = validate_location(session, data)
    if errors:
        raise ValidationFailed(errors)
    location = Location(
        name=data.name.strip(),
        region_code=data.region_code,
        safety_level=data.safety_level,
        lat=data.lat,
        lon=data.lon,
        address=data.address.strip(),
        features=sorted(set(data.features)),
        accepts_night_intake=data.accepts_night_intake,
        created_at=now,
        availability_updated_at=now,
    )
    session.add(location)
    session.flush()
    for unit_data in data.units:
        add_unit(session, location, unit_data, now=now, actor=actor, audited=False)
    audit.record(
        session,
        actor=actor,
        action="location.created",
        object_type="location",
        object_id=location.id,
        now=now,
        units=len(data.units),
    )
    return location


def add_unit(
    session: Session,
    location: Location,
    data: UnitData,
    *,
    now: datetime,
    actor: Principal | None = None,
    audited: bool = True,
) -> Unit:
    """Add one unit to a location and record it in the unit history."""
    unit = Unit(
        location_id=location.id,
        label=data.label.strip(),
        beds=data.beds,
        status=data.status,
        version=1,
        updated_at=now,
    )
    session.add(unit)
    session.flush()
    record_change(
        session,
        unit_id=unit.id,
        location_id=location.id,
        now=now,
        actor=actor,
        cause="created",
        from_status=None,
        to_status=unit.status,
        from_beds=None,
        to_beds=unit.beds,
    )
    if audited:
        audit.record(
            session,
            actor=actor,
            action="unit.created",
            object_type="unit",
            object_id=unit.id,
            now=now,
            location_id=location.id,
            beds=unit.beds,
        )
    return unit
