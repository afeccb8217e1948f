"""Quotas hold under real concurrency: two server instances on one PostgreSQL database.

Every client is a thread with its own connection, released together by a barrier; the
calls are spread over two independent `shelter-match serve` instances, so nothing held
in one process's memory could have kept the count.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import AuditEvent, PlacementRequest
from shelter_match.services import quotas
from tests.api.test_holds_concurrency import race
from tests.api.test_placement_flow import REQUEST
from tests.factories import make_caller, make_location, make_request
from tests.live import running_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

CLIENTS = 40


def count(engine, model, *where) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_calls_over_two_instances_never_exceed_a_quota(postgres_url):
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        make_location(session, clock, region_code="GM0014", safety_level="rood", lat=53.22,
                      lon=6.57, units=(("N1", 4),))
        request_id = make_request(session, clock, worker).id
        quotas.set_user_quotas(session, worker.user.name, {"proposals_per_hour": 10},
                               actor=None, now=clock.now())
        user_id = worker.user.id
    try:
        with ExitStack() as stack:
            bases = [stack.enter_context(running_service("serve", database_url=postgres_url,
                                                         workers=2))[0] for _ in range(2)]
            proposals = race([("POST", f"{bases[i % 2]}/api/v1/placement-requests/"
                               f"{request_id}/proposals", {}) for i in range(CLIENTS)],
                             worker.headers)
            assert Counter(a.status_code for a in proposals) == {200: 10, 429: CLIENTS - 10}
            assert all(int(a.headers["Retry-After"]) >= 1 for a in proposals
                       if a.status_code == 429)
            # One request exists already; 29 more fit in the hour.
            created = race([("POST", f"{bases[i % 2]}/api/v1/placement-requests",
                             {**REQUEST, "case_reference": f"VT-2026-{i:04}"})
                            for i in range(CLIENTS)], worker.headers)
            assert Counter(a.status_code for a in created) == {201: 29, 429: CLIENTS - 29}
        assert count(engine, AuditEvent, AuditEvent.actor_id == user_id,
                     AuditEvent.action == "proposal.shown") == 10
        assert count(engine, PlacementRequest, PlacementRequest.created_by == user_id) == 30
        refusals = count(engine, AuditEvent, AuditEvent.actor_id == user_id,
                         AuditEvent.action == "quota.exceeded")
        assert refusals == (CLIENTS - 10) + (CLIENTS - 29)
    finally:
        engine.dispose()
