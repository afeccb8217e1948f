"""Probing signals: a seeded attacker is listed, a normal night's crisis worker is not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.services import signals
from testbed.cli import run_cli
from tests.factories import make_caller, make_location
from tests.shelter_match.test_cli import assert_one_line_error

REQUEST = {"case_reference": "VT-2026-0042", "origin_region_code": "GM0599",
           "risk_level": "rood", "household": {"adults": 1, "children": 1}}


def seed_network(session, clock):
    """A secure location near Groningen, and two crisis workers."""
    make_location(session, clock, region_code="GM0014", safety_level="rood", lat=53.22,
                  lon=6.57, units=(("N1", 4), ("N2", 2)))
    return make_caller(session, clock, "crisis_worker"), make_caller(session, clock,
                                                                     "crisis_worker")


def play_night(post, attacker, worker):
    """An attacker circling the Groningen shelter; a worker at work. `post` calls the API."""
    # The attacker: 12 requests, each with the danger moved a few km around the north,
    # a proposal for each (nothing is offered so close), half thrown away.
    for n in range(12):
        created = post(attacker, "/api/v1/placement-requests", {
            **REQUEST, "case_reference": f"VT-2026-{n:04}",
            "danger": {"lat": 53.0 + 0.03 * n, "lon": 6.2 + 0.05 * (n % 4)}})
        post(attacker, f"/api/v1/placement-requests/{created['id']}/proposals", {})
        if n % 2 == 0:
            post(attacker, f"/api/v1/placement-requests/{created['id']}/cancel", {})
    # The worker: three cases from around Rotterdam, proposals looked at a few times, one
    # held, one cancelled (she found a place elsewhere).
    for n, place in enumerate(("Schiedam", "Vlaardingen", "Rotterdam")):
        created = post(worker, "/api/v1/placement-requests", {
            **REQUEST, "case_reference": f"VT-2026-10{n}", "danger": {"place": place}})
        for _ in range(3):
            answer = post(worker, f"/api/v1/placement-requests/{created['id']}/proposals", {})
        if n == 0:
            post(worker, f"/api/v1/placement-requests/{created['id']}/holds",
                 {"unit_id": answer["options"][0]["unit_id"]})
        if n == 1:
            post(worker, f"/api/v1/placement-requests/{created['id']}/cancel", {})


def poster(client):
    def post(caller, path, body):
        response = client.post(path, json=body, headers=caller.headers)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.get_json()
    return post


def test_an_attacker_is_listed_and_a_normal_worker_is_not(client, session, clock):
    attacker, worker = seed_network(session, clock)
    play_night(poster(client), attacker, worker)
    report = signals.probing_signals(session, now=clock.now())
    assert [found.user_name for found in report.users] == [attacker.user.name]
    [found] = report.users
    assert found.counts["point_sets"] == 12 and found.counts["cancelled"] == 6
    assert found.counts["exclusion_only"] == 12
    assert set(found.flagged) == {"point_sets", "cancelled", "exclusion_only"}
    # A day later the window is empty.
    clock.advance(hours=25)
    assert signals.probing_signals(session, now=clock.now()).users == []
    clock.advance(hours=-25)

    # The admin page shows the same; others may not see it.
    from tests.web.helpers import make_person, signed_in  # noqa: PLC0415

    signed_in(client, make_person(session, clock, "admin"))
    page = client.get("/beheer/signalen").get_data(as_text=True)
    assert attacker.user.name in page and worker.user.name not in page
    assert client.get("/beheer/signalen?uren=9999").status_code == 422


def test_only_an_admin_sees_the_signals_page(client, session, clock):
    from tests.web.helpers import make_person, signed_in  # noqa: PLC0415

    signed_in(client, make_person(session, clock, "region_reviewer"))
    assert client.get("/beheer/signalen").status_code == 403


def test_audit_signals_command(fresh_database_url):
    from app import create_app  # noqa: PLC0415

    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(fresh_database_url)
    try:
        with Session(engine) as session, session.begin():
            attacker, worker = seed_network(session, clock)
            name = attacker.user.name
    finally:
        engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, "CLOCK": clock})
    play_night(poster(app.test_client()), attacker, worker)
    result = run_cli("audit", "signals", database_url=fresh_database_url)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith(f"{name}\tcrisis_worker\t"), result.stdout
    assert "point_sets=12*" in lines[0]
    assert "exclusion_only >= 5" in result.stdout  # the thresholds are explained
    assert_one_line_error(run_cli("audit", "signals", "--hours", "0",
                                  database_url=fresh_database_url), "hours")
