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
from shelter_match.services import escalation, notifications, unit_state
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
    on_no_show(session, request, now=now, placement_id=view.placement.id,
               hold_id=view.placement.hold_id)
    return view


def on_no_show(session: Session, request: PlacementRequest, *, now: datetime,
               placement_id: str, hold_id: str | None) -> None:
    """Alert the request's organisation at once and escalate (CONTRACT 4.4: "a no-show
    escalates at once"): a woman who never arrived may be in danger.

    Inside the no-show's own transaction: the escalation and the notification are written
    to the outbox with it, so they are sent if and only if the no-show commits.
    """
    escalation.escalate_now(session, request, "no_show", now=now, hold_id=hold_id)
    notifications.notify_organisation(session, request, "no_show", now=now, key=placement_id)
