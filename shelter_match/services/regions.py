"""The 35 centrumgemeente regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.models import Region


@dataclass(frozen=True)
class RegionData:
    code: str
    name: str
    lat: float
    lon: float


def list_regions(session: Session) -> list[Region]:
    """Return every region, ordered by name."""
    return list(session.scalars(select(Region).order_by(Region.name)))


def upsert_regions(session: Session, regions: Iterable[RegionData]) -> tuple[int, int]:
    """Insert new regions and correct existing ones; return (added, updated)."""
    added = updated = 0
    for data in regions:
        region = session.get(Region, data.code)
        if region is None:
            session.add(Region(code=data.code, name=data.name, lat=data.lat, lon=data.lon))
            added += 1
        elif (region.name, region.lat, region.lon) != (data.name, data.lat, data.lon):
            region.name, region.lat, region.lon = data.name, data.lat, data.lon
            updated += 1
    session.flush()
    return added, updated
