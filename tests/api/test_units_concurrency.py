"""Real concurrent PATCHes of one unit through gunicorn (2 workers) on PostgreSQL."""

import threading

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.clock import Clock
from shelter_match.db import create_database_engine
from shelter_match.models import UnitChange
from tests.factories import make_caller, make_location
from tests.live import running_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]
ROUNDS = 8


@pytest.fixture
def served(postgres_url):
    """A served database with one location, its coordinator and its admin."""
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        location = make_location(session, Clock(), units=(("A", 2),))
        coordinator = make_caller(session, Clock(), "coordinator", location_ids=(location.id,))
        admin = make_caller(session, Clock(), "admin")
        location_id = location.id
    with running_service("serve", database_url=postgres_url, workers=2) as (base_url, _log):
        unit = requests.get(f"{base_url}/api/v1/locations/{location_id}",
                            headers=admin.headers, timeout=10).json()["units"][0]
        yield base_url, unit["id"], [coordinator.headers, admin.headers], engine
    engine.dispose()


def race(url, bodies, headers_per_caller):
    """Send the PATCHes at the same moment, each on its own connection; return responses."""
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)

    def send(index):
        with requests.Session() as http:
            http.get(url, headers=headers_per_caller[index], timeout=10)  # warm the connection
            barrier.wait()
            responses[index] = http.patch(url, json=bodies[index],
                                          headers=headers_per_caller[index], timeout=30)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def manual_changes(engine, unit_id):
    with Session(engine) as session:
        return session.scalars(select(UnitChange).where(
            UnitChange.unit_id == unit_id, UnitChange.cause == "manual").order_by(
            UnitChange.id)).all()


def test_same_version_race_has_exactly_one_winner(served):
    base_url, unit_id, (coordinator, admin), engine = served
    url = f"{base_url}/api/v1/units/{unit_id}"
    for _ in range(ROUNDS):
        current = requests.get(url, headers=admin, timeout=10)
        status, etag = current.json()["status"], current.headers["ETag"]
        first, second = [s for s in ("free", "occupied", "closed") if s != status]
        responses = race(url, [{"status": first}, {"status": second}],
                         [{**coordinator, "If-Match": etag}, {**admin, "If-Match": etag}])
        assert sorted(r.status_code for r in responses) == [200, 412], \
            [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        after = requests.get(url, headers=admin, timeout=10).json()
        assert after == winner  # the loser changed nothing
        assert after["version"] == int(etag.strip('"')) + 1
    assert len(manual_changes(engine, unit_id)) == ROUNDS


def test_without_if_match_both_apply_in_turn_and_history_chains(served):
    base_url, unit_id, (coordinator, admin), engine = served
    url = f"{base_url}/api/v1/units/{unit_id}"
    for round_ in range(ROUNDS // 2):
        start = requests.get(url, headers=admin, timeout=10).json()
        responses = race(url, [{"beds": 3 + round_}, {"status": "closed" if round_ % 2 == 0
                                                       else "free"}], [coordinator, admin])
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert sorted(r.json()["version"] for r in responses) == [start["version"] + 1,
                                                                  start["version"] + 2]
    changes = manual_changes(engine, unit_id)
    assert len(changes) == ROUNDS
    for earlier, later in zip(changes, changes[1:], strict=False):
        # Last write wins, but nothing is lost: each change starts where the one before ended.
        assert (later.from_status, later.from_beds) == (earlier.to_status, earlier.to_beds)
