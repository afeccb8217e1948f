"""Create users, issue and revoke their tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import ROLES, ApiToken, Location, Region, User
from shelter_match.services import audit
from shelter_match.services.auth import Principal, issue_token

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    now: datetime,
    region_code: str | None = None,
    location_ids: Sequence[str] = (),
    actor: Principal | None = None,
    token_expires_at: datetime | None = None,
) -> tuple[User, str]:
    """Create a user with one API token; return the user and the token."""
    errors: dict[str, list[str]] = {}
    if not USER_NAME.match(name or ""):
        errors["name"] = ["Use 1-64 letters, digits, '.', '_', '@' or '-'."]
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if region_code is not None and session.get(Region, region_code) is None:
        errors["region"] = [f"Unknown region code {region_code!r}."]
    if region_code is not None and role != "region_reviewer" and "role" not in errors:
        errors["region"] = ["Only a region_reviewer is scoped to a region."]
    locations = []
    for location_id in dict.fromkeys(location_ids):
        location = session.get(Location, location_id)
        if location is None:
            errors.setdefault("location", []).append(f"Unknown location {location_id!r}.")
        locations.append(location)
    if location_ids and role != "coordinator" and "role" not in errors:
        errors["location"] = ["Only a coordinator is scoped to locations."]
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"A user named {name!r} exists already.")
    user = User(name=name, role=role, region_code=region_code, created_at=now)
    user.locations = locations
    session.add(user)
    session.flush()
    token = issue_token(session, user, now, expires_at=token_expires_at)
    audit.record(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=user.id,
        now=now,
        role=role,
        region_code=region_code,
        location_ids=sorted(location_ids),
    )
    return user, token


def find_user(session: Session, name: str) -> User:
    """Return the user called `name`, or raise NotFound."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"No user named {name!r}.")
    return user


def new_token_for(
    session: Session,
    name: str,
    now: datetime,
    actor: Principal | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Issue an additional token for an existing user and return it."""
    user = find_user(session, name)
    token = issue_token(session, user, now, expires_at=expires_at)
    audit.record(
        session, actor=actor, action="token.issued", object_type="user", object_id=user.id, now=now
    )
    return token


def revoke_tokens(
    session: Session, name: str, now: datetime, actor: Principal | None = None
) -> int:
    """Revoke every live token of a user at once; return how many were revoked."""
    user = find_user(session, name)
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session,
        actor=actor,
        action="token.revoked",
        object_type="user",
        object_id=user.id,
        now=now,
        tokens=result.rowcount,
    )
    return result.rowcount
