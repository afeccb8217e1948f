"""The notification outbox, delivered to a real SMTP server (aiosmtpd, in-process) and a real
HTTP receiver that checks the HMAC signature; receivers that are down; retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.errors import ValidationFailed
from shelter_match.models import (
    DeliveryAttempt,
    Notification,
    NotificationChannel,
    NotificationDelivery,
)
from shelter_match.services import delivery, escalation, notifications
from tests.factories import make_caller, make_location, make_request

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret-42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    """A real SMTP server on a free port; `start()` it (tests also run with it down)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    state = {"running": False}

    def start():
        controller.start()
        state["running"] = True

    yield type("Smtp", (), {"mailbox": mailbox, "url": f"smtp://127.0.0.1:{port}",
                            "start": staticmethod(start)})
    if state["running"]:
        controller.stop()


class Receiver:
    """A webhook receiver that checks the signature, as an organisation's would."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Shelter-Match-Timestamp"]
                expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"."
                                                + body, hashlib.sha256).hexdigest()
                if hmac.compare_digest(expected, self.headers["X-Shelter-Match-Signature"]):
                    receiver.received.append(json.loads(body))
                    self.send_response(receiver.status)
                else:
                    receiver.bad_signatures += 1
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def sessions(connection):
    """Sessions as the sender opens them, each a savepoint of the test's transaction."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


def escalated_request(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    make_location(session, clock, address="Geheime Gracht 9, Utrecht")
    request = make_request(session, clock, worker, risk_level="rood")
    clock.advance(minutes=61)
    return request


def attempts(session):
    return session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()


def test_an_escalation_is_mailed_to_the_regions_duty_once(session, clock, sessions, smtp):
    smtp.start()
    notifications.set_channel(session, "duty:GM0599", email="dienst@rotterdam.example",
                              webhook_url=None, webhook_secret=None, actor=None,
                              now=clock.now())
    request = escalated_request(session, clock)
    assert escalation.enqueue_due(session, now=clock.now()) == 1
    assert escalation.enqueue_due(session, now=clock.now()) == 0  # once, however often run
    session.flush()
    mail = delivery.MailSettings(smtp.url, "shelter-match@example.org", "https://sm.example")
    result = delivery.deliver_due(sessions, now=clock.now, mail=mail)
    assert (result.delivered, result.failed) == (1, 0)
    [envelope] = smtp.mailbox.messages
    assert envelope.rcpt_tos == ["dienst@rotterdam.example"]
    message = message_from_bytes(envelope.content)
    text = message.get_payload(decode=True).decode()
    assert request.case_reference in message["Subject"] and request.case_reference in text
    assert "https://sm.example/dienst" in text
    for secret in ("Geheime", "Utrecht", "Schiedam"):
        assert secret not in envelope.content.decode()
    [attempt] = attempts(session)
    assert attempt.ok
    # Delivered is delivered: running again sends nothing.
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail).delivered == 0


def test_a_webhook_is_signed_and_carries_no_place(session, clock, sessions, receiver):
    notifications.set_channel(session, "duty:GM0599", email=None, webhook_url=receiver.url,
                              webhook_secret=SECRET, actor=None, now=clock.now())
    request = escalated_request(session, clock)
    escalation.enqueue_due(session, now=clock.now())
    session.flush()
    mail = delivery.MailSettings(None)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail).delivered == 1
    [body] = receiver.received
    assert body["event"] == "escalation" and body["request_id"] == request.id
    assert body["case_reference"] == request.case_reference
    assert set(body) == {"event", "notification_id", "request_id", "case_reference", "link",
                         "created_at"}
    assert receiver.bad_signatures == 0


def test_smtp_down_is_retried_with_backoff_and_logged_until_it_is_up(
        session, clock, sessions, smtp):
    notifications.set_channel(session, "duty:GM0599", email="dienst@rotterdam.example",
                              webhook_url=None, webhook_secret=None, actor=None,
                              now=clock.now())
    request = escalated_request(session, clock)
    escalation.enqueue_due(session, now=clock.now())
    session.flush()
    mail = delivery.MailSettings(smtp.url)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail).failed == 1
    [delivery_row] = session.scalars(select(NotificationDelivery)).all()
    session.refresh(delivery_row)
    assert delivery_row.status == "pending" and delivery_row.attempts == 1
    assert delivery_row.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail) == delivery.SendResult(0, 0)
    clock.advance(seconds=1)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail).failed == 1
    session.refresh(delivery_row)
    assert delivery_row.next_attempt_at == clock.now() + timedelta(seconds=60)  # doubled
    smtp.start()
    clock.advance(seconds=60)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail).delivered == 1
    assert [a.ok for a in attempts(session)] == [False, False, True]
    assert "ConnectionRefusedError" in attempts(session)[0].detail
    # The escalation itself never depended on the mail.
    assert [e.request_id for e in escalation.due_escalations(session, now=clock.now())] == [
        request.id]


def test_a_failing_webhook_is_retried_then_given_up_and_logged(
        session, clock, sessions, receiver):
    receiver.status = 500
    notifications.set_channel(session, "duty:GM0599", email=None, webhook_url=receiver.url,
                              webhook_secret=SECRET, actor=None, now=clock.now())
    escalated_request(session, clock)
    escalation.enqueue_due(session, now=clock.now())
    session.flush()
    mail = delivery.MailSettings(None)
    for _ in range(delivery.MAX_ATTEMPTS):
        assert delivery.deliver_due(sessions, now=clock.now, mail=mail).failed == 1
        clock.advance(hours=1)
    assert delivery.deliver_due(sessions, now=clock.now, mail=mail) == delivery.SendResult(0, 0)
    [delivery_row] = session.scalars(select(NotificationDelivery)).all()
    session.refresh(delivery_row)
    assert delivery_row.status == "failed"
    assert {a.detail for a in attempts(session)} == {"webhook answered 500"}
    assert len(attempts(session)) == delivery.MAX_ATTEMPTS


def test_without_smtp_configured_the_attempt_is_logged_not_lost(session, clock, sessions):
    notifications.set_channel(session, "duty:national", email="landelijk@example.org",
                              webhook_url=None, webhook_secret=None, actor=None,
                              now=clock.now())
    escalated_request(session, clock)
    clock.advance(minutes=60)  # national now
    assert escalation.enqueue_due(session, now=clock.now()) == 2
    session.flush()
    result = delivery.deliver_due(sessions, now=clock.now, mail=delivery.MailSettings(None))
    assert (result.delivered, result.failed) == (0, 1)  # the regional duty has no channel
    assert "SHELTER_MATCH_SMTP_URL is not set" in attempts(session)[0].detail
    assert session.scalar(select(Notification.audience).where(
        Notification.audience == "duty:GM0599")) is not None


def test_escalate_now_puts_its_notification_in_the_outbox_once(session, clock, receiver):
    worker = make_caller(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, risk_level="groen")
    notifications.set_channel(session, "duty:GM0599", email=None, webhook_url=receiver.url,
                              webhook_secret=SECRET, actor=None, now=clock.now())
    escalation.escalate_now(session, request, "offer_expired", now=clock.now())
    assert escalation.enqueue_due(session, now=clock.now()) == 0  # already in the outbox
    rows = session.scalars(select(Notification)).all()
    assert [(n.event, n.audience) for n in rows] == [("escalation", "duty:GM0599")]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"email": "geen-adres"}, "email"),
    ({"webhook_url": "ftp://example.org/x", "webhook_secret": SECRET}, "webhook_url"),
    ({"webhook_url": "https://example.org:poort/x", "webhook_secret": SECRET}, "webhook_url"),
    ({"webhook_url": "https://wie:wachtwoord@example.org/x", "webhook_secret": SECRET},
     "webhook_url"),
    ({"webhook_url": "https://example.org/x"}, "webhook_secret"),
    ({"webhook_url": "https://example.org/x", "webhook_secret": "kort"}, "webhook_secret"),
])
def test_bad_channels_are_refused_naming_the_field(session, clock, kwargs, field):
    values = {"email": None, "webhook_url": None, "webhook_secret": None, **kwargs}
    with pytest.raises(ValidationFailed) as refused:
        notifications.set_channel(session, "duty:GM0599", actor=None, now=clock.now(),
                                  **values)
    assert field in refused.value.errors


@pytest.mark.parametrize("audience", ["duty:GM9999", "somebody", "duty:", "organisation:"])
def test_unknown_audiences_are_refused(session, clock, audience):
    with pytest.raises(ValidationFailed) as refused:
        notifications.set_channel(session, audience, email="a@example.org", webhook_url=None,
                                  webhook_secret=None, actor=None, now=clock.now())
    assert "audience" in refused.value.errors


def test_a_webhook_may_keep_its_secret_when_asked(session, clock):
    notifications.set_channel(session, "duty:GM0599", email=None,
                              webhook_url="https://rotterdam.example/hook",
                              webhook_secret=SECRET, actor=None, now=clock.now())
    view = notifications.set_channel(session, "duty:GM0599", email=None,
                                     webhook_url="https://rotterdam.example/v2",
                                     webhook_secret=None, keep_webhook_secret=True,
                                     actor=None, now=clock.now())
    assert view.has_webhook_secret
    assert session.get(NotificationChannel, "duty:GM0599").webhook_secret == SECRET
    # Without a secret to keep, a webhook still needs one; and by default none is kept.
    for audience, keep in (("duty:national", True), ("duty:GM0599", False)):
        with pytest.raises(ValidationFailed) as refused:
            notifications.set_channel(session, audience, email=None,
                                      webhook_url="https://example.org/hook",
                                      webhook_secret=None, keep_webhook_secret=keep,
                                      actor=None, now=clock.now())
        assert "webhook_secret" in refused.value.errors


def test_audiences_name_organisations_lone_workers_and_each_duty(session, clock):
    in_organisation = make_caller(session, clock, "crisis_worker", organisation="VT Rijnmond")
    alone = make_caller(session, clock, "crisis_worker")
    found = {audience.key: audience for audience in notifications.audiences(session)}
    organisation = f"organisation:{in_organisation.user.organisation_id}"
    assert (found[organisation].kind, found[organisation].name) == ("organisation",
                                                                    "VT Rijnmond")
    assert found[f"user:{alone.user.id}"].name == alone.user.name
    assert f"user:{in_organisation.user.id}" not in found
    assert (found["duty:GM0599"].kind, found["duty:GM0599"].name) == ("duty_region",
                                                                      "Rotterdam")
    assert found["duty:national"].kind == "duty_national"
    assert len([a for a in found.values() if a.kind == "duty_region"]) == 35


def test_a_webhook_url_the_sender_cannot_use_is_logged_not_raised(session, clock, sessions):
    # Set before set_channel refused such URLs: the attempt fails and is logged, and the
    # batch goes on.
    session.add(NotificationChannel(audience="duty:GM0599", webhook_url="http://127.0.0.1:x/",
                                    webhook_secret=SECRET, updated_at=clock.now()))
    escalated_request(session, clock)
    escalation.enqueue_due(session, now=clock.now())
    session.flush()
    result = delivery.deliver_due(sessions, now=clock.now, mail=delivery.MailSettings(None))
    assert (result.delivered, result.failed) == (0, 1)
    assert "InvalidURL" in attempts(session)[0].detail
