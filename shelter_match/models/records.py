"""What the service keeps about itself: the policy, the audit log, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelter_match.models.base import Base, UTCDateTime


class PolicyRecord(Base):
    """The one current policy, as a JSON document validated by the policy service."""

    __tablename__ = "policy"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """One line of the append-only audit log: who did what, when, to which object.

    Database triggers refuse UPDATE, DELETE and TRUNCATE on this table (see the
    migrations), and the service's own database role may only SELECT and INSERT it. It
    holds no client data: objects are named by id, never by case reference. Every event
    is linked into the hash chain (`AuditLink`) when its transaction commits.
    """

    __tablename__ = "audit_events"
    # Quotas count one user's recent events of one action (services/quotas.py).
    __table_args__ = (Index("ix_audit_events_actor_id_action_at", "actor_id", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Not foreign keys: the log must outlive what it speaks of.
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditLink(Base):
    """One link of the audit log's hash chain: the event at position `seq`.

    `hash` is SHA-256 over the previous link's hash and the event's canonical JSON
    (shelter_match.services.audit), so altering, removing or inserting an event breaks
    the chain from there on. The links live beside the events rather than in them so that
    an event is written at once (and read back in its own transaction) while the chain's
    lock is taken only for the moment of commit. Append-only like the events.
    """

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    # Assigned under the chain's lock as the head's seq + 1: a primary key, so two
    # appenders that somehow read the same head cannot both commit (no fork, ever).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """The first response to a POST carrying an Idempotency-Key, to replay on retries."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuthFailureWindow(Base):
    """Failed authentications from one client in the current window (throttling).

    Kept in the database so that every gunicorn worker sees the same count.
    """

    __tablename__ = "auth_failure_windows"

    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class UserQuota(Base):
    """One user's own hourly quotas, set by an admin; a null keeps the policy's."""

    __tablename__ = "user_quotas"
    __table_args__ = (
        CheckConstraint("requests_per_hour IS NULL OR requests_per_hour >= 0",
                        name="requests_per_hour"),
        CheckConstraint("proposals_per_hour IS NULL OR proposals_per_hour >= 0",
                        name="proposals_per_hour"),
    )

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    requests_per_hour: Mapped[int | None] = mapped_column(Integer, default=None)
    proposals_per_hour: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointDigestKey(Base):
    """The secret that keys the audit's point digests of one UTC day.

    A digest of a point on the 1 km grid without a secret could be reversed by trying
    every grid point; with it, only while the key lives. The retention run erases keys
    after a few days, and from then on the day's digests say nothing about any place.
    """

    __tablename__ = "point_digest_keys"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    secret: Mapped[str] = mapped_column(String(64))
