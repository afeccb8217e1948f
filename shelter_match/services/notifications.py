"""The notification outbox: who is told what, and by which channels (CONTRACT 4.4).

A notification is written in the same transaction as the change it tells of (an offer, an
escalation, a no-show), so it exists if and only if that change committed; the sender
(shelter_match.services.delivery) delivers it afterwards, retrying with backoff, and a
channel that is down never undoes the change. A notification names the request by id and
carries a link; the case reference is read at sending time, never a place or an address.

Audiences: `organisation:<id>` (the crisis workers of the request's organisation; before
organisations exist, `user:<id>` of the worker who made it), `duty:<region code>` (that
region's duty officers) and `duty:national`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    Organisation,
    PlacementRequest,
    Region,
    User,
)
from shelter_match.services import audit
from shelter_match.services.auth import Principal

AUDIENCE = re.compile(r"^(organisation|user):[A-Za-z0-9-]{1,40}$|^duty:(national|GM\d{4})$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")
MIN_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 200

# Where the link of each event points, on the service's own pages.
CRISIS_LINK = "/crisis/aanvragen/{request_id}"
DUTY_LINK = "/dienst"


def duty_audience(region_code: str | None) -> str:
    """Return the audience of a region's duty officers (None: the national duty)."""
    return f"duty:{region_code}" if region_code else "duty:national"


def organisation_audience(request: PlacementRequest) -> str:
    """Return the audience of the organisation that made a request.

    A crisis worker without an organisation is her own (CONTRACT 4.3): `user:<id>`.
    """
    if request.organisation_id:
        return f"organisation:{request.organisation_id}"
    return f"user:{request.created_by}"


def enqueue(session: Session, *, event: str, audience: str, request_id: str, dedupe_key: str,
            now: datetime) -> int:
    """Add a notification and one delivery per configured channel; return 1, or 0 if known.

    Enqueueing the same `dedupe_key` twice, also from two processes at once, adds one.
    """
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return 0
    link = CRISIS_LINK if audience.startswith(("organisation:", "user:")) else DUTY_LINK
    notification = Notification(dedupe_key=dedupe_key, event=event, audience=audience,
                                request_id=request_id,
                                link_path=link.format(request_id=request_id), created_at=now)
    try:
        # A savepoint: a concurrent enqueue of the same key loses here without undoing
        # the caller's change.
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return 0
    channel = session.get(NotificationChannel, audience)
    if channel is not None:
        for name, configured in (("email", channel.email), ("webhook", channel.webhook_url)):
            if configured:
                session.add(NotificationDelivery(notification_id=notification.id, channel=name,
                                                 status="pending", attempts=0,
                                                 next_attempt_at=now))
    session.flush()
    return 1


def notify_organisation(session: Session, request: PlacementRequest, event: str, *,
                        now: datetime, key: str) -> int:
    """Tell the request's organisation of an event (offer_made, no_show) once per `key`.

    The matcher calls this when it makes an offer (key: the hold's id), and
    arrivals.on_no_show with event `no_show` (key: the placement's id).
    """
    return enqueue(session, event=event, audience=organisation_audience(request),
                   request_id=request.id, dedupe_key=f"{event}:{key}", now=now)


@dataclass(frozen=True)
class ChannelView:
    """A channel as an admin sees it: never the webhook secret itself."""

    audience: str
    email: str | None
    webhook_url: str | None
    has_webhook_secret: bool
    updated_at: datetime


def _view(channel: NotificationChannel) -> ChannelView:
    return ChannelView(channel.audience, channel.email, channel.webhook_url,
                       bool(channel.webhook_secret), channel.updated_at)


def validate_audience(session: Session, audience: str) -> None:
    """Raise ValidationFailed unless `audience` names a known audience."""
    if not AUDIENCE.match(audience or ""):
        raise ValidationFailed({"audience": [
            "Use organisation:<id>, user:<id>, duty:<region code> or duty:national."]})
    if audience.startswith("duty:GM") and session.get(Region, audience[5:]) is None:
        raise ValidationFailed({"audience": [f"Unknown region code {audience[5:]!r}."]})


def _is_webhook_url(url: str) -> bool:
    """Return whether `url` is one the sender can POST to: http(s), a host, a numeric port.

    A port that is not a number would make the sender fail on every attempt with an error
    it does not expect; credentials in the URL would be shown on the admin's page.
    """
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return (parts.scheme in ("https", "http") and bool(parts.hostname) and len(url) <= 500
            and parts.username is None and parts.password is None)


@command
def set_channel(session: Session, audience: str, *, email: str | None, webhook_url: str | None,
                webhook_secret: str | None, actor: Principal | None, now: datetime,
                keep_webhook_secret: bool = False) -> ChannelView:
    """Set where an audience is told (None clears a channel); audited, secret not logged.

    `keep_webhook_secret`: a webhook given without a secret keeps the one already set (the
    admin's page never shows it, so it cannot send it back).
    """
    validate_audience(session, audience)
    channel = session.get(NotificationChannel, audience)
    kept = (keep_webhook_secret and webhook_secret is None and webhook_url is not None
            and channel is not None and channel.webhook_secret is not None)
    if kept:
        assert channel is not None
        webhook_secret = channel.webhook_secret
    errors: dict[str, list[str]] = {}
    if email is not None and not EMAIL.match(email):
        errors["email"] = ["Not an e-mail address."]
    if webhook_url is not None:
        if not _is_webhook_url(webhook_url):
            errors["webhook_url"] = ["Use an http(s) URL of at most 500 characters, without a "
                                     "user name or password."]
        elif webhook_secret is None:
            errors["webhook_secret"] = ["A webhook needs a secret to sign with."]
    if webhook_secret is not None and not (
            MIN_SECRET_LENGTH <= len(webhook_secret) <= MAX_SECRET_LENGTH):
        errors["webhook_secret"] = [
            f"Use {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters."]
    if errors:
        raise ValidationFailed(errors)
    if channel is None:
        channel = NotificationChannel(audience=audience, updated_at=now)
        session.add(channel)
    channel.email = email
    channel.webhook_url = webhook_url
    channel.webhook_secret = webhook_secret if webhook_url else None
    channel.updated_at = now
    channel.updated_by = actor.user_id if actor else None
    session.flush()
    audit.record(session, actor=actor, action="notification_channel.set",
                 object_type="notification_channel", object_id=audience[:36], now=now,
                 audience=audience, email=bool(email), webhook=bool(webhook_url),
                 webhook_secret_kept=kept)
    return _view(channel)


@dataclass(frozen=True)
class Audience:
    """Who a channel can be set for, and the name people know it by.

    `kind`: organisation, user (a crisis worker without an organisation), duty_region (its
    `name` is the region's) or duty_national (no name). The words belong to the pages.
    """

    key: str
    kind: str
    name: str


def audiences(session: Session) -> list[Audience]:
    """Return every audience a channel can be set for: organisations, crisis workers on
    their own, each region's duty and the national duty."""
    found = [Audience(f"organisation:{organisation.id}", "organisation", organisation.name)
             for organisation in session.scalars(select(Organisation).order_by(
                 Organisation.name))]
    found += [Audience(f"user:{user.id}", "user", user.name) for user in session.scalars(
        select(User).where(User.role == "crisis_worker", User.organisation_id.is_(None),
                           User.disabled_at.is_(None)).order_by(User.name))]
    found += [Audience(duty_audience(region.code), "duty_region", region.name)
              for region in session.scalars(select(Region).order_by(Region.name))]
    found.append(Audience(duty_audience(None), "duty_national", ""))
    return found


def get_channel(session: Session, audience: str) -> ChannelView:
    """Return an audience's channel, or raise NotFound."""
    channel = session.get(NotificationChannel, audience)
    if channel is None:
        raise NotFound("No channel is set for this audience.")
    return _view(channel)


def list_channels(session: Session) -> list[ChannelView]:
    """Return every configured channel."""
    return [_view(c) for c in session.scalars(
        select(NotificationChannel).order_by(NotificationChannel.audience))]
