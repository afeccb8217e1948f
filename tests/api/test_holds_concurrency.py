"""Never a double booking: real clients race real gunicorn workers on PostgreSQL.

Every client is a thread with its own HTTP connection; a barrier releases them together.
The database is checked afterwards, row by row (tests/placement_checks.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests as http
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import Hold, Placement, Unit
from shelter_match.services import quotas
from tests.factories import make_caller, make_location, make_request
from tests.live import running_service
from tests.placement_checks import booking_problems

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

CLIENTS = 50
ROUNDS = 3
WORKERS = 4


def race(calls: list[tuple[str, str, dict | None]], headers: dict) -> list[http.Response]:
    """Send every (method, url, json) at once, each from its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    answers: list[http.Response | None] = [None] * len(calls)

    def client(index: int) -> None:
        method, url, body = calls[index]
        with http.Session() as connection:
            barrier.wait()
            answers[index] = connection.request(method, url, json=body, headers=headers,
                                                timeout=120)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return answers  # type: ignore[return-value]


@pytest.fixture
def city(postgres_url):
    """A worker with many open requests and secure units far from the danger."""
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        # Hundreds of requests within the hour: far beyond a person's quota.
        quotas.set_user_quotas(session, worker.user.name,
                               {"requests_per_hour": 1000, "proposals_per_hour": 1000},
                               actor=None, now=clock.now())
        racing = make_location(session, clock, region_code="GM0014", lat=53.22, lon=6.57,
                               units=tuple((f"R{i}", 2) for i in range(ROUNDS)))
        spread = make_location(session, clock, region_code="GM0014", lat=53.21, lon=6.56,
                               units=tuple((f"S{i:02}", 2) for i in range(30)))
        units = list(session.scalars(select(Unit).order_by(Unit.label)))
        request_ids = [make_request(session, clock, worker).id
                       for _ in range(CLIENTS * ROUNDS + 60)]
        racing_units = [u.id for u in units if u.location_id == racing.id]
        spread_units = [u.id for u in units if u.location_id == spread.id]
    yield engine, worker, racing_units, spread_units, request_ids
    engine.dispose()


def test_of_many_concurrent_holds_exactly_one_wins(city, postgres_url):
    engine, worker, racing_units, spread_units, request_ids = city
    with running_service("serve", database_url=postgres_url, workers=WORKERS) as (base, _log):
        # The same unit, CLIENTS requests at once; a few rounds, a fresh unit each time.
        for round_, unit_id in enumerate(racing_units):
            mine = request_ids[round_ * CLIENTS:(round_ + 1) * CLIENTS]
            answers = race([("POST", f"{base}/api/v1/placement-requests/{r}/holds",
                             {"unit_id": unit_id}) for r in mine], worker.headers)
            statuses = Counter(a.status_code for a in answers)
            assert statuses == {201: 1, 409: CLIENTS - 1}, [a.text for a in answers
                                                            if a.status_code not in (201, 409)]
            with Session(engine) as session:
                assert session.scalar(select(func.count()).select_from(Hold).where(
                    Hold.unit_id == unit_id, Hold.status == "active")) == 1
                assert session.get(Unit, unit_id).status == "held"
                assert booking_problems(session, datetime.now(UTC)) == []

        # Different units at once: two requests for each of 30 units, 60 clients.
        rest = request_ids[CLIENTS * ROUNDS:]
        answers = race([("POST", f"{base}/api/v1/placement-requests/{r}/holds",
                         {"unit_id": spread_units[i % len(spread_units)]})
                        for i, r in enumerate(rest)], worker.headers)
        assert Counter(a.status_code for a in answers) == {201: 30, 409: 30}
        won = [a.json()["id"] for a in answers if a.status_code == 201]

        # Confirm every winning hold twice at once, and release none: one placement each.
        answers = race([("POST", f"{base}/api/v1/holds/{h}/confirm", None)
                        for h in won + won], worker.headers)
        assert Counter(a.status_code for a in answers) == {201: 30, 409: 30}

    with Session(engine) as session:
        assert booking_problems(session, datetime.now(UTC)) == []
        assert session.scalar(select(func.count()).select_from(Placement)) == 30
        assert set(session.scalars(select(Unit.status).where(Unit.id.in_(spread_units)))) == {
            "occupied"}
