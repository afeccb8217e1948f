"""Quotas per user (CONTRACT 4.1): counted from durable data, 429 with Retry-After, audited.

The proposals themselves are audited too: who, which request, a keyed digest of the
points, which locations were shown; never the points.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shelter_match.models import AuditEvent, PlacementRequest, UserQuota
from tests.api.test_placement_flow import REQUEST, create, problem
from tests.factories import make_caller, make_location

PROPOSE = "/api/v1/placement-requests/{}/proposals"


def events(session, action, actor_id=None):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    session.expire_all()
    return list(session.scalars(query))


@pytest.fixture
def network(session, clock):
    """Two secure locations far enough from Schiedam, one too close."""
    return {
        "far": make_location(session, clock, region_code="GM0014", safety_level="rood",
                             lat=53.22, lon=6.57, units=(("N1", 4), ("N2", 1))),
        "near": make_location(session, clock, region_code="GM0599", safety_level="rood",
                              lat=51.92, lon=4.40, units=(("S1", 4),)),
        "middle": make_location(session, clock, region_code="GM0200", safety_level="rood",
                                lat=52.21, lon=5.97, units=(("M1", 3),)),
    }


@pytest.fixture
def worker(session, clock):
    return make_caller(session, clock, "crisis_worker")


@pytest.fixture
def admin(session, clock):
    return make_caller(session, clock, "admin")


def test_the_31st_request_in_an_hour_is_429_audited_and_creates_nothing(
        client, session, clock, worker):
    for n in range(30):
        create(client, worker, case_reference=f"VT-2026-{n:04}")
        clock.advance(seconds=60)
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    response = client.post("/api/v1/placement-requests",
                           json={**REQUEST, "case_reference": "VT-2026-0031"},
                           headers=worker.headers)
    body = problem(response, 429)
    # The first request leaves the hour at started + 1 h; it is now started + 30 min.
    assert response.headers["Retry-After"] == str(3600 - 30 * 60)
    assert body["quota"] == "requests_per_hour" and body["limit"] == 30
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before
    [refusal] = events(session, "quota.exceeded", worker.user.id)
    assert refusal.detail["quota"] == "requests_per_hour"
    assert refusal.detail["used"] == 30 and refusal.detail["limit"] == 30
    # Once the oldest has left the hour, she may make one again.
    clock.advance(seconds=int(response.headers["Retry-After"]))
    create(client, worker, case_reference="VT-2026-0032")


def test_the_301st_proposal_in_an_hour_is_429_and_audited(client, session, clock, network,
                                                          worker):
    request_id = create(client, worker)["id"]
    for _ in range(300):
        response = client.post(PROPOSE.format(request_id), json={}, headers=worker.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    shown = events(session, "proposal.shown", worker.user.id)
    assert len(shown) == 300
    response = client.post(PROPOSE.format(request_id), json={}, headers=worker.headers)
    body = problem(response, 429)
    assert body["quota"] == "proposals_per_hour" and body["limit"] == 300
    # All 300 were at the same instant: all leave the hour together, in an hour.
    assert response.headers["Retry-After"] == "3600"
    assert len(events(session, "proposal.shown", worker.user.id)) == 300
    [refusal] = events(session, "quota.exceeded", worker.user.id)
    assert refusal.object_id == worker.user.id
    assert refusal.detail["request_id"] == request_id
    assert refusal.detail["quota"] == "proposals_per_hour" and refusal.detail["asked"] == 1
    # An hour later the window is empty again.
    clock.advance(seconds=3600)
    assert client.post(PROPOSE.format(request_id), json={},
                       headers=worker.headers).status_code == 200


def test_every_proposal_answer_is_audited_without_the_points(client, session, clock, network,
                                                             worker):
    created = create(client, worker, danger={"lat": 51.9234, "lon": 4.4012},
                     current={"lat": 51.9311, "lon": 4.4777})
    answer = client.post(PROPOSE.format(created["id"]), json={},
                         headers=worker.headers).get_json()
    [event] = events(session, "proposal.shown", worker.user.id)
    assert event.object_id == created["id"] and event.actor_name == worker.user.name
    assert event.detail["location_ids"] == list(dict.fromkeys(
        o["location_id"] for o in answer["options"]))
    assert event.detail["options"] == len(answer["options"])
    digest = event.detail["points_digest"]
    assert len(digest) == 32
    text = json.dumps(event.detail)
    # Neither the given nor the stored (rounded) points appear in any form.
    for value in ("51.92", "4.40", "4.395", "51.93", "4.47", "4.48"):
        assert value not in text, value
    [made] = events(session, "request.created", worker.user.id)
    assert made.detail["points_digest"] == digest
    # The stored current point is rounded like the danger.
    stored = session.get(PlacementRequest, created["id"])
    assert (stored.current_lat, stored.current_lon) == (51.93, 4.485)
    # Same points, same day: the same digest; other points: another.
    again = create(client, worker, case_reference="VT-2026-0043",
                   danger={"lat": 51.9201, "lon": 4.4001},
                   current={"lat": 51.9288, "lon": 4.4833})
    other = create(client, worker, case_reference="VT-2026-0044",
                   danger={"lat": 52.0, "lon": 4.4001})
    client.post(PROPOSE.format(again["id"]), json={}, headers=worker.headers)
    client.post(PROPOSE.format(other["id"]), json={}, headers=worker.headers)
    digests = [e.detail["points_digest"] for e in events(session, "proposal.shown")]
    assert digests[0] == digests[1] != digests[2]


def test_a_batch_counts_each_request_and_is_audited_per_request(client, session, clock,
                                                                 network, worker, admin):
    ids = [create(client, worker, case_reference=f"VT-2026-01{n}")["id"] for n in range(3)]
    response = client.put(f"/api/v1/users/{worker.user.name}/quotas",
                          json={"proposals_per_hour": 5}, headers=admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = client.post("/api/v1/batch-proposals", json={"request_ids": ids},
                       headers=worker.headers).get_json()
    shown = events(session, "proposal.shown", worker.user.id)
    assert [e.object_id for e in shown] == ids
    assigned = {a["request_id"]: a.get("location_id") for a in body["assignments"]}
    assert all(e.detail["location_ids"] == ([assigned[e.object_id]]
                                            if assigned[e.object_id] else []) for e in shown)
    assert all(e.detail["batch_size"] == 3 for e in shown)
    # 3 used of 5: another batch of 3 is refused whole, a single proposal still fits.
    problem(client.post("/api/v1/batch-proposals", json={"request_ids": ids},
                        headers=worker.headers), 429)
    assert len(events(session, "proposal.shown", worker.user.id)) == 3
    assert client.post(PROPOSE.format(ids[0]), json={},
                       headers=worker.headers).status_code == 200


def test_an_admin_sets_one_users_quotas_audited(client, session, clock, worker, admin):
    url = f"/api/v1/users/{worker.user.name}/quotas"
    shown = client.get(url, headers=admin.headers).get_json()
    assert shown == {"user": worker.user.name, "requests_per_hour": 30,
                     "proposals_per_hour": 300, "own": [],
                     "used": {"requests_per_hour": 0, "proposals_per_hour": 0}}
    response = client.put(url, json={"proposals_per_hour": 1000}, headers=admin.headers)
    assert response.status_code == 200
    assert response.get_json()["proposals_per_hour"] == 1000
    assert response.get_json()["requests_per_hour"] == 30
    assert response.get_json()["own"] == ["proposals_per_hour"]
    [event] = events(session, "user.quotas_set")
    assert event.actor_id == admin.user.id and event.object_id == worker.user.id
    assert event.detail == {"before": {"requests_per_hour": None, "proposals_per_hour": None},
                            "after": {"requests_per_hour": None, "proposals_per_hour": 1000}}
    # null returns a quota to the policy's.
    response = client.put(url, json={"proposals_per_hour": None}, headers=admin.headers)
    assert response.get_json()["proposals_per_hour"] == 300


@pytest.mark.parametrize("body, field", [
    ({"proposals_per_hour": -1}, "proposals_per_hour"),
    ({"requests_per_hour": "many"}, "requests_per_hour"),
    ({"requests_per_hour": 1.5}, "requests_per_hour"),
    ({"requests_per_hour": 100_001}, "requests_per_hour"),
    ({"per_day": 3}, "per_day"),
    ({}, "_schema"),
])
def test_bad_quotas_are_422_naming_the_field_and_change_nothing(client, session, clock,
                                                                worker, admin, body, field):
    response = client.put(f"/api/v1/users/{worker.user.name}/quotas", json=body,
                          headers=admin.headers)
    assert field in problem(response, 422)["errors"]
    session.expire_all()
    assert session.get(UserQuota, worker.user.id) is None
    assert events(session, "user.quotas_set") == []


def test_only_an_admin_sets_quotas_and_an_unknown_user_is_404(client, session, clock, worker,
                                                              admin):
    url = f"/api/v1/users/{worker.user.name}/quotas"
    problem(client.put(url, json={"proposals_per_hour": 9999}, headers=worker.headers), 403)
    problem(client.get(url, headers=worker.headers), 403)
    problem(client.put("/api/v1/users/nobody-here/quotas", json={"proposals_per_hour": 1},
                       headers=admin.headers), 404)


def test_policy_quotas_are_validated_and_apply(client, session, clock, network, worker, admin):
    response = client.put("/api/v1/policy", json={"quotas": {"requests_per_hour": -1}},
                          headers=admin.headers)
    assert "quotas.requests_per_hour" in problem(response, 422)["errors"]
    assert client.get("/api/v1/policy", headers=worker.headers).get_json()["quotas"] == {
        "requests_per_hour": 30, "proposals_per_hour": 300}
    response = client.put("/api/v1/policy", json={"quotas": {"proposals_per_hour": 2}},
                          headers=admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["quotas"] == {"requests_per_hour": 30, "proposals_per_hour": 2}
    request_id = create(client, worker)["id"]
    for _ in range(2):
        assert client.post(PROPOSE.format(request_id), json={},
                           headers=worker.headers).status_code == 200
    problem(client.post(PROPOSE.format(request_id), json={}, headers=worker.headers), 429)
    # Her own quota wins over the policy's.
    client.put(f"/api/v1/users/{worker.user.name}/quotas", json={"proposals_per_hour": 3},
               headers=admin.headers)
    assert client.post(PROPOSE.format(request_id), json={},
                       headers=worker.headers).status_code == 200


def test_the_crisis_page_over_quota_is_a_429_page_audited(client, session, clock, network,
                                                          admin):
    from tests.web.helpers import make_person, signed_in  # noqa: PLC0415

    person = make_person(session, clock, "crisis_worker")
    request_id = create(client, person.caller)["id"]
    client.put(f"/api/v1/users/{person.name}/quotas", json={"proposals_per_hour": 0},
               headers=admin.headers)
    signed_in(client, person)
    response = client.get(f"/crisis/aanvragen/{request_id}")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert len(events(session, "quota.exceeded", person.user.id)) == 1


def test_purge_erases_old_digest_keys_so_old_digests_say_nothing(client, session, clock,
                                                                 worker):
    from shelter_match.models import PointDigestKey
    from shelter_match.services import digests, retention

    created = create(client, worker, danger={"lat": 51.9234, "lon": 4.4012})
    [made] = events(session, "request.created", worker.user.id)
    stored = session.get(PlacementRequest, created["id"])
    assert digests.request_digest(session, stored, clock.now()) == made.detail["points_digest"]
    clock.advance(days=2)
    result = retention.purge(session, older_than_days=1, now=clock.now())
    assert result.digest_keys == 1
    assert session.get(PointDigestKey, made.at.strftime("%Y-%m-%d")) is None
    # The same points, the same day: a new key, another digest; the old one is unlinkable.
    assert digests.request_digest(session, stored, made.at) != made.detail["points_digest"]
