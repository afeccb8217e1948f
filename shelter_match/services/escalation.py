"""Escalation: a request nobody could place goes to the duty officers (CONTRACT 4.4).

Time is data, as for holds. A request open or waiting `policy.escalation_minutes[risk]`
without a placement has escalated to its origin region's duty officers, and after twice
that to the national duty, at the moment the time passed, whether or not anything ran:
`due_escalations` computes it from the request's age and the policy when asked. Only what
cannot be derived is stored: an escalation "at once" (`escalate_now`: an expired offer, a
no-show), which escalates regionally at that moment and nationally one period later.

Notifications follow: `enqueue_due` (run by the notifier loop, or the matcher, at least
once a minute) puts every escalation due now into the outbox exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shelter_match.errors import NotFound
from shelter_match.models import ImmediateEscalation, PlacementRequest
from shelter_match.services import audit, notifications
from shelter_match.services.auth import Principal
from shelter_match.services.policy import Policy, get_policy
from solver.vocabulary import LEVELS

# Stored statuses of a request that is still looking for a place. `waiting` and `offered`
# arrive with the waiting list (branch waitlist); naming them here is harmless before.
UNPLACED_STATUSES = ("open", "waiting", "offered")
LEVEL_REGIONAL = "regional"
LEVEL_NATIONAL = "national"


@dataclass(frozen=True)
class Escalation:
    """A request that has escalated: to whom (`level`) and since when."""

    request_id: str
    case_reference: str | None
    risk_level: str
    origin_region_code: str
    waiting_since: datetime
    level: str
    escalated_at: datetime
    # When it escalated at once: why (offer_expired, no_show); None when by time alone.
    cause: str | None = None


def _moments(request: PlacementRequest, policy: Policy,
             immediate_at: datetime | None) -> tuple[datetime, datetime]:
    """Return when a request escalates regionally and when nationally."""
    period = timedelta(minutes=policy.escalation_minutes[request.risk_level])
    regional = request.created_at + period
    national = request.created_at + 2 * period
    if immediate_at is not None:
        regional = min(regional, immediate_at)
        national = min(national, immediate_at + period)
    return regional, national


def due_escalations(session: Session, *, now: datetime,
                    policy: Policy | None = None) -> list[Escalation]:
    """Return every request escalated at `now`, the longest waiting first."""
    policy = policy or get_policy(session)
    # The time rule per risk level in SQL, so that young requests are never read.
    by_time = or_(*(and_(PlacementRequest.risk_level == level,
                         PlacementRequest.created_at
                         <= now - timedelta(minutes=policy.escalation_minutes[level]))
                    for level in LEVELS))
    immediate = (select(ImmediateEscalation.request_id)
                 .where(ImmediateEscalation.created_at <= now))
    requests = session.scalars(
        select(PlacementRequest)
        .where(PlacementRequest.status.in_(UNPLACED_STATUSES),
               or_(by_time, PlacementRequest.id.in_(immediate)))
        .order_by(PlacementRequest.created_at, PlacementRequest.id)
    ).all()
    first_immediate: dict[str, tuple[datetime, str]] = {}
    if requests:
        for request_id, at, cause in session.execute(
            select(ImmediateEscalation.request_id, ImmediateEscalation.created_at,
                   ImmediateEscalation.why)
            .where(ImmediateEscalation.request_id.in_([r.id for r in requests]),
                   ImmediateEscalation.created_at <= now)
            .order_by(ImmediateEscalation.created_at)
        ):
            first_immediate.setdefault(request_id, (at, cause))
    escalations = []
    for request in requests:
        first = first_immediate.get(request.id)
        immediate_at = first[0] if first else None
        regional, national = _moments(request, policy, immediate_at)
        if regional > now:
            continue
        national_now = national <= now
        escalations.append(Escalation(
            request_id=request.id,
            case_reference=request.case_reference,
            risk_level=request.risk_level,
            origin_region_code=request.origin_region_code,
            waiting_since=request.created_at,
            level=LEVEL_NATIONAL if national_now else LEVEL_REGIONAL,
            escalated_at=national if national_now else regional,
            cause=first[1] if first is not None and regional == first[0] else None,
        ))
    return escalations


def visible_to(actor: Principal, escalation: Escalation) -> bool:
    """Return whether a duty officer (or admin) sees this escalation.

    A regional duty officer sees every escalation of her regions, also once it went
    national; the national duty (no regions) sees those that went national.
    """
    if actor.is_admin:
        return True
    if actor.role != "duty_officer":
        return False
    if actor.duty_region_codes:
        return escalation.origin_region_code in actor.duty_region_codes
    return escalation.level == LEVEL_NATIONAL


def list_escalations(session: Session, *, actor: Principal, now: datetime,
                     region_code: str | None = None) -> list[Escalation]:
    """Return the escalations the actor looks after, the longest waiting first."""
    if region_code is not None and not actor.on_duty_for(region_code):
        raise NotFound("No escalations of that region are yours to see.")
    return [e for e in due_escalations(session, now=now)
            if visible_to(actor, e)
            and (region_code is None or e.origin_region_code == region_code)]


def escalate_now(session: Session, request: PlacementRequest, why: str, *,
                 now: datetime, hold_id: str | None = None) -> None:
    """Escalate a request at once (an expired offer, a no-show): the one entry for others.

    Recorded (once per hold: `hold_id` is unique) and audited; its notification goes into
    the outbox in the same transaction, so it is sent if and only if the change that
    caused it commits. waitlist.escalate_now is this.
    """
    cause = why if why in ("offer_expired", "no_show") else "other"
    record = ImmediateEscalation(request_id=request.id, hold_id=hold_id, why=cause,
                                 created_at=now)
    session.add(record)
    session.flush()
    audit.record(session, actor=None, action="request.escalated", object_type="placement_request",
                 object_id=request.id, now=now, cause=cause, level=LEVEL_REGIONAL,
                 hold_id=hold_id)
    notifications.enqueue(session, event="escalation",
                          audience=notifications.duty_audience(request.origin_region_code),
                          request_id=request.id,
                          dedupe_key=f"escalation:{request.id}:at-once:{record.id}",
                          now=now)


def enqueue_due(session: Session, *, now: datetime) -> int:
    """Put every escalation due now into the outbox once; return how many were new."""
    added = 0
    for escalation in due_escalations(session, now=now):
        regional = notifications.duty_audience(escalation.origin_region_code)
        # One that escalated at once was put into the outbox by escalate_now already.
        targets = [] if escalation.cause is not None else [(LEVEL_REGIONAL, regional)]
        if escalation.level == LEVEL_NATIONAL:
            targets.append((LEVEL_NATIONAL, notifications.duty_audience(None)))
        for level, audience in targets:
            added += notifications.enqueue(
                session, event="escalation", audience=audience, request_id=escalation.request_id,
                dedupe_key=f"escalation:{escalation.request_id}:{level}", now=now)
    return added

