"""Overrides: a duty officer's per-request exception to one policy rule (CONTRACT 4.5).

The only rule that may be lifted is "a rood case leaves her origin region", for one
request, by a duty officer on duty for its origin region (or an admin), with a reason.
No override lowers a minimum distance or a safety level: there is no field for it, and
the solver takes the override as a flag on the case for that one rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import PlacementRequest, RequestOverride
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.requests import free_text_errors

MAX_REASON = 300
# A request that is still looking for a place; an override of a closed one means nothing.
OPEN_STATUSES = ("open", "waiting", "offered")


@dataclass(frozen=True)
class OverrideView:
    """One override as shown on its request."""

    id: str
    rood_in_origin_region: bool
    reason: str | None
    created_by: str
    created_at: datetime


def get_request_on_duty(session: Session, request_id: str, actor: Principal) -> PlacementRequest:
    """Return a request whose origin region the actor is on duty for; 404 otherwise."""
    request = session.get(PlacementRequest, request_id)
    if request is None or not actor.on_duty_for(request.origin_region_code):
        raise NotFound("No such placement request.")
    return request


@command
def add_override(session: Session, request_id: str, *, rood_in_origin_region: bool,
                 reason: str, actor: Principal, now: datetime) -> list[OverrideView]:
    """Record an override of a request's rules; return all of the request's overrides."""
    request = get_request_on_duty(session, request_id, actor)
    errors: dict[str, list[str]] = {}
    reason_problems = free_text_errors(reason or "", max_length=MAX_REASON, today=now.date())
    if reason_problems:
        errors["reason"] = reason_problems
    if not rood_in_origin_region:
        errors["rood_in_origin_region"] = ["Give true: it is the one rule an override lifts."]
    if errors:
        raise ValidationFailed(errors)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"The request is {request.status}; an override no longer applies.")
    if request.risk_level != "rood":
        raise Conflict("Only a rood request must leave its origin region; this one may "
                       "stay there without an override.")
    override = RequestOverride(request_id=request.id, rood_in_origin_region=True,
                               reason=reason, created_by=actor.user_id, created_at=now)
    session.add(override)
    session.flush()
    # The request's own flag (models.escalation) was read when it was loaded.
    session.expire(request, ["rood_in_origin_region_allowed"])
    # The reason is free text: it stays with the request (and is purged with it), never
    # in the audit log, which is kept for good.
    audit.record(session, actor=actor, action="request.override_added",
                 object_type="placement_request", object_id=request.id, now=now,
                 override_id=override.id, rood_in_origin_region=True)
    return overrides_of(session, request.id)


def overrides_of(session: Session, request_id: str) -> list[OverrideView]:
    """Return a request's overrides, oldest first."""
    return [OverrideView(o.id, o.rood_in_origin_region, o.reason, o.created_by, o.created_at)
            for o in session.scalars(select(RequestOverride)
                                     .where(RequestOverride.request_id == request_id)
                                     .order_by(RequestOverride.created_at, RequestOverride.id))]


def overrides_by_request(session: Session, request_ids: Sequence[str]
                         ) -> dict[str, list[OverrideView]]:
    """Return the overrides of many requests in one query."""
    found: dict[str, list[OverrideView]] = {}
    if not request_ids:
        return found
    for o in session.scalars(select(RequestOverride)
                             .where(RequestOverride.request_id.in_(list(request_ids)))
                             .order_by(RequestOverride.created_at, RequestOverride.id)):
        found.setdefault(o.request_id, []).append(
            OverrideView(o.id, o.rood_in_origin_region, o.reason, o.created_by, o.created_at))
    return found


def rood_in_origin_allowed(session: Session, request_id: str) -> bool:
    """Return whether an override lets this rood request stay in her origin region."""
    return session.scalar(select(RequestOverride.id).where(
        RequestOverride.request_id == request_id,
        RequestOverride.rood_in_origin_region.is_(True)).limit(1)) is not None
