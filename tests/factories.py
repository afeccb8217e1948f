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
) -> Caller:
    """Create a user with a role and return her with her token."""
    user, token = users.create_user(
        session,
        name=f"{role}-{next(_names)}",
        role=role,
        now=clock.now(),
        location_ids=location_ids,
        region_code=region_code,
    )
    session.flush()
    return Caller(user, token)


def make_location(
    session: Session,
    clock: Clock,
    *,
    name: str | None = None,
    region_code: str = "GM0344",
    safety_level: str = "oranje",
    lat: float = 52.09,
    lon: float = 5.12,
    address: str = "Geheime Laan 1, Utrecht",
    features: tuple[str, ...] = (),
    units: tuple[tuple[str, int], ...] = (("A", 1), ("B", 4)),
) -> Location:
    """Create a location with units through the locations service."""
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
        ),
        now=clock.now(),
    )
    session.flush()
    return location
