"""Times go in as any aware datetime and come back as the same instant in UTC, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

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


def test_a_refused_command_leaves_nothing_even_when_its_error_is_handled(session, clock):
    # Pages catch a service's DomainError and answer 303, which commits the request: what
    # the refused command wrote before it refused must not be part of that commit.
    from shelter_match.db import command
    from shelter_match.errors import Conflict
    from shelter_match.models import AuditEvent
    from shelter_match.services import audit

    @command
    def note_then_refuse(session_, *, now):
        audit.record(session_, actor=None, action="test.written", object_type="test",
                     object_id=None, now=now)
        session_.flush()
        raise Conflict("refused after writing")

    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Conflict):
        note_then_refuse(session, now=clock.now())
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "test.written")
                           ).first() is None
