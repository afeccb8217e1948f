"""Solidarity figures: who placed how many people, for how many bed-nights, where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.models import Placement


def intake_by_region(session: Session, since: datetime) -> dict[str, int]:
    """Return how many placements each region took in from elsewhere since `since`.

    Used by the ranking as a tie-breaker: regions that took in fewer are slightly preferred.
    """
    rows = session.execute(
        select(Placement.destination_region_code, func.count())
        .where(
            Placement.started_at >= since,
            Placement.origin_region_code != Placement.destination_region_code,
        )
        .group_by(Placement.destination_region_code)
    )
    return {region: count for region, count in rows}
