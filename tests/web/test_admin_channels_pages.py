"""Admin page of the notification channels and the delivery log (/beheer/meldingen)."""

import socket

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.models import AuditEvent, NotificationChannel
from shelter_match.services import delivery, escalation, notifications
from tests.factories import make_caller, make_location, make_request
from tests.web.helpers import make_person, post, signed_in
from tests.web.test_page_leaks import secret_network, urls

PAGE = "/beheer/meldingen"
SECRET = "geheim-geheim-geheim-geheim-geheim-0042"
GOOD = {"audience": "duty:GM0599", "email": "achterwacht@rotterdam.example",
        "webhook_url": "https://rotterdam.example/hook", "webhook_secret": SECRET}


def channel(session, audience="duty:GM0599"):
    session.expire_all()
    return session.get(NotificationChannel, audience)


def test_set_a_channel_through_the_page_and_see_it_listed(client, session, clock):
    make_caller(session, clock, "crisis_worker", organisation="Veilig Thuis Rijnmond")
    admin = make_person(session, clock, "admin")
    signed_in(client, admin)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Nog geen kanaal ingesteld" in html
    for name in ("Achterwacht Rotterdam", "Landelijke achterwacht", "Veilig Thuis Rijnmond"):
        assert name in html, name
    assert 'href="/beheer/meldingen"' in html  # in the admin's menu

    response = post(client, f"{PAGE}/kanaal", GOOD)
    assert response.status_code == 303
    saved = channel(session)
    assert (saved.email, saved.webhook_url, saved.webhook_secret) == (
        GOOD["email"], GOOD["webhook_url"], SECRET)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Het kanaal van Achterwacht Rotterdam is opgeslagen." in html
    assert GOOD["email"] in html and GOOD["webhook_url"] in html and "Ingesteld" in html
    assert SECRET not in html
    # Audited in the admin's name, without the secret.
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "notification_channel.set")).one()
    assert event.actor_id == admin.user.id and SECRET not in str(event.detail)

    # Changing it with the secret field left empty keeps the secret.
    form = client.get(f"{PAGE}?doelgroep=duty:GM0599").get_data(as_text=True)
    assert f'value="{GOOD["webhook_url"]}"' in form and SECRET not in form
    assert "Laat dit leeg om het te houden" in form
    response = post(client, f"{PAGE}/kanaal", {**GOOD, "webhook_secret": "",
                                               "webhook_url": "https://rotterdam.example/v2"})
    assert response.status_code == 303
    saved = channel(session)
    assert (saved.webhook_url, saved.webhook_secret) == ("https://rotterdam.example/v2", SECRET)

    # Clearing: nobody is told, and the secret is gone.
    response = post(client, f"{PAGE}/kanaal/wissen", {"audience": "duty:GM0599"})
    assert response.status_code == 303
    saved = channel(session)
    assert (saved.email, saved.webhook_url, saved.webhook_secret) == (None, None, None)


def test_the_secret_never_appears_on_any_page(app, client, session, clock):
    network = secret_network(session, clock)
    signed_in(client, make_person(session, clock, "admin"))
    assert post(client, f"{PAGE}/kanaal", GOOD).status_code == 303
    refused = post(client, f"{PAGE}/kanaal", {**GOOD, "email": "geen-adres"})
    assert refused.status_code == 422 and SECRET not in refused.get_data(as_text=True)
    for _endpoint, url in urls(app, "GET", network["ids"], network["requests"]):
        for query in ("", "?doelgroep=duty:GM0599"):
            response = client.get(url + query, follow_redirects=True)
            assert SECRET not in response.get_data(as_text=True), url


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"email": "geen-adres"}, "email", "Vul een e-mailadres in"),
    ({"webhook_url": "ftp://rotterdam.example/hook"}, "webhook_url", "Vul een webadres in"),
    ({"webhook_url": "https://rotterdam.example:x/"}, "webhook_url", "Vul een webadres in"),
    ({"webhook_secret": "kort"}, "webhook_secret", "Vul een geheim in van 32"),
    ({"audience": "organisation:bestaat-niet"}, "audience", "Kies uit de lijst"),
    ({"audience": "iedereen"}, "audience", "Kies uit de lijst"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
        client, session, clock, changes, field, words):
    signed_in(client, make_person(session, clock, "admin"))
    assert post(client, f"{PAGE}/kanaal", GOOD).status_code == 303
    response = post(client, f"{PAGE}/kanaal", {
        **GOOD, "email": "nieuw@rotterdam.example", "webhook_secret": "n" * 40, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and f'href="#{field}"' in html
    assert words in html
    assert "n" * 40 not in html and SECRET not in html  # the secret is never sent back
    saved = channel(session)
    assert (saved.email, saved.webhook_url, saved.webhook_secret) == (
        GOOD["email"], GOOD["webhook_url"], SECRET)


def test_a_new_webhook_needs_a_secret(client, session, clock):
    signed_in(client, make_person(session, clock, "admin"))
    response = post(client, f"{PAGE}/kanaal", {**GOOD, "webhook_secret": ""})
    assert response.status_code == 422
    assert 'id="webhook_secret-error"' in response.get_data(as_text=True)
    assert channel(session) is None


@pytest.mark.parametrize("role", ["crisis_worker", "coordinator", "region_reviewer",
                                  "duty_officer"])
def test_only_an_admin_sees_or_sets_channels(client, session, clock, role):
    location = make_location(session, clock)
    scope = {"location_ids": (location.id,)} if role == "coordinator" else {}
    notifications.set_channel(session, "duty:GM0599", email="oud@rotterdam.example",
                              webhook_url=None, webhook_secret=None, actor=None,
                              now=clock.now())
    signed_in(client, make_person(session, clock, role, **scope))
    assert client.get(PAGE).status_code == 403
    assert post(client, f"{PAGE}/kanaal", GOOD).status_code == 403
    assert post(client, f"{PAGE}/kanaal/wissen", {"audience": "duty:GM0599"}).status_code == 403
    assert channel(session).email == "oud@rotterdam.example"
    assert 'href="/beheer/meldingen"' not in client.get("/").get_data(as_text=True)


def test_someone_not_signed_in_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/aanmelden" in response.headers["Location"]


def nothing_listens() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hook"


def test_the_delivery_log_shows_a_failed_attempt(client, session, clock, connection):
    notifications.set_channel(session, "duty:GM0599", email=None, webhook_url=nothing_listens(),
                              webhook_secret=SECRET, actor=None, now=clock.now())
    worker = make_caller(session, clock, "crisis_worker")
    make_location(session, clock, address="Geheime Gracht 9, Utrecht")
    make_request(session, clock, worker, risk_level="rood")
    clock.advance(minutes=61)
    assert escalation.enqueue_due(session, now=clock.now()) == 1
    session.flush()

    def sessions():
        return Session(bind=connection, join_transaction_mode="create_savepoint",
                       expire_on_commit=False)

    result = delivery.deliver_due(sessions, now=clock.now, mail=delivery.MailSettings(None))
    assert (result.delivered, result.failed) == (0, 1)

    signed_in(client, make_person(session, clock, "admin"))
    html = client.get(PAGE).get_data(as_text=True)
    log = html[html.index('id="log-heading"'):]
    for shown in ("Mislukt", "Escalatie", "Webhook", "Achterwacht Rotterdam",
                  "Connection refused", "opnieuw geprobeerd"):
        assert shown in log, shown
    # The detail is a technical reason: no place, no address, no secret.
    for hidden in ("Geheime Gracht", "Schiedam", SECRET):
        assert hidden not in html, hidden
