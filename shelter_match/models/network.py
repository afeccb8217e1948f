"""Regions, locations and their units: the national shelter network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shelter_match.models.base import Base, StringList, UTCDateTime, id_column, in_list_check
from solver.vocabulary import LEVELS, TARGET_GROUPS, UNIT_STATUSES

# Who or what changed a unit; kept with every history row so occupancy can be explained.
UNIT_CHANGE_CAUSES = (
    "created",
    "manual",
    "hold",
    "release",
    "expire",
    "confirm",
    "discharge",
    "cancel",
    # Migration 0007: a hold extended once, and a placement whose household never came.
    "extend",
    "no_show",
)


class Region(Base):
    """A centrumgemeente region; `code` is the CBS municipality code of its centre."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Location(Base):
    """A shelter location. Its address and coordinates are secret (see auth scopes)."""

    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint(in_list_check("safety_level", LEVELS), name="safety_level"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coords"),
        CheckConstraint("area_radius_km BETWEEN 5 AND 15", name="area_radius"),
        CheckConstraint(in_list_check("target_group", TARGET_GROUPS), name="target_group"),
        CheckConstraint("accepts_boys_up_to_age IS NULL OR accepts_boys_up_to_age BETWEEN 0 AND 17",
                        name="accepts_boys_up_to_age"),
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    safety_level: Mapped[str] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300))
    # The public area (CONTRACT 4.1): a place everyone may know, and a disc around its centre
    # that holds the secret point. See shelter_match.services.public_areas.
    place: Mapped[str] = mapped_column(String(120))
    gemeente_code: Mapped[str] = mapped_column(String(6))
    area_lat: Mapped[float] = mapped_column(Float)
    area_lon: Mapped[float] = mapped_column(Float)
    area_radius_km: Mapped[float] = mapped_column(Float)
    features: Mapped[list[str]] = mapped_column(StringList, default=list)
    accepts_night_intake: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whom it takes in (women, men, all), and the oldest boy it takes in with his mother.
    target_group: Mapped[str] = mapped_column(String(5), default="women",
                                              server_default="women")
    accepts_boys_up_to_age: Mapped[int | None] = mapped_column(Integer, default=None)
    # The 24/7 intake line in E.164 (+31...): shown to a crisis worker only on her holds and
    # offers, each showing audited; never on options or lists (services/intake_phone.py).
    intake_phone: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    availability_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    units: Mapped[list[Unit]] = relationship(
        back_populates="location", order_by="Unit.label", lazy="raise_on_sql"
    )


class Unit(Base):
    """A room or family unit that takes one household at a time.

    `status` is what was last written; a `held` unit whose `held_until` has passed is free
    (see shelter_match.services.availability.effective_status): correctness never waits
    for a sweeper.
    """

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("location_id", "label"),
        CheckConstraint("beds >= 0", name="beds_not_negative"),
        CheckConstraint(in_list_check("status", UNIT_STATUSES), name="status"),
        CheckConstraint("(status = 'held') = (held_until IS NOT NULL)", name="held_until"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[str] = id_column()
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    beds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="free")
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship(back_populates="units", lazy="raise_on_sql")


class UnitChange(Base):
    """One change of a unit's status or beds: who, when, from what to what, and why."""

    __tablename__ = "unit_changes"
    __table_args__ = (CheckConstraint(in_list_check("cause", UNIT_CHANGE_CAUSES), name="cause"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    changed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    cause: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    from_beds: Mapped[int | None] = mapped_column(Integer)
    to_beds: Mapped[int] = mapped_column(Integer)
