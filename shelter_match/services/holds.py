"""Holds: a unit kept for one request while the crisis worker phones; never two at once.

Concurrency rules, followed by every transition here and in placements.py:
- A unit is taken by one conditional UPDATE checked by its row count, never by reading
  its status first; the partial unique indexes on holds are the last line of defence.
- Rows are locked in one order: request, then unit, then hold. Two transactions that
  both need a request and a unit therefore queue instead of deadlocking; the sweeper
  locks with SKIP LOCKED, so it never waits and never takes part in a deadlock.
- A transition runs in a savepoint: a refused one (409) leaves nothing changed, even
  when the caller goes on using the session.

Time is data: a hold whose expires_at has passed is expired in every read, and its unit
is free (unit_state.effective_status); the sweeper only writes down what is already true.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelter_match.errors import Conflict, NotFound, ValidationFailed
from shelter_match.models import HOLD_STATUSES, OUTCOMES, Hold, Location, PlacementRequest, Unit
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.policy import get_policy
from shelter_match.services.requests import active_hold_sql, get_request, may_see
from shelter_match.services.unit_state import is_free_sql, record_change


@dataclass
class HoldView:
    """A hold as its reader sees it at `now` (an active hold past expires_at is expired)."""

    hold: Hold
    status: str
    request: PlacementRequest
    unit: Unit
    location: Location


def hold_status(hold: Hold, now: datetime) -> str:
    """Return the hold's status at `now`: an active hold past expires_at is expired."""
    if hold.status == "active" and hold.expires_at <= now:
        return "expired"
    return hold.status


@contextmanager
def atomic(session: Session) -> Iterator[None]:
    """Run a transition in a savepoint: on any error it leaves nothing behind."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        # The partial unique indexes caught what the conditional UPDATEs should have: two
        # active holds on a unit or a request, or two open placements on a unit.
        raise Conflict("Someone else took this unit or request at the same moment; "
                       "ask for new proposals.") from error


def lock_open_request(session: Session, request_id: str, **values: object) -> bool:
    """Lock an open request's row (and set `values`); return False unless it is open.

    A conditional UPDATE rather than SELECT … FOR UPDATE: it locks on PostgreSQL and works
    the same on SQLite (where BEGIN IMMEDIATE serialises writers anyway). Whoever holds the
    lock is alone in deciding about the request's holds until she commits.
    """
    result = session.execute(
        update(PlacementRequest)
        .where(PlacementRequest.id == request_id, PlacementRequest.status == "open")
        .values({"status": PlacementRequest.status, **values})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def expire_stale_holds(session: Session, *, now: datetime, actor: Principal | None,
                       unit_id: str | None = None, request_id: str | None = None) -> int:
    """Write down as expired the active holds past expires_at of a unit or a request."""
    condition = Hold.unit_id == unit_id if unit_id is not None else Hold.request_id == request_id
    stale = list(session.scalars(
        update(Hold)
        .where(condition, Hold.status == "active", Hold.expires_at <= now)
        .values(status="expired", ended_at=Hold.expires_at)
        .returning(Hold.id)
        .execution_options(synchronize_session=False)
    ))
    for hold_id in stale:
        audit.record(session, actor=actor, action="hold.expired", object_type="hold",
                     object_id=hold_id, now=now)
    return len(stale)


def create_hold(
    session: Session, request_id: str, unit_id: str, *, actor: Principal, now: datetime
) -> Hold:
    """Hold a unit for a request for policy.hold_minutes; 409 unless both are free for it."""
    from shelter_match.services.proposals import unit_unsuitability

    request = get_request(session, request_id, actor=actor)
    if request.status != "open":
        raise Conflict(f"The request is {request.status}; it cannot be held.")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise ValidationFailed({"unit_id": ["Unknown unit."]})
    location = session.get(Location, unit.location_id)
    policy = get_policy(session)
    expires_at = now + timedelta(minutes=policy.hold_minutes)
    with atomic(session):
        # 1. The request: lock it, so that she never gets two holds from two clicks.
        if not lock_open_request(session, request.id):
            raise Conflict("The request is no longer open.")
        if session.scalar(select(Hold.id).where(Hold.request_id == request.id,
                                                active_hold_sql(now))) is not None:
            raise Conflict("The request has an active hold already; release it first.")
        # 2. The rules, exactly as the proposals apply them (policy may have changed).
        reason = unit_unsuitability(session, request, unit, location, now=now)
        if reason is not None:
            raise Conflict(f"The unit does not fit this request: {reason}.", reason=reason)
        # 3. The unit: one conditional UPDATE; of many concurrent takers exactly one
        # matches, the others see the committed `held` once the row lock is theirs.
        taken = session.execute(
            update(Unit)
            .where(Unit.id == unit.id, is_free_sql(now))
            .values(status="held", held_until=expires_at, version=Unit.version + 1,
                    updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise Conflict("The unit is not free any more; choose another option.")
        # 4. Stale hold rows (expired but not yet written down) would trip the unique
        # indexes; the unit's row lock is ours, so nobody else writes them now.
        expired = expire_stale_holds(session, now=now, actor=actor, unit_id=unit.id)
        expire_stale_holds(session, now=now, actor=actor, request_id=request.id)
        if expired:
            record_change(session, unit_id=unit.id, location_id=unit.location_id, now=now,
                          actor=actor, cause="expire", from_status="held", to_status="free",
                          from_beds=unit.beds, to_beds=unit.beds)
        hold = Hold(request_id=request.id, unit_id=unit.id, location_id=unit.location_id,
                    created_by=actor.user_id, created_at=now, expires_at=expires_at,
                    status="active")
        session.add(hold)
        session.flush()
        record_change(session, unit_id=unit.id, location_id=unit.location_id, now=now,
                      actor=actor, cause="hold", from_status="free", to_status="held",
                      from_beds=unit.beds, to_beds=unit.beds)
        audit.record(session, actor=actor, action="hold.created", object_type="hold",
                     object_id=hold.id, now=now, request_id=request.id, unit_id=unit.id,
                     location_id=unit.location_id, expires_at=expires_at.isoformat())
    session.refresh(unit)
    return hold


def may_see_hold(actor: Principal, hold: Hold, request: PlacementRequest) -> bool:
    """Return whether `actor` may see a hold: its crisis worker, its location's, an admin."""
    return (hold.created_by == actor.user_id or may_see(actor, request)
            or actor.manages_location(hold.location_id))


def get_hold(session: Session, hold_id: str, *, actor: Principal) -> tuple[Hold, PlacementRequest]:
    """Return a hold the actor may see and its request; 404 for any other."""
    hold = session.get(Hold, hold_id)
    request = session.get(PlacementRequest, hold.request_id) if hold else None
    if hold is None or request is None or not may_see_hold(actor, hold, request):
        raise NotFound("No such hold.")
    return hold, request


def free_held_unit(session: Session, hold: Hold, *, now: datetime, actor: Principal | None,
                   cause: str) -> None:
    """Free the unit of an active hold (lock it first: unit before hold), or 409."""
    freed = session.execute(
        update(Unit)
        .where(Unit.id == hold.unit_id, Unit.status == "held",
               Unit.held_until == hold.expires_at, Unit.held_until > now)
        .values(status="free", held_until=None, version=Unit.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if freed != 1:
        raise Conflict("The hold is no longer active.")
    unit = session.get(Unit, hold.unit_id)
    session.refresh(unit)
    record_change(session, unit_id=unit.id, location_id=unit.location_id, now=now, actor=actor,
                  cause=cause, from_status="held", to_status="free", from_beds=unit.beds,
                  to_beds=unit.beds)


def end_hold(session: Session, hold: Hold, *, status: str, now: datetime) -> None:
    """Move an active, unexpired hold to `status`, or raise 409 (it changed meanwhile)."""
    ended = session.execute(
        update(Hold)
        .where(Hold.id == hold.id, active_hold_sql(now))
        .values(status=status, ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended != 1:
        raise Conflict("The hold is no longer active.")
    session.refresh(hold)


def release_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime) -> Hold:
    """Release an active hold; its unit becomes free and the request open again."""
    hold, request = get_hold(session, hold_id, actor=actor)
    status = hold_status(hold, now)
    if status != "active":
        raise Conflict(f"The hold is {status}; only an active hold can be released.")
    with atomic(session):
        free_held_unit(session, hold, now=now, actor=actor, cause="release")
        end_hold(session, hold, status="released", now=now)
        audit.record(session, actor=actor, action="hold.released", object_type="hold",
                     object_id=hold.id, now=now, request_id=request.id, unit_id=hold.unit_id)
    return hold


def cancel_request(
    session: Session, request_id: str, *, actor: Principal, now: datetime,
    outcome: str = "other",
) -> PlacementRequest:
    """Close an open request as cancelled and release its active hold; 409 once placed."""
    if outcome not in OUTCOMES:
        raise ValidationFailed({"outcome": [f"Must be one of: {', '.join(OUTCOMES)}."]})
    request = get_request(session, request_id, actor=actor)
    if request.status != "open":
        raise Conflict(f"The request is {request.status}; it cannot be cancelled.")
    with atomic(session):
        if not lock_open_request(session, request.id):
            raise Conflict("The request is no longer open.")
        hold = session.scalar(select(Hold).where(Hold.request_id == request.id,
                                                 active_hold_sql(now)))
        if hold is not None:
            free_held_unit(session, hold, now=now, actor=actor, cause="cancel")
            end_hold(session, hold, status="cancelled", now=now)
            audit.record(session, actor=actor, action="hold.cancelled", object_type="hold",
                         object_id=hold.id, now=now, request_id=request.id)
        expire_stale_holds(session, now=now, actor=actor, request_id=request.id)
        session.execute(
            update(PlacementRequest).where(PlacementRequest.id == request.id)
            .values(status="cancelled", closed_at=now, outcome=outcome)
            .execution_options(synchronize_session=False)
        )
        audit.record(session, actor=actor, action="request.cancelled",
                     object_type="placement_request", object_id=request.id, now=now,
                     outcome=outcome)
    session.refresh(request)
    return request


def _status_condition(status: str, now: datetime):
    if status == "active":
        return active_hold_sql(now)
    if status == "expired":
        return or_(Hold.status == "expired",
                   and_(Hold.status == "active", Hold.expires_at <= now))
    return Hold.status == status


def list_holds(
    session: Session, *, actor: Principal, now: datetime, location_id: str | None = None,
    status: str | None = "active", limit: int = 500,
) -> list[HoldView]:
    """Return the holds the actor may see, newest first: who is on the way, and where.

    A coordinator sees the holds at her locations, a crisis worker her own, an admin all.
    """
    if status is not None and status not in HOLD_STATUSES:
        raise ValidationFailed({"status": [f"Must be one of: {', '.join(HOLD_STATUSES)}."]})
    query = (
        select(Hold, PlacementRequest, Unit, Location)
        .join(PlacementRequest, PlacementRequest.id == Hold.request_id)
        .join(Unit, Unit.id == Hold.unit_id)
        .join(Location, Location.id == Hold.location_id)
        .order_by(Hold.created_at.desc(), Hold.id)
        .limit(limit)
    )
    if location_id is not None:
        if not (actor.manages_location(location_id) or actor.role == "crisis_worker"):
            raise NotFound("No such location.")
        query = query.where(Hold.location_id == location_id)
    if actor.role == "coordinator":
        query = query.where(Hold.location_id.in_(sorted(actor.location_ids)))
    elif not actor.is_admin:
        query = query.where(or_(Hold.created_by == actor.user_id,
                                PlacementRequest.created_by == actor.user_id))
    if status is not None:
        query = query.where(_status_condition(status, now))
    return [HoldView(hold, hold_status(hold, now), request, unit, location)
            for hold, request, unit, location in session.execute(query).all()]


def view_hold(session: Session, hold_id: str, *, actor: Principal, now: datetime) -> HoldView:
    """Return one hold the actor may see, with its status at `now`."""
    hold, request = get_hold(session, hold_id, actor=actor)
    unit = session.get(Unit, hold.unit_id)
    location = session.get(Location, hold.location_id)
    return HoldView(hold, hold_status(hold, now), request, unit, location)


@dataclass(frozen=True)
class SweepResult:
    holds: int
    units: int


def sweep_expired(session: Session, *, now: datetime) -> SweepResult:
    """Write down every hold past expires_at as expired and free its unit.

    Only tidying: every read already treats these holds as expired. Rows another
    transaction has locked are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL), so the
    sweeper never waits and never deadlocks; a later run takes what this one skipped.
    """
    units = list(session.scalars(
        select(Unit)
        .where(Unit.status == "held", Unit.held_until <= now)
        .with_for_update(skip_locked=True)
    ))
    for unit in units:
        session.execute(
            update(Unit)
            .where(Unit.id == unit.id, Unit.status == "held", Unit.held_until <= now)
            .values(status="free", held_until=None, version=Unit.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        record_change(session, unit_id=unit.id, location_id=unit.location_id, now=now,
                      actor=None, cause="expire", from_status="held", to_status="free",
                      from_beds=unit.beds, to_beds=unit.beds)
    holds = list(session.scalars(
        select(Hold)
        .where(Hold.status == "active", Hold.expires_at <= now)
        .with_for_update(skip_locked=True)
    ))
    for hold in holds:
        session.execute(
            update(Hold).where(Hold.id == hold.id, Hold.status == "active")
            .values(status="expired", ended_at=hold.expires_at)
            .execution_options(synchronize_session=False)
        )
        audit.record(session, actor=None, action="hold.expired", object_type="hold",
                     object_id=hold.id, now=now, unit_id=hold.unit_id,
                     request_id=hold.request_id)
    return SweepResult(holds=len(holds), units=len(units))
