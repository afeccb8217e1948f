"""Duty officers' scopes, escalations, overrides and the notification outbox.

An escalation that is due by time alone is never stored: it is computed from the
request's age and the policy at the moment it is asked for (time is data, as for holds).
What is stored is what happened at a moment and cannot be derived: an override with its
reason, and every notification with its deliveries and their attempts. An escalation "at
once" (an expired offer, a no-show) is a row of `immediate_escalations` (models.waitlist).

A notification holds no client data of its own: the case reference is read from the
request when it is sent (so the retention purge erases it in one place) and the body holds
a link, never a place, a unit or an address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    exists,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from shelter_match.models.base import Base, UTCDateTime, id_column, in_list_check
from shelter_match.models.placements import PlacementRequest

# A duty officer's scope: the regions whose requests she looks after. None at all: the
# national duty, who sees every region.
user_duty_regions = Table(
    "user_duty_regions",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", ForeignKey("regions.code"), primary_key=True),
)

NOTIFICATION_EVENTS = ("offer_made", "escalation", "no_show")
CHANNELS = ("email", "webhook")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class RequestOverride(Base):
    """A duty officer's per-request exception to a policy rule, with her reason."""

    __tablename__ = "request_overrides"

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_requests.id"), index=True)
    rood_in_origin_region: Mapped[bool] = mapped_column(Boolean, default=False)
    # Free text, checked like a case reference (no BSN, no birth date) and erased by the
    # retention purge with the request's other details.
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Read with the request wherever it is loaded, so that every path to the solver (proposals,
# the hold check, joint proposals, the matcher) honours an override the same way
# (services.proposals.case_of). Added to the class here, beside the table it reads.
PlacementRequest.rood_in_origin_region_allowed = column_property(
    exists().where(RequestOverride.request_id == PlacementRequest.id,
                   RequestOverride.rood_in_origin_region.is_(True)),
    deferred=False,
)


class NotificationChannel(Base):
    """Where an audience is told: an e-mail address and/or a signed webhook.

    `audience` is `organisation:<id>`, `duty:<region code>` or `duty:national`.
    """

    __tablename__ = "notification_channels"

    audience: Mapped[str] = mapped_column(String(60), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    webhook_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # The HMAC key the receiver checks the signature with; it must be kept to sign.
    webhook_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)


class Notification(Base):
    """One event for one audience. `dedupe_key` makes enqueueing twice a no-op."""

    __tablename__ = "notifications"
    __table_args__ = (CheckConstraint(in_list_check("event", NOTIFICATION_EVENTS), name="event"),)

    id: Mapped[str] = id_column()
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(60), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_requests.id"), index=True)
    link_path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationDelivery(Base):
    """One notification by one channel: pending until delivered, retried with backoff."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        CheckConstraint(in_list_check("channel", CHANNELS), name="channel"),
        CheckConstraint(in_list_check("status", DELIVERY_STATUSES), name="status"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = id_column()
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DeliveryAttempt(Base):
    """One attempt to deliver: when, whether it worked, and a short technical reason."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("notification_deliveries.id"),
                                             index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(300))
