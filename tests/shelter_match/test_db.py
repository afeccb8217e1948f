"""Times go in as any aware datetime and come back as the same instant in UTC, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shelter_match.models import Location
from tests.factories import make_location


def test_a_time_reads_back_as_the_same_instant_in_utc(session, clock):
    location = make_location(session, clock)
    # 04:30 in Amsterdam in winter is 03:30 UTC: written with a zone other than UTC.
    written = datetime(2026, 11, 22, 4, 30, 15, 250000, tzinfo=ZoneInfo("Europe/Amsterdam"))
    location.availability_updated_at = written
    session.flush()
    session.expire_all()

    read = session.scalar(select(Location.availability_updated_at)
                          .where(Location.id == location.id))

    assert read == written
    assert read.tzinfo is UTC
    assert read.utcoffset() == timedelta(0)
    assert (read.hour, read.minute, read.microsecond) == (3, 30, 250000)
