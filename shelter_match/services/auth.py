"""Who is calling, and what she may see and do.

Roles gate whole operations; scopes (a coordinator's locations) gate single objects.
The API and the web pages ask the same questions here, so the answer is the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelter_match.models import ApiToken, User, user_duty_regions, user_locations

TOKEN_PREFIX = "smt_"  # noqa: S105 - a visible prefix helps secret scanners find leaks
# Writing last_used_at on every call would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(hours=1)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    name: str
    role: str
    region_code: str | None = None
    location_ids: frozenset[str] = field(default_factory=frozenset)
    # A duty officer's regions; empty for a duty officer means the national duty.
    duty_region_codes: frozenset[str] = field(default_factory=frozenset)
    # A crisis worker's organisation (CONTRACT 4.3); None: she is her own, as in v1.
    organisation_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def on_duty_for(self, origin_region_code: str) -> bool:
        """Return whether she looks after requests from this region (admin: every one)."""
        if self.is_admin:
            return True
        if self.role != "duty_officer":
            return False
        return not self.duty_region_codes or origin_region_code in self.duty_region_codes

    def manages_location(self, location_id: str) -> bool:
        """Return whether she may change this location's units and see its address."""
        return self.is_admin or (
            self.role == "coordinator" and location_id in self.location_ids
        )


def hash_token(token: str) -> str:
    """Return the stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a fresh random API token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_token(
    session: Session, user: User, now: datetime, expires_at: datetime | None = None
) -> str:
    """Create an API token for `user` and return it; only its hash is kept."""
    token = new_token()
    session.add(
        ApiToken(
            user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at
        )
    )
    session.flush()
    return token


def authenticate_token(session: Session, token: str, now: datetime) -> Principal | None:
    """Return the principal of a valid token, or None (unknown, revoked, expired, disabled)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        return None
    stored, user = row
    # The lookup went by hash; compare again in constant time so that no partial match
    # anywhere in the path can show in the timing.
    if not hmac.compare_digest(stored.token_hash, digest):
        return None
    if stored.revoked_at is not None or user.disabled_at is not None:
        return None
    if stored.expires_at is not None and stored.expires_at <= now:
        return None
    if stored.last_used_at is None or now - stored.last_used_at > LAST_USED_RESOLUTION:
        session.execute(
            update(ApiToken).where(ApiToken.id == stored.id).values(last_used_at=now)
        )
    return principal_for(session, user)


def principal_for(session: Session, user: User) -> Principal:
    """Return the principal of a user, with her location scope."""
    location_ids = frozenset(
        session.scalars(
            select(user_locations.c.location_id).where(user_locations.c.user_id == user.id)
        )
    )
    duty_region_codes: frozenset[str] = frozenset()
    if user.role == "duty_officer":
        duty_region_codes = frozenset(session.scalars(
            select(user_duty_regions.c.region_code)
            .where(user_duty_regions.c.user_id == user.id)))
    return Principal(
        user_id=user.id,
        name=user.name,
        role=user.role,
        region_code=user.region_code,
        location_ids=location_ids,
        duty_region_codes=duty_region_codes,
        organisation_id=user.organisation_id,
    )
