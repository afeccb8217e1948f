"""The suite-wide leak scanner (tests/leak_scanner.py) must be able to fail.

Each test plants a leak, checks the scanner caught it, and then clears the scanner's
findings so that the planted leak does not fail the test through the autouse check.
"""

from __future__ import annotations

from flask import g, jsonify, render_template_string

from shelter_match.services.auth import Principal
from tests.factories import make_caller, make_location, principal_of
from tests.leak_scanner import scanner


def take_leaks() -> list:
    leaks = list(scanner.leaks)
    scanner.leaks.clear()
    return leaks


def test_a_planted_json_and_html_leak_is_caught(app, session, clock):
    location = make_location(session, clock, address="Achterom 3, 's-Hertogenbosch",
                             lat=51.6978, lon=5.3037,
                             region_code="GM0796")
    worker = make_caller(session, clock, "crisis_worker")
    principal = principal_of(session, worker)

    # Routes only this test's app has, answering as if for the crisis worker.
    @app.get("/planted.json")
    def planted_json():
        g.principal = principal
        return jsonify({"where": {"lat": location.lat, "lon": location.lon}})

    @app.get("/planted.html")
    def planted_html():
        g.principal = principal
        return render_template_string("<p>{{ address }}</p>", address=location.address)

    client = app.test_client()
    client.get("/planted.json")
    client.get("/planted.html")
    leaks = take_leaks()
    assert {(leak.what, leak.path.split("?")[0]) for leak in leaks} == {
        ("coordinates", "GET /planted.json"), ("address", "GET /planted.html"),
    }
    assert all(leak.location_id == location.id for leak in leaks)


def test_a_real_endpoint_that_forgets_the_scope_is_caught(client, session, clock,
                                                            monkeypatch):
    location = make_location(session, clock)
    worker = make_caller(session, clock, "crisis_worker")
    # The bug planted: everyone "manages" every location, so the API sends the address.
    monkeypatch.setattr(Principal, "manages_location", lambda self, location_id: True)
    response = client.get(f"/api/v1/locations/{location.id}", headers=worker.headers)
    assert response.get_json()["address"] == location.address
    leaks = take_leaks()
    assert {leak.what for leak in leaks} == {"address", "coordinates"}
    assert all(leak.caller.startswith("crisis_worker") for leak in leaks)


def test_the_entitled_are_not_reported(client, session, clock):
    location = make_location(session, clock, address="Eigen Hof 9, Zwolle", lat=52.5168,
                             lon=6.083, region_code="GM0193")
    make_location(session, clock, address="Verre Dreef 1, Heerlen", lat=50.8882, lon=5.9795,
                  region_code="GM0917")
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    admin = make_caller(session, clock, "admin")
    mine = client.get(f"/api/v1/locations/{location.id}", headers=coordinator.headers)
    assert mine.get_json()["address"] == "Eigen Hof 9, Zwolle"
    everything = client.get("/api/v1/locations", headers=admin.headers)
    assert "Verre Dreef 1, Heerlen" in everything.get_data(as_text=True)
    assert take_leaks() == []
    assert scanner.responses > 0


def test_a_coordinate_inside_a_longer_number_is_not_a_leak():
    from tests.leak_scanner import Secret

    scanner.secrets.append(Secret("loc", "Nergens 1", 52.09, 5.12))
    assert scanner.scan(None, "GET /x", '{"lat": 52.0908, "lon": 5.1222}') == []
    assert [leak.what for leak in scanner.scan(None, "GET /x", '[52.09, 5.12]')] == [
        "coordinates"]


def test_answers_of_a_live_server_are_scanned_against_its_database(fresh_database_url):
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from shelter_match.clock import FrozenClock
    from shelter_match.db import create_database_engine
    from tests.leak_scanner import LiveAnswer, scan_live_answers

    clock = FrozenClock(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        location = make_location(session, clock, address="Livestraat 12, Zwolle",
                                 lat=52.5123, lon=6.0911, region_code="GM0193")
        worker = make_caller(session, clock, "crisis_worker")
        coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    engine.dispose()
    body = '{"address": "Livestraat 12, Zwolle", "lat": 52.5123, "lon": 6.0911}'

    def answer(caller) -> LiveAnswer:
        return LiveAnswer(authorization=caller.headers["Authorization"], has_cookie=False,
                          path="GET /api/v1/locations/x", asked="/api/v1/locations/x",
                          content_type="application/json", text=body)

    leaks = scan_live_answers(fresh_database_url, [answer(worker), answer(coordinator)])
    assert sorted(leak.what for leak in leaks) == ["address", "coordinates"]
    assert all(leak.caller.startswith("crisis_worker") for leak in leaks)
