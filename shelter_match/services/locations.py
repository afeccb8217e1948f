"""Create and edit locations and their units; decide who may change them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import Forbidden, NotFound, ValidationFailed
from shelter_match.models import Location, Region, Unit
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.matcher_signal import wake_matcher
from shelter_match.services.places import location_point_errors
from shelter_match.services.public_areas import PublicArea, contains, derive, place_errors
from shelter_match.services.unit_state import mark_availability_checked, record_change
from solver.vocabulary import FEATURES, LEVELS, TARGET_GROUPS

# The service is for the Netherlands; a point outside this box is a typo (lat/lon swapped).
NL_LAT = (50.5, 53.8)
NL_LON = (3.0, 7.5)
MAX_BEDS_PER_UNIT = 20
MAX_NAME = 120
MAX_ADDRESS = 300
MAX_LABEL = 60
# What a coordinator may set by hand; `held` comes only from a hold on a placement request.
SETTABLE_STATUSES = ("free", "occupied", "closed")
HELD_BY_HAND = "A unit becomes held only through a hold; set free, occupied or closed."
# The fields an admin may edit after creation (PATCH /locations/{id}).
EDITABLE_FIELDS = (
    "name", "safety_level", "features", "accepts_night_intake", "address", "lat", "lon",
    "place", "target_group", "accepts_boys_up_to_age",
)
MAX_BOY_AGE = 17
# Never written to the audit log, logs or errors: only their names are.
SECRET_FIELDS = ("address", "lat", "lon")


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
    # The public place (CONTRACT 4.1); None: the place that holds the point.
    place: str | None = None
    # None: `all` when the v1 feature `men` is given, else `women` (CONTRACT 4.2).
    target_group: str | None = None
    accepts_boys_up_to_age: int | None = None


def validate_location(session: Session, data: LocationData) -> dict[str, list[str]]:
    """Return the field errors of a new location (empty when it is valid)."""
    errors = validate_location_fields(
        session,
        {
            "name": data.name,
            "region_code": data.region_code,
            "safety_level": data.safety_level,
            "lat": data.lat,
            "lon": data.lon,
            "address": data.address,
            "features": data.features,
            "accepts_boys_up_to_age": data.accepts_boys_up_to_age,
            **({"target_group": data.target_group} if data.target_group is not None else {}),
        },
    )
    if not errors.keys() & {"lat", "lon", "region_code"}:
        errors.update(location_point_errors(session, data.lat, data.lon, data.region_code))
    if not errors.keys() & {"lat", "lon"}:
        _area, problems = public_area_of(data.place, data.lat, data.lon)
        if problems:
            errors["place"] = problems
    errors.update(validate_units(data.units))
    return errors


def public_area_of(place: object, lat: float, lon: float) -> tuple[PublicArea | None, list[str]]:
    """Return the public area of a location at (lat, lon): of the place given, else derived
    from the point; or the errors of `place`. Never names the point (it is secret)."""
    if place is not None:
        return place_errors(place, lat, lon)
    area = derive(lat, lon)
    if area is None:
        return None, ["No woonplaats or gemeente of at most 15 km holds this point: give the "
                      "place whose name may be shown for this location."]
    return area, []


def _set_area(location: Location, area: PublicArea) -> None:
    location.place, location.gemeente_code = area.place, area.gemeente_code
    location.area_lat, location.area_lon = area.lat, area.lon
    location.area_radius_km = area.radius_km


def validate_location_fields(session: Session, fields: dict[str, object]) -> dict[str, list[str]]:
    """Return the errors of the location fields present in `fields`."""
    errors: dict[str, list[str]] = {}
    for name, limit in (("name", MAX_NAME), ("address", MAX_ADDRESS)):
        if name in fields:
            text = fields[name]
            if not isinstance(text, str) or not text.strip():
                errors[name] = ["Must not be empty."]
            elif len(text.strip()) > limit:
                errors[name] = [f"Must be at most {limit} characters."]
    if "region_code" in fields and session.get(Region, fields["region_code"]) is None:
        errors["region_code"] = [f"Unknown region code {fields['region_code']!r}."]
    if "safety_level" in fields and fields["safety_level"] not in LEVELS:
        errors["safety_level"] = [f"Must be one of: {', '.join(LEVELS)}."]
    for name, (low, high) in (("lat", NL_LAT), ("lon", NL_LON)):
        # The message names the range, never the value: coordinates are secret.
        value = fields.get(name)
        if name in fields and not (_is_number(value) and low <= value <= high):  # type: ignore[operator]
            errors[name] = [f"Must lie in the Netherlands ({low} to {high})."]
    if "features" in fields:
        features = fields["features"]
        if not isinstance(features, list | tuple) or not all(isinstance(f, str) for f in features):
            errors["features"] = ["Must be a list of feature names."]
        elif unknown := sorted(set(features) - set(FEATURES)):
            errors["features"] = [
                f"Unknown feature(s): {', '.join(unknown)}; use: {', '.join(FEATURES)}."
            ]
    if "accepts_night_intake" in fields and not isinstance(fields["accepts_night_intake"], bool):
        errors["accepts_night_intake"] = ["Must be true or false."]
    if "target_group" in fields and fields["target_group"] not in TARGET_GROUPS:
        errors["target_group"] = [f"Must be one of: {', '.join(TARGET_GROUPS)}."]
    if "accepts_boys_up_to_age" in fields:
        age = fields["accepts_boys_up_to_age"]
        if age is not None and not (isinstance(age, int) and not isinstance(age, bool)
                                    and 0 <= age <= MAX_BOY_AGE):
            errors["accepts_boys_up_to_age"] = [
                f"Must be a whole number of years from 0 to {MAX_BOY_AGE}, or null (no limit)."]
    return errors


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def validate_units(units: Sequence[UnitData], prefix: str = "units") -> dict[str, list[str]]:
    """Return the field errors of new units, named like `units.2.beds`."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, unit in enumerate(units):
        label = unit.label.strip()
        problem = label_problem(label)
        if problem is None and label in seen:
            problem = f"Label {label!r} is used twice."
        if problem is not None:
            errors[f"{prefix}.{index}.label"] = [problem]
        seen.add(label)
        errors.update(validate_unit_values(unit.status, unit.beds, prefix=f"{prefix}.{index}."))
    return errors


def label_problem(label: str) -> str | None:
    """Return what is wrong with a (stripped) unit label, or None."""
    if not label:
        return "Must not be empty."
    if len(label) > MAX_LABEL:
        return f"Must be at most {MAX_LABEL} characters."
    return None


def validate_unit_values(
    status: str | None, beds: int | None, prefix: str = ""
) -> dict[str, list[str]]:
    """Return the errors of a status and a bed count a coordinator sets (None: not set)."""
    errors: dict[str, list[str]] = {}
    if status == "held":
        errors[f"{prefix}status"] = [HELD_BY_HAND]
    elif status is not None and status not in SETTABLE_STATUSES:
        errors[f"{prefix}status"] = [f"Must be one of: {', '.join(SETTABLE_STATUSES)}."]
    if beds is not None and (
        not isinstance(beds, int) or isinstance(beds, bool) or not 0 <= beds <= MAX_BEDS_PER_UNIT
    ):
        errors[f"{prefix}beds"] = [f"Must be a whole number from 0 to {MAX_BEDS_PER_UNIT}."]
    return errors


def require_manager(actor: Principal, location_id: str) -> None:
    """Raise Forbidden unless `actor` is an admin or a coordinator of this location.

    403, not 404: every role may list locations, so saying that it exists leaks nothing.
    """
    if not actor.manages_location(location_id):
        raise Forbidden("Only an admin or a coordinator of this location may change it.")


def get_location_or_404(session: Session, location_id: str) -> Location:
    """Return the location, or raise NotFound."""
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound("No location with this id.")
    return location


@command
def create_location(
    session: Session, data: LocationData, *, now: datetime, actor: Principal | None = None
) -> Location:
    """Create a location with its units; raise ValidationFailed and write nothing if invalid."""
    errors = validate_location(session, data)
    if errors:
        raise ValidationFailed(errors)
    area, _problems = public_area_of(data.place, data.lat, data.lon)
    assert area is not None  # validate_location reported any problem
    location = Location(
        name=data.name.strip(),
        region_code=data.region_code,
        safety_level=data.safety_level,
        lat=data.lat,
        lon=data.lon,
        address=data.address.strip(),
        features=sorted(set(data.features)),
        accepts_night_intake=data.accepts_night_intake,
        target_group=data.target_group or ("all" if "men" in data.features else "women"),
        accepts_boys_up_to_age=data.accepts_boys_up_to_age,
        created_at=now,
        availability_updated_at=now,
    )
    _set_area(location, area)
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
    if unit.status == "free":
        wake_matcher(session, cause="created", now=now)
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


@command
def add_unit_to_location(
    session: Session, location_id: str, data: UnitData, *, actor: Principal, now: datetime
) -> Unit:
    """Add a unit to an existing location (admin or its coordinator); audit it.

    A label already used at the location is 422 naming `label`: it is the form field to fix.
    """
    location = get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    label = data.label.strip()
    errors = validate_unit_values(data.status, data.beds)
    problem = label_problem(label)
    if problem is None and session.scalar(
        select(Unit.id).where(Unit.location_id == location_id, Unit.label == label)
    ):
        problem = f"This location has a unit labelled {label!r} already."
    if problem is not None:
        errors["label"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    try:
        # Why a savepoint: a concurrent request may add the same label between the check above
        # and this insert; the unique constraint then decides, and the caller gets the same 422
        # instead of a 500, with the rest of the transaction intact.
        with session.begin_nested():
            unit = add_unit(session, location, UnitData(label, data.beds, data.status), now=now,
                            actor=actor)
    except IntegrityError:
        raise ValidationFailed(
            {"label": [f"This location has a unit labelled {label!r} already."]}
        ) from None
    # A new unit changes what the location has free: its availability was just looked at.
    mark_availability_checked(session, location_id, now)
    return unit


@command
def update_location(
    session: Session, location_id: str, changes: dict[str, object], *, actor: Principal,
    now: datetime,
) -> Location:
    """Change an existing location's editable fields (admin only); audit which changed."""
    location = get_location_or_404(session, location_id)
    if not actor.is_admin:
        raise Forbidden("Only an admin may edit a location.")
    errors = {
        name: [f"Cannot be changed; editable: {', '.join(EDITABLE_FIELDS)}."]
        for name in changes
        if name not in EDITABLE_FIELDS
    }
    errors.update(validate_location_fields(session, changes))
    if not errors and changes.keys() & {"lat", "lon"}:
        errors.update(location_point_errors(
            session, changes.get("lat", location.lat), changes.get("lon", location.lon),
            location.region_code))
    area = None
    if not errors and changes.keys() & {"lat", "lon", "place"}:
        lat = float(changes.get("lat", location.lat))  # type: ignore[arg-type]
        lon = float(changes.get("lon", location.lon))  # type: ignore[arg-type]
        current = PublicArea(location.place, location.gemeente_code, location.area_lat,
                             location.area_lon, location.area_radius_km)
        if "place" in changes:
            area, problems = public_area_of(changes["place"], lat, lon)
            if problems:
                errors["place"] = problems
        elif not contains(current, lat, lon):
            # Moved out of its public area: the place that holds the new point, as on create.
            area, problems = public_area_of(None, lat, lon)
            if problems:
                errors["place"] = problems
    if errors:
        raise ValidationFailed(errors)
    normalised = dict(changes)
    if area is not None:
        normalised["place"] = area.place
    for name in ("name", "address"):
        if name in normalised:
            normalised[name] = str(normalised[name]).strip()
    if "features" in normalised:
        normalised["features"] = sorted({str(feature) for feature in normalised["features"]})  # type: ignore[attr-defined]
    changed = {
        name: value for name, value in normalised.items() if getattr(location, name) != value
    }
    if not changed:
        return location
    # Before and after only for what is not secret; the address and the coordinates are
    # named, never written to the log.
    detail = {
        name: {"from": getattr(location, name), "to": value}
        for name, value in changed.items()
        if name not in SECRET_FIELDS
    }
    for name, value in changed.items():
        if name != "place":
            setattr(location, name, value)
    if area is not None:
        _set_area(location, area)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="location.updated",
        object_type="location",
        object_id=location.id,
        now=now,
        fields=sorted(changed),
        changes=detail,
    )
    return location
