"""Health, regions, policy, auth and error answers of the API foundation."""

import pytest

from tests.factories import make_caller

PROBLEM = "application/problem+json"
VALID_POLICY = {
    "min_distance_km": {"groen": 0, "oranje": 30, "rood": 80},
    "rood_outside_origin_region": True,
    "hold_minutes": 20,
    "stale_after_hours": 6,
}


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "SELECT" not in text
    return body


def test_healthz_and_readyz_need_no_token(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ok"}


def test_regions_lists_all_35(client, session, clock):
    caller = make_caller(session, clock, "crisis_worker")
    response = client.get("/api/v1/regions", headers=caller.headers)
    assert response.status_code == 200
    regions = {r["code"]: r for r in response.get_json()}
    assert len(regions) == 35
    assert regions["GM0363"]["name"] == "Amsterdam"
    assert regions["GM0599"]["name"] == "Rotterdam"
    assert set(regions["GM0344"]) == {"code", "name", "lat", "lon"}


def test_missing_and_unknown_token_are_401(client):
    body = assert_problem(client.get("/api/v1/regions"), 401)
    assert "token" in body["detail"].lower()
    assert_problem(client.get("/api/v1/regions", headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(client.get("/api/v1/regions", headers={"Authorization": "Basic abc"}), 401)


def test_revoked_token_is_401(client, session, clock):
    from shelter_match.services.users import revoke_tokens

    caller = make_caller(session, clock, "admin")
    assert client.get("/api/v1/policy", headers=caller.headers).status_code == 200
    revoke_tokens(session, caller.user.name, clock.now())
    session.flush()
    assert_problem(client.get("/api/v1/policy", headers=caller.headers), 401)


def test_policy_defaults(client, session, clock):
    caller = make_caller(session, clock, "region_reviewer")
    response = client.get("/api/v1/policy", headers=caller.headers)
    body = response.get_json()
    assert {name: body[name] for name in VALID_POLICY} == {
        "min_distance_km": {"groen": 0, "oranje": 25, "rood": 75},
        "rood_outside_origin_region": True,
        "hold_minutes": 30,
        "stale_after_hours": 12,
    }
    # Added beyond the contract: the ranking weights and the place radius (issue 5).
    assert body["ranking_weights"]["travel_per_km"] == 1000
    assert body["danger_place_radius_km"] == {"gemeente": 5, "place": 5}


def test_admin_replaces_policy_and_it_is_audited(client, session, clock):
    from sqlalchemy import select

    from shelter_match.models import AuditEvent

    admin = make_caller(session, clock, "admin")
    response = client.put("/api/v1/policy", json=VALID_POLICY, headers=admin.headers)
    assert response.status_code == 200
    assert response.get_json().items() >= VALID_POLICY.items()
    assert client.get("/api/v1/policy", headers=admin.headers).get_json() == response.get_json()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "policy.replaced")).one()
    assert event.actor_id == admin.user.id
    assert event.detail["after"]["hold_minutes"] == 20


@pytest.mark.parametrize("role", ["crisis_worker", "coordinator", "region_reviewer"])
def test_only_admin_may_replace_policy(client, session, clock, role):
    caller = make_caller(session, clock, role)
    assert_problem(client.put("/api/v1/policy", json=VALID_POLICY, headers=caller.headers), 403)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"hold_minutes": 0}, "hold_minutes"),
        ({"hold_minutes": "30"}, "hold_minutes"),
        ({"stale_after_hours": -1}, "stale_after_hours"),
        ({"rood_outside_origin_region": "yes"}, "rood_outside_origin_region"),
        ({"min_distance_km": {"groen": 0, "oranje": 25}}, "min_distance_km.rood"),
        ({"min_distance_km": {"groen": 0, "oranje": 25, "rood": 999}}, "min_distance_km.rood"),
        ({"min_distance_km": {"groen": 0, "oranje": 50, "rood": 40}}, "min_distance_km.rood"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_policy_is_422_naming_the_field_and_changes_nothing(client, session, clock, change,
                                                                field):
    admin = make_caller(session, clock, "admin")
    before = client.get("/api/v1/policy", headers=admin.headers).get_json()
    response = client.put("/api/v1/policy", json={**VALID_POLICY, **change}, headers=admin.headers)
    body = assert_problem(response, 422)
    assert field in body["errors"], body
    assert client.get("/api/v1/policy", headers=admin.headers).get_json() == before


def test_a_policy_key_left_out_takes_its_default(client, session, clock):
    # Contract v2: PUT replaces the policy, and a key left out keeps its default (not the
    # value it had before), so a client that knows only some keys cannot break the others.
    admin = make_caller(session, clock, "admin")
    client.put("/api/v1/policy", json={**VALID_POLICY, "stale_after_hours": 48},
               headers=admin.headers)
    response = client.put("/api/v1/policy", json={"hold_minutes": 45}, headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    body = client.get("/api/v1/policy", headers=admin.headers).get_json()
    assert body["hold_minutes"] == 45
    assert body["stale_after_hours"] == 12
    assert body["min_distance_km"] == {"groen": 0, "oranje": 25, "rood": 75}
    assert body["rood_outside_origin_region"] is True


def test_malformed_json_is_400(client, session, clock):
    admin = make_caller(session, clock, "admin")
    response = client.put(
        "/api/v1/policy",
        data='{"min_distance_km": ',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_unknown_path_and_method_are_problems(client, session, clock):
    admin = make_caller(session, clock, "admin")
    assert_problem(client.get("/api/v1/nowhere", headers=admin.headers), 404)
    response = client.delete("/api/v1/policy", headers=admin.headers)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_500_without_details(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: SELECT * FROM users")

    response = client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["detail"]
    assert "secret internals" in caplog.text  # logged for us, not shown to the caller


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/regions" in spec["paths"]
    assert "/api/v1/policy" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs/plain")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "/api/v1/policy" in page.get_data(as_text=True)
