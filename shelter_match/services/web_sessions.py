"""Web sessions kept server-side: start, resume, end one, end all of a user's.

The browser's cookie holds a random key; the database holds its SHA-256, the user, when it
started, when she was last seen and its absolute end. Ending a session deletes its row, so a
copied or replayed cookie signs no one in afterwards. Who she is (role, scope) is read from
the user on every request, never from the session, so a change applies at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shelter_match.db import rowcount
from shelter_match.models import User, WebSession
from shelter_match.services.auth import Principal, principal_for

# Writing last_seen_at on every page would turn every read into a write; a minute is plenty.
SEEN_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Lifetimes:
    """How long a session may last at most (absolute) and without activity (idle)."""

    absolute: timedelta
    idle: timedelta


@dataclass(frozen=True)
class Resumed:
    """The outcome of resuming a session: her principal, or why it no longer holds."""

    principal: Principal | None
    ended: str | None = None  # unknown, expired, idle, disabled


def key_hash(key: str) -> str:
    """Return the stored form of a session key: its SHA-256, hex."""
    return hashlib.sha256(f"shelter-match-session:{key}".encode()).hexdigest()


def start(session: Session, user_id: str, now: datetime, lifetimes: Lifetimes) -> str:
    """Start a web session for a user; return the key for her cookie (shown only here)."""
    forget_ended(session, now, lifetimes)
    key = secrets.token_urlsafe(32)
    session.add(WebSession(user_id=user_id, key_hash=key_hash(key), created_at=now,
                           last_seen_at=now, expires_at=now + lifetimes.absolute))
    session.flush()
    return key


def resume(session: Session, key: str, now: datetime, lifetimes: Lifetimes) -> Resumed:
    """Return the principal of a live session and note her activity; end one that ran out."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return Resumed(None, "unknown")
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.key_hash == key_hash(key))
    ).first()
    if row is None:
        return Resumed(None, "unknown")
    stored, user = row
    ended = None
    if stored.expires_at <= now:
        ended = "expired"
    elif now - stored.last_seen_at >= lifetimes.idle:
        ended = "idle"
    elif user.disabled_at is not None or user.password_hash is None:
        ended = "disabled"
    if ended is not None:
        session.execute(delete(WebSession).where(WebSession.id == stored.id))
        return Resumed(None, ended)
    if now - stored.last_seen_at >= SEEN_RESOLUTION:
        session.execute(update(WebSession).where(WebSession.id == stored.id)
                        .values(last_seen_at=now))
    return Resumed(principal_for(session, user))


def end(session: Session, key: str) -> bool:
    """End the session of this key; return whether there was one."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return False
    result = session.execute(delete(WebSession).where(WebSession.key_hash == key_hash(key)))
    return rowcount(result) > 0


def end_all(session: Session, user_id: str) -> int:
    """End every web session of a user at once; return how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return rowcount(result)


def forget_ended(session: Session, now: datetime, lifetimes: Lifetimes) -> int:
    """Delete sessions past their end or idle too long; return how many.

    Run at every sign-in, so the table holds only live sessions and needs no job of its own.
    """
    result = session.execute(delete(WebSession).where(
        (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - lifetimes.idle)))
    return rowcount(result)
