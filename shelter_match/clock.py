"""Tell the time in one place, so that tests can move it.

Every rule about time (hold expiry, staleness, bed-nights) takes `now` from here or as
an argument; the database clock is never used, so the application and the tests agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still until moved; for tests and demonstrations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


system_clock = Clock()


def rfc3339(moment: datetime) -> str:
    """Write a time as RFC 3339 in UTC, to the second, with a Z: 2026-11-22T03:14:00Z.

    The one way the API, the pages and the CSV write a time. Whole seconds, cut rather than
    rounded: a time shown never lies after the moment (a hold shown expiring at 03:30:00
    expires at most a second later), and `since=` a time shown still finds its row.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
