"""/healthz answers while every request thread of the server waits on a locked row."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from shelter_match.db import create_database_engine
from tests.app.test_database_faults import unit_and_its_coordinator
from tests.live import running_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]
THREADS = 4  # app.cli.SERVER_SETTINGS: one worker of four threads below


def test_healthz_answers_while_every_worker_thread_waits_on_a_locked_row(postgres_url):
    engine = create_database_engine(postgres_url)
    unit_id, coordinator = unit_and_its_coordinator(engine)
    # Long database timeouts, so that the threads stay held for the whole test.
    patient = {"SHELTER_MATCH_DB_LOCK_TIMEOUT": "30", "SHELTER_MATCH_DB_STATEMENT_TIMEOUT": "40"}
    with running_service("serve", database_url=postgres_url, workers=1,
                         extra_env=patient) as (base_url, _log), \
            ThreadPoolExecutor(max_workers=2 * THREADS) as callers, \
            engine.connect() as blocker, blocker.begin() as lock:
        blocker.execute(text("SELECT id FROM units WHERE id = :id FOR UPDATE"), {"id": unit_id})

        def patch_unit():
            return requests.patch(f"{base_url}/api/v1/units/{unit_id}", json={"beds": 2},
                                  headers=coordinator.headers, timeout=60).status_code

        # Every thread of the worker waits for the lock, and as many calls queue behind them.
        waiting = [callers.submit(patch_unit) for _ in range(2 * THREADS)]
        time.sleep(1.5)
        assert not any(call.done() for call in waiting), "the row lock did not hold them"
        for _ in range(3):
            started = time.monotonic()
            answer = requests.get(f"{base_url}/healthz", timeout=5)
            assert answer.status_code == 200 and answer.json() == {"status": "ok"}
            assert time.monotonic() - started < 3.0  # the lock holds the others for 30 s
        assert not any(call.done() for call in waiting)
        lock.rollback()
        assert sorted(call.result(timeout=60) for call in waiting) == [200] * (2 * THREADS)
    engine.dispose()
