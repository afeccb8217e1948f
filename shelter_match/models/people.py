"""Users, their roles and scopes, and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shelter_match.models.base import Base, UTCDateTime, id_column, in_list_check

if TYPE_CHECKING:
    from shelter_match.models.network import Location

ROLES = ("crisis_worker", "coordinator", "region_reviewer", "duty_officer", "admin")

# A coordinator's scope: the locations she keeps.
user_locations = Table(
    "user_locations",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(Base):
    """A crisis service or Veilig Thuis: its crisis workers share its requests (CONTRACT 4.3).

    A crisis worker created without one is alone, as in v1 (users.organisation_id NULL):
    she sees her own requests only.
    """

    __tablename__ = "organisations"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person or system that uses the service, with one role."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(in_list_check("role", ROLES), name="role"),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    # Scopes a region_reviewer to one region (she still sees national aggregates).
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), default=None)
    # A crisis worker's organisation (4.3); None: she is her own, as in v1.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), default=None, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    locations: Mapped[list[Location]] = relationship(secondary=user_locations, lazy="raise_on_sql")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", lazy="raise_on_sql")


class ApiToken(Base):
    """An API token; only the SHA-256 of the token is stored, never the token."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="raise_on_sql")


class WebSession(Base):
    """A signed-in web session, kept server-side: signing out or disabling ends it at once.

    The browser's cookie carries a random session key; only its SHA-256 is stored here, so
    a copy of the table signs no one in. A session lasts until `expires_at` (absolute) and
    ends earlier after a spell without activity (`last_seen_at`).
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
