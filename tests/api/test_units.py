"""PATCH /units/{id}: hand changes with If-Match, holds and placements, bad input."""

import pytest
from sqlalchemy import func, select

from api.resources.units import parse_if_match
from shelter_match.models import AuditEvent, Hold, UnitChange
from tests.api.test_foundation import assert_problem
from tests.factories import hold_unit_for_test, make_caller, make_location, place_unit_for_test


@pytest.fixture
def place(session, clock):
    """A location with units A (1 bed) and B (4 beds) and its coordinator."""
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    return location, coordinator


def units(client, location, caller):
    detail = client.get(f"/api/v1/locations/{location.id}", headers=caller.headers).get_json()
    return {unit["label"]: unit for unit in detail["units"]}


def snapshot(client, session, location, caller):
    """Everything a failed change must leave as it was."""
    detail = client.get(f"/api/v1/locations/{location.id}", headers=caller.headers).get_json()
    return (detail, session.scalar(select(func.count()).select_from(UnitChange)),
            session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "unit.updated")))


def patch(client, unit_id, body, caller, if_match=None, **kwargs):
    headers = dict(caller.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(f"/api/v1/units/{unit_id}", json=body, headers=headers, **kwargs)


def test_coordinator_changes_a_unit_with_if_match(client, session, clock, place):
    location, coordinator = place
    unit = units(client, location, coordinator)["B"]
    clock.advance(minutes=5)
    response = patch(client, unit["id"], {"status": "occupied", "beds": 3}, coordinator, '"1"')
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["beds"], body["version"]) == ("occupied", 3, 2)
    assert body["updated_at"] == "2026-11-22T03:05:00Z"
    assert response.headers["ETag"] == '"2"'
    shown = client.get(f"/api/v1/units/{unit['id']}", headers=coordinator.headers)
    assert shown.get_json() == body and shown.headers["ETag"] == '"2"'
    detail = client.get(f"/api/v1/locations/{location.id}", headers=coordinator.headers)
    assert detail.get_json()["availability_updated_at"] == "2026-11-22T03:05:00Z"
    assert (detail.get_json()["units_free"], detail.get_json()["beds_free"]) == (1, 1)


def test_stale_if_match_is_412_and_changes_nothing(client, session, clock, place):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    assert patch(client, unit["id"], {"status": "closed"}, coordinator, '"1"').status_code == 200
    before = snapshot(client, session, location, coordinator)
    body = assert_problem(patch(client, unit["id"], {"status": "free"}, coordinator, '"1"'), 412)
    assert '"2"' in body["detail"]
    assert snapshot(client, session, location, coordinator) == before


@pytest.mark.parametrize("header, status", [
    ('"1"', 200), ('"7", "1"', 200), ("*", 200), (' "1" ', 200),
    ('W/"1"', 412), ('"abc"', 412), ('"2"', 412),
    ("abc", 400), ("1", 400), ('"1', 400), ('"1" x', 400), ("", 400),
])
def test_if_match_forms(client, session, clock, place, header, status):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    before = snapshot(client, session, location, coordinator)
    response = patch(client, unit["id"], {"status": "closed"}, coordinator, header)
    if status == 200:
        assert response.status_code == 200 and response.get_json()["version"] == 2
    else:
        body = assert_problem(response, status)
        if status == 400:
            assert "If-Match" in body["detail"]
        assert snapshot(client, session, location, coordinator) == before


def test_parse_if_match():
    assert parse_if_match(None) is None and parse_if_match("*") is None
    assert parse_if_match('"3"') == {3}
    assert parse_if_match('"3", W/"4", "x", "5"') == {3, 5}
    with pytest.raises(Exception, match="entity tag"):
        parse_if_match("3")


def test_without_if_match_the_change_applies_to_the_current_version(client, session, clock,
                                                                    place):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    patch(client, unit["id"], {"status": "closed"}, coordinator)
    response = patch(client, unit["id"], {"beds": 2}, coordinator)
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["beds"],
            response.get_json()["version"]) == ("closed", 2, 3)


def test_same_values_change_nothing(client, session, clock, place):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    before = snapshot(client, session, location, coordinator)
    response = patch(client, unit["id"], {"status": "free", "beds": 1}, coordinator, '"1"')
    assert response.status_code == 200 and response.get_json()["version"] == 1
    assert snapshot(client, session, location, coordinator) == before


@pytest.mark.parametrize("body, field", [
    ({"status": "held"}, "status"),
    ({"status": "bezet"}, "status"),
    ({"status": None}, "status"),
    ({"beds": -1}, "beds"),
    ({"beds": 21}, "beds"),
    ({"beds": "2"}, "beds"),
    ({"beds": 1.5}, "beds"),
    ({"beds": True}, "beds"),
    ({}, "status"),
    ({"label": "Z"}, "label"),
    ({"version": 9}, "version"),
])
def test_bad_change_is_422_naming_the_field_and_changes_nothing(client, session, clock, place,
                                                                body, field):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    before = snapshot(client, session, location, coordinator)
    problem = assert_problem(patch(client, unit["id"], body, coordinator, '"1"'), 422)
    assert field in problem["errors"], problem
    assert snapshot(client, session, location, coordinator) == before


def test_held_status_is_explained(client, session, clock, place):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    problem = assert_problem(patch(client, unit["id"], {"status": "held"}, coordinator), 422)
    assert "hold" in problem["errors"]["status"][0]


def test_bad_bodies(client, session, clock, place):
    location, coordinator = place
    unit = units(client, location, coordinator)["A"]
    before = snapshot(client, session, location, coordinator)
    url = f"/api/v1/units/{unit['id']}"
    assert_problem(client.patch(url, data='{"status": ', headers={
        **coordinator.headers, "Content-Type": "application/json"}), 400)
    assert_problem(client.patch(url, data="status=free", headers={
        **coordinator.headers, "Content-Type": "text/plain"}), 415)
    assert_problem(client.patch(url, json=["free"], headers=coordinator.headers), 422)
    assert snapshot(client, session, location, coordinator) == before


def test_who_may_change_a_unit(client, session, clock, place):
    location, _ = place
    other = make_caller(session, clock, "coordinator",
                        location_ids=(make_location(session, clock).id,))
    admin = make_caller(session, clock, "admin")
    unit = units(client, location, admin)["A"]
    before = snapshot(client, session, location, admin)
    body = assert_problem(patch(client, unit["id"], {"status": "closed"}, other), 403)
    assert "coordinator of this location" in body["detail"]
    for role in ("crisis_worker", "region_reviewer"):
        caller = make_caller(session, clock, role)
        assert_problem(patch(client, unit["id"], {"status": "closed"}, caller), 403)
    assert snapshot(client, session, location, admin) == before
    assert_problem(patch(client, "no-such-unit", {"status": "closed"}, admin), 404)
    assert_problem(client.get("/api/v1/units/no-such-unit", headers=admin.headers), 404)
    assert patch(client, unit["id"], {"status": "closed"}, admin).status_code == 200


@pytest.mark.parametrize("status", ["free", "occupied", "closed"])
def test_held_unit_is_409_for_a_status_change(client, session, clock, place, status):
    location, coordinator = place
    unit_id = units(client, location, coordinator)["B"]["id"]
    hold_unit_for_test(session, clock, unit_id, adults=1, children=1)
    before = snapshot(client, session, location, coordinator)
    body = assert_problem(patch(client, unit_id, {"status": status}, coordinator, '"2"'), 409)
    assert "hold must be released" in body["detail"]
    assert snapshot(client, session, location, coordinator) == before


def test_held_unit_beds(client, session, clock, place):
    location, coordinator = place
    unit_id = units(client, location, coordinator)["B"]["id"]
    hold_unit_for_test(session, clock, unit_id, adults=1, children=2)
    before = snapshot(client, session, location, coordinator)
    body = assert_problem(patch(client, unit_id, {"beds": 2}, coordinator), 409)
    assert "household of 3" in body["detail"]
    assert snapshot(client, session, location, coordinator) == before
    response = patch(client, unit_id, {"beds": 3}, coordinator, '"2"')
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["beds"]) == ("held", 3)
    assert response.get_json()["held_until"] == "2026-11-22T03:30:00Z"


def test_placed_unit(client, session, clock, place):
    location, coordinator = place
    unit_id = units(client, location, coordinator)["B"]["id"]
    place_unit_for_test(session, clock, unit_id, household_size=2)
    before = snapshot(client, session, location, coordinator)
    body = assert_problem(patch(client, unit_id, {"status": "free"}, coordinator), 409)
    assert "placement must be discharged" in body["detail"]
    assert "household of 2" in assert_problem(
        patch(client, unit_id, {"beds": 1}, coordinator), 409)["detail"]
    assert snapshot(client, session, location, coordinator) == before
    assert patch(client, unit_id, {"beds": 2}, coordinator).get_json()["beds"] == 2


def test_expired_hold_reads_free_and_may_be_changed(client, session, clock, place):
    location, coordinator = place
    unit_id = units(client, location, coordinator)["B"]["id"]
    hold = hold_unit_for_test(session, clock, unit_id, minutes=30)
    detail = client.get(f"/api/v1/locations/{location.id}", headers=coordinator.headers)
    assert (detail.get_json()["units_free"], units(client, location, coordinator)["B"]["status"]
            ) == (1, "held")
    clock.advance(minutes=30)
    shown = units(client, location, coordinator)["B"]
    assert (shown["status"], shown["held_until"], shown["version"]) == ("free", None, 2)
    listed = next(r for r in client.get("/api/v1/locations", headers=coordinator.headers)
                  .get_json() if r["id"] == location.id)
    assert (listed["units_free"], listed["beds_free"]) == (2, 5)
    response = patch(client, unit_id, {"status": "occupied"}, coordinator, '"2"')
    assert response.status_code == 200 and response.get_json()["version"] == 3
    session.expire_all()
    assert session.get(Hold, hold.id).status == "expired"


def test_change_moves_freshness_but_a_hold_does_not(client, session, clock, place):
    location, coordinator = place
    url = f"/api/v1/locations/{location.id}"
    unit_id = units(client, location, coordinator)["A"]["id"]
    clock.advance(hours=13)
    assert client.get(url, headers=coordinator.headers).get_json()["stale"] is True
    hold_unit_for_test(session, clock, units(client, location, coordinator)["B"]["id"])
    assert client.get(url, headers=coordinator.headers).get_json()["stale"] is True
    patch(client, unit_id, {"status": "closed"}, coordinator)
    shown = client.get(url, headers=coordinator.headers).get_json()
    assert (shown["stale"], shown["availability_updated_at"]) == (False, "2026-11-22T16:00:00Z")
