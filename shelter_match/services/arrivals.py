"""Arrivals: a confirmed placement is on the way until the receiving coordinator marks her
arrived, or not come (a no-show).

A no-show undoes the placement as far as the bed and the request go: the placement ends,
its unit is free again and the request is open again (unit_state.no_show), so the crisis
worker's organisation can look for a place at once. The placement row stays, marked
`no_show`, for the record; the solidarity figures leave it out (nobody stayed a night).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.models import PlacementRequest
from shelter_match.services import audit, unit_state
from shelter_match.services.auth import Principal
from shelter_match.services.placements import PlacementView, get_placement


@command
def mark_arrived(session: Session, placement_id: str, *, actor: Principal, now: datetime
                 ) -> PlacementView:
    """Mark a placement on the way as arrived (its location's coordinator, an admin)."""
    view = get_placement(session, placement_id, actor=actor)
    unit_state.mark_arrived(session, view.placement, actor=actor, now=now)
    return view


@command
def mark_no_show(session: Session, placement_id: str, *, actor: Principal, now: datetime
                 ) -> PlacementView:
    """Mark a placement on the way as not come: the unit is free, the request open again."""
    view = get_placement(session, placement_id, actor=actor)
    unit_state.no_show(session, view.placement, actor=actor, now=now)
    session.refresh(view.unit)
    request = session.get_one(PlacementRequest, view.placement.request_id)
    session.refresh(request)
    on_no_show(session, request, now=now)
    return view


def on_no_show(session: Session, request: PlacementRequest, *, now: datetime) -> None:
    """Alert the request's organisation at once and escalate (CONTRACT 4.4: "a no-show
    escalates at once").

    LEAD: WIRE AT MERGE. The branch `notify` (escalation and notifications) owns alerting the
    organisation and escalating to the duty officers; call its entry point here, inside
    this same transaction, so that the alert is sent exactly when the no-show commits. Until
    then the no-show is only audited, so that nothing is lost: `request.no_show_alert`.
    """
    audit.record(session, actor=None, action="request.no_show_alert",
                 object_type="placement_request", object_id=request.id, now=now,
                 risk_level=request.risk_level, origin_region_code=request.origin_region_code,
                 wired=False)
