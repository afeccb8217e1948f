"""Slow down guessing: refuse further attempts after repeated failed authentications.

Counted in the database (so all workers share the count) under a key that is a hash, never
the address or name itself. A failed sign-in counts for that name from that address; a
failed API token for that address. Only failures count. The API checks a token before the
throttle, so a valid token is never refused because others failed from the same address
(CONTRACT §2); a sign-in is refused only after failures for the same name from the same
address, so no one elsewhere (or behind the same proxy, for another name) can lock her out.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shelter_match.db import rowcount
from shelter_match.models import AuthFailureWindow

WINDOW = timedelta(minutes=5)
MAX_FAILURES = 10


def client_key(address: str) -> str:
    """Return the stored key of a client address (SHA-256; the address is not kept)."""
    return hashlib.sha256(f"shelter-match-client:{address}".encode()).hexdigest()


def sign_in_key(address: str, name: str) -> str:
    """Return the stored key of sign-in attempts for one name from one address."""
    account = name.strip().casefold()
    return hashlib.sha256(f"shelter-match-sign-in:{address}\n{account}".encode()).hexdigest()


def blocked_until(session: Session, key: str, now: datetime) -> datetime | None:
    """Return until when the client is refused, or None when it may try."""
    window = session.get(AuthFailureWindow, key)
    if window is None or window.failures < MAX_FAILURES:
        return None
    until = window.window_started_at + WINDOW
    return until if until > now else None


def record_failure(session: Session, key: str, now: datetime) -> None:
    """Count one failed authentication in the client's current window.

    Windows of every client that have run out are forgotten here too, so the table holds
    only the last few minutes of failures and needs no job of its own.
    """
    # A window that has run out is gone with the others: this failure starts a new one.
    forget_old_windows(session, now)
    # Insert or increment in one statement, so concurrent failures all count.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(AuthFailureWindow).values(client_key=key, window_started_at=now, failures=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[AuthFailureWindow.client_key],
            set_={"failures": AuthFailureWindow.failures + 1},
        )
    )


def forget_old_windows(session: Session, now: datetime) -> int:
    """Delete windows that have run out; return how many."""
    result = session.execute(
        delete(AuthFailureWindow).where(AuthFailureWindow.window_started_at <= now - WINDOW)
    )
    return rowcount(result)
