"""The waiting list over real HTTP: a coordinator frees a bed, the waiting rood case gets it."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import requests as http
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from tests.live import running_service
from tests.shelter_match.test_matcher_process import matcher_process, wait_for, world

pytestmark = pytest.mark.slow


def offered(base: str, caller, request_id: str) -> dict | None:
    answer = http.get(f"{base}/api/v1/placement-requests/{request_id}", headers=caller.headers,
                      timeout=10).json()
    return answer if answer["status"] == "offered" else None


def coordinator_caller(engine, the_world):
    from tests.factories import make_caller

    with Session(engine) as session, session.begin():
        return make_caller(session, the_world["clock"], "coordinator",
                           location_ids=tuple(the_world["location_ids"]))


def test_two_servers_two_matchers_a_freed_bed_is_offered(postgres_url):
    engine = create_database_engine(postgres_url)
    try:
        the_world = world(engine)
        request_id, unit_id = the_world["requests"][0], the_world["units"][0]
        worker = the_world["worker"]
        coordinator = coordinator_caller(engine, the_world)
        with ExitStack() as stack:
            one, _ = stack.enter_context(running_service("serve", database_url=postgres_url,
                                                         workers=1))
            two, _ = stack.enter_context(running_service("serve", database_url=postgres_url,
                                                         workers=1))
            stack.enter_context(matcher_process(postgres_url))
            stack.enter_context(matcher_process(postgres_url))
            time.sleep(1)  # let the matchers settle who is active
            shown = http.get(f"{two}/api/v1/placement-requests/{request_id}",
                             headers=worker.headers, timeout=10).json()
            assert shown["status"] == "waiting" and shown["offer"] is None
            freed = http.patch(f"{one}/api/v1/units/{unit_id}", json={"status": "free"},
                               headers=coordinator.headers, timeout=10)
            assert freed.status_code == 200, freed.text
            answer = wait_for(lambda: offered(two, worker, request_id), timeout=15,
                              what="the offer over HTTP")
            offer = answer["offer"]
            assert offer["unit_id"] == unit_id and offer["hold_id"]
            assert set(offer) == {"hold_id", "unit_id", "location_id", "place", "intake_phone",
                                  "expires_at"}
            assert offer["expires_at"].endswith("Z")
            listed = http.get(f"{one}/api/v1/waitlist", headers=worker.headers,
                              timeout=10).json()
            assert [r["id"] for r in listed] == [request_id]
            confirmed = http.post(f"{one}/api/v1/holds/{offer['hold_id']}/confirm",
                                  headers=worker.headers, timeout=10)
            assert confirmed.status_code == 201, confirmed.text
    finally:
        engine.dispose()


def test_serve_on_sqlite_runs_the_matcher_inside(tmp_path):
    from testbed.databases import create_migrated_database

    url = create_migrated_database("sqlite", tmp_path)
    engine = create_database_engine(url)
    try:
        the_world = world(engine)
        request_id, unit_id = the_world["requests"][0], the_world["units"][0]
        coordinator = coordinator_caller(engine, the_world)
        with running_service("serve", database_url=url, workers=2) as (base, _log):
            freed = http.patch(f"{base}/api/v1/units/{unit_id}", json={"status": "free"},
                               headers=coordinator.headers, timeout=10)
            assert freed.status_code == 200, freed.text
            answer = wait_for(lambda: offered(base, the_world["worker"], request_id),
                              timeout=15, what="the offer from the embedded matcher")
            assert answer["offer"]["unit_id"] == unit_id
    finally:
        engine.dispose()
