"""Fixtures of the security tests: a small world of real objects and callers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shelter_match.models import Unit
from shelter_match.services import holds, users
from tests.factories import (
    make_caller,
    make_location,
    make_request,
    place_unit_for_test,
    principal_of,
)


@pytest.fixture
def world(session, clock):
    """Real objects for every path parameter, and a token for every kind of caller."""
    location = make_location(session, clock, name="Opvang Eigen",
                             units=(("A", 1), ("B", 4), ("C", 2), ("D", 2)))
    other_location = make_location(session, clock, name="Opvang Ander", region_code="GM0014",
                                   lat=53.22, lon=6.56, address="Andere Weg 2, Groningen")
    units = dict(session.execute(select(Unit.label, Unit.id)
                                 .where(Unit.location_id == location.id)).all())
    worker = make_caller(session, clock, "crisis_worker")
    callers = {
        "crisis_worker": worker,
        "other_crisis_worker": make_caller(session, clock, "crisis_worker"),
        "coordinator": make_caller(session, clock, "coordinator",
                                   location_ids=(location.id,)),
        "other_coordinator": make_caller(session, clock, "coordinator",
                                         location_ids=(other_location.id,)),
        "region_reviewer": make_caller(session, clock, "region_reviewer",
                                       region_code="GM0344"),
        "admin": make_caller(session, clock, "admin"),
    }
    revoked = make_caller(session, clock, "admin")
    users.revoke_tokens(session, revoked.user.name, clock.now())
    open_request = make_request(session, clock, worker)
    held_request = make_request(session, clock, worker)
    hold = holds.create_hold(session, held_request.id, units["C"],
                             actor=principal_of(session, worker), now=clock.now())
    placement = place_unit_for_test(session, clock, units["D"])
    session.flush()
    headers = {name: caller.headers for name, caller in callers.items()}
    headers["none"] = {}
    headers["revoked"] = revoked.headers
    return {
        "headers": headers,
        "ids": {
            "location_id": location.id,
            "unit_id": units["B"],
            "free_unit_id": units["A"],
            "request_id": open_request.id,
            "hold_id": hold.id,
            "placement_id": placement.id,
            "code": "GM0622",  # a region (GET /regions/{code})
            "name": worker.user.name,  # a user (/users/{name}/quotas)
            "audience": "duty:GM0599",  # a notification audience
        },
    }
