"""The v2 matching rules over HTTP (CONTRACT 4.1, 4.2), on both engines.

The danger is a point in Schiedam; the test clock stands at 03:00 UTC (04:00 in
Amsterdam), inside the default night hours.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shelter_match.models import PlacementRequest
from tests.factories import make_caller, make_location

DANGER = {"lat": 51.92, "lon": 4.40}
REQUEST = {
    "case_reference": "VT-2026-0101",
    "origin_region_code": "GM0599",
    "risk_level": "rood",
    "danger": DANGER,
    "household": {"adults": 1, "children": 2},
}
ALL_REASONS = ["excluded_by_request", "origin_region_not_allowed", "target_group_mismatch",
               "safety_level_too_low", "too_close_to_danger", "too_close_for_location",
               "no_night_intake", "boys_age_limit", "missing_features",
               "no_free_unit_large_enough"]


@pytest.fixture
def worker(session, clock):
    return make_caller(session, clock, "crisis_worker")


@pytest.fixture
def admin(session, clock):
    return make_caller(session, clock, "admin")


def create(client, caller, **changes):
    response = client.post("/api/v1/placement-requests", json={**REQUEST, **changes},
                           headers=caller.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def propose(client, caller, request_id, **body):
    response = client.post(f"/api/v1/placement-requests/{request_id}/proposals", json=body,
                           headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def unprocessable(response, field):
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert field in body["errors"], body
    assert "Traceback" not in response.get_data(as_text=True)
    return body["errors"][field]


def test_every_rule_in_the_contracts_order_first_failing_counted(client, session, clock,
                                                                 worker):
    # One location failing each rule in turn (a rood case from Rotterdam, danger in
    # Schiedam, a boy of 14, needs pets, at night), and one that passes every rule.
    pets = ("pets_allowed",)
    excluded = make_location(session, clock, region_code="GM0014", safety_level="rood",
                             features=pets)
    make_location(session, clock, region_code="GM0599", safety_level="rood", features=pets)
    make_location(session, clock, region_code="GM0200", safety_level="rood", features=pets,
                  target_group="men")
    make_location(session, clock, region_code="GM0193", safety_level="oranje", features=pets)
    make_location(session, clock, region_code="GM0344", safety_level="rood", features=pets)
    make_location(session, clock, region_code="GM0935", safety_level="rood", features=pets,
                  accepts_night_intake=False)
    make_location(session, clock, region_code="GM0014", safety_level="rood", features=pets,
                  lat=53.20, lon=6.55, accepts_boys_up_to_age=12)
    make_location(session, clock, region_code="GM0080", safety_level="rood")
    make_location(session, clock, region_code="GM0153", safety_level="rood", features=pets,
                  units=(("A", 1),))
    fits = make_location(session, clock, region_code="GM0268", safety_level="rood",
                         features=pets, units=(("A", 1), ("B", 3), ("C", 4), ("D", 3)))
    created = create(client, worker, needs=["pets_allowed"],
                     excluded_location_ids=[excluded.id],
                     household={"adults": 1, "children": 2,
                                "children_detail": [{"age": 14, "sex": "male"},
                                                    {"age": 9, "sex": "female"}]})
    body = propose(client, worker, created["id"])
    # One option per location by default: the smallest unit that holds all three.
    assert [(o["location_id"], o["beds"]) for o in body["options"]] == [(fits.id, 3)]
    assert body["excluded"] == [{"reason": reason, "locations": 1} for reason in ALL_REASONS
                                if reason != "too_close_for_location"]
    # Dropping pets would open the location without them; never a safety rule.
    assert body["relaxations"] == [{"drop": "needs:pets_allowed", "options": 2}]

    # By day the location without night intake is offered too.
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    day = propose(client, worker, created["id"])
    assert len(day["options"]) == 2
    assert "no_night_intake" not in {e["reason"] for e in day["excluded"]}
    # Several units per location when asked: each location's best-fitting first.
    more = propose(client, worker, created["id"], units_per_location=3)
    assert [o["beds"] for o in more["options"] if o["location_id"] == fits.id] == [3, 3, 4]


def test_a_locations_own_level_protects_it_and_the_policy_can_turn_it_off(
        client, session, clock, worker, admin):
    # A rood location in Utrecht, about 55 km from the danger: far enough for an oranje case
    # (25 km) but not for the location's own level (75 km).
    secret = make_location(session, clock, region_code="GM0344", safety_level="rood")
    created = create(client, worker, risk_level="oranje")
    body = propose(client, worker, created["id"])
    assert body["options"] == []
    assert body["excluded"] == [{"reason": "too_close_for_location", "locations": 1}]

    policy = client.get("/api/v1/policy", headers=admin.headers).get_json()
    assert policy["location_level_min_distance"] is True
    assert policy["night_hours"] == {"from": "22:00", "to": "08:00"}
    response = client.put("/api/v1/policy", json={**policy, "location_level_min_distance": False},
                          headers=admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [o["location_id"] for o in propose(client, worker, created["id"])["options"]] == [
        secret.id]
    # A bad night is a 422 naming the field; nothing changes.
    unprocessable(client.put("/api/v1/policy", json={**policy, "night_hours": {
        "from": "25:00", "to": "08:00"}}, headers=admin.headers), "night_hours.from")
    assert client.get("/api/v1/policy", headers=admin.headers).get_json()[
        "location_level_min_distance"] is False


def test_night_hours_follow_the_policy_in_amsterdam_time(client, session, clock, worker, admin):
    day_only = make_location(session, clock, region_code="GM0014", safety_level="rood",
                             accepts_night_intake=False)
    created = create(client, worker)
    clock.set(datetime(2026, 11, 22, 20, 59, tzinfo=UTC))  # 21:59 in Amsterdam
    assert [o["location_id"] for o in propose(client, worker, created["id"])["options"]] == [
        day_only.id]
    clock.set(datetime(2026, 11, 22, 21, 0, tzinfo=UTC))  # 22:00 in Amsterdam
    assert propose(client, worker, created["id"])["excluded"] == [
        {"reason": "no_night_intake", "locations": 1}]
    policy = client.get("/api/v1/policy", headers=admin.headers).get_json()
    client.put("/api/v1/policy", json={**policy, "night_hours": {"from": "23:00", "to": "06:00"}},
               headers=admin.headers)
    assert len(propose(client, worker, created["id"])["options"]) == 1


def test_target_groups_and_the_v1_need_men(client, session, clock, worker, admin):
    women = make_location(session, clock, region_code="GM0014", safety_level="rood")
    men = make_location(session, clock, region_code="GM0080", safety_level="rood",
                        target_group="men")
    # A location created over the API with the v1 feature `men` takes in everyone.
    response = client.post("/api/v1/locations", headers=admin.headers, json={
        "name": "Opvang Zwolle", "region_code": "GM0193", "safety_level": "rood",
        "lat": 52.5168, "lon": 6.083, "address": "Dijkstraat 1", "features": ["men"],
        "accepts_night_intake": True, "units": [{"label": "A", "beds": 4}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    both = response.get_json()
    assert both["target_group"] == "all" and both["features"] == ["men"]

    for_her = create(client, worker)
    assert for_her["target_group"] == "women"
    body = propose(client, worker, for_her["id"])
    # The place that also takes men comes after every general place, and says so.
    assert [o["location_id"] for o in body["options"]] == [women.id, both["id"]]
    assert any("specialised" in reason for reason in body["options"][1]["reasons"])
    assert body["excluded"] == [{"reason": "target_group_mismatch", "locations": 1}]

    for_him = create(client, worker, needs=["men"])
    assert for_him["target_group"] == "men" and for_him["needs"] == ["men"]
    body = propose(client, worker, for_him["id"])
    assert {o["location_id"] for o in body["options"]} == {men.id, both["id"]}
    assert body["excluded"] == [{"reason": "target_group_mismatch", "locations": 1}]
    assert body["relaxations"] == []  # `men` is the target group, not a need to drop

    unprocessable(client.post("/api/v1/placement-requests", headers=worker.headers,
                              json={**REQUEST, "needs": ["men"], "target_group": "women"}),
                  "target_group")


def test_several_dangers_each_keep_the_minimum(client, session, clock, worker):
    north = make_location(session, clock, region_code="GM0014", safety_level="rood")
    south = make_location(session, clock, region_code="GM0935", safety_level="rood")
    # A second danger in Assen, about 25 km from the location in Groningen.
    created = create(client, worker, danger=[DANGER, {"lat": 52.993, "lon": 6.562}])
    assert [(d["lat"], d["lon"]) for d in created["dangers"]] == [(51.92, 4.395),
                                                                  (52.99, 6.555)]
    assert created["danger"]["lat"] == 51.92  # the first, as in v1
    body = propose(client, worker, created["id"])
    assert [o["location_id"] for o in body["options"]] == [south.id]
    assert body["excluded"] == [{"reason": "too_close_to_danger", "locations": 1}]
    assert north

    # The v1 single form answers as before: no `dangers`.
    single = create(client, worker)
    assert "dangers" not in single
    assert len(propose(client, worker, single["id"])["options"]) == 2

    count = session.scalar(select(func.count()).select_from(PlacementRequest))
    six = [DANGER] * 6
    unprocessable(client.post("/api/v1/placement-requests", headers=worker.headers,
                              json={**REQUEST, "danger": six}), "danger")
    errors = unprocessable(client.post(
        "/api/v1/placement-requests", headers=worker.headers,
        json={**REQUEST, "danger": [DANGER, {"place": "Nergenshuizen-aan-Zee"}]}),
        "danger.1")
    assert errors
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == count


def test_children_and_a_minor_alone(client, session, clock, worker):
    count = session.scalar(select(func.count()).select_from(PlacementRequest))
    alone = unprocessable(client.post("/api/v1/placement-requests", headers=worker.headers,
                                      json={**REQUEST, "household": {"adults": 0,
                                                                     "children": 1}}),
                          "household.adults")
    assert "jeugdzorg" in alone[0] and "Veilig Thuis" in alone[0]
    unprocessable(client.post("/api/v1/placement-requests", headers=worker.headers, json={
        **REQUEST, "household": {"adults": 1, "children": 2,
                                 "children_detail": [{"age": 3, "sex": "female"}]}}),
        "household.children_detail")
    response = client.post("/api/v1/placement-requests", headers=worker.headers, json={
        **REQUEST, "household": {"adults": 1, "children": 1,
                                 "children_detail": [{"age": 19, "sex": "x"}]}})
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == count

    created = create(client, worker, household={
        "adults": 1, "children": 1, "children_detail": [{"age": 15, "sex": "male"}]})
    assert created["household"]["children_detail"] == [{"age": 15, "sex": "male"}]


def test_options_carry_freshness_and_stale_ranks_after_fresh(client, session, clock, worker):
    stale = make_location(session, clock, region_code="GM0014", safety_level="rood",
                          lat=53.2194, lon=6.5665)
    clock.set(datetime(2026, 11, 22, 16, 0, tzinfo=UTC))  # 13 hours later
    fresh = make_location(session, clock, region_code="GM0014", safety_level="rood",
                          lat=53.2194, lon=6.5665 + 0.0001)
    created = create(client, worker)
    body = propose(client, worker, created["id"])
    assert [o["location_id"] for o in body["options"]] == [fresh.id, stale.id]
    assert [o["stale"] for o in body["options"]] == [False, True]
    assert body["options"][1]["availability_updated_at"] == "2026-11-22T03:00:00Z"
    assert body["options"][0]["availability_updated_at"] == "2026-11-22T16:00:00Z"
    for bad in (0, 6, "2"):
        unprocessable(client.post(f"/api/v1/placement-requests/{created['id']}/proposals",
                                  json={"units_per_location": bad}, headers=worker.headers),
                      "units_per_location")
