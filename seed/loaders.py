"""Load the seed data into a database: regions, the demo network, demo users."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seed.demo_network import generate_network, load_regions
from seed.history import has_history, load_history
from shelter_match.models import Location, User
from shelter_match.services import users
from shelter_match.services.locations import LocationData, UnitData, create_location
from shelter_match.services.regions import RegionData, upsert_regions

# One demo user per role. The coordinator keeps the locations of one region and the
# reviewer and the duty officer are scoped to the same region, so that the demo shows
# scopes at work.
DEMO_REGION = "GM0344"  # Utrecht
DEMO_USERS = (
    ("demo-crisis-worker", "crisis_worker"),
    ("demo-coordinator", "coordinator"),
    ("demo-region-reviewer", "region_reviewer"),
    ("demo-duty-officer", "duty_officer"),
    ("demo-admin", "admin"),
)


@dataclass(frozen=True)
class DemoUserToken:
    name: str
    role: str
    token: str


def seed_regions(session: Session) -> tuple[int, int]:
    """Load the 35 regions from seed/regions.csv; return (added, updated)."""
    return upsert_regions(
        session, (RegionData(r.code, r.name, r.lat, r.lon) for r in load_regions())
    )


def seed_demo(
    session: Session, *, scale: int, seed: int, now: datetime, history_days: int = 90
) -> list[DemoUserToken]:
    """Load regions, the demo network (unless locations exist), its history and the users.

    Running it again keeps the network and its history and gives every demo user a fresh
    token, because only the hashes of the earlier tokens are known.
    """
    seed_regions(session)
    if not session.scalar(select(func.count()).select_from(Location)):
        for demo in generate_network(scale=scale, seed=seed):
            create_location(
                session,
                LocationData(
                    name=demo.name,
                    region_code=demo.region_code,
                    safety_level=demo.safety_level,
                    lat=demo.lat,
                    lon=demo.lon,
                    address=demo.address,
                    features=demo.features,
                    accepts_night_intake=demo.accepts_night_intake,
                    # The demo's places for men are men's shelters (CONTRACT 4.2).
                    target_group="men" if "men" in demo.features else None,
                    units=[UnitData(u.label, u.beds, u.status) for u in demo.units],
                ),
                now=now,
            )
    if history_days > 0 and not has_history(session):
        load_history(session, now=now, days=history_days, seed=seed)
    coordinated = list(
        session.scalars(
            select(Location.id).where(Location.region_code == DEMO_REGION).order_by(Location.name)
        )
    )
    tokens = []
    for name, role in DEMO_USERS:
        if session.scalar(select(User.id).where(User.name == name)) is None:
            _, token = users.create_user(
                session,
                name=name,
                role=role,
                now=now,
                region_code=DEMO_REGION if role == "region_reviewer" else None,
                location_ids=coordinated if role == "coordinator" else (),
                duty_region_codes=(DEMO_REGION,) if role == "duty_officer" else (),
            )
        else:
            token = users.new_token_for(session, name, now)
        tokens.append(DemoUserToken(name, role, token))
    return tokens


# What each demo user may see, for the table `shelter-match demo` prints.
DEMO_SCOPES = {
    "crisis_worker": "requests, safe options, holds; an address once placed",
    "coordinator": "units and addresses of the Utrecht region's locations",
    "region_reviewer": "solidarity figures of all regions; no client data",
    "duty_officer": "the Utrecht region's waiting list and escalations; no addresses",
    "admin": "everything, every address; locations and policy",
}


def demo_password(key: bytes, name: str) -> str:
    """Return the demo password of a user: derived from the instance's key, so it is the same
    at every run on this machine and different on every other."""
    digest = hmac.new(key, f"shelter-match-demo-password:{name}".encode(), hashlib.sha256)
    return "demo-" + base64.urlsafe_b64encode(digest.digest()).decode()[:16]


def set_demo_passwords(session: Session, now: datetime, key: bytes) -> dict[str, str]:
    """Give every demo user her password for the web pages; return name -> password.

    Only for a local demo: the passwords are printed, so that the pages can be tried at once.
    """
    passwords = {}
    for name, _role in DEMO_USERS:
        password = demo_password(key, name)
        users.set_password(session, name, password, now)
        passwords[name] = password
    return passwords
