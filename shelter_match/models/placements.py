"""Placement requests, the holds that keep a bed while she phones, and placements.

No names, BSNs, birth dates or notes: a request carries a pseudonymous case reference,
rounded coordinates and the household's size. The unique indexes below are the last line
of defence against double booking; the services never rely on them alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shelter_match.models.base import Base, StringList, UTCDateTime, id_column, in_list_check
from solver.vocabulary import LEVELS, REQUEST_TARGET_GROUPS

# Stored request states. "held" is never stored: a request is held while it has an
# active hold whose expires_at lies in the future, which no stored flag could track.
# "waiting" is an open request on the waiting list (CONTRACT 4.4); it reads "offered"
# while the matcher's offer (a hold) to it is active, for the same reason.
REQUEST_STATUSES = ("open", "waiting", "placed", "cancelled")
HOLD_STATUSES = ("active", "released", "confirmed", "expired", "cancelled")
# Why a request closed without a placement (CONTRACT 4.3), kept for the unmet-demand
# figures. Set exactly when the request is cancelled; `other` when nobody said why,
# also when the retention run closes a request that was left open.
# Whether a placed household reached the location (migration 0007): on the way until the
# receiving coordinator marks her arrived, or not come (a no-show reopens the request).
ARRIVAL_STATUSES = ("on_the_way", "arrived", "no_show")
OUTCOMES = ("ambulant_support", "own_network", "client_withdrew", "placed_outside_service",
            "no_place_found", "other")


class PlacementRequest(Base):
    """A crisis worker's pseudonymous request for a safe place."""

    __tablename__ = "placement_requests"
    __table_args__ = (
        CheckConstraint(in_list_check("risk_level", LEVELS), name="risk_level"),
        CheckConstraint(in_list_check("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(in_list_check("target_group", REQUEST_TARGET_GROUPS),
                        name="target_group"),
        CheckConstraint("adults >= 1 AND children >= 0", name="household"),
        CheckConstraint(f"outcome IS NULL OR {in_list_check('outcome', OUTCOMES)}",
                        name="outcome"),
        # Only a cancelled request has an outcome, and every cancelled one has one: a
        # state added later (waiting) has none until it is cancelled.
        CheckConstraint("(status = 'cancelled') = (outcome IS NOT NULL)",
                        name="outcome_when_cancelled"),
        Index("ix_placement_requests_created_by_status", "created_by", "status"),
    )

    id: Mapped[str] = id_column()
    # Erased by the retention purge; everything the solidarity figures need stays.
    case_reference: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # The organisation of the crisis worker who made it (4.3): everyone in it sees and acts
    # on the request. None: only its crisis worker, as in v1.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id"), default=None, index=True)
    origin_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    risk_level: Mapped[str] = mapped_column(String(10))
    # Rounded to about 1 km before they are stored; erased by the retention purge.
    danger_lat: Mapped[float | None] = mapped_column(Float)
    danger_lon: Mapped[float | None] = mapped_column(Float)
    # The gazetteer name the danger was given as and its kind ("gemeente" or "place"), or
    # None for coordinates: the real danger may lie anywhere around a named centre, so the
    # proposals widen the safety margin by a radius per kind (policy). Erased with the rest.
    danger_place: Mapped[str | None] = mapped_column(String(100), default=None)
    danger_place_kind: Mapped[str | None] = mapped_column(String(10), default=None)
    # The extent of the named place: a radius around the stored centre that covers the whole
    # place (gazetteer), so proposals keep the minimum distance from every part of it. None
    # for coordinates, and for requests made before migration 0002 (the policy radius then).
    danger_radius_km: Mapped[float | None] = mapped_column(Float, default=None)
    current_lat: Mapped[float | None] = mapped_column(Float, default=None)
    current_lon: Mapped[float | None] = mapped_column(Float, default=None)
    adults: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer, default=0)
    needs: Mapped[list[str]] = mapped_column(StringList, default=list)
    target_group: Mapped[str] = mapped_column(String(5), default="women",
                                              server_default="women")
    # [{age, sex}] per child, no names; erased by the retention purge.
    children_detail: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), default=None)
    # Dangers beyond the first (a family network): [{lat, lon, place, kind, radius_km}],
    # rounded like the first; erased by the retention purge.
    more_dangers: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), default=None)
    excluded_region_codes: Mapped[list[str]] = mapped_column(StringList, default=list)
    excluded_location_ids: Mapped[list[str]] = mapped_column(StringList, default=list)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When she joined the waiting list: who waited longest is offered first (after risk).
    # Kept when an offer is declined or expires: she goes back to her place in the queue.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[str | None] = mapped_column(String(30), default=None)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def household_size(self) -> int:
        return self.adults + self.children


class Hold(Base):
    """A unit kept for a request until `expires_at`; past that it is expired everywhere."""

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint(in_list_check("status", HOLD_STATUSES), name="status"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        # At most one active hold per unit and per request.
        Index(
            "uq_holds_active_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index(
            "uq_holds_active_request",
            "request_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_requests.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="active")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the hold was extended (at most once, by policy.hold_extension_minutes).
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # An offer: a hold the matcher made for a waiting request (CONTRACT 4.4). Released, it
    # is a declined offer, and that unit is never offered to the request again.
    offer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Placement(Base):
    """A household placed in a unit, from `started_at` until discharge (`ended_at`).

    Origin and destination regions and the household size are copied here so that the
    solidarity figures survive the purge of the request's details.
    """

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("household_size >= 1", name="household_size_positive"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(in_list_check("arrival_status", ARRIVAL_STATUSES),
                        name="arrival_status"),
        # A no-show ends the placement and reopens the request, which may be placed again:
        # one placement per request that is not a no-show.
        Index(
            "uq_placements_request_not_no_show",
            "request_id",
            unique=True,
            postgresql_where=text("arrival_status != 'no_show'"),
            sqlite_where=text("arrival_status != 'no_show'"),
        ),
        # At most one open placement per unit.
        Index(
            "uq_placements_open_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        Index("ix_placements_started_at", "started_at"),
    )

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_requests.id"), index=True)
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("holds.id"), unique=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    origin_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    destination_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    household_size: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    arrival_status: Mapped[str] = mapped_column(String(10), default="on_the_way")
    arrival_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    arrival_marked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
