"""The waiting list (CONTRACT 4.4): when nothing fits, she waits; the matcher offers a bed.

A request joins the list (`waiting`); whenever a unit frees, one matcher run assigns the
free units to every waiting request at once with the solver (solver.assign_jointly: most
placed, then rood before oranje before groen, then longest waiting, then least cost) and
makes each assignment an offer: a hold for the request (unit_state.offer), open for
policy.offer_minutes. Confirm and release work as for any hold. A declined (released)
offer keeps that unit from the request for good; an expired one may be offered again and
escalates at once (escalate_now).

A run is one transaction: the wake-ups it consumed, the expiries it wrote down, the
escalations and the offers commit together or not at all, so a matcher that dies mid-run
loses nothing and repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import Conflict
from shelter_match.models import Hold, ImmediateEscalation, MatcherWakeup, PlacementRequest
from shelter_match.services import audit, matcher_signal, notifications, unit_state
from shelter_match.services.auth import Principal
from shelter_match.services.matcher_signal import pending_wakeups, wake_matcher
from shelter_match.services.policy import get_policy
from shelter_match.services.proposals import case_of, load_network, recent_intake, rules_of
from shelter_match.services.request_access import (
    in_organisation_sql,
)
from shelter_match.services.requests import (
    RequestView,
    get_request,
    lock_open_request,
    view_request,
    view_requests,
)
from shelter_match.services.unit_state import active_hold_sql
from solver import DistanceCache, assign_jointly
from solver.vocabulary import LEVEL_RANK

MAX_LISTED = 500


@dataclass
class MatcherRun:
    """What one matcher run did."""

    matched: bool = False  # whether it assigned (False: nothing woke it, or nobody waits)
    waiting: int = 0
    offers: list[Hold] = field(default_factory=list)
    refused: int = 0  # assignments whose unit was taken meanwhile: the next run retries
    expired_holds: int = 0
    escalated: int = 0


@command
def join_waitlist(session: Session, request_id: str, *, actor: Principal, now: datetime
                  ) -> RequestView:
    """Put an open request on the waiting list; joining again changes nothing (200).

    Idempotent rather than 409: a crisis worker who clicks twice, or whose colleague did it
    first, wants to know she is on the list, and she is. Placed or cancelled: 409.
    """
    request = get_request(session, request_id, actor=actor)
    if request.status == "waiting":
        return view_request(session, request.id, actor=actor, now=now)
    if request.status != "open" or not lock_open_request(
            session, request.id, statuses=("open",), status="waiting", waiting_since=now):
        raise Conflict(f"The request is {request.status}; it cannot wait for a place.")
    audit.record(session, actor=actor, action="request.waitlisted",
                 object_type="placement_request", object_id=request.id, now=now,
                 risk_level=request.risk_level)
    # A bed that fits may be free already (she asked for the list rather than hold it).
    wake_matcher(session, cause="waitlisted", now=now)
    session.refresh(request)
    return view_request(session, request.id, actor=actor, now=now)


def escalate_now(session: Session, request: PlacementRequest, why: str, *, now: datetime,
                 hold_id: str | None = None) -> None:
    """Escalate a request to the duty officers at once (an offer expired; a no-show).

    Escalation (levels, duty officers, notifications) lives in services.escalation; this
    name stays for the matcher's callers.
    """
    from shelter_match.services import escalation  # escalation reads requests; no cycle

    escalation.escalate_now(session, request, why, now=now, hold_id=hold_id)


@command
def make_offer(session: Session, request: PlacementRequest, unit_id: str, *, now: datetime,
               expires_at: datetime) -> Hold:
    """Offer a unit to a waiting request; 409 (nothing written) when either was taken."""
    # Request first, then unit: the lock order of every transition. A request cancelled,
    # placed or held by hand since the run read it is refused here.
    if not lock_open_request(session, request.id, statuses=("waiting",)):
        raise Conflict("The request is no longer waiting.")
    if session.scalar(select(Hold.id).where(Hold.request_id == request.id,
                                            active_hold_sql(now))) is not None:
        raise Conflict("The request has an active hold.")
    hold = unit_state.offer(session, request, unit_id, expires_at=expires_at, now=now)
    # The organisation hears of it at once (e-mail, webhook): in this savepoint, so a
    # refused offer tells nobody.
    notifications.notify_organisation(session, request, "offer_made", now=now, key=hold.id)
    return hold


def run_matcher(session: Session, *, now: datetime, force: bool = False,
                cache: DistanceCache | None = None) -> MatcherRun:
    """Run the matcher once in the caller's transaction (the caller commits).

    Writes down expired holds (their units wake the matcher), escalates expired offers,
    and, when something woke it (or `force`), offers free units to waiting requests.
    `cache`: the matcher process's distances from its earlier runs (solver.DistanceCache);
    the offers are the same without it.
    """
    run = MatcherRun()
    run.expired_holds = unit_state.expire_due(session, now=now).holds
    run.escalated = _escalate_expired_offers(session, now)
    # Escalations due by time go into the notification outbox (once each): the matcher runs
    # at least every few seconds, so their notifications follow within a minute.
    from shelter_match.services import escalation

    escalation.enqueue_due(session, now=now)
    last = pending_wakeups(session)
    if last is None and not force:
        return run
    run.matched = True
    waiting = list(session.scalars(
        select(PlacementRequest)
        .where(PlacementRequest.status == "waiting", PlacementRequest.danger_lat.is_not(None),
               ~exists().where(Hold.request_id == PlacementRequest.id, active_hold_sql(now)))
        .order_by(PlacementRequest.waiting_since, PlacementRequest.id)))
    run.waiting = len(waiting)
    if waiting:
        _offer_free_units(session, waiting, now, run, cache)
    if last is not None:
        session.execute(delete(MatcherWakeup).where(MatcherWakeup.id <= last))
        matcher_signal.consumed(session)
    return run


def _offer_free_units(session: Session, waiting: list[PlacementRequest], now: datetime,
                      run: MatcherRun, cache: DistanceCache | None) -> None:
    policy = get_policy(session)
    network = load_network(session, now=now, min_beds=min(r.household_size for r in waiting))
    if not network.units:
        return
    declined: dict[str, set[str]] = {}
    for request_id, unit_id in session.execute(
        select(Hold.request_id, Hold.unit_id).where(
            Hold.offer, Hold.status == "released",
            Hold.request_id.in_([r.id for r in waiting]))):
        declined.setdefault(request_id, set()).add(unit_id)
    # The same rules as the proposals (case_of, rules_of): an offer is never a unit a
    # proposal would not show her.
    joint = assign_jointly(
        [case_of(r, policy, now=now) for r in waiting], network, rules_of(policy),
        intake_by_region=recent_intake(session, now),
        seniority=list(range(len(waiting))),  # ordered by waiting_since already
        declined={key: frozenset(units) for key, units in declined.items()}, cache=cache)
    expires_at = now + timedelta(minutes=policy.offer_minutes)
    by_id = {r.id: r for r in waiting}
    for assignment in joint.assignments:
        if assignment.unit_id is None:
            continue
        try:
            run.offers.append(make_offer(session, by_id[assignment.case_id], assignment.unit_id,
                                         now=now, expires_at=expires_at))
        except Conflict:
            # A crisis worker took the unit (or the request) between our read and now:
            # the next run, which her change wakes or the period brings, tries again.
            run.refused += 1


def _escalate_expired_offers(session: Session, now: datetime) -> int:
    """Escalate every offer that expired unanswered, once; return how many."""
    expired = session.execute(
        select(Hold.id, PlacementRequest)
        .join(PlacementRequest, PlacementRequest.id == Hold.request_id)
        .where(Hold.offer, PlacementRequest.status == "waiting",
               or_(Hold.status == "expired",
                   and_(Hold.status == "active", Hold.expires_at <= now)),
               ~exists().where(ImmediateEscalation.hold_id == Hold.id))
    ).all()
    for hold_id, request in expired:
        escalate_now(session, request, "offer_expired", now=now, hold_id=hold_id)
    return len(expired)


def list_waitlist(session: Session, *, actor: Principal, now: datetime) -> list[RequestView]:
    """Return the waiting and offered requests the actor may see, in the matcher's order.

    A crisis worker: her organisation's; a duty officer: her regions' (national duty: all),
    without the offer (its place and intake line are for the organisation that acts on
    it); an admin: all. Rood first, then longest waiting.
    """
    query = (select(PlacementRequest).where(PlacementRequest.status == "waiting")
             .order_by(PlacementRequest.waiting_since, PlacementRequest.id).limit(MAX_LISTED))
    if actor.role == "duty_officer":
        if actor.duty_region_codes:
            query = query.where(
                PlacementRequest.origin_region_code.in_(actor.duty_region_codes))
    elif not actor.is_admin:
        query = query.where(in_organisation_sql(actor))
    requests = sorted(session.scalars(query),
                      key=lambda r: -LEVEL_RANK[r.risk_level])  # stable: waiting order kept
    views = view_requests(session, requests, actor=actor, now=now)
    if actor.role == "duty_officer":
        for view in views:
            view.offer = None
    return views
