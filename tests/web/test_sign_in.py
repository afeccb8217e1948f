"""Signing in to the pages: passwords, sessions, CSRF, throttling, roles, and the API apart."""

import os
import stat
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from shelter_match.models import AuditEvent, User
from shelter_match.services import users
from shelter_match.services.throttle import MAX_FAILURES, WINDOW
from tests.factories import make_location
from tests.web.helpers import PASSWORD, csrf_from, make_person, post, sign_in, signed_in
from web.auth import IDLE_TIMEOUT, SESSION_LIFETIME, persistent_secret_key

REFUSED = "De gebruikersnaam of het wachtwoord klopt niet."


def audit_actions(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_in_takes_her_to_her_role_page_and_sign_out_ends_it(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    response = sign_in(client, worker)
    assert response.status_code == 303
    assert response.headers["Location"] == "/crisis"
    page = client.get("/crisis")
    assert page.status_code == 200
    assert worker.name in page.get_data(as_text=True)
    assert len(audit_actions(session, "auth.signed_in")) == 1

    out = post(client, "/afmelden")
    assert out.status_code == 303 and out.headers["Location"] == "/aanmelden"
    assert client.get("/crisis").headers["Location"].startswith("/aanmelden")
    assert len(audit_actions(session, "auth.signed_out")) == 1


@pytest.mark.parametrize("password", ["wrong-password-123", ""])
def test_wrong_password_is_refused_like_an_unknown_name_and_audited(client, session, clock,
                                                                   password):
    worker = make_person(session, clock, "crisis_worker")
    wrong = sign_in(client, worker, password)
    token = csrf_from(client.get("/aanmelden").get_data(as_text=True))
    unknown = client.post("/aanmelden", data={"name": "nobody-here", "password": PASSWORD,
                                              "csrf_token": token})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert REFUSED in response.get_data(as_text=True)
    assert client.get("/crisis").status_code == 302  # not signed in
    failures = audit_actions(session, "auth.sign_in_failed")
    assert [(event.object_id, event.detail) for event in failures] == [
        (worker.user.id, {"reason": "wrong_password"}),
        (None, {"reason": "unknown_user"}),
    ]
    logged = " ".join(str(event.detail) for event in failures)
    assert PASSWORD not in logged and "nobody-here" not in logged


def test_disabled_user_and_user_without_password_cannot_sign_in(client, session, clock):
    disabled = make_person(session, clock, "crisis_worker")
    disabled.user.disabled_at = clock.now()
    without = make_person(session, clock, "coordinator")
    without.user.password_hash = None
    session.flush()
    for person in (disabled, without):
        response = sign_in(client, person)
        assert response.status_code == 401
        assert REFUSED in response.get_data(as_text=True)
    # Both audited; the two events share the frozen clock's time, so their order is not fixed.
    reasons = [event.detail["reason"] for event in audit_actions(session, "auth.sign_in_failed")]
    assert sorted(reasons) == ["disabled", "no_password"]


def test_sign_in_without_or_with_a_wrong_csrf_token_is_refused(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    client.get("/aanmelden")
    for data in ({"name": worker.name, "password": PASSWORD},
                 {"name": worker.name, "password": PASSWORD, "csrf_token": "forged"}):
        response = client.post("/aanmelden", data=data)
        assert response.status_code == 400
        assert "Dit formulier is verlopen" in response.get_data(as_text=True)
    assert audit_actions(session, "auth.signed_in") == []


def test_a_signed_in_form_without_csrf_changes_nothing(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_person(session, clock, "coordinator", location_ids=(location.id,))
    signed_in(client, coordinator)
    before = location.availability_updated_at
    clock.advance(hours=1)
    response = client.post(f"/coordinator/locaties/{location.id}/alles-klopt")
    assert response.status_code == 400
    session.refresh(location)
    assert location.availability_updated_at == before
    # A form posted from another site is refused even with the token (Origin check).
    response = client.post(f"/coordinator/locaties/{location.id}/alles-klopt",
                           data={"csrf_token": _token(client)},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 400


def _token(client):
    with client.session_transaction() as stored:
        return stored["csrf"]


def test_session_ends_after_a_spell_of_inactivity_but_not_while_she_works(client, session,
                                                                         clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    for _ in range(2):  # 6 hours of work, never idle as long as IDLE_TIMEOUT
        clock.advance(hours=3)
        assert client.get("/crisis").status_code == 200
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() + 60)
    response = client.get("/crisis")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/aanmelden")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "lang niets hebt gedaan" in page


def test_session_ends_at_its_absolute_lifetime_however_busy_she_is(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    busy = timedelta(minutes=30)
    elapsed = timedelta(0)
    while elapsed + busy < SESSION_LIFETIME:  # a page every half hour: never idle
        elapsed += busy
        clock.advance(seconds=busy.total_seconds())
        assert client.get("/crisis").status_code == 200, elapsed
    clock.advance(seconds=(SESSION_LIFETIME - elapsed).total_seconds() + 60)
    response = client.get("/crisis")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sessie is afgelopen" in page


def test_a_new_password_ends_her_other_sessions(app, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    phone = signed_in(app.test_client(), worker)
    assert phone.get("/crisis").status_code == 200
    users.set_password(session, worker.name, "een-heel-nieuw-wachtwoord", clock.now())
    session.flush()
    assert phone.get("/crisis").status_code == 302


def test_roles_see_only_their_own_pages(client, session, clock):
    mine = make_location(session, clock)
    other = make_location(session, clock)
    people = {
        "crisis_worker": make_person(session, clock, "crisis_worker"),
        "coordinator": make_person(session, clock, "coordinator", location_ids=(mine.id,)),
        "region_reviewer": make_person(session, clock, "region_reviewer"),
        "admin": make_person(session, clock, "admin"),
    }
    pages = {"/crisis": {"crisis_worker", "admin"},
             "/crisis/aanvragen/nieuw": {"crisis_worker", "admin"},
             f"/coordinator/locaties/{mine.id}": {"coordinator", "admin"},
             "/regio": {"region_reviewer", "admin"},
             "/beheer": {"admin"},
             "/beheer/beleid": {"admin"},
             f"/beheer/locaties/{mine.id}": {"admin"}}
    for role, person in people.items():
        browser = signed_in(client.application.test_client(), person)
        for path, allowed in pages.items():
            status = browser.get(path).status_code
            assert status == (200 if role in allowed else 403), (role, path, status)
    # Her own location's board, not another's: that one does not exist for her.
    browser = signed_in(client.application.test_client(), people["coordinator"])
    assert browser.get(f"/coordinator/locaties/{other.id}").status_code == 404


def test_pages_send_people_to_sign_in_and_back(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    response = client.get("/crisis/aanvragen/nieuw")
    assert response.status_code == 302
    assert response.headers["Location"] == "/aanmelden?next=/crisis/aanvragen/nieuw"
    token = csrf_from(client.get(response.headers["Location"]).get_data(as_text=True))
    signed = client.post("/aanmelden", data={"name": worker.name, "password": PASSWORD,
                                             "next": "/crisis/aanvragen/nieuw",
                                             "csrf_token": token})
    assert signed.headers["Location"] == "/crisis/aanvragen/nieuw"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/api/v1/regions",
                                    "/\\evil.example"])
def test_sign_in_never_redirects_elsewhere(client, session, clock, target):
    worker = make_person(session, clock, "crisis_worker")
    token = csrf_from(client.get("/aanmelden").get_data(as_text=True))
    signed = client.post("/aanmelden", data={"name": worker.name, "password": PASSWORD,
                                             "next": target, "csrf_token": token})
    assert signed.headers["Location"] == "/crisis"


def test_the_api_never_accepts_the_session_cookie(client, session, clock):
    admin = make_person(session, clock, "admin")
    signed_in(client, admin)
    assert client.get("/beheer").status_code == 200
    for response in (client.get("/api/v1/regions"), client.get("/api/v1/policy")):
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert "Set-Cookie" not in response.headers
    # The bearer token still works, cookie or not.
    assert client.get("/api/v1/policy", headers=admin.caller.headers).status_code == 200


def test_cookie_flags(app, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    local = sign_in(app.test_client(), worker)
    cookie = local.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on localhost: the demo and the tests
    for base in ("https://localhost", "http://opvang.example.nl"):
        browser = app.test_client()
        token = csrf_from(browser.get("/aanmelden", base_url=base).get_data(as_text=True))
        response = browser.post("/aanmelden", base_url=base, data={
            "name": worker.name, "password": PASSWORD, "csrf_token": token})
        assert "; Secure" in response.headers["Set-Cookie"], base


def test_failed_sign_ins_are_throttled_per_client(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(MAX_FAILURES):
        client.get("/aanmelden", environ_base=attacker)
        response = client.post("/aanmelden", environ_base=attacker, data={
            "name": worker.name, "password": "guess-guess-guess", "csrf_token": _token(client)})
        assert response.status_code == 401
    refused = client.post("/aanmelden", environ_base=attacker, data={
        "name": worker.name, "password": PASSWORD, "csrf_token": _token(client)})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Te veel mislukte pogingen" in refused.get_data(as_text=True)
    colleague = client.application.test_client()
    assert sign_in(colleague, worker).status_code == 303
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    client.get("/aanmelden", environ_base=attacker)
    again = client.post("/aanmelden", environ_base=attacker, data={
        "name": worker.name, "password": PASSWORD, "csrf_token": _token(client)})
    assert again.status_code == 303


def test_page_security_headers(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    page = client.get("/crisis")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # The API keeps its own, stricter policy.
    api = client.get("/api/v1/regions", headers=worker.caller.headers)
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_pages_answer_errors_with_pages_and_the_api_with_problems(client):
    page = client.get("/nergens")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Niet gevonden" in page.get_data(as_text=True)
    api = client.get("/api/v1/nergens")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_secret_key_is_kept_in_the_instance_folder_privately(tmp_path):
    first = persistent_secret_key(tmp_path)
    assert persistent_secret_key(tmp_path) == first
    assert len(first) >= 48
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


def test_production_hashing_is_argon2id_with_rfc9106_cost(session, clock, monkeypatch):
    monkeypatch.setattr(users, "PASSWORD_HASHER", PasswordHasher())
    person = make_person(session, clock, "admin")
    stored = session.scalar(select(User.password_hash).where(User.id == person.user.id))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored
    assert users.sign_in(session, person.name, PASSWORD, clock.now()).principal is not None


def test_a_weak_password_is_refused(session, clock):
    person = make_person(session, clock, "admin")
    for weak in ("kort", person.name, " begint-met-spatie-en-is-lang"):
        with pytest.raises(users.ValidationFailed) as refused:
            users.set_password(session, person.name, weak, clock.now())
        assert "password" in refused.value.errors


def test_sign_in_session_lifetime_is_a_shift():
    assert timedelta(hours=8) <= SESSION_LIFETIME <= timedelta(hours=12)
    assert timedelta(hours=1) <= IDLE_TIMEOUT < SESSION_LIFETIME
