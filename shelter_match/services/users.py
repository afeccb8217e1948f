"""Create users, issue and revoke their tokens, set and check their passwords."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shelter_match.db import command, rowcount
from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import (
    ROLES,
    ApiToken,
    Location,
    Organisation,
    Region,
    User,
    user_duty_regions,
)
from shelter_match.services import audit, web_sessions
from shelter_match.services.auth import Principal, issue_token, principal_for

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
ORGANISATION_NAME = re.compile(r"^[\w][\w .,'&()/-]{0,99}$")


@command
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
    duty_region_codes: Sequence[str] = (),
    organisation: str | None = None,
) -> tuple[User, str]:
    """Create a user with one API token; return the user and the token.

    A duty_officer is scoped by `duty_region_codes` (none: the national duty).
    `organisation` (a crisis worker's, CONTRACT 4.3) is found by name, or created on
    first use; left out, she is her own, as in v1.
    """
    errors: dict[str, list[str]] = {}
    if not USER_NAME.match(name or ""):
        errors["name"] = ["Use 1-64 letters, digits, '.', '_', '@' or '-'."]
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if region_code is not None and session.get(Region, region_code) is None:
        errors["region"] = [f"Unknown region code {region_code!r}."]
    if region_code is not None and role != "region_reviewer" and "role" not in errors:
        errors["region"] = ["Only a region_reviewer is scoped to a region."]
    duty_regions = list(dict.fromkeys(duty_region_codes))
    for code in duty_regions:
        if session.get(Region, code) is None:
            errors.setdefault("region", []).append(f"Unknown region code {code!r}.")
    if duty_regions and role != "duty_officer" and "role" not in errors:
        errors["region"] = ["Only a region_reviewer or a duty_officer is scoped to regions."]
    locations = []
    for location_id in dict.fromkeys(location_ids):
        location = session.get(Location, location_id)
        if location is None:
            errors.setdefault("location", []).append(f"Unknown location {location_id!r}.")
        else:
            locations.append(location)
    if location_ids and role != "coordinator" and "role" not in errors:
        errors["location"] = ["Only a coordinator is scoped to locations."]
    if organisation is not None:
        organisation = " ".join(organisation.split())
        if not ORGANISATION_NAME.match(organisation):
            errors["organisation"] = ["Use 1-100 letters, digits, spaces and . , ' & ( ) / -."]
        elif role != "crisis_worker" and "role" not in errors:
            errors["organisation"] = ["Only a crisis worker belongs to an organisation."]
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"A user named {name!r} exists already.")
    organisation_id = (find_or_create_organisation(session, organisation, now=now, actor=actor)
                       if organisation is not None else None)
    user = User(name=name, role=role, region_code=region_code, created_at=now,
                organisation_id=organisation_id)
    user.locations = locations
    session.add(user)
    session.flush()
    if duty_regions:
        session.execute(insert(user_duty_regions),
                        [{"user_id": user.id, "region_code": code} for code in duty_regions])
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
        **({"duty_region_codes": sorted(duty_regions)} if role == "duty_officer" else {}),
        organisation_id=organisation_id,
    )
    return user, token


def find_or_create_organisation(session: Session, name: str, *, now: datetime,
                                actor: Principal | None = None) -> str:
    """Return the id of the organisation called `name`, creating it (audited) if new.

    Names compare without regard to case, so that "Veilig Thuis Rotterdam" typed twice
    two ways is one organisation, never two that cannot see each other's requests.
    """
    found = session.scalar(select(Organisation.id).where(
        func.lower(Organisation.name) == name.lower()))
    if found is not None:
        return found
    created = Organisation(name=name, created_at=now)
    session.add(created)
    session.flush()
    audit.record(session, actor=actor, action="organisation.created",
                 object_type="organisation", object_id=created.id, now=now)
    return created.id


def find_user(session: Session, name: str) -> User:
    """Return the user called `name`, or raise NotFound."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"No user named {name!r}.")
    return user


@command
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


@command
def revoke_tokens(
    session: Session, name: str, now: datetime, actor: Principal | None = None
) -> int:
    """Revoke every live token of a user and end her web sessions, at once.

    Return how many tokens were revoked. She may still sign in with her password: to stop a
    person, disable her (`disable_user`).
    """
    user = find_user(session, name)
    revoked = _revoke_live_tokens(session, user, now)
    sessions = web_sessions.end_all(session, user.id)
    audit.record(
        session,
        actor=actor,
        action="token.revoked",
        object_type="user",
        object_id=user.id,
        now=now,
        tokens=revoked,
        web_sessions=sessions,
    )
    return revoked


def _revoke_live_tokens(session: Session, user: User, now: datetime) -> int:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return rowcount(result)


@dataclass(frozen=True)
class Disabled:
    """What disabling a user ended: her tokens and web sessions."""

    user_id: str
    tokens: int
    web_sessions: int
    already: bool


@command
def disable_user(
    session: Session, name: str, now: datetime, actor: Principal | None = None
) -> Disabled:
    """Disable a user: end every token and web session at once and refuse her sign-in.

    Disabling twice is harmless (and still ends anything issued in between). Her tokens are
    revoked, not only refused, so that enabling her again never brings them back.
    """
    user = find_user(session, name)
    if actor is not None and actor.user_id == user.id:
        raise Conflict("You cannot disable yourself.")
    already = user.disabled_at is not None
    if not already:
        user.disabled_at = now
    tokens = _revoke_live_tokens(session, user, now)
    sessions = web_sessions.end_all(session, user.id)
    session.flush()
    audit.record(session, actor=actor, action="user.disabled", object_type="user",
                 object_id=user.id, now=now, tokens=tokens, web_sessions=sessions)
    return Disabled(user.id, tokens, sessions, already)


@command
def enable_user(
    session: Session, name: str, now: datetime, actor: Principal | None = None
) -> bool:
    """Let a disabled user sign in again; return False when she was not disabled.

    Her old tokens stay revoked: issue a new one (`new_token_for`) if she needs the API.
    """
    user = find_user(session, name)
    if user.disabled_at is None:
        return False
    user.disabled_at = None
    session.flush()
    audit.record(session, actor=actor, action="user.enabled", object_type="user",
                 object_id=user.id, now=now)
    return True


# --- Passwords, for people who sign in to the web pages -------------------------------

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; a bound keeps one guess cheap to refuse
# argon2id with the library's defaults (RFC 9106's second recommended option: 64 MiB, t=3).
PASSWORD_HASHER = PasswordHasher()


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the principal, or why it was refused."""

    principal: Principal | None
    user_id: str | None
    reason: str | None  # unknown_user, wrong_password, no_password, disabled


def validate_password(name: str, password: str) -> list[str]:
    """Return what is wrong with a new password (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if password.strip() != password or "\n" in password:
        problems.append("Do not start or end with a space, and use one line.")
    if password.casefold() == name.casefold():
        problems.append("Do not use the user name as the password.")
    return problems


@command
def set_password(
    session: Session, name: str, password: str, now: datetime, actor: Principal | None = None
) -> None:
    """Set a user's password for the web pages; her open web sessions end."""
    user = find_user(session, name)
    problems = validate_password(name, password)
    if problems:
        raise ValidationFailed({"password": problems})
    user.password_hash = PASSWORD_HASHER.hash(password)
    session.flush()
    ended = web_sessions.end_all(session, user.id)
    audit.record(session, actor=actor, action="user.password_set", object_type="user",
                 object_id=user.id, now=now, web_sessions=ended)


def sign_in(session: Session, name: str, password: str, now: datetime) -> SignIn:
    """Check a name and password; audit a success. The caller audits a refusal."""
    user = session.scalar(select(User).where(User.name == name)) if name else None
    if user is None or user.password_hash is None or len(password) > MAX_PASSWORD_LENGTH:
        # Spend the same time as a real check, so the answer does not tell names apart.
        _verify(_unknown_user_hash(), password[:MAX_PASSWORD_LENGTH])
        reason = "unknown_user" if user is None else (
            "no_password" if user.password_hash is None else "wrong_password")
        return SignIn(None, user.id if user else None, reason)
    if not _verify(user.password_hash, password):
        return SignIn(None, user.id, "wrong_password")
    if user.disabled_at is not None:
        return SignIn(None, user.id, "disabled")
    if PASSWORD_HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORD_HASHER.hash(password)
        session.flush()
    audit.record(session, actor=principal_for(session, user), action="auth.signed_in",
                 object_type="user", object_id=user.id, now=now)
    return SignIn(principal_for(session, user), user.id, None)


def record_sign_in_failure(
    session: Session, *, user_id: str | None, reason: str, now: datetime
) -> None:
    """Audit a refused sign-in; neither the password nor an unknown name is kept."""
    # An unknown "name" may be a password typed into the wrong field: it is not logged.
    audit.record(session, actor=None, action="auth.sign_in_failed", object_type="user",
                 object_id=user_id, now=now, reason=reason)


def record_sign_out(session: Session, principal: Principal, now: datetime) -> None:
    """Audit that she signed out of the web pages."""
    audit.record(session, actor=principal, action="auth.signed_out", object_type="user",
                 object_id=principal.user_id, now=now)


@functools.cache
def _unknown_user_hash() -> str:
    """Return a hash no password matches, made once (on first use, not at import)."""
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(32))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
