"""Deliver the outbox: e-mail through SMTP and HMAC-signed webhooks, with backoff.

Each delivery is claimed in a short transaction of its own (a conditional UPDATE that
pushes its next attempt out by a lease), sent with no transaction open, and its outcome
written in another: a slow or dead receiver never holds a database lock, two senders never
send the same delivery at once, and a sender that dies mid-send leaves the delivery to be
tried again when the lease has passed. Every attempt is written to `delivery_attempts`.

What goes out: the event, the case reference (read now: once purged, none), the request's
id and a link to the service's own page. Never a place, a unit, a location or an address.

A webhook's body is signed with HMAC-SHA256 over `<timestamp>.<body>` with the
organisation's secret: `X-Shelter-Match-Timestamp: <unix seconds>` and
`X-Shelter-Match-Signature: sha256=<hex>`. The receiver recomputes it and refuses an old
timestamp (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelter_match.clock import rfc3339
from shelter_match.db import rowcount
from shelter_match.models import (
    DeliveryAttempt,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    PlacementRequest,
)

# The first retry after 30 s, doubling to at most an hour; after MAX_ATTEMPTS the delivery
# is `failed` (still in the log, and shown to admins).
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 12
# How long a claimed delivery is left alone: longer than one send can take.
LEASE = timedelta(seconds=60)
SEND_TIMEOUT_SECONDS = 10
BATCH = 50

EVENT_SUBJECTS = {
    "offer_made": "Aanbod voor {reference} / Offer for {reference}",
    "escalation": "Escalatie {reference} / Escalation {reference}",
    "no_show": "Niet aangekomen: {reference} / No-show: {reference}",
}


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server and what to put in a message."""

    smtp_url: str | None  # smtp://[user:password@]host:port
    mail_from: str = "shelter-match@localhost"
    base_url: str = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Outgoing:
    """One delivery, ready to send: everything read before the transaction ends."""

    delivery_id: str
    channel: str
    event: str
    notification_id: str
    request_id: str
    case_reference: str
    link: str
    created_at: datetime
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None


@dataclass(frozen=True)
class SendResult:
    delivered: int
    failed: int


def backoff(attempts: int) -> timedelta:
    """Return the wait before attempt `attempts + 1` (after `attempts` failures)."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_RETRY)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the webhook signature header's value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(item: Outgoing) -> bytes:
    """Return the JSON a webhook receives: no place, no unit, no address."""
    return json.dumps({
        "event": item.event,
        "notification_id": item.notification_id,
        "request_id": item.request_id,
        "case_reference": item.case_reference,
        "link": item.link,
        "created_at": rfc3339(item.created_at),
    }, separators=(",", ":"), sort_keys=True).encode()


def send_webhook(item: Outgoing, now: datetime) -> None:
    """POST the signed body; raise OSError (or subclasses) unless the answer is 2xx."""
    assert item.webhook_url and item.webhook_secret
    if urlsplit(item.webhook_url).scheme not in ("http", "https"):
        raise OSError("a webhook URL must be http(s)")  # checked when set; and again here
    body = webhook_body(item)
    timestamp = int(now.timestamp())
    request = urllib.request.Request(item.webhook_url, data=body, method="POST", headers={  # noqa: S310 - scheme checked above
        "Content-Type": "application/json",
        "User-Agent": "shelter-match-notifier",
        "X-Shelter-Match-Event": item.event,
        "X-Shelter-Match-Timestamp": str(timestamp),
        "X-Shelter-Match-Signature": sign(item.webhook_secret, timestamp, body),
    })
    # No redirects followed: a signed body goes only to the URL the admin set.
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=SEND_TIMEOUT_SECONDS) as answer:
        if not 200 <= answer.status < 300:
            raise OSError(f"webhook answered {answer.status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def send_email(item: Outgoing, mail: MailSettings) -> None:
    """Send the e-mail; raise OSError or smtplib.SMTPException when it cannot be done."""
    if not mail.smtp_url:
        raise OSError("SHELTER_MATCH_SMTP_URL is not set")
    parts = urlsplit(mail.smtp_url)
    if parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname:
        raise OSError("SHELTER_MATCH_SMTP_URL must be smtp://host:port")
    assert item.email
    message = EmailMessage()
    message["From"] = mail.mail_from
    message["To"] = item.email
    message["Subject"] = EVENT_SUBJECTS[item.event].format(reference=item.case_reference)
    message.set_content(
        f"Casusreferentie / case reference: {item.case_reference}\n"
        f"Open: {item.link}\n\n"
        "Dit bericht bevat bewust geen plaats of adres. / "
        "This message holds no place or address, on purpose.\n")
    with smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SEND_TIMEOUT_SECONDS) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def _claim(session: Session, now: datetime, mail: MailSettings, limit: int) -> list[Outgoing]:
    """Claim up to `limit` due deliveries for this sender and return them ready to send."""
    due = session.scalars(
        select(NotificationDelivery.id)
        .where(NotificationDelivery.status == "pending",
               NotificationDelivery.next_attempt_at <= now)
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id).limit(limit)
    ).all()
    claimed = []
    for delivery_id in due:
        result = session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id,
                   NotificationDelivery.status == "pending",
                   NotificationDelivery.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 1:  # another sender may have taken it meanwhile
            claimed.append(delivery_id)
    items = []
    for delivery, notification, reference, channel in session.execute(
        select(NotificationDelivery, Notification, PlacementRequest.case_reference,
               NotificationChannel)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(PlacementRequest, PlacementRequest.id == Notification.request_id)
        .outerjoin(NotificationChannel, NotificationChannel.audience == Notification.audience)
        .where(NotificationDelivery.id.in_(claimed))
    ):
        items.append(Outgoing(
            delivery_id=delivery.id, channel=delivery.channel, event=notification.event,
            notification_id=notification.id, request_id=notification.request_id,
            case_reference=reference or "-",
            link=mail.base_url.rstrip("/") + notification.link_path,
            created_at=notification.created_at,
            email=channel.email if channel else None,
            webhook_url=channel.webhook_url if channel else None,
            webhook_secret=channel.webhook_secret if channel else None))
    return items


def _record(session: Session, item: Outgoing, now: datetime, error: str | None) -> bool:
    attempts = (session.scalar(select(NotificationDelivery.attempts)
                               .where(NotificationDelivery.id == item.delivery_id)) or 0) + 1
    values: dict[str, object] = {"attempts": attempts}
    if error is None:
        values.update(status="delivered", delivered_at=now)
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + backoff(attempts))
    # One UPDATE (the outbox is not a unit or a hold: unit_state does not guard it).
    session.execute(update(NotificationDelivery)
                    .where(NotificationDelivery.id == item.delivery_id).values(values)
                    .execution_options(synchronize_session=False))
    session.add(DeliveryAttempt(delivery_id=item.delivery_id, attempted_at=now,
                                ok=error is None, detail=(error or "delivered")[:300]))
    session.flush()
    return error is None


def _attempt(item: Outgoing, mail: MailSettings, now: datetime) -> str | None:
    """Send one item; return None when delivered, else a short reason (never a secret)."""
    try:
        if item.channel == "email":
            if not item.email:
                return "the audience has no e-mail address any more"
            send_email(item, mail)
        else:
            if not item.webhook_url or not item.webhook_secret:
                return "the audience has no webhook any more"
            send_webhook(item, now)
    except urllib.error.HTTPError as error:
        return f"webhook answered {error.code}"
    except (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError) as error:
        # HTTPException and ValueError: a URL the sender cannot use (a channel set before
        # set_channel refused it); logged and retried, never the end of the batch.
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None


def deliver_due(sessions: Callable[[], Session], *, now: Callable[[], datetime],
                mail: MailSettings, limit: int = BATCH) -> SendResult:
    """Send every delivery due now, each claimed and recorded in its own transaction."""
    with sessions() as session, session.begin():
        items = _claim(session, now(), mail, limit)
    delivered = failed = 0
    for item in items:
        error = _attempt(item, mail, now())
        with sessions() as session, session.begin():
            if _record(session, item, now(), error):
                delivered += 1
            else:
                failed += 1
    return SendResult(delivered, failed)


@dataclass(frozen=True)
class AttemptView:
    delivery_id: str
    channel: str
    event: str
    audience: str
    attempted_at: datetime
    ok: bool
    detail: str


def delivery_log(session: Session, *, limit: int = 200) -> list[AttemptView]:
    """Return the newest delivery attempts first (admin)."""
    rows = session.execute(
        select(DeliveryAttempt, NotificationDelivery.channel, Notification.event,
               Notification.audience)
        .join(NotificationDelivery, NotificationDelivery.id == DeliveryAttempt.delivery_id)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .order_by(DeliveryAttempt.id.desc()).limit(limit))
    return [AttemptView(a.delivery_id, channel, event, audience, a.attempted_at, a.ok, a.detail)
            for a, channel, event, audience in rows]
