"""HTTP hardening: headers, body rules, token expiry and throttling of failed logins."""

from datetime import timedelta

from shelter_match.services.throttle import MAX_FAILURES, WINDOW
from tests.api.test_foundation import VALID_POLICY, assert_problem
from tests.factories import make_caller


def test_security_headers_and_no_server_header(client, session, clock):
    caller = make_caller(session, clock, "admin")
    for response in (client.get("/api/v1/policy", headers=caller.headers),
                     client.get("/api/v1/nowhere"), client.get("/healthz")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Server" not in response.headers


def test_write_with_non_json_body_is_415_and_changes_nothing(client, session, clock):
    admin = make_caller(session, clock, "admin")
    before = client.get("/api/v1/policy", headers=admin.headers).get_json()
    response = client.put("/api/v1/policy", data="hold_minutes=5",
                          headers={**admin.headers, "Content-Type": "text/plain"})
    assert_problem(response, 415)
    assert client.get("/api/v1/policy", headers=admin.headers).get_json() == before


def test_oversized_body_is_413(client, session, clock):
    admin = make_caller(session, clock, "admin")
    huge = {**VALID_POLICY, "padding": "x" * 100_000}
    assert_problem(client.put("/api/v1/policy", json=huge, headers=admin.headers), 413)


def test_token_expires(client, session, clock):
    from shelter_match.services.auth import issue_token

    caller = make_caller(session, clock, "crisis_worker")
    short = issue_token(session, caller.user, clock.now(), expires_at=clock.now() +
                        timedelta(hours=1))
    headers = {"Authorization": f"Bearer {short}"}
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    clock.advance(hours=1)
    assert_problem(client.get("/api/v1/regions", headers=headers), 401)
    # Her token without expiry still works.
    assert client.get("/api/v1/regions", headers=caller.headers).status_code == 200


def test_repeated_failures_are_refused_without_locking_out_others(client, session, clock):
    good = make_caller(session, clock, "crisis_worker")
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    colleague = {"REMOTE_ADDR": "198.51.100.20"}
    for attempt in range(MAX_FAILURES):
        response = client.get("/api/v1/regions", environ_base=attacker,
                              headers={"Authorization": f"Bearer guess-{attempt}"})
        assert response.status_code == 401
    refused = client.get("/api/v1/regions", environ_base=attacker,
                         headers={"Authorization": "Bearer guess-final"})
    body = assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert "try again" in body["detail"]
    # Another client is not locked out, and a client without a token is not counted.
    assert client.get("/api/v1/regions", environ_base=colleague,
                      headers=good.headers).status_code == 200
    # After the window the client may try again.
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert client.get("/api/v1/regions", environ_base=attacker,
                      headers=good.headers).status_code == 200
