"""Retention purge and the audit log command, on both engines."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from seed.loaders import seed_regions
from shelter_match.db import create_database_engine
from shelter_match.errors import ValidationFailed
from shelter_match.migrate import upgrade
from shelter_match.models import AuditEvent, IdempotencyKey, PlacementRequest, Unit
from shelter_match.services import holds
from shelter_match.services.policy import get_policy, replace_policy, validate_document
from shelter_match.services.retention import purge
from testbed.cli import run_cli
from testbed.databases import create_empty_database, drop_database
from tests.conftest import NIGHT
from tests.factories import make_caller, make_location, make_request, principal_of


def closed_request(session, clock, user, *, closed_days_ago: int | None, status="cancelled"):
    request = PlacementRequest(
        case_reference=f"VT-{closed_days_ago}",
        created_by=user.id,
        origin_region_code="GM0599",
        risk_level="rood",
        danger_lat=51.92,
        danger_lon=4.40,
        danger_place="Schiedam",
        danger_place_kind="gemeente",
        current_lat=51.91,
        current_lon=4.47,
        adults=1,
        children=2,
        excluded_location_ids=["x"],
        status=status if closed_days_ago is not None else "open",
        outcome="other" if closed_days_ago is not None and status == "cancelled" else None,
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
        assert (erased.danger_lat, erased.danger_lon, erased.current_lat,
                erased.current_lon) == (None, None, None, None)
        # The place name is as telling as the coordinates: it goes too.
        assert (erased.danger_place, erased.danger_place_kind) == (None, None)
        assert erased.excluded_location_ids == []
        assert erased.purged_at == clock.now()
        # What the solidarity figures need stays.
        assert (erased.origin_region_code, erased.risk_level, erased.adults,
                erased.children) == ("GM0599", "rood", 1, 2)
    for kept in (recent, still_open):
        session.refresh(kept)
        assert kept.case_reference is not None and kept.danger_lat == 51.92
    assert purge(session, older_than_days=30, now=clock.now()).requests == 0


def open_request(session, clock, user, *, days_old: int):
    request = closed_request(session, clock, user, closed_days_ago=None)
    request.created_at = clock.now() - timedelta(days=days_old)
    session.flush()
    return request


def test_purge_closes_requests_left_open_past_the_policy_limit_then_purges_them(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    abandoned = open_request(session, clock, worker.user, days_old=31)
    recent = open_request(session, clock, worker.user, days_old=29)
    result = purge(session, older_than_days=90, now=clock.now())
    assert (result.closed_open_requests, result.requests) == (1, 0)
    session.refresh(abandoned)
    session.refresh(recent)
    assert (abandoned.status, abandoned.outcome, abandoned.closed_at) == (
        "cancelled", "other", clock.now())
    assert abandoned.case_reference is not None  # closed now; purged after the retention period
    assert (recent.status, recent.outcome, recent.closed_at) == ("open", None, None)
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "request.closed_unattended")).one()
    assert event.object_id == abandoned.id and event.detail["outcome"] == "other"

    later = clock.now() + timedelta(days=91)
    assert purge(session, older_than_days=90, now=later).requests == 1
    session.refresh(abandoned)
    assert abandoned.case_reference is None and abandoned.danger_place is None


def test_purge_follows_the_policy_limit_and_spares_a_request_being_held(session, clock):
    admin = make_caller(session, clock, "admin")
    worker = make_caller(session, clock, "crisis_worker")
    document = get_policy(session).as_document() | {"close_open_requests_after_days": 7}
    replace_policy(session, document, actor=principal_of(session, admin), now=clock.now())
    week_old = open_request(session, clock, worker.user, days_old=8)
    held = make_request(session, clock, worker)
    held.created_at = clock.now() - timedelta(days=8)
    unit = session.scalars(select(Unit).where(
        Unit.location_id == make_location(session, clock, units=(("A", 4),)).id)).one()
    holds.create_hold(session, held.id, unit.id, actor=principal_of(session, worker),
                      now=clock.now())
    assert purge(session, older_than_days=30, now=clock.now()).closed_open_requests == 1
    session.refresh(week_old)
    session.refresh(held)
    assert week_old.status == "cancelled" and held.status == "open"


@pytest.mark.parametrize("days", [0, 366, "30", True])
def test_policy_refuses_a_nonsense_limit_for_open_requests(session, clock, days):
    admin = make_caller(session, clock, "admin")
    document = get_policy(session).as_document() | {"close_open_requests_after_days": days}
    with pytest.raises(ValidationFailed) as raised:
        replace_policy(session, document, actor=principal_of(session, admin), now=clock.now())
    assert list(raised.value.errors) == ["close_open_requests_after_days"]


def test_a_stored_policy_without_the_limit_keeps_the_default(session, clock):
    document = get_policy(session).as_document()
    del document["close_open_requests_after_days"]
    assert validate_document(document).close_open_requests_after_days == 30


def test_cancel_records_an_outcome_and_refuses_an_unknown_one(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    me = principal_of(session, worker)
    first, second = make_request(session, clock, worker), make_request(session, clock, worker)
    assert holds.cancel_request(session, first.id, actor=me, now=clock.now()).outcome == "other"
    cancelled = holds.cancel_request(session, second.id, actor=me, now=clock.now(),
                                     outcome="own_network")
    assert cancelled.outcome == "own_network"
    third = make_request(session, clock, worker)
    with pytest.raises(ValidationFailed) as raised:
        holds.cancel_request(session, third.id, actor=me, now=clock.now(), outcome="bored")
    assert list(raised.value.errors) == ["outcome"]
    session.refresh(third)
    assert (third.status, third.outcome) == ("open", None)


def test_the_migration_gives_requests_cancelled_before_it_the_outcome_other(backend, tmp_path):
    url = create_empty_database(backend, tmp_path)
    engine = create_database_engine(url)
    try:
        upgrade(engine, "0003")
        with Session(engine) as session, session.begin():
            seed_regions(session)
            # Raw SQL: the model has columns (organisation_id) that 0003 does not.
            session.execute(text("INSERT INTO users (id, name, role, created_at) "
                                 "VALUES ('u1', 'w', 'crisis_worker', :at)"),
                            {"at": NIGHT.replace(tzinfo=None)})
            worker = type("Worker", (), {"id": "u1"})
            for number, status in enumerate(("open", "placed", "cancelled")):
                session.execute(text(
                    "INSERT INTO placement_requests (id, created_by, origin_region_code, "
                    "risk_level, adults, children, needs, excluded_region_codes, "
                    "excluded_location_ids, status, created_at) VALUES (:id, :user, 'GM0599', "
                    "'rood', 1, 0, '[]', '[]', '[]', :status, :at)"),
                    {"id": f"r{number}", "user": worker.id, "status": status,
                     "at": NIGHT.replace(tzinfo=None)})
        upgrade(engine)
        with engine.connect() as connection:
            outcomes = dict(connection.execute(text(
                "SELECT status, outcome FROM placement_requests")).all())
        assert outcomes == {"open": None, "placed": None, "cancelled": "other"}
    finally:
        engine.dispose()
        drop_database(url)


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
