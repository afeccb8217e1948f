"""Idempotency-Key: a retried POST returns the first answer and creates nothing new."""

import threading

import pytest
import requests as http
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.models import AuditEvent, Hold, IdempotencyKey, Placement, PlacementRequest
from tests.factories import make_caller, make_location
from tests.live import running_service
from tests.placement_checks import snapshot

REQUEST = {
    "case_reference": "VT-2026-0042",
    "origin_region_code": "GM0599",
    "risk_level": "oranje",
    "danger": {"place": "Schiedam"},
    "household": {"adults": 1},
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def unit_id(session, clock):
    location = make_location(session, clock, lat=53.22, lon=6.57, region_code="GM0014",
                             units=(("A", 2),))
    from shelter_match.models import Unit

    return session.scalars(select(Unit.id).where(Unit.location_id == location.id)).one()


def test_a_replayed_create_returns_the_first_answer(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    headers = {**worker.headers, "Idempotency-Key": "3f1c0a9e-retry-1"}
    first = client.post("/api/v1/placement-requests", json=REQUEST, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = snapshot(session)
    requests_before = count(session, PlacementRequest)
    clock.advance(minutes=3)
    # The same JSON with its keys in another order is the same body.
    again = client.post("/api/v1/placement-requests", headers=headers,
                        json=dict(reversed(list(REQUEST.items()))))
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(session, PlacementRequest) == requests_before
    assert snapshot(session) == before
    # Another key is another action.
    other = client.post("/api/v1/placement-requests", json=REQUEST,
                        headers={**worker.headers, "Idempotency-Key": "another"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_the_same_key_with_another_body_or_path_is_422(client, session, clock, unit_id):
    worker = make_caller(session, clock, "crisis_worker")
    headers = {**worker.headers, "Idempotency-Key": "k-1"}
    created = client.post("/api/v1/placement-requests", json=REQUEST, headers=headers)
    before = snapshot(session)
    for response in (
        client.post("/api/v1/placement-requests", headers=headers,
                    json={**REQUEST, "risk_level": "rood"}),
        client.post(f"/api/v1/placement-requests/{created.get_json()['id']}/holds",
                    json={"unit_id": unit_id}, headers=headers),
    ):
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "Idempotency-Key" in response.get_json()["errors"]
    assert snapshot(session) == before


def test_keys_belong_to_their_user(client, session, clock):
    nina = make_caller(session, clock, "crisis_worker")
    ali = make_caller(session, clock, "crisis_worker")
    first = client.post("/api/v1/placement-requests", json=REQUEST,
                        headers={**nina.headers, "Idempotency-Key": "same"})
    second = client.post("/api/v1/placement-requests", json=REQUEST,
                         headers={**ali.headers, "Idempotency-Key": "same"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert first.get_json()["id"] != second.get_json()["id"]


@pytest.mark.parametrize("key", ["x" * 256, "", "met spatie", "sleutel\u00e9"])
def test_bad_keys_are_422_naming_the_header(client, session, clock, key):
    worker = make_caller(session, clock, "crisis_worker")
    before = snapshot(session)
    response = client.post("/api/v1/placement-requests", json=REQUEST,
                           headers={**worker.headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert snapshot(session) == before


def test_errors_are_not_stored_so_a_retry_tries_again(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    headers = {**worker.headers, "Idempotency-Key": "after-a-typo"}
    body = {**REQUEST, "origin_region_code": "GM0000"}
    assert client.post("/api/v1/placement-requests", json=body, headers=headers
                       ).status_code == 422
    assert count(session, IdempotencyKey) == 0
    assert client.post("/api/v1/placement-requests", json=body, headers=headers
                       ).status_code == 422


def test_a_key_is_forgotten_after_24_hours(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    headers = {**worker.headers, "Idempotency-Key": "yesterday"}
    first = client.post("/api/v1/placement-requests", json=REQUEST, headers=headers)
    clock.advance(hours=24, seconds=1)
    second = client.post("/api/v1/placement-requests", json=REQUEST, headers=headers)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first.get_json()["id"]
    assert count(session, IdempotencyKey) == 1


def test_hold_and_confirm_replays_create_one_hold_and_one_placement(client, session, clock,
                                                                   unit_id):
    worker = make_caller(session, clock, "crisis_worker")
    created = client.post("/api/v1/placement-requests", json=REQUEST,
                          headers=worker.headers).get_json()
    path = f"/api/v1/placement-requests/{created['id']}/holds"
    headers = {**worker.headers, "Idempotency-Key": "hold-1"}
    holds = [client.post(path, json={"unit_id": unit_id}, headers=headers) for _ in range(3)]
    assert {h.status_code for h in holds} == {201}
    assert len({h.get_json()["id"] for h in holds}) == 1
    assert count(session, Hold) == 1
    hold_id = holds[0].get_json()["id"]
    headers = {**worker.headers, "Idempotency-Key": "confirm-1"}
    confirms = [client.post(f"/api/v1/holds/{hold_id}/confirm", headers=headers)
                for _ in range(2)]
    assert [c.status_code for c in confirms] == [201, 201]
    assert confirms[0].get_json() == confirms[1].get_json()
    assert confirms[1].get_json()["address"]
    assert count(session, Placement) == 1
    # Showing the address again is a disclosure again, and audited as one.
    disclosures = session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "address.disclosed")).all()
    assert [d.get("replayed", False) for d in disclosures] == [False, True]
    # Without a key, a retried confirm is a plain conflict: it was confirmed already.
    assert client.post(f"/api/v1/holds/{hold_id}/confirm",
                       headers=worker.headers).status_code == 409


@pytest.mark.slow
def test_concurrent_identical_holds_make_one_hold(fresh_database_url, backend, clock):
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        worker = make_caller(session, clock, "crisis_worker")
        location = make_location(session, clock, lat=53.22, lon=6.57, region_code="GM0014",
                                 units=(("A", 2),))
        from shelter_match.models import Unit

        unit = session.scalars(select(Unit.id).where(Unit.location_id == location.id)).one()
    with running_service("serve", database_url=fresh_database_url, workers=3) as (base, _log):
        created = http.post(f"{base}/api/v1/placement-requests", json=REQUEST,
                            headers=worker.headers, timeout=30).json()
        headers = {**worker.headers, "Idempotency-Key": "double-tap"}
        barrier = threading.Barrier(8)
        answers = []

        def tap():
            with http.Session() as connection:
                barrier.wait()
                answers.append(connection.post(
                    f"{base}/api/v1/placement-requests/{created['id']}/holds",
                    json={"unit_id": unit}, headers=headers, timeout=60))

        threads = [threading.Thread(target=tap) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    with Session(engine) as session:
        assert count(session, Hold) == 1
    engine.dispose()


NEW_LOCATION = {
    "name": "Veilig Huis Retry", "region_code": "GM0344", "safety_level": "rood",
    "lat": 52.08, "lon": 5.13, "address": "Stille Laan 4, Utrecht", "features": [],
    "accepts_night_intake": True, "units": [{"label": "Kamer 1", "beds": 1}],
}


def test_a_replayed_location_creation_creates_one_location(client, session, clock):
    from shelter_match.models import Location

    admin = make_caller(session, clock, "admin")
    headers = {**admin.headers, "Idempotency-Key": "new-location-1"}
    first = client.post("/api/v1/locations", json=NEW_LOCATION, headers=headers)
    assert first.status_code == 201, first.get_json()
    before = snapshot(session)
    locations = count(session, Location)
    again = client.post("/api/v1/locations", json=NEW_LOCATION, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(session, Location) == locations
    assert snapshot(session) == before


def test_a_replayed_unit_creation_or_confirmation_writes_nothing_new(client, session, clock):
    location = make_location(session, clock, units=(("A", 2),))
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    for path, body in ((f"/api/v1/locations/{location.id}/units", {"label": "B", "beds": 3}),
                       (f"/api/v1/locations/{location.id}/availability-confirmations", None)):
        headers = {**coordinator.headers, "Idempotency-Key": f"retry-{path}"}
        first = client.post(path, json=body, headers=headers)
        assert first.status_code == 201, first.get_json()
        before = snapshot(session)
        clock.advance(minutes=1)
        again = client.post(path, json=body, headers=headers)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
        assert snapshot(session) == before
    shown = client.get(f"/api/v1/locations/{location.id}", headers=coordinator.headers)
    assert [u["label"] for u in shown.get_json()["units"]] == ["A", "B"]


def test_every_creating_post_documents_idempotency_key(client):
    """The contract: a POST that creates something (answers 201) honours Idempotency-Key."""
    spec = client.get("/api/v1/openapi.json").get_json()
    creating = {path: operations["post"] for path, operations in spec["paths"].items()
                if "201" in operations.get("post", {}).get("responses", {})}
    assert "/api/v1/locations" in creating and "/api/v1/holds/{hold_id}/confirm" in creating
    missing = [path for path, post in creating.items()
               if "Idempotency-Key" not in {p["name"] for p in post.get("parameters", [])}]
    assert missing == []
