"""Issue 17, accounts: disabling a person, server-side sessions, a safe `next`, a fair throttle.

Each test here failed before the change it names: `user revoke` left the web session and
the password working and nothing could disable a person; signing out left the cookie
valid; `next=/%09/evil.example` redirected off the site and CR/LF in `next` was a 500;
ten bad tokens from one address (everyone behind the shipped nginx) refused every valid
token; ten `HEAD /aanmelden` counted as failed sign-ins.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from shelter_match.models import ApiToken, AuditEvent, AuthFailureWindow, WebSession
from shelter_match.services import users
from shelter_match.services.throttle import MAX_FAILURES
from testbed.cli import run_cli
from tests.factories import make_caller
from tests.web.helpers import PASSWORD, csrf_from, make_person, post, sign_in, signed_in
from web.auth import SESSION_COOKIE


def actions(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Sessions kept server-side -------------------------------------------------------------

def test_a_cookie_replayed_after_sign_out_signs_no_one_in(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    assert client.get("/crisis").status_code == 200
    stolen = client.get_cookie(SESSION_COOKIE).value
    assert session.scalar(select(WebSession.user_id)) == worker.user.id
    assert post(client, "/afmelden").status_code == 303
    assert session.scalars(select(WebSession)).all() == []
    # A copy of the cookie taken while she was signed in (a shared phone, a proxy log).
    client.set_cookie(SESSION_COOKIE, stolen)
    replayed = client.get("/crisis")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/aanmelden")


def test_the_cookie_carries_only_a_random_key_and_the_table_only_its_hash(client, session,
                                                                         clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    with client.session_transaction() as stored:
        key = stored["sid"]
        assert set(stored) <= {"sid", "csrf", "lang", "_flashes", "_permanent"}
    row = session.scalars(select(WebSession)).one()
    assert key not in row.key_hash and len(row.key_hash) == 64
    assert worker.user.id not in client.get_cookie(SESSION_COOKIE).value


def test_signing_in_again_ends_the_browsers_earlier_session(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    earlier = client.get_cookie(SESSION_COOKIE).value
    token = csrf_from(client.get("/crisis").get_data(as_text=True))
    again = client.post("/aanmelden", data={"name": worker.name, "password": PASSWORD,
                                            "csrf_token": token})
    assert again.status_code == 303
    assert len(session.scalars(select(WebSession)).all()) == 1
    client.set_cookie(SESSION_COOKIE, earlier)
    assert client.get("/crisis").status_code == 302


def test_sessions_on_two_devices_end_separately(app, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    phone = signed_in(app.test_client(), worker)
    desk = signed_in(app.test_client(), worker)
    post(phone, "/afmelden")
    assert phone.get("/crisis").status_code == 302
    assert desk.get("/crisis").status_code == 200


# --- Disable and enable --------------------------------------------------------------------

def test_disable_ends_tokens_and_sessions_at_once_and_enable_keeps_old_tokens_dead(
        client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    admin = make_caller(session, clock, "admin")
    browser = signed_in(client, worker)
    api = {"headers": worker.caller.headers}
    assert browser.get("/crisis").status_code == 200
    assert client.get("/api/v1/regions", **api).status_code == 200

    done = users.disable_user(session, worker.name, clock.now(),
                              actor=users.principal_for(session, admin.user))
    session.flush()
    assert (done.tokens, done.web_sessions, done.already) == (1, 1, False)
    assert browser.get("/crisis").status_code == 302
    assert client.get("/api/v1/regions", **api).status_code == 401
    assert sign_in(client.application.test_client(), worker).status_code == 401

    assert users.enable_user(session, worker.name, clock.now()) is True
    session.flush()
    assert sign_in(client.application.test_client(), worker).status_code == 303
    assert client.get("/api/v1/regions", **api).status_code == 401  # old tokens stay dead
    fresh = users.new_token_for(session, worker.name, clock.now())
    session.flush()
    assert client.get("/api/v1/regions",
                      headers={"Authorization": f"Bearer {fresh}"}).status_code == 200

    disabled, = actions(session, "user.disabled")
    assert disabled.object_id == worker.user.id and disabled.actor_id == admin.user.id
    assert disabled.detail == {"tokens": 1, "web_sessions": 1}
    assert [event.object_id for event in actions(session, "user.enabled")] == [worker.user.id]


def test_revoke_also_ends_her_web_sessions(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    browser = signed_in(client, worker)
    assert users.revoke_tokens(session, worker.name, clock.now()) == 1
    session.flush()
    assert browser.get("/crisis").status_code == 302
    revoked, = actions(session, "token.revoked")
    assert revoked.detail == {"tokens": 1, "web_sessions": 1}


def test_an_admin_cannot_disable_herself(session, clock):
    admin = make_caller(session, clock, "admin")
    with pytest.raises(users.Conflict):
        users.disable_user(session, admin.user.name, clock.now(),
                           actor=users.principal_for(session, admin.user))
    assert admin.user.disabled_at is None


def test_cli_disable_and_enable_over_a_real_database(fresh_database_url):
    added = run_cli("user", "add", "nina", "--role", "crisis_worker",
                    database_url=fresh_database_url)
    assert added.returncode == 0, added.stderr
    bearer = {"Authorization": f"Bearer {added.stdout.strip().splitlines()[-1]}"}
    assert run_cli("user", "set-password", "nina", "--password-stdin", stdin=PASSWORD + "\n",
                   database_url=fresh_database_url).returncode == 0
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": make_url(fresh_database_url),
                      "SECRET_KEY": "test-only-secret-key"})

    def sign_in_as_nina():
        browser = app.test_client()
        token = csrf_from(browser.get("/aanmelden").get_data(as_text=True))
        answer = browser.post("/aanmelden", data={"name": "nina", "password": PASSWORD,
                                                  "csrf_token": token})
        return browser, answer.status_code

    browser, status = sign_in_as_nina()
    assert status == 303 and browser.get("/crisis").status_code == 200
    assert app.test_client().get("/api/v1/regions", headers=bearer).status_code == 200

    disabled = run_cli("user", "disable", "nina", database_url=fresh_database_url)
    assert disabled.returncode == 0, disabled.stderr
    assert "revoked 1 token(s), ended 1 web session(s)" in disabled.stdout
    assert browser.get("/crisis").status_code == 302
    assert app.test_client().get("/api/v1/regions", headers=bearer).status_code == 401
    assert sign_in_as_nina()[1] == 401

    enabled = run_cli("user", "enable", "nina", database_url=fresh_database_url)
    assert enabled.returncode == 0 and "enabled" in enabled.stdout
    assert sign_in_as_nina()[1] == 303
    assert app.test_client().get("/api/v1/regions", headers=bearer).status_code == 401
    listed = run_cli("audit", "--action", "user.disabled", database_url=fresh_database_url)
    assert len(listed.stdout.strip().splitlines()) == 1
    unknown = run_cli("user", "disable", "nobody", database_url=fresh_database_url)
    assert unknown.returncode != 0 and len(unknown.stderr.strip().splitlines()) == 1
    app.extensions["shelter_match.engine"].dispose()


# --- A safe next ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/%0a/evil.example",
    "/\r\n/evil.example", "/%0d%0a/evil.example", "/crisis\r\nSet-Cookie: x=1",
    "/%2F/evil.example", "/%5Cevil.example", "/\\evil.example", "//evil.example",
    "/ /evil.example", "https://evil.example/", "/api/v1/regions", "javascript:alert(1)",
    "/\x00/evil.example", "/" + "a" * 3000,
])
def test_sign_in_never_leaves_the_site_and_never_fails(client, session, clock, target):
    worker = make_person(session, clock, "crisis_worker")
    form = client.get("/aanmelden", query_string={"next": target})
    assert form.status_code == 200
    token = csrf_from(form.get_data(as_text=True))
    signed = client.post("/aanmelden", data={"name": worker.name, "password": PASSWORD,
                                             "next": target, "csrf_token": token})
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/crisis"
    # Signed in already, the sign-in page sends her home, not to the target.
    again = client.get("/aanmelden", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/crisis"


def test_sign_in_still_returns_to_her_own_page(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    token = csrf_from(client.get("/aanmelden").get_data(as_text=True))
    signed = client.post("/aanmelden", data={"name": worker.name, "password": PASSWORD,
                                             "next": "/crisis/aanvragen/nieuw?x=a%20b",
                                             "csrf_token": token})
    assert signed.headers["Location"] == "/crisis/aanvragen/nieuw?x=a%20b"


# --- A fair throttle -----------------------------------------------------------------------

def test_looking_at_the_sign_in_page_is_not_a_failed_sign_in(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    for _ in range(MAX_FAILURES * 2):
        assert client.head("/aanmelden").status_code == 200
        assert client.get("/aanmelden").status_code == 200
    assert session.scalars(select(AuthFailureWindow)).all() == []
    assert actions(session, "auth.sign_in_failed") == []
    assert sign_in(client, worker).status_code == 303


def test_others_failures_never_refuse_her_right_password(app, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    office = {"REMOTE_ADDR": "203.0.113.9"}  # everyone behind one address (a NAT, a proxy)
    guesser = app.test_client()
    token = csrf_from(guesser.get("/aanmelden", environ_base=office).get_data(as_text=True))
    for n in range(MAX_FAILURES + 2):  # guesses for another name from her address
        guesser.post("/aanmelden", environ_base=office, data={
            "name": f"someone-{n % 2}", "password": "guess-guess-guess", "csrf_token": token})
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}  # guesses for her name from elsewhere
    token = csrf_from(guesser.get("/aanmelden", environ_base=elsewhere).get_data(as_text=True))
    for _ in range(MAX_FAILURES + 2):
        guesser.post("/aanmelden", environ_base=elsewhere, data={
            "name": worker.name, "password": "guess-guess-guess", "csrf_token": token})
    assert guesser.post("/aanmelden", environ_base=elsewhere, data={
        "name": worker.name, "password": "guess-guess-guess", "csrf_token": token}
    ).status_code == 429
    her = app.test_client()
    token = csrf_from(her.get("/aanmelden", environ_base=office).get_data(as_text=True))
    signed = her.post("/aanmelden", environ_base=office, data={
        "name": worker.name, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303


def test_behind_the_shipped_proxy_bad_tokens_never_lock_out_valid_ones(connection, clock,
                                                                       session):
    from app import create_app

    worker = make_caller(session, clock, "crisis_worker")
    app = create_app({"TESTING": True, "DATABASE_CONNECTION": connection, "CLOCK": clock,
                      "PROXY_COUNT": 1})
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # nginx on the same host, as deploy/ ships it
    for n in range(MAX_FAILURES):
        assert client.get("/api/v1/regions", environ_base=proxy, headers={
            "Authorization": f"Bearer guess-{n}", "X-Forwarded-For": "203.0.113.50"}
        ).status_code == 401
    refused = client.get("/api/v1/regions", environ_base=proxy, headers={
        "Authorization": "Bearer guess-x", "X-Forwarded-For": "203.0.113.50"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # The whole country is behind that one proxy: its other clients, and even the guessing
    # address with a valid token, are served.
    for address in ("192.0.2.10", "203.0.113.50"):
        assert client.get("/api/v1/regions", environ_base=proxy, headers={
            **worker.headers, "X-Forwarded-For": address}).status_code == 200
    assert client.get("/api/v1/regions", environ_base=proxy, headers={
        "Authorization": "Bearer guess-y", "X-Forwarded-For": "192.0.2.10"}).status_code == 401


def test_a_valid_token_is_served_even_while_its_own_address_is_throttled(client, session,
                                                                        clock):
    worker = make_caller(session, clock, "crisis_worker")
    for n in range(MAX_FAILURES + 3):
        client.get("/api/v1/regions", headers={"Authorization": f"Bearer guess-{n}"})
    assert client.get("/api/v1/regions", headers=worker.headers).status_code == 200
    live = session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == worker.user.id))
    assert live is None
