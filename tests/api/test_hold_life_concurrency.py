"""The hold's life under real concurrency: real clients race real gunicorn workers on
PostgreSQL. One extension of many wins; extend, confirm and release on one hold leave a
sound database; of many arrival and no-show marks on one placement exactly one lands."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import Hold, Placement, PlacementRequest, Unit
from tests.api.test_holds_concurrency import race
from tests.factories import make_caller, make_location, make_request
from tests.live import running_service
from tests.placement_checks import booking_problems

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

CLIENTS = 24
WORKERS = 4


@pytest.fixture
def shelter(postgres_url):
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        location = make_location(session, clock, region_code="GM0014", lat=53.22, lon=6.57,
                                 units=tuple((f"U{i}", 2) for i in range(6)))
        coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
        units = [u.id for u in session.scalars(select(Unit).where(
            Unit.location_id == location.id).order_by(Unit.label))]
        request_ids = [make_request(session, clock, worker).id for _ in range(6)]
    yield engine, worker, coordinator, units, request_ids
    engine.dispose()


def hold(http_base, worker, request_id, unit_id):
    import requests as http

    answer = http.post(f"{http_base}/api/v1/placement-requests/{request_id}/holds",
                       json={"unit_id": unit_id}, headers=worker.headers, timeout=60)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_of_many_concurrent_extensions_exactly_one_lands(shelter, postgres_url):
    engine, worker, coordinator, units, request_ids = shelter
    with running_service("serve", database_url=postgres_url, workers=WORKERS) as (base, _log):
        held = hold(base, worker, request_ids[0], units[0])
        answers = race([("POST", f"{base}/api/v1/holds/{held['id']}/extend", None)]
                       * CLIENTS, worker.headers)
        assert Counter(a.status_code for a in answers) == {200: 1, 409: CLIENTS - 1}, [
            a.text for a in answers if a.status_code not in (200, 409)]
        extended = next(a.json() for a in answers if a.status_code == 200)

        # Extend, confirm and release on one hold at once: whatever order they land in,
        # the database stays sound and at most one of confirm and release succeeds.
        second = hold(base, worker, request_ids[1], units[1])
        calls = [("POST", f"{base}/api/v1/holds/{second['id']}/{action}", None)
                 for action in ("extend", "confirm", "release") * 8]
        answers = race(calls, worker.headers)
        by_action = Counter((call[1].rsplit("/", 1)[1], answer.status_code)
                            for call, answer in zip(calls, answers, strict=True))
        assert by_action[("confirm", 201)] + by_action[("release", 200)] == 1, by_action
        assert by_action[("extend", 200)] <= 1, by_action
        assert all(status in (200, 201, 409) for (_action, status) in by_action), by_action

    with Session(engine) as session:
        assert booking_problems(session, datetime.now(UTC)) == []
        first = session.get(Hold, held["id"])
        assert first.extended_at is not None
        assert first.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") == extended["expires_at"]
        unit = session.get(Unit, units[0])
        assert unit.status == "held" and unit.held_until == first.expires_at


def test_of_many_arrival_and_no_show_marks_exactly_one_lands(shelter, postgres_url):
    engine, worker, coordinator, units, request_ids = shelter
    with running_service("serve", database_url=postgres_url, workers=WORKERS) as (base, _log):
        import requests as http

        placed = []
        for index in (2, 3):
            held = hold(base, worker, request_ids[index], units[index])
            answer = http.post(f"{base}/api/v1/holds/{held['id']}/confirm",
                               headers=worker.headers, timeout=60)
            assert answer.status_code == 201, answer.text
            placed.append(answer.json()["id"])
        for placement_id in placed:
            calls = [("POST", f"{base}/api/v1/placements/{placement_id}/{action}", None)
                     for action in ("arrival", "no-show") * (CLIENTS // 2)]
            answers = race(calls, coordinator.headers)
            assert Counter(a.status_code for a in answers) == {200: 1, 409: CLIENTS - 1}, [
                a.text for a in answers if a.status_code not in (200, 409)]

    with Session(engine) as session:
        assert booking_problems(session, datetime.now(UTC)) == []
        for placement_id in placed:
            placement = session.get(Placement, placement_id)
            request = session.get(PlacementRequest, placement.request_id)
            unit = session.get(Unit, placement.unit_id)
            if placement.arrival_status == "no_show":
                assert (request.status, unit.status) == ("open", "free")
                assert placement.ended_at is not None
            else:
                assert placement.arrival_status == "arrived"
                assert (request.status, unit.status) == ("placed", "occupied")
        assert session.scalar(select(func.count()).select_from(Placement)) == 2
