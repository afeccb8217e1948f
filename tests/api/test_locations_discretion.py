"""Walk every location and unit endpoint as every role: the address and coordinates reach
only an admin and the location's own coordinators, in answers, errors and the audit log."""

import json

import pytest
from sqlalchemy import select

from shelter_match.models import AuditEvent
from tests.factories import hold_unit_for_test, make_caller, make_location

ADDRESS = "Verborgen Pad 77, Nergenshuizen"
LAT, LON = 52.087654, 5.123457  # in Utrecht (the default region GM0344)
NEW_ADDRESS = "Onzichtbare Hof 3, Nergenshuizen"
NEW_LAT, NEW_LON = 52.234568, 5.765432
SECRETS = (ADDRESS, str(LAT), str(LON), NEW_ADDRESS, str(NEW_LAT), str(NEW_LON), "Verborgen",
           "Onzichtbare")


def walk(client, location_id, unit_id, held_unit_id, headers):
    """Call every location and unit endpoint, good and bad; return the responses."""
    base = f"/api/v1/locations/{location_id}"
    unit = f"/api/v1/units/{unit_id}"
    return [
        client.get("/api/v1/locations", headers=headers),
        client.get("/api/v1/locations?region_code=GM0344", headers=headers),
        client.get("/api/v1/locations?region_code=GM9999", headers=headers),
        client.get(base, headers=headers),
        client.get("/api/v1/locations/nope", headers=headers),
        client.patch(base, json={"name": "Huis Hernoemd"}, headers=headers),
        client.patch(base, json={"lat": 10.0}, headers=headers),
        client.post(f"{base}/units", json={"label": "Nieuw", "beds": 2}, headers=headers),
        client.post(f"{base}/units", json={"label": "A", "beds": 2}, headers=headers),
        client.post(f"{base}/availability-confirmations", headers=headers),
        client.get(f"{base}/unit-changes", headers=headers),
        client.get(unit, headers=headers),
        client.patch(unit, json={"status": "closed"}, headers=headers),
        client.patch(unit, json={"status": "free"}, headers={**headers, "If-Match": '"1"'}),
        client.patch(unit, json={"beds": -1}, headers=headers),
        client.patch(unit, json={"beds": 1}, headers={**headers, "If-Match": "abc"}),
        client.patch(f"/api/v1/units/{held_unit_id}", json={"status": "free"}, headers=headers),
        client.patch(f"/api/v1/units/{held_unit_id}", json={"beds": 0}, headers=headers),
        client.post("/api/v1/locations",
                    json={"name": "X", "region_code": "GM0344", "safety_level": "rood",
                          "lat": 99.0, "lon": LON, "address": ADDRESS}, headers=headers),
    ]


@pytest.mark.parametrize("role", ["crisis_worker", "region_reviewer", "other_coordinator"])
def test_no_answer_to_others_holds_the_address_or_coordinates(client, session, clock, role):
    location = make_location(session, clock, address=ADDRESS, lat=LAT, lon=LON,
                             units=(("A", 1), ("B", 4)))
    admin = make_caller(session, clock, "admin")
    # The admin moves it once, so old and new secrets are both in the history.
    client.patch(f"/api/v1/locations/{location.id}",
                 json={"address": NEW_ADDRESS, "lat": NEW_LAT, "lon": NEW_LON},
                 headers=admin.headers)
    units = {u["label"]: u["id"] for u in client.get(
        f"/api/v1/locations/{location.id}", headers=admin.headers).get_json()["units"]}
    hold_unit_for_test(session, clock, units["B"], adults=1, children=1)
    if role == "other_coordinator":
        other = make_location(session, clock, address="Eigen Straat 1, Elders")
        caller = make_caller(session, clock, "coordinator", location_ids=(other.id,))
    else:
        caller = make_caller(session, clock, role)

    responses = walk(client, location.id, units["A"], units["B"], caller.headers)
    statuses = [r.status_code for r in responses]
    assert 200 in statuses and 403 in statuses and 404 in statuses  # the walk reached views
    for response in responses:
        text = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (response.request.method, response.request.path, text)
        for header, value in response.headers.items():
            assert "Verborgen" not in value and "Onzichtbare" not in value, header
    listed = next(r for r in responses[0].get_json() if r["id"] == location.id)
    assert not {"address", "lat", "lon"} & set(listed)


@pytest.mark.parametrize("role", ["admin", "own_coordinator"])
def test_the_entitled_see_the_address_and_it_is_audited(client, session, clock, role):
    location = make_location(session, clock, address=ADDRESS, lat=LAT, lon=LON)
    if role == "admin":
        caller = make_caller(session, clock, "admin")
    else:
        caller = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    base = f"/api/v1/locations/{location.id}"
    listed = next(r for r in client.get("/api/v1/locations", headers=caller.headers).get_json()
                  if r["id"] == location.id)
    shown = client.get(base, headers=caller.headers).get_json()
    for body in (listed, shown):
        assert (body["address"], body["lat"], body["lon"]) == (ADDRESS, LAT, LON)
    events = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == caller.user.id)
                             .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["location.addresses_listed",
                                          "location.address_disclosed"]
    assert events[0].detail["locations"] >= 1 and events[1].object_id == location.id


def test_a_coordinator_sees_only_her_own_addresses(client, session, clock):
    own = make_location(session, clock, address="Eigen Straat 1, Utrecht")
    other = make_location(session, clock, address=ADDRESS, lat=LAT, lon=LON)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(own.id,))
    response = client.get("/api/v1/locations", headers=coordinator.headers)
    rows = {r["id"]: r for r in response.get_json()}
    assert rows[own.id]["address"] == "Eigen Straat 1, Utrecht"
    assert "address" not in rows[other.id]
    for secret in (ADDRESS, str(LAT), str(LON)):
        assert secret not in response.get_data(as_text=True)


def test_no_audit_detail_or_log_holds_a_secret(client, session, clock, caplog):
    location = make_location(session, clock, address=ADDRESS, lat=LAT, lon=LON)
    admin = make_caller(session, clock, "admin")
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    units = {u["label"]: u["id"] for u in client.get(
        f"/api/v1/locations/{location.id}", headers=admin.headers).get_json()["units"]}
    client.patch(f"/api/v1/locations/{location.id}",
                 json={"address": NEW_ADDRESS, "lat": NEW_LAT, "lon": NEW_LON,
                       "name": "Huis Hernoemd"}, headers=admin.headers)
    walk(client, location.id, units["A"], units["B"], coordinator.headers)
    walk(client, location.id, units["A"], units["B"], admin.headers)
    details = json.dumps([e.detail for e in session.scalars(select(AuditEvent))])
    for secret in SECRETS:
        assert secret not in details
        assert secret not in caplog.text


def test_only_writers_see_when_a_units_hold_ends(client, session, clock):
    """held_until follows one case: admin and own coordinator only (CONTRACT 4.1)."""
    location = make_location(session, clock, region_code="GM0014", units=(("A", 2),))
    from shelter_match.models import Unit

    unit_id = session.scalars(select(Unit.id).where(Unit.location_id == location.id)).one()
    hold_unit_for_test(session, clock, unit_id)
    callers = {
        "admin": make_caller(session, clock, "admin"),
        "own": make_caller(session, clock, "coordinator", location_ids=(location.id,)),
        "other": make_caller(session, clock, "coordinator"),
        "reviewer": make_caller(session, clock, "region_reviewer"),
        "worker": make_caller(session, clock, "crisis_worker"),
    }
    for who, caller in callers.items():
        body = client.get(f"/api/v1/locations/{location.id}", headers=caller.headers).get_json()
        [unit] = body["units"]
        assert unit["status"] == "held"
        assert ("held_until" in unit) == (who in ("admin", "own")), who
