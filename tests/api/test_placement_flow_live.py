"""End to end through real HTTP and gunicorn: the crisis worker's night, and the sweeper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests as http
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import Hold, Unit
from shelter_match.services import holds
from testbed.cli import run_cli
from tests.factories import make_caller, make_location, make_request, principal_of
from tests.live import running_service

pytestmark = pytest.mark.slow


def test_request_propose_hold_confirm_discharge_over_http(fresh_database_url):
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        safe = make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                             safety_level="rood", lat=53.22, lon=6.57, address="Noorderweg 3",
                             units=(("N1", 3), ("N2", 1)))
        make_location(session, clock, name="Opvang Schiedam", region_code="GM0599",
                      safety_level="rood", lat=51.92, lon=4.40, units=(("S1", 4),))
        coordinator = make_caller(session, clock, "coordinator", location_ids=(safe.id,))
        location_id = safe.id
    engine.dispose()

    with running_service("serve", database_url=fresh_database_url, workers=2) as (base, _log):
        api = f"{base}/api/v1"
        created = http.post(f"{api}/placement-requests", headers=worker.headers, timeout=30,
                            json={"case_reference": "VT-2026-0042", "origin_region_code": "GM0599",
                                  "risk_level": "rood", "danger": {"place": "schiedam"},
                                  "household": {"adults": 1, "children": 2}})
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        proposals = http.post(f"{api}/placement-requests/{request_id}/proposals", json={},
                              headers=worker.headers, timeout=30).json()
        first = proposals["options"][0]
        assert first["location_name"] == "Veilig Huis Noord" and first["beds"] == 3
        assert "address" not in first and "lat" not in first

        hold = http.post(f"{api}/placement-requests/{request_id}/holds",
                         json={"unit_id": first["unit_id"]}, headers=worker.headers, timeout=30)
        assert hold.status_code == 201, hold.text
        placement = http.post(f"{api}/holds/{hold.json()['id']}/confirm",
                              headers=worker.headers, timeout=30)
        assert placement.status_code == 201, placement.text
        assert placement.json()["address"] == "Noorderweg 3"

        def unit_status() -> str:
            location = http.get(f"{api}/locations/{location_id}", headers=coordinator.headers,
                                timeout=30).json()
            return {u["id"]: u["status"] for u in location["units"]}[first["unit_id"]]

        assert unit_status() == "occupied"
        discharged = http.post(f"{api}/placements/{placement.json()['id']}/discharge",
                               json={}, headers=coordinator.headers, timeout=30)
        assert discharged.status_code == 200, discharged.text
        assert discharged.json()["ended_at"]
        assert unit_status() == "free"
        again = http.get(f"{api}/placement-requests/{request_id}", headers=worker.headers,
                         timeout=30).json()
        assert again["status"] == "placed"


def test_sweep_command_tidies_expired_holds(fresh_database_url):
    # Holds made an hour ago with the default 30 minutes: expired already, not yet tidied.
    clock = FrozenClock(datetime.now(UTC) - timedelta(hours=1))
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        caller = make_caller(session, clock, "crisis_worker")
        location = make_location(session, clock, units=(("A", 1), ("B", 1), ("C", 1)))
        units = session.scalars(select(Unit).where(Unit.location_id == location.id)
                                .order_by(Unit.label)).all()
        me = principal_of(session, caller)
        for unit in units[:2]:
            request = make_request(session, clock, caller)
            holds.create_hold(session, request.id, unit.id, actor=me, now=clock.now())
        fresh = make_request(session, clock, caller)
        holds.create_hold(session, fresh.id, units[2].id, actor=me,
                          now=datetime.now(UTC))
    swept = run_cli("holds", "sweep", database_url=fresh_database_url)
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.strip() == "expired 2 hold(s), freed 2 unit(s)"
    with Session(engine) as session:
        statuses = dict(session.execute(select(Unit.label, Unit.status)).all())
        assert statuses == {"A": "free", "B": "free", "C": "held"}
        assert sorted(session.scalars(select(Hold.status))) == ["active", "expired", "expired"]
    again = run_cli("holds", "sweep", database_url=fresh_database_url)
    assert again.stdout.strip() == "expired 0 hold(s), freed 0 unit(s)"
    engine.dispose()
