"""Which region each gemeente belongs to: the table the origin and location checks read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shelter_match.models.base import Base, UTCDateTime


class RegionGemeente(Base):
    """One gemeente (CBS code) in one of the 35 regions.

    `region_code` is no foreign key: the table is filled by migration 0002 from the shipped
    shelter_match/data/region_gemeenten.csv, before `seed regions` loads the regions; the
    services check a region exists whenever they move a gemeente.
    """

    __tablename__ = "region_gemeenten"

    gemeente_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    gemeente_name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
