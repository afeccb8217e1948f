"""Retention purge and the audit log command, on both engines."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.errors import ValidationFailed
from shelter_match.models import IdempotencyKey, PlacementRequest
from shelter_match.services.retention import purge
from testbed.cli import run_cli
from tests.factories import make_caller


def closed_request(session, clock, user, *, closed_days_ago: int | None, status="cancelled"):
    request = PlacementRequest(
        case_reference=f"VT-{closed_days_ago}",
        created_by=user.id,
        origin_region_code="GM0599",
        risk_level="rood",
        danger_lat=51.92,
        danger_lon=4.40,
        current_lat=51.91,
        current_lon=4.47,
        adults=1,
        children=2,
        excluded_location_ids=["x"],
        status=status if closed_days_ago is not None else "open",
        created_at=clock.now() - timedelta(days=(closed_days_ago or 0) + 1),
        closed_at=(None if closed_days_ago is None
                   else clock.now() - timedelta(days=closed_days_ago)),
    )
    session.add(request)
    session.flush()
    return request


def test_purge_erases_details_of_long_closed_requests_only(session, clock):
    worker = make_caller(session, clock, "crisis_worker").user
    old = closed_request(session, clock, worker, closed_days_ago=40)
    old_placed = closed_request(session, clock, worker, closed_days_ago=31, status="placed")
    recent = closed_request(session, clock, worker, closed_days_ago=5)
    still_open = closed_request(session, clock, worker, closed_days_ago=None)
    result = purge(session, older_than_days=30, now=clock.now())
    assert result.requests == 2
    for erased in (old, old_placed):
        session.refresh(erased)
        assert erased.case_reference is None
        assert (erased.danger_lat, erased.danger_lon, erased.current_lat) == (None, None, None)
        assert erased.excluded_location_ids == []
        assert erased.purged_at == clock.now()
        # What the solidarity figures need stays.
        assert (erased.origin_region_code, erased.risk_level, erased.adults,
                erased.children) == ("GM0599", "rood", 1, 2)
    for kept in (recent, still_open):
        session.refresh(kept)
        assert kept.case_reference is not None and kept.danger_lat == 51.92
    assert purge(session, older_than_days=30, now=clock.now()).requests == 0


def test_purge_removes_replay_records_after_a_day(session, clock):
    worker = make_caller(session, clock, "crisis_worker").user
    for key, age in (("old", timedelta(hours=25)), ("fresh", timedelta(hours=1))):
        session.add(IdempotencyKey(user_id=worker.id, key=key, method="POST", path="/x",
                                   request_fingerprint="f", response_status=201,
                                   response_body="{}", created_at=clock.now() - age))
    session.flush()
    assert purge(session, older_than_days=30, now=clock.now()).idempotency_keys == 1
    assert set(session.scalars(select(IdempotencyKey.key))) == {"fresh"}


def test_purge_refuses_nonsense_period(session, clock):
    with pytest.raises(ValidationFailed) as raised:
        purge(session, older_than_days=0, now=clock.now())
    assert "older_than" in raised.value.errors


def test_audit_and_purge_commands(fresh_database_url):
    assert run_cli("user", "add", "auditee", "--role", "admin",
                   database_url=fresh_database_url).returncode == 0
    assert run_cli("user", "revoke", "auditee", database_url=fresh_database_url).returncode == 0
    listed = run_cli("audit", database_url=fresh_database_url)
    assert listed.returncode == 0, listed.stderr
    actions = [line.split("\t")[2] for line in listed.stdout.splitlines()]
    assert actions == ["user.created", "token.revoked"]
    only_revokes = run_cli("audit", "--action", "token.revoked", database_url=fresh_database_url)
    assert len(only_revokes.stdout.splitlines()) == 1
    future = run_cli("audit", "--since", "2999-01-01", database_url=fresh_database_url)
    assert future.stdout == ""
    bad = run_cli("audit", "--since", "yesterday", database_url=fresh_database_url)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    purged = run_cli("purge", "--older-than", "30", database_url=fresh_database_url)
    assert purged.returncode == 0 and purged.stdout.startswith("purged 0 request(s)")
    refused = run_cli("purge", "--older-than", "0", database_url=fresh_database_url)
    assert refused.returncode != 0 and "older_than" in refused.stderr
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session:
        assert session.scalar(select(PlacementRequest.id)) is None
    engine.dispose()


def test_expiring_token_from_cli(fresh_database_url):
    result = run_cli("user", "add", "temp", "--role", "crisis_worker", "--expires-in-days", "7",
                     database_url=fresh_database_url)
    assert result.returncode == 0
    bad = run_cli("user", "add", "temp2", "--role", "crisis_worker", "--expires-in-days", "0",
                  database_url=fresh_database_url)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
