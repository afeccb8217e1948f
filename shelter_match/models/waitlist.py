"""What the matcher needs beside requests and holds: its wake-ups and immediate escalations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shelter_match.models.base import Base, UTCDateTime, id_column


class MatcherWakeup(Base):
    """A change the matcher must look at: a unit freed, a request joined the waiting list.

    The outbox beside PostgreSQL's NOTIFY: a notification is lost when no matcher listens,
    a row is not. The matcher deletes the rows it has seen in the transaction of its run,
    so a run that dies leaves them for the next.
    """

    __tablename__ = "matcher_wakeups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(String(30))


class ImmediateEscalation(Base):
    """A request that must go to the duty officers now (an offer that expired, a no-show).

    Written by escalation.escalate_now (an expired offer from the matcher, a no-show from
    arrivals); the escalation list reads these rows. One row per hold (hold_id unique), so
    a run that sees the same expiry twice escalates once.
    """

    __tablename__ = "immediate_escalations"

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_requests.id"), index=True)
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("holds.id"), unique=True,
                                                default=None)
    why: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
