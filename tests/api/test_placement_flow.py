"""The crisis worker's path over the API: request, proposals, hold, confirm, discharge."""

import json

import pytest
from sqlalchemy import select

from shelter_match.models import AuditEvent, Unit
from tests.factories import make_caller, make_location
from tests.placement_checks import booking_problems, snapshot

PROBLEM = "application/problem+json"
REQUEST = {
    "case_reference": "VT-2026-0042",
    "origin_region_code": "GM0599",
    "risk_level": "rood",
    "danger": {"place": "Schiedam"},
    "household": {"adults": 1, "children": 2},
}
SECRET_KEYS = {"address", "lat", "lon"}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def keys_in(value) -> set[str]:
    """Return every key at any depth of a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


@pytest.fixture
def network(session, clock):
    """Three secure locations: in Schiedam (too close), Apeldoorn and Groningen (far enough)."""
    far = make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                        safety_level="rood", lat=53.22, lon=6.57, address="Noorderweg 3",
                        units=(("N1", 4), ("N2", 1)))
    near = make_location(session, clock, name="Opvang Schiedam", region_code="GM0599",
                         safety_level="rood", lat=51.92, lon=4.40, address="Havenstraat 9",
                         units=(("S1", 4),))
    middle = make_location(session, clock, name="Veilig Huis Midden", region_code="GM0200",
                           safety_level="rood", lat=52.21, lon=5.97, address="Parkweg 5",
                           units=(("M1", 3),))
    return {"far": far, "near": near, "middle": middle}


@pytest.fixture
def worker(session, clock):
    return make_caller(session, clock, "crisis_worker")


def create(client, caller, **changes):
    response = client.post("/api/v1/placement-requests", json={**REQUEST, **changes},
                           headers=caller.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_the_whole_path_over_the_api(client, session, clock, network, worker):
    created = create(client, worker)
    assert created["status"] == "open" and created["active_hold"] is None
    assert created["danger"]["place"] == "Schiedam"
    assert created["danger"]["uncertainty_km"] == 6.3  # Schiedam's extent 5.5 + rounding
    proposals = client.post(f"/api/v1/placement-requests/{created['id']}/proposals",
                            json={}, headers=worker.headers).get_json()
    assert [o["location_name"] for o in proposals["options"]] == ["Veilig Huis Midden",
                                                                  "Veilig Huis Noord"]
    best = proposals["options"][0]
    assert best["beds"] == 3 and best["rank"] == 1
    assert any("allowing 6.3 km for where exactly it is" in reason
               for reason in best["reasons"]), best["reasons"]
    assert {"reason": "origin_region_not_allowed", "locations": 1} in proposals["excluded"]
    assert not keys_in(proposals) & SECRET_KEYS

    held = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": best["unit_id"]}, headers=worker.headers)
    assert held.status_code == 201, held.get_data(as_text=True)
    hold = held.get_json()
    assert hold["status"] == "active" and hold["expires_at"] == "2026-11-22T03:30:00Z"
    assert held.headers["Location"].endswith(f"/api/v1/holds/{hold['id']}")
    assert not keys_in(hold) & SECRET_KEYS
    now = client.get(f"/api/v1/placement-requests/{created['id']}", headers=worker.headers)
    assert now.get_json()["status"] == "held"
    assert now.get_json()["active_hold"]["unit_id"] == best["unit_id"]

    clock.advance(minutes=10)
    confirmed = client.post(f"/api/v1/holds/{hold['id']}/confirm", headers=worker.headers)
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)
    placement = confirmed.get_json()
    assert placement["address"] == "Parkweg 5"
    assert (placement["origin_region_code"], placement["destination_region_code"]) == (
        "GM0599", "GM0200")
    assert placement["started_at"] == "2026-11-22T03:10:00Z"
    assert session.get(Unit, best["unit_id"]).status == "occupied"
    disclosed = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "address.disclosed")).one()
    assert disclosed.actor_id == worker.user.id and "Parkweg" not in json.dumps(disclosed.detail)
    assert client.get(f"/api/v1/placement-requests/{created['id']}",
                      headers=worker.headers).get_json()["placement_id"] == placement["id"]

    coordinator = make_caller(session, clock, "coordinator",
                              location_ids=(network["middle"].id,))
    listed = client.get("/api/v1/placements", headers=coordinator.headers).get_json()
    assert [p["id"] for p in listed] == [placement["id"]]
    clock.advance(days=3)
    discharged = client.post(f"/api/v1/placements/{placement['id']}/discharge", json={},
                             headers=coordinator.headers)
    assert discharged.status_code == 200, discharged.get_data(as_text=True)
    assert discharged.get_json()["ended_at"] == "2026-11-25T03:10:00Z"
    session.expire_all()
    assert session.get(Unit, best["unit_id"]).status == "free"
    problem(client.post(f"/api/v1/placements/{placement['id']}/discharge", json={},
                        headers=coordinator.headers), 409)
    assert booking_problems(session, clock.now()) == []


def test_release_and_cancel_over_the_api(client, session, clock, network, worker):
    created = create(client, worker)
    unit = session.scalars(select(Unit).where(Unit.location_id == network["far"].id,
                                              Unit.label == "N1")).one()
    hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": unit.id}, headers=worker.headers).get_json()
    released = client.post(f"/api/v1/holds/{hold['id']}/release", headers=worker.headers)
    assert released.status_code == 200 and released.get_json()["status"] == "released"
    assert session.get(Unit, unit.id).status == "free"
    client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                json={"unit_id": unit.id}, headers=worker.headers)
    cancelled = client.post(f"/api/v1/placement-requests/{created['id']}/cancel",
                            headers=worker.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["outcome"] == "other"  # the contract's default
    session.expire_all()
    assert session.get(Unit, unit.id).status == "free"
    before = snapshot(session)
    problem(client.post(f"/api/v1/placement-requests/{created['id']}/cancel",
                        headers=worker.headers), 409)
    problem(client.post(f"/api/v1/placement-requests/{created['id']}/proposals", json={},
                        headers=worker.headers), 409)
    problem(client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                        json={"unit_id": unit.id}, headers=worker.headers), 409)
    assert snapshot(session) == before


def test_invalid_transitions_are_409_and_change_nothing(client, session, clock, network,
                                                        worker):
    created = create(client, worker)
    units = {u.label: u for u in session.scalars(select(Unit))}
    hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": units["N1"].id}, headers=worker.headers).get_json()
    other = create(client, worker, case_reference="VT-2026-0043")
    before = snapshot(session)
    # The unit is held; the request already has a hold; the unit is too close.
    for path, body in ((f"/api/v1/placement-requests/{other['id']}/holds", units["N1"].id),
                       (f"/api/v1/placement-requests/{created['id']}/holds", units["M1"].id),
                       (f"/api/v1/placement-requests/{other['id']}/holds", units["S1"].id)):
        problem(client.post(path, json={"unit_id": body}, headers=worker.headers), 409)
    assert snapshot(session) == before
    clock.advance(minutes=31)
    before = snapshot(session)
    expired = problem(client.post(f"/api/v1/holds/{hold['id']}/confirm",
                                  headers=worker.headers), 409)
    assert "expired" in expired["detail"]
    problem(client.post(f"/api/v1/holds/{hold['id']}/release", headers=worker.headers), 409)
    assert snapshot(session) == before
    assert client.get(f"/api/v1/holds/{hold['id']}",
                      headers=worker.headers).get_json()["status"] == "expired"
    # The unit reads free: the other request may hold it now.
    retaken = client.post(f"/api/v1/placement-requests/{other['id']}/holds",
                          json={"unit_id": units["N1"].id}, headers=worker.headers)
    assert retaken.status_code == 201
    confirmed = client.post(f"/api/v1/holds/{retaken.get_json()['id']}/confirm",
                            headers=worker.headers)
    before = snapshot(session)
    problem(client.post(f"/api/v1/holds/{retaken.get_json()['id']}/release",
                        headers=worker.headers), 409)
    problem(client.post(f"/api/v1/holds/{retaken.get_json()['id']}/confirm",
                        headers=worker.headers), 409)
    problem(client.post(f"/api/v1/placement-requests/{other['id']}/cancel",
                        headers=worker.headers), 409)
    assert snapshot(session) == before
    assert confirmed.status_code == 201


@pytest.mark.parametrize(("change", "field"), [
    ({"case_reference": "Fatima Jansen"}, "case_reference"),
    ({"case_reference": "111222333"}, "case_reference"),
    ({"case_reference": "VT2026111222333"}, "case_reference"),
    ({"case_reference": "1112223330"}, "case_reference"),
    ({"case_reference": "Fatima.ElAmrani.1987-03-12"}, "case_reference"),
    ({"case_reference": "x1" * 40}, "case_reference"),
    ({"origin_region_code": "GM9999"}, "origin_region_code"),
    ({"risk_level": "paars"}, "risk_level"),
    ({"danger": {"place": "Rotterdm"}}, "danger"),
    ({"danger": {"place": "Schiedam", "lat": 51.9, "lon": 4.4}}, "danger"),
    ({"danger": {"lat": 40.4, "lon": -3.7}}, "danger"),
    ({"danger": {}}, "danger"),
    ({"current": {"place": "Nergenshuizen"}}, "current"),
    ({"household": {"adults": 0}}, "household.adults"),
    ({"household": {"adults": 1, "children": 99}}, "household.children"),
    ({"needs": ["sauna"]}, "needs.0"),
    ({"excluded_region_codes": ["GM0000"]}, "excluded_region_codes"),
    ({"excluded_location_ids": ["nope"]}, "excluded_location_ids"),
    ({"name": "Fatima"}, "name"),
])
def test_bad_requests_are_422_naming_the_field(client, session, clock, worker, change, field):
    before = snapshot(session)
    body = problem(client.post("/api/v1/placement-requests", json={**REQUEST, **change},
                               headers=worker.headers), 422)
    assert field in body["errors"], body
    assert snapshot(session) == before


def test_unknown_place_answers_with_suggestions(client, worker):
    body = problem(client.post("/api/v1/placement-requests",
                               json={**REQUEST, "danger": {"place": "Rotterdm"}},
                               headers=worker.headers), 422)
    assert body["errors"]["danger"] == [
        "Unknown place 'Rotterdm'. Did you mean: Rotterdam, Ottersum, Notter, Rottum (Fr), "
        "Rottum (Gr)?"]
    assert body["suggestions"]["danger"][0] == "Rotterdam"
    assert "Rotterdm" not in json.dumps({k: v for k, v in body.items() if k != "errors"})


def test_bad_hold_proposal_and_discharge_input(client, session, clock, network, worker):
    created = create(client, worker)
    base = f"/api/v1/placement-requests/{created['id']}"
    assert "limit" in problem(client.post(f"{base}/proposals", json={"limit": 0},
                                          headers=worker.headers), 422)["errors"]
    assert "limit" in problem(client.post(f"{base}/proposals", json={"limit": 51},
                                          headers=worker.headers), 422)["errors"]
    assert "unit_id" in problem(client.post(f"{base}/holds", json={},
                                            headers=worker.headers), 422)["errors"]
    assert "unit_id" in problem(client.post(f"{base}/holds", json={"unit_id": "nope"},
                                            headers=worker.headers), 422)["errors"]
    assert "status" in problem(client.get("/api/v1/placement-requests?status=lost",
                                          headers=worker.headers), 422)["errors"]
    limited = client.post(f"{base}/proposals", json={"limit": 1}, headers=worker.headers)
    assert len(limited.get_json()["options"]) == 1
    unit = session.scalars(select(Unit).where(Unit.label == "M1")).one()
    hold = client.post(f"{base}/holds", json={"unit_id": unit.id},
                       headers=worker.headers).get_json()
    placement = client.post(f"/api/v1/holds/{hold['id']}/confirm",
                            headers=worker.headers).get_json()
    admin = make_caller(session, clock, "admin")
    for ended_at in ("2026-11-22T02:00:00Z", "2026-11-23T03:00:00Z", "2026-11-22T04:00:00",
                     "yesterday"):
        body = problem(client.post(f"/api/v1/placements/{placement['id']}/discharge",
                                   json={"ended_at": ended_at}, headers=admin.headers), 422)
        assert "ended_at" in body["errors"]


def test_scoping_and_roles(client, session, clock, network, worker):
    created = create(client, worker)
    stranger = make_caller(session, clock, "crisis_worker")
    base = f"/api/v1/placement-requests/{created['id']}"
    problem(client.get(base, headers=stranger.headers), 404)
    problem(client.post(f"{base}/proposals", json={}, headers=stranger.headers), 404)
    problem(client.post(f"{base}/cancel", headers=stranger.headers), 404)
    unit = session.scalars(select(Unit).where(Unit.label == "N1")).one()
    problem(client.post(f"{base}/holds", json={"unit_id": unit.id}, headers=stranger.headers),
            404)
    assert client.get("/api/v1/placement-requests", headers=stranger.headers).get_json() == []
    hold = client.post(f"{base}/holds", json={"unit_id": unit.id},
                       headers=worker.headers).get_json()
    problem(client.get(f"/api/v1/holds/{hold['id']}", headers=stranger.headers), 404)
    problem(client.post(f"/api/v1/holds/{hold['id']}/confirm", headers=stranger.headers), 404)
    problem(client.post(f"/api/v1/holds/{hold['id']}/release", headers=stranger.headers), 404)
    for role in ("coordinator", "region_reviewer"):
        other = make_caller(session, clock, role)
        problem(client.post("/api/v1/placement-requests", json=REQUEST,
                            headers=other.headers), 403)
        problem(client.get("/api/v1/placement-requests", headers=other.headers), 403)
    reviewer = make_caller(session, clock, "region_reviewer")
    problem(client.get("/api/v1/placements", headers=reviewer.headers), 403)
    problem(client.get("/api/v1/placements", headers=worker.headers), 403)
    # The admin sees the request, but not where the danger is.
    admin = make_caller(session, clock, "admin")
    seen = client.get(base, headers=admin.headers).get_json()
    assert seen["id"] == created["id"] and "danger" not in seen and "current" not in seen
    assert client.get("/api/v1/placement-requests?status=held",
                      headers=worker.headers).get_json()[0]["id"] == created["id"]
    assert client.get("/api/v1/placement-requests?status=open",
                      headers=worker.headers).get_json() == []


def test_coordinator_sees_who_is_on_the_way(client, session, clock, network, worker):
    created = create(client, worker)
    unit = session.scalars(select(Unit).where(Unit.label == "N1")).one()
    hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": unit.id}, headers=worker.headers).get_json()
    ours = make_caller(session, clock, "coordinator", location_ids=(network["far"].id,))
    theirs = make_caller(session, clock, "coordinator", location_ids=(network["near"].id,))
    listed = client.get("/api/v1/holds", headers=ours.headers).get_json()
    assert [h["id"] for h in listed] == [hold["id"]]
    assert listed[0]["household"] == {"adults": 1, "children": 2}
    assert "case_reference" not in listed[0] and not keys_in(listed) & SECRET_KEYS
    assert client.get("/api/v1/holds", headers=theirs.headers).get_json() == []
    problem(client.get(f"/api/v1/holds?location_id={network['far'].id}",
                       headers=theirs.headers), 404)
    # Her coordinator may confirm it; the answer carries the address.
    placement = client.post(f"/api/v1/holds/{hold['id']}/confirm", headers=ours.headers)
    assert placement.status_code == 201 and placement.get_json()["address"] == "Noorderweg 3"


def test_no_address_or_coordinates_reach_a_crisis_worker_before_confirm(
        client, session, clock, network, worker):
    created = create(client, worker, danger={"lat": 51.9234, "lon": 4.4011},
                     current={"place": "Delft"})
    assert created["danger"] == {"place": None, "lat": 51.92, "lon": 4.395,
                                 "uncertainty_km": 0.8}
    answers = [client.get("/api/v1/placement-requests", headers=worker.headers).get_json(),
               client.post(f"/api/v1/placement-requests/{created['id']}/proposals", json={},
                           headers=worker.headers).get_json()]
    unit = session.scalars(select(Unit).where(Unit.label == "N1")).one()
    answers.append(client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                               json={"unit_id": unit.id}, headers=worker.headers).get_json())
    answers.append(client.get("/api/v1/holds", headers=worker.headers).get_json())
    text = json.dumps(answers)
    for secret in ("Noorderweg", "Havenstraat", "Parkweg", "53.22", "6.57", "52.21", "5.97"):
        assert secret not in text


def test_openapi_documents_the_path(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/placement-requests", "/api/v1/placement-requests/{request_id}",
                 "/api/v1/placement-requests/{request_id}/proposals",
                 "/api/v1/placement-requests/{request_id}/holds",
                 "/api/v1/placement-requests/{request_id}/cancel",
                 "/api/v1/holds", "/api/v1/holds/{hold_id}/confirm",
                 "/api/v1/holds/{hold_id}/release", "/api/v1/placements",
                 "/api/v1/placements/{placement_id}/discharge", "/api/v1/batch-proposals"):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/v1/placement-requests/{request_id}/holds"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in post.get("parameters", [])}
    # v2: no score (it measured the secret point to 100 m); distances are to the public area.
    option = spec["components"]["schemas"]["Option"]["properties"]
    assert "score" not in option
    assert "public area" in option["distance_from_danger_km"]["description"]
    assert "total_score" not in spec["components"]["schemas"]["BatchProposal"]["properties"]


def test_joint_proposals_over_the_api(client, session, clock, network, worker):
    """Three households of three, two units that fit them: two placed, no unit twice."""
    ids = [create(client, worker, case_reference=f"VT-2026-01{n}")["id"] for n in range(3)]
    before = snapshot(session)
    response = client.post("/api/v1/batch-proposals", json={"request_ids": ids},
                           headers=worker.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["placed"] == 2
    assert [a["request_id"] for a in body["assignments"]] == ids
    placed = [a for a in body["assignments"] if a["unit_id"] is not None]
    assert len({a["unit_id"] for a in placed}) == 2
    assert {a["location_id"] for a in placed} == {network["far"].id, network["middle"].id}
    assert all(a["distance_from_danger_km"] >= 75 for a in placed)
    [unplaced] = [a for a in body["assignments"] if a["unit_id"] is None]
    assert unplaced["reason"]
    assert not keys_in(body) & SECRET_KEYS
    after = snapshot(session)
    # Nothing is held by a joint proposal; what was shown is audited, one event a request.
    assert after["audit_events"] == before.pop("audit_events") + len(ids)
    del after["audit_events"]
    assert after == before

    problem(client.post("/api/v1/batch-proposals", json={"request_ids": [ids[0], ids[0]]},
                        headers=worker.headers), 422)
    coordinator = make_caller(session, clock, "coordinator",
                              location_ids=(network["far"].id,))
    problem(client.post("/api/v1/batch-proposals", json={"request_ids": ids},
                        headers=coordinator.headers), 403)


def test_every_placement_answer_with_an_address_is_audited(client, session, clock, network,
                                                           worker):
    created = create(client, worker)
    unit = session.scalars(select(Unit).where(Unit.label == "N1")).one()
    hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": unit.id}, headers=worker.headers).get_json()
    placement = client.post(f"/api/v1/holds/{hold['id']}/confirm",
                            headers=worker.headers).get_json()
    coordinator = make_caller(session, clock, "coordinator", location_ids=(network["far"].id,))

    def disclosures():
        return session.execute(select(AuditEvent.action, AuditEvent.object_id,
                                      AuditEvent.detail).where(
            AuditEvent.actor_id == coordinator.user.id)).all()

    path = f"/api/v1/placements/{placement['id']}"
    for method, url, body in (("get", "/api/v1/placements", None), ("get", path, None),
                              ("post", f"{path}/discharge", {})):
        before = len(disclosures())
        answer = getattr(client, method)(url, json=body, headers=coordinator.headers)
        assert answer.status_code == 200 and "Noorderweg 3" in answer.get_data(as_text=True)
        new = disclosures()[before:]
        shown = [(action, object_id, detail) for action, object_id, detail in new
                 if action in ("address.disclosed", "location.addresses_listed")]
        assert len(shown) == 1, new
        action, object_id, detail = shown[0]
        if action == "address.disclosed":
            assert (object_id, detail) == (network["far"].id, {"placement_id": placement["id"]})
        else:
            assert detail == {"locations": 1, "placements": 1}
        assert "Noorderweg" not in json.dumps(detail)
    # A list without placements shows no address and writes nothing.
    stranger = make_caller(session, clock, "coordinator", location_ids=(network["near"].id,))
    before = snapshot(session)
    assert client.get("/api/v1/placements", headers=stranger.headers).get_json() == []
    assert snapshot(session) == before


def test_after_placement_a_hold_or_second_discharge_is_409_and_changes_nothing(
        client, session, clock, network, worker):
    created = create(client, worker)
    units = {u.label: u for u in session.scalars(select(Unit))}
    hold = client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                       json={"unit_id": units["N1"].id}, headers=worker.headers).get_json()
    placement = client.post(f"/api/v1/holds/{hold['id']}/confirm",
                            headers=worker.headers).get_json()
    before = snapshot(session)
    # A key on a refused POST stores nothing: a retry after the conflict tries again.
    for headers in (worker.headers, {**worker.headers, "Idempotency-Key": "after-placed"}):
        refused = problem(client.post(f"/api/v1/placement-requests/{created['id']}/holds",
                                      json={"unit_id": units["N2"].id}, headers=headers), 409)
        assert "placed" in refused["detail"]
    assert snapshot(session) == before
    coordinator = make_caller(session, clock, "coordinator", location_ids=(network["far"].id,))
    path = f"/api/v1/placements/{placement['id']}/discharge"
    assert client.post(path, json={}, headers=coordinator.headers).status_code == 200
    before = snapshot(session)
    clock.advance(hours=1)
    problem(client.post(path, json={}, headers=coordinator.headers), 409)
    assert snapshot(session) == before
    assert booking_problems(session, clock.now()) == []
