"""Wake the matcher: an outbox row, and on PostgreSQL a NOTIFY, both in the caller's transaction.

Both take effect at commit: a change rolled back wakes nobody, and the matcher never runs
before the change it is woken for is visible. The row outlives a matcher that was down
or not listening; the notification only makes it look at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shelter_match.models import MatcherWakeup

CHANNEL = "shelter_match_matcher"
_WOKEN = "matcher_woken_in"


def wake_matcher(session: Session, *, cause: str, now: datetime) -> None:
    """Ask the matcher to look again once this transaction commits (once per transaction).

    Seeding ten thousand units writes one row, not ten thousand. Should the savepoint that
    wrote it roll back while a later change in the same transaction frees a unit, that
    change wakes nobody: the matcher's periodic full run (matcher.FULL_RUN_EVERY) sees it.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_WOKEN) is transaction:
        return
    session.add(MatcherWakeup(created_at=now, cause=cause[:30]))
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    session.info[_WOKEN] = transaction


def consumed(session: Session) -> None:
    """Note that this transaction's wake-ups were consumed: the next change wakes again."""
    session.info.pop(_WOKEN, None)


def pending_wakeups(session: Session) -> int | None:
    """Return the newest wake-up's id, or None when nothing waits for the matcher."""
    return session.scalar(select(MatcherWakeup.id).order_by(MatcherWakeup.id.desc()).limit(1))
