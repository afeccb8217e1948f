"""A hold as she lives it, over the API: the intake line, one extension, arrival or no-show."""

import pytest
from sqlalchemy import select

from shelter_match.errors import ValidationFailed
from shelter_match.models import AuditEvent, Placement, PlacementRequest, Unit, UnitChange
from shelter_match.services.intake_phone import normalise
from tests.factories import make_caller, make_location

REQUEST = {
    "case_reference": "VT-2026-0042",
    "origin_region_code": "GM0599",
    "risk_level": "rood",
    "danger": {"place": "Schiedam"},
    "household": {"adults": 1, "children": 2},
}
PHONE = "+31555123456"


@pytest.fixture
def shelter(session, clock):
    return make_location(session, clock, name="Veilig Huis Midden", region_code="GM0200",
                         safety_level="rood", lat=52.21, lon=5.97, address="Parkweg 5",
                         units=(("M1", 3),))


@pytest.fixture
def worker(session, clock):
    return make_caller(session, clock, "crisis_worker")


@pytest.fixture
def coordinator(session, clock, shelter):
    return make_caller(session, clock, "coordinator", location_ids=(shelter.id,))


@pytest.fixture
def admin(session, clock):
    return make_caller(session, clock, "admin")


def set_phone(client, caller, location_id, value):
    return client.put(f"/api/v1/locations/{location_id}/intake-phone",
                      json={"intake_phone": value}, headers=caller.headers)


def hold_one(client, worker, shelter):
    created = client.post("/api/v1/placement-requests", json=REQUEST,
                          headers=worker.headers).get_json()
    options = client.post(f"/api/v1/placement-requests/{created['id']}/proposals", json={},
                          headers=worker.headers).get_json()["options"]
    unit_id = next(o["unit_id"] for o in options if o["location_id"] == shelter.id)
    response = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                           json={"unit_id": unit_id}, headers=worker.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return created, response.get_json()


def disclosures(session, action="intake_phone.disclosed"):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the intake line ---------------------------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [
    ("055 512 3456", "+31555123456"),
    ("06-12345678", "+31612345678"),
    ("+31 (0)20 123 4567".replace("(0)", ""), "+31201234567"),
    ("0031 20 1234567", "+31201234567"),
    ("0800 1234", "+318001234"),
    ("0900-1234567", "+319001234567"),
])
def test_dutch_numbers_are_stored_in_e164(given, stored):
    assert normalise(given) == stored


@pytest.mark.parametrize("given", ["12345", "+32 2 123 45 67", "020 123 456", "0201234567x",
                                   "00 20 123 4567", "0012345678", "phone me"])
def test_other_numbers_are_refused(given):
    with pytest.raises(ValidationFailed) as error:
        normalise(given)
    assert list(error.value.errors) == ["intake_phone"]


def test_the_own_coordinator_and_admin_set_the_intake_line(client, session, clock, shelter,
                                                           coordinator, admin):
    response = set_phone(client, coordinator, shelter.id, "055 512 3456")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"location_id": shelter.id, "intake_phone": PHONE,
                                   "intake_phone_uri": f"tel:{PHONE}"}
    assert client.get(f"/api/v1/locations/{shelter.id}/intake-phone",
                      headers=admin.headers).get_json()["intake_phone"] == PHONE
    events = disclosures(session, "location.intake_phone_set")
    assert len(events) == 1 and PHONE not in str(events[0].detail)
    assert set_phone(client, admin, shelter.id, None).get_json()["intake_phone"] is None


def test_a_bad_number_is_422_naming_the_field_and_changes_nothing(client, session, shelter,
                                                                  coordinator):
    set_phone(client, coordinator, shelter.id, "0555123456")
    response = set_phone(client, coordinator, shelter.id, "+32 2 123 45 67")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["intake_phone"]
    session.refresh(shelter)
    assert shelter.intake_phone == PHONE


def test_others_may_not_read_or_set_the_intake_line(client, session, clock, shelter, worker):
    other = make_caller(session, clock, "coordinator",
                        location_ids=(make_location(session, clock).id,))
    for caller in (worker, other):
        assert set_phone(client, caller, shelter.id, "0555123456").status_code == 403
        assert client.get(f"/api/v1/locations/{shelter.id}/intake-phone",
                          headers=caller.headers).status_code == 403


def test_the_crisis_worker_sees_the_line_on_her_hold_only(client, session, shelter, worker,
                                                          coordinator):
    set_phone(client, coordinator, shelter.id, "0555123456")
    # Never on the location list or detail, nor on options.
    for path in ("/api/v1/locations", f"/api/v1/locations/{shelter.id}"):
        assert "5123456" not in client.get(path, headers=worker.headers).get_data(as_text=True)
    created, hold = hold_one(client, worker, shelter)
    assert hold["intake_phone"] == PHONE and hold["intake_phone_uri"] == f"tel:{PHONE}"
    again = client.get(f"/api/v1/holds/{hold['id']}", headers=worker.headers).get_json()
    assert again["intake_phone"] == PHONE
    events = disclosures(session)
    assert len(events) == 2
    assert {e.object_id for e in events} == {shelter.id}
    assert all(PHONE not in str(e.detail) for e in events)
    # Not in the list of holds, and not to the coordinator (it is her own number).
    listed = client.get("/api/v1/holds", headers=worker.headers).get_json()
    assert listed and "intake_phone" not in listed[0]
    theirs = client.get(f"/api/v1/holds/{hold['id']}", headers=coordinator.headers).get_json()
    assert "intake_phone" not in theirs
    # Once the hold has ended, no longer shown.
    client.post(f"/api/v1/holds/{hold['id']}/release", headers=worker.headers)
    ended = client.get(f"/api/v1/holds/{hold['id']}", headers=worker.headers).get_json()
    assert "intake_phone" not in ended
    assert len(disclosures(session)) == 2


def test_another_crisis_worker_gets_404_not_the_line(client, session, clock, shelter, worker,
                                                     coordinator):
    set_phone(client, coordinator, shelter.id, "0555123456")
    _created, hold = hold_one(client, worker, shelter)
    stranger = make_caller(session, clock, "crisis_worker")
    response = client.get(f"/api/v1/holds/{hold['id']}", headers=stranger.headers)
    assert response.status_code == 404 and "5123456" not in response.get_data(as_text=True)


# --- extending a hold once -----------------------------------------------------------------


def test_a_hold_extends_once_by_the_policy_minutes(client, session, clock, shelter, worker):
    _created, hold = hold_one(client, worker, shelter)
    assert hold["extendable"] is True and hold["extended_at"] is None
    clock.advance(minutes=20)
    response = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=worker.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    # From the old expiry (30 minutes after it was made), not from now.
    assert body["expires_at"] == (clock.now().replace(microsecond=0)
                                  + (__import__("datetime").timedelta(minutes=25))
                                  ).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["extendable"] is False and body["extended_at"] is not None
    unit = session.get(Unit, hold["unit_id"])
    session.refresh(unit)
    assert unit.status == "held" and unit.held_until.strftime("%Y-%m-%dT%H:%M:%SZ") \
        == body["expires_at"]
    causes = [c.cause for c in session.scalars(select(UnitChange).where(
        UnitChange.unit_id == unit.id).order_by(UnitChange.id))]
    assert causes[-1] == "extend"
    assert len(disclosures(session, "hold.extended")) == 1
    again = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=worker.headers)
    assert again.status_code == 409
    # Still held after the first expiry, and confirmable.
    clock.advance(minutes=15)
    confirmed = client.post(f"/api/v1/holds/{hold['id']}/confirm", headers=worker.headers)
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)


def test_the_extension_follows_the_policy(client, session, clock, shelter, worker, admin):
    policy = client.get("/api/v1/policy", headers=admin.headers).get_json()
    assert policy["hold_extension_minutes"] == 15 and policy["address_view_minutes"] == 15
    response = client.put("/api/v1/policy", json={"hold_extension_minutes": 5},
                          headers=admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    bad = client.put("/api/v1/policy", json={"hold_extension_minutes": 0},
                     headers=admin.headers)
    assert bad.status_code == 422 and "hold_extension_minutes" in bad.get_json()["errors"]
    _created, hold = hold_one(client, worker, shelter)
    body = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=worker.headers).get_json()
    assert body["expires_at"] > hold["expires_at"]
    from datetime import datetime, timedelta
    parse = lambda text: datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert parse(body["expires_at"]) - parse(hold["expires_at"]) == timedelta(minutes=5)


def test_an_expired_or_released_hold_does_not_extend(client, session, clock, shelter, worker):
    _created, hold = hold_one(client, worker, shelter)
    clock.advance(minutes=31)
    response = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=worker.headers)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    unit = session.get(Unit, hold["unit_id"])
    session.refresh(unit)
    assert unit.held_until is not None and unit.held_until <= clock.now()


def test_a_stranger_cannot_extend(client, session, clock, shelter, worker):
    _created, hold = hold_one(client, worker, shelter)
    stranger = make_caller(session, clock, "crisis_worker")
    assert client.post(f"/api/v1/holds/{hold['id']}/extend",
                       headers=stranger.headers).status_code == 404


# --- arrival or no-show --------------------------------------------------------------------


def place_one(client, worker, shelter):
    created, hold = hold_one(client, worker, shelter)
    response = client.post(f"/api/v1/holds/{hold['id']}/confirm", headers=worker.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return created, response.get_json()


def test_a_confirmed_placement_is_on_the_way_until_she_arrives(client, session, shelter,
                                                              worker, coordinator):
    _created, placement = place_one(client, worker, shelter)
    assert placement["arrival_status"] == "on_the_way"
    coming = client.get("/api/v1/placements?arrival_status=on_the_way",
                        headers=coordinator.headers).get_json()
    assert [p["id"] for p in coming] == [placement["id"]]
    response = client.post(f"/api/v1/placements/{placement['id']}/arrival",
                           headers=coordinator.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["arrival_status"] == "arrived" and body["arrival_marked_at"]
    assert body["ended_at"] is None
    assert client.get("/api/v1/placements?arrival_status=on_the_way",
                      headers=coordinator.headers).get_json() == []
    # Once arrived, neither again nor a no-show.
    for path in ("arrival", "no-show"):
        assert client.post(f"/api/v1/placements/{placement['id']}/{path}",
                           headers=coordinator.headers).status_code == 409
    assert len(disclosures(session, "placement.arrived")) == 1


def test_a_no_show_frees_the_unit_and_reopens_the_request(client, session, clock, shelter,
                                                          worker, coordinator):
    created, placement = place_one(client, worker, shelter)
    clock.advance(hours=3)
    response = client.post(f"/api/v1/placements/{placement['id']}/no-show",
                           headers=coordinator.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["arrival_status"] == "no_show" and body["ended_at"] is not None
    unit = session.get(Unit, placement["unit_id"])
    session.refresh(unit)
    assert unit.status == "free"
    last = session.scalars(select(UnitChange).where(UnitChange.unit_id == unit.id)
                           .order_by(UnitChange.id.desc())).first()
    assert (last.cause, last.from_status, last.to_status) == ("no_show", "occupied", "free")
    request = client.get(f"/api/v1/placement-requests/{created['id']}",
                         headers=worker.headers).get_json()
    assert request["status"] == "open" and request["placement_id"] is None
    assert request["closed_at"] is None
    actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"placement.no_show", "request.reopened", "request.escalated"} <= actions
    # A woman who never arrived may be in danger: her organisation is told at once, and the
    # request escalates to the duty officers without waiting for its time.
    from shelter_match.models import Notification
    told = session.scalars(select(Notification).where(Notification.request_id == created["id"]))
    assert "no_show" in {notification.event for notification in told}
    # The request can be held and placed again, even on the same unit.
    again_hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                             json={"unit_id": unit.id}, headers=worker.headers)
    assert again_hold.status_code == 201, again_hold.get_data(as_text=True)
    again = client.post(f"/api/v1/holds/{again_hold.get_json()['id']}/confirm",
                        headers=worker.headers)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.get_json()["arrival_status"] == "on_the_way"
    request = client.get(f"/api/v1/placement-requests/{created['id']}",
                         headers=worker.headers).get_json()
    assert request["status"] == "placed" and request["placement_id"] == again.get_json()["id"]
    # A no-show twice is refused.
    assert client.post(f"/api/v1/placements/{placement['id']}/no-show",
                       headers=coordinator.headers).status_code == 409


def test_a_no_show_is_not_counted_in_the_solidarity_figures(client, session, clock, shelter,
                                                            worker, coordinator, admin):
    _created, placement = place_one(client, worker, shelter)
    client.post(f"/api/v1/placements/{placement['id']}/no-show", headers=coordinator.headers)
    day = clock.now().date().isoformat()
    flows = client.get(f"/api/v1/solidarity/flows?from={day}&to={day}",
                       headers=admin.headers).get_json()
    assert flows == [] or all(not row.get("placements") for row in flows), flows


def test_only_the_location_marks_arrival(client, session, clock, shelter, worker):
    _created, placement = place_one(client, worker, shelter)
    other = make_caller(session, clock, "coordinator",
                        location_ids=(make_location(session, clock).id,))
    for path in ("arrival", "no-show"):
        assert client.post(f"/api/v1/placements/{placement['id']}/{path}",
                           headers=other.headers).status_code == 404
        assert client.post(f"/api/v1/placements/{placement['id']}/{path}",
                           headers=worker.headers).status_code == 403
    session.expire_all()
    assert session.get(Placement, placement["id"]).arrival_status == "on_the_way"
    assert session.get(PlacementRequest, placement["request_id"]).status == "placed"


def test_a_retried_extension_with_the_same_key_answers_alike(client, session, clock, shelter,
                                                             worker, coordinator):
    set_phone(client, coordinator, shelter.id, "0555123456")
    _created, hold = hold_one(client, worker, shelter)
    headers = {**worker.headers, "Idempotency-Key": "extend-1"}
    first = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=headers)
    again = client.post(f"/api/v1/holds/{hold['id']}/extend", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json()["expires_at"] == again.get_json()["expires_at"]
    assert len(disclosures(session, "hold.extended")) == 1
    # Each answer showed the intake line: the hold, the extension, and its replay.
    contexts = [e.detail["context"] for e in disclosures(session)]
    assert contexts == ["hold", "hold", "replay"]


def test_a_retried_no_show_with_the_same_key_answers_alike(client, session, shelter, worker,
                                                           coordinator):
    _created, placement = place_one(client, worker, shelter)
    headers = {**coordinator.headers, "Idempotency-Key": "no-show-1"}
    first = client.post(f"/api/v1/placements/{placement['id']}/no-show", headers=headers)
    again = client.post(f"/api/v1/placements/{placement['id']}/no-show", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["arrival_status"] == "no_show"
    assert len(disclosures(session, "placement.no_show")) == 1
