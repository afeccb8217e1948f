"""The state of units and holds: the one home of every change of who holds or occupies a unit.

Time is data: a unit whose status is `held` but whose `held_until` has passed is free, and
an active hold past its `expires_at` is expired, in every query, whether or not anything
has written that down. Every service that reads a unit's or a hold's state at a moment
goes through the readers here, so that this rule has one home.

Every transition is written the same way:
1. read the unit as the database holds it now (`read_unit`: columns, never the identity
   map, which could hand back a row as it was earlier in the transaction);
2. decide from its state at `now`, and refuse with 409 when the transition does not apply;
3. change it in one conditional UPDATE pinned to the version just read and to the rule the
   transition needs, checked by its row count; when another change landed in between,
   read again (a few times). On PostgreSQL the UPDATE waits for a concurrent writer of the
   row and then matches nothing; on SQLite BEGIN IMMEDIATE serialises writers anyway;
4. the version grows by one, one history row says who, when, from what to what and why,
   and one audit event records the transition.
A hold that had run out on the unit is written down first, as happening when it ran out:
one path for every expiry, whoever comes across it (`_write_down_expiry`).

Rows are locked in one order: request (by the calling service), then unit, then hold or
placement. Transitions run inside a service command (shelter_match.db.command): a refused
one leaves nothing behind. A new state (an offer, an arrival, a no-show, an extension) is one more
transition here: its condition, its target status, its history cause, its audit action.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shelter_match.db import rowcount
from shelter_match.errors import Conflict, NotFound, PreconditionFailed
from shelter_match.models import (
    Hold,
    Location,
    Placement,
    PlacementRequest,
    Unit,
    UnitChange,
)
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.matcher_signal import wake_matcher

# When another change of the unit lands between our read and our UPDATE we read again,
# this many times, before giving up with 409.
MAX_ATTEMPTS = 5
TAKEN_MEANWHILE = ("Someone else took this unit or request at the same moment; "
                   "ask for new proposals.")

_UNIT_COLUMNS = (
    Unit.id,
    Unit.location_id,
    Unit.label,
    Unit.beds,
    Unit.status,
    Unit.held_until,
    Unit.version,
    Unit.updated_at,
)


class HoldState(Protocol):
    """Anything that carries a unit's written status (a Unit, a UnitRecord)."""

    @property
    def status(self) -> str: ...

    @property
    def held_until(self) -> datetime | None: ...


@dataclass(frozen=True)
class UnitRecord:
    """A unit's row as the database holds it: the status as last written."""

    id: str
    location_id: str
    label: str
    beds: int
    status: str
    held_until: datetime | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class SweepResult:
    """How many holds the sweeper wrote down as expired, and how many units it freed."""

    holds: int
    units: int


# --- reading ----------------------------------------------------------------------------


def effective_status(unit: HoldState, now: datetime) -> str:
    """Return the unit's status at `now` (an expired hold reads as free)."""
    if unit.status == "held" and unit.held_until is not None and unit.held_until <= now:
        return "free"
    return unit.status


def is_free_sql(now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition that a unit is free at `now`."""
    return or_(Unit.status == "free", and_(Unit.status == "held", Unit.held_until <= now))


def hold_status(hold: Hold, now: datetime) -> str:
    """Return the hold's status at `now`: an active hold past expires_at is expired."""
    if hold.status == "active" and hold.expires_at <= now:
        return "expired"
    return hold.status


def active_hold_sql(now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition that a hold is active at `now` (not past expires_at)."""
    return and_(Hold.status == "active", Hold.expires_at > now)


def read_unit(session: Session, unit_id: str) -> UnitRecord | None:
    """Return a unit as the database holds it now, or None."""
    row = session.execute(select(*_UNIT_COLUMNS).where(Unit.id == unit_id)).first()
    return UnitRecord(*row) if row is not None else None


def read_units(session: Session, *where: ColumnElement[bool]) -> list[UnitRecord]:
    """Return the units that meet `where`, as the database holds them, by label."""
    return [UnitRecord(*row) for row in session.execute(
        select(*_UNIT_COLUMNS).where(*where).order_by(Unit.label, Unit.id))]


# --- transitions ------------------------------------------------------------------------


def hold(session: Session, request: PlacementRequest, unit_id: str, *, expires_at: datetime,
         actor: Principal, now: datetime) -> Hold:
    """Hold a free unit for a request until `expires_at`: free → held; 409 unless free."""
    new_hold = _hold_free_unit(
        session, request, unit_id, expires_at=expires_at, actor=actor,
        created_by=actor.user_id, offer=False, now=now,
        not_free="The unit is not free any more; choose another option.")
    audit.record(session, actor=actor, action="hold.created", object_type="hold",
                 object_id=new_hold.id, now=now, request_id=request.id,
                 unit_id=new_hold.unit_id, location_id=new_hold.location_id,
                 expires_at=expires_at.isoformat())
    return new_hold


def offer(session: Session, request: PlacementRequest, unit_id: str, *, expires_at: datetime,
          now: datetime) -> Hold:
    """Offer a free unit to a waiting request until `expires_at`: free → held, by the matcher.

    A hold like any other (confirm and release work on it), made by nobody (the matcher)
    on behalf of the request's crisis worker, and marked as an offer. 409 unless free.
    """
    new_hold = _hold_free_unit(
        session, request, unit_id, expires_at=expires_at, actor=None,
        created_by=request.created_by, offer=True, now=now,
        not_free="The unit is not free any more.")
    audit.record(session, actor=None, action="offer.made", object_type="hold",
                 object_id=new_hold.id, now=now, request_id=request.id,
                 unit_id=new_hold.unit_id, location_id=new_hold.location_id,
                 expires_at=expires_at.isoformat())
    return new_hold


def occupy(session: Session, active: Hold, request: PlacementRequest, location: Location, *,
           actor: Principal, now: datetime) -> Placement:
    """Turn an active hold into a placement: held → occupied, the hold confirmed."""
    for unit in _reads(session, active.unit_id):
        if not _held_by(unit, active, now):
            raise Conflict("The hold is no longer active; ask for new proposals.")
        if _write(session, unit, now=now, actor=actor, cause="confirm",
                  guard=_held_by_sql(active, now), status="occupied",
                  held_until=None) is not None:
            break
    else:
        raise _kept_changing()
    _end_hold(session, active, status="confirmed", now=now)
    placement = Placement(
        request_id=request.id,
        hold_id=active.id,
        unit_id=active.unit_id,
        location_id=active.location_id,
        origin_region_code=request.origin_region_code,
        destination_region_code=location.region_code,
        household_size=request.household_size,
        created_by=actor.user_id,
        started_at=now,
    )
    _insert(session, placement)
    audit.record(session, actor=actor, action="placement.created", object_type="placement",
                 object_id=placement.id, now=now, hold_id=active.id, request_id=request.id,
                 unit_id=active.unit_id, location_id=location.id,
                 origin_region_code=placement.origin_region_code,
                 destination_region_code=placement.destination_region_code)
    return placement


def release(session: Session, active: Hold, *, actor: Principal, now: datetime,
            cause: str = "release") -> None:
    """Free the unit of an active hold: held → free; the hold released (or cancelled)."""
    ended = {"release": "released", "cancel": "cancelled"}[cause]
    for unit in _reads(session, active.unit_id):
        if not _held_by(unit, active, now):
            raise Conflict("The hold is no longer active.")
        if _write(session, unit, now=now, actor=actor, cause=cause,
                  guard=_held_by_sql(active, now), status="free",
                  held_until=None) is not None:
            break
    else:
        raise _kept_changing()
    _end_hold(session, active, status=ended, now=now)
    audit.record(session, actor=actor, action=f"hold.{ended}", object_type="hold",
                 object_id=active.id, now=now, request_id=active.request_id,
                 unit_id=active.unit_id)


def extend(session: Session, active: Hold, *, expires_at: datetime, actor: Principal,
           now: datetime) -> None:
    """Extend an active hold once, to `expires_at`: the unit stays held, for longer.

    409 when the hold is no longer active or was extended before. Unit first, then hold
    (the lock order); the hold's UPDATE is conditional on `extended_at IS NULL`, so of two
    concurrent extensions exactly one lands and the other rolls back with its savepoint.
    """
    if active.extended_at is not None:
        raise Conflict("The hold was extended once already; it cannot be extended again.")
    for unit in _reads(session, active.unit_id):
        if not _held_by(unit, active, now):
            raise Conflict("The hold is no longer active; ask for new proposals.")
        if _write(session, unit, now=now, actor=actor, cause="extend",
                  guard=_held_by_sql(active, now), status="held",
                  held_until=expires_at) is not None:
            break
    else:
        raise _kept_changing()
    extended = _rowcount(session, update(Hold)
                         .where(Hold.id == active.id, active_hold_sql(now),
                                Hold.extended_at.is_(None))
                         .values(expires_at=expires_at, extended_at=now))
    if extended != 1:
        raise Conflict("The hold was extended once already; it cannot be extended again.")
    session.refresh(active)
    audit.record(session, actor=actor, action="hold.extended", object_type="hold",
                 object_id=active.id, now=now, request_id=active.request_id,
                 unit_id=active.unit_id, expires_at=expires_at.isoformat())


def mark_arrived(session: Session, placement: Placement, *, actor: Principal,
                 now: datetime) -> None:
    """Record that the placed household arrived: on the way → arrived; 409 otherwise."""
    if _rowcount(session, update(Placement)
                 .where(Placement.id == placement.id, Placement.ended_at.is_(None),
                        Placement.arrival_status == "on_the_way")
                 .values(arrival_status="arrived", arrival_marked_at=now,
                         arrival_marked_by=actor.user_id)) != 1:
        raise Conflict("Only a placement that is on the way can be marked arrived.")
    session.refresh(placement)
    audit.record(session, actor=actor, action="placement.arrived", object_type="placement",
                 object_id=placement.id, now=now, location_id=placement.location_id,
                 request_id=placement.request_id)


def no_show(session: Session, placement: Placement, *, actor: Principal,
            now: datetime) -> None:
    """Record that the household never came: the placement ends, its unit is free again
    (occupied → free) and its request is open again (placed → open), in one savepoint.

    Request first, then unit, then placement: the lock order of every transition.
    """
    reopened = _rowcount(session, update(PlacementRequest)
                         .where(PlacementRequest.id == placement.request_id,
                                PlacementRequest.status == "placed")
                         .values(status="open", closed_at=None))
    if reopened != 1:
        raise Conflict("The request of this placement is no longer placed.")
    _free_occupied_unit(session, placement.unit_id, cause="no_show", actor=actor, now=now)
    if _rowcount(session, update(Placement)
                 .where(Placement.id == placement.id, Placement.ended_at.is_(None),
                        Placement.arrival_status == "on_the_way")
                 .values(arrival_status="no_show", arrival_marked_at=now,
                         arrival_marked_by=actor.user_id, ended_at=now,
                         ended_by=actor.user_id)) != 1:
        raise Conflict("Only a placement that is on the way can be marked as not come.")
    session.refresh(placement)
    audit.record(session, actor=actor, action="placement.no_show", object_type="placement",
                 object_id=placement.id, now=now, location_id=placement.location_id,
                 unit_id=placement.unit_id, request_id=placement.request_id)
    audit.record(session, actor=actor, action="request.reopened",
                 object_type="placement_request", object_id=placement.request_id, now=now,
                 cause="no_show")


def discharge(session: Session, placement: Placement, *, ended_at: datetime,
              actor: Principal, now: datetime) -> None:
    """End a placement at `ended_at`: occupied → free (a unit closed meanwhile stays closed)."""
    ended = _rowcount(session, update(Placement)
                      .where(Placement.id == placement.id, Placement.ended_at.is_(None))
                      .values(ended_at=ended_at, ended_by=actor.user_id))
    if ended != 1:
        raise Conflict("The placement has ended already.")
    _free_occupied_unit(session, placement.unit_id, cause="discharge", actor=actor, now=now)
    audit.record(session, actor=actor, action="placement.discharged",
                 object_type="placement", object_id=placement.id, now=now,
                 location_id=placement.location_id, unit_id=placement.unit_id,
                 ended_at=ended_at.isoformat())


def set_by_hand(session: Session, unit: UnitRecord, *, actor: Principal, now: datetime,
                status: str | None = None, beds: int | None = None,
                if_match: Collection[int] | None = None) -> UnitRecord:
    """Set a unit's status and/or beds by hand; return it as it is afterwards.

    `if_match` holds the versions the caller accepts (from If-Match); None applies the
    change to the current version: last write wins, by the caller's choice. A held or
    placed unit keeps its status (409) and keeps beds enough for its household (409).
    A change to the values it has already changes nothing: no new version, no history.
    """
    for current in _reads(session, unit.id, first=unit):
        if if_match is not None and current.version not in if_match:
            raise _stale(current.version)
        before = effective_status(current, now)
        after = status or before
        new_beds = current.beds if beds is None else beds
        if after == before and new_beds == current.beds:
            return current
        changed = _write(session, current, now=now, actor=actor, cause="manual",
                         guard=_hand_change_guard(current, now, after, new_beds),
                         status=after, held_until=None if after != "held" else current.held_until,
                         beds=new_beds)
        if changed is not None:
            break
        # Nothing matched: find out which condition failed, with a fresh read.
        latest = read_unit(session, unit.id)
        if latest is not None and latest.version == current.version:
            raise _why_not(session, current, now, status_change=after != before,
                           beds=new_beds)
        if if_match is not None:
            raise _stale(latest.version if latest is not None else current.version)
        # No If-Match: someone else's change landed first; apply ours to the new version.
    else:
        raise _kept_changing()
    audit.record(session, actor=actor, action="unit.updated", object_type="unit",
                 object_id=current.id, now=now, location_id=current.location_id,
                 from_status=before, to_status=after, from_beds=current.beds,
                 to_beds=new_beds, version=changed.version)
    mark_availability_checked(session, current.location_id, now)
    return changed


def expire_holds_of_request(session: Session, request_id: str, *, now: datetime) -> int:
    """Write down the holds of a request that have run out; return how many.

    Only the hold rows: their units are free to every reader already, and each is written
    down when someone next changes it or the sweeper runs. Locking those units here, while
    holding the request and perhaps another unit, could deadlock with a second request.
    """
    return _expire_holds(session, Hold.request_id == request_id, now)


def expire_due(session: Session, *, now: datetime) -> SweepResult:
    """Write down every hold past expires_at as expired and free its unit.

    Only tidying: every read already treats these holds as expired. Rows another
    transaction has locked are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL), so the
    sweeper never waits and never deadlocks; a later run takes what this one skipped.
    """
    holds = _expire_holds(session, true(), now, skip_locked=True)
    units = [UnitRecord(*row) for row in session.execute(
        select(*_UNIT_COLUMNS)
        .where(Unit.status == "held", Unit.held_until <= now)
        .with_for_update(skip_locked=True)
    )]
    freed = 0
    for unit in units:
        # The expiry is the change itself: its history row is the write-down's.
        if _write(session, unit, now=now, actor=None, cause=None, skip_locked=True,
                  guard=(Unit.status == "held", Unit.held_until <= now), status="free",
                  held_until=None) is not None:
            freed += 1
    return SweepResult(holds=holds, units=freed)


# --- what the transitions share -----------------------------------------------------------


def record_change(
    session: Session,
    *,
    unit_id: str,
    location_id: str,
    now: datetime,
    actor: Principal | None,
    cause: str,
    from_status: str | None,
    to_status: str,
    from_beds: int | None,
    to_beds: int,
) -> None:
    """Append one row to the unit history (who, when, from what to what, why)."""
    session.add(
        UnitChange(
            unit_id=unit_id,
            location_id=location_id,
            changed_at=now,
            changed_by=actor.user_id if actor else None,
            cause=cause,
            from_status=from_status,
            to_status=to_status,
            from_beds=from_beds,
            to_beds=to_beds,
        )
    )


def mark_availability_checked(session: Session, location_id: str, now: datetime) -> None:
    """Move the location's availability_updated_at to `now`.

    Only a coordinator's change or confirmation does this: a hold or placement made by the
    system says nothing about whether the location's other units are still right.
    """
    session.execute(
        update(Location).where(Location.id == location_id).values(availability_updated_at=now)
    )


def _reads(session: Session, unit_id: str, first: UnitRecord | None = None
           ) -> Iterator[UnitRecord]:
    """Yield the unit as the database holds it, afresh each time, MAX_ATTEMPTS times."""
    for attempt in range(MAX_ATTEMPTS):
        unit = first if attempt == 0 and first is not None else read_unit(session, unit_id)
        if unit is None:
            raise NotFound("No unit with this id.")
        yield unit


def _hold_free_unit(session: Session, request: PlacementRequest, unit_id: str, *,
                    expires_at: datetime, actor: Principal | None, created_by: str,
                    offer: bool, not_free: str, now: datetime) -> Hold:
    """Take a free unit for `request` until `expires_at` and add its active hold row.

    What a hold by a crisis worker and an offer by the matcher share; each records its own
    audit event. 409 with `not_free` when the unit is not free at `now`.
    """
    for unit in _reads(session, unit_id):
        if effective_status(unit, now) != "free":
            raise Conflict(not_free)
        # Of many concurrent takers exactly one matches; the others read `held` next.
        if _write(session, unit, now=now, actor=actor, cause="hold", guard=(is_free_sql(now),),
                  status="held", held_until=expires_at) is not None:
            break
    else:
        raise _kept_changing()
    # A hold of this request that ran out unnoticed would trip the unique index of active
    # holds per request.
    expire_holds_of_request(session, request.id, now=now)
    new_hold = Hold(request_id=request.id, unit_id=unit.id, location_id=unit.location_id,
                    created_by=created_by, created_at=now, expires_at=expires_at,
                    status="active", offer=offer)
    _insert(session, new_hold)
    return new_hold


def _free_occupied_unit(session: Session, unit_id: str, *, cause: str, actor: Principal,
                        now: datetime) -> None:
    """Free the unit of a placement that ended: occupied → free.

    A unit that is not occupied any more (closed by hand meanwhile) is left as it is.
    """
    for unit in _reads(session, unit_id):
        if unit.status != "occupied":
            return
        if _write(session, unit, now=now, actor=actor, cause=cause,
                  guard=(Unit.status == "occupied",), status="free") is not None:
            return
    raise _kept_changing()


def _kept_changing() -> Conflict:
    return Conflict("The unit kept changing while we tried to change it; try again.")


def _write(session: Session, unit: UnitRecord, *, now: datetime, actor: Principal | None,
           cause: str | None, guard: tuple[ColumnElement[bool], ...],
           skip_locked: bool = False, **values: Any) -> UnitRecord | None:
    """Change a unit read as `unit`, if it still is: one UPDATE, one new version, history.

    The one UPDATE of units in the code base. Return the unit as changed, or None when it
    changed since it was read or `guard` fails; then nothing was written. `cause` None: the
    change is the write-down of an expiry, whose history row is all there is to say.
    """
    row = session.execute(
        update(Unit)
        .where(Unit.id == unit.id, Unit.version == unit.version, *guard)
        .values(version=Unit.version + 1, updated_at=now, **values)
        .returning(*_UNIT_COLUMNS)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    _forget_cached(session, unit.id)
    changed = UnitRecord(*row)  # type: ignore[call-arg]  # _UNIT_COLUMNS, in order
    if changed.status == "free":
        # A unit that is free now (freed, or given more beds) may fit a waiting request.
        wake_matcher(session, cause=cause or "expire", now=now)
    before = effective_status(unit, now)
    if unit.status == "held" and before == "free":
        _write_down_expiry(session, unit, now, skip_locked=skip_locked)
    if cause is not None:
        record_change(session, unit_id=unit.id, location_id=unit.location_id, now=now,
                      actor=actor, cause=cause, from_status=before, to_status=changed.status,
                      from_beds=unit.beds, to_beds=changed.beds)
    return changed


def _forget_cached(session: Session, unit_id: str) -> None:
    """Make a Unit object the caller holds read afresh: our UPDATEs bypass the ORM."""
    cached = session.identity_map.get(identity_key(Unit, unit_id))
    if cached is not None:
        session.expire(cached)


def _write_down_expiry(session: Session, unit: UnitRecord, now: datetime, *,
                       skip_locked: bool = False) -> int:
    """Record that the hold on `unit` ran out; expire its hold rows; return how many.

    Called once the unit's row has left its expired `held` status in this transaction (so
    its lock is ours, and its hold rows follow it in the lock order). The history row is
    dated when the hold ran out, by nobody: time did it.
    """
    assert unit.held_until is not None
    record_change(session, unit_id=unit.id, location_id=unit.location_id,
                  now=unit.held_until, actor=None, cause="expire", from_status="held",
                  to_status="free", from_beds=unit.beds, to_beds=unit.beds)
    return _expire_holds(session, Hold.unit_id == unit.id, now, skip_locked=skip_locked)


def _expire_holds(session: Session, which: ColumnElement[bool], now: datetime, *,
                  skip_locked: bool = False) -> int:
    """Write down the active holds past expires_at among `which`; audit each once."""
    due: tuple[ColumnElement[bool], ...] = (which, Hold.status == "active",
                                            Hold.expires_at <= now)
    if skip_locked:
        due = (Hold.id.in_(select(Hold.id).where(*due).with_for_update(skip_locked=True)),
               Hold.status == "active")
    expired = session.execute(
        update(Hold)
        .where(*due)
        .values(status="expired", ended_at=Hold.expires_at)
        .returning(Hold.id, Hold.unit_id, Hold.request_id)
        .execution_options(synchronize_session=False)
    ).all()
    for hold_id, unit_id, request_id in expired:
        audit.record(session, actor=None, action="hold.expired", object_type="hold",
                     object_id=hold_id, now=now, unit_id=unit_id, request_id=request_id)
    return len(expired)


def _held_by(unit: UnitRecord, active: Hold, now: datetime) -> bool:
    return (unit.status == "held" and unit.held_until == active.expires_at
            and unit.held_until > now)


def _held_by_sql(active: Hold, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Unit.status == "held", Unit.held_until == active.expires_at, Unit.held_until > now)


def _end_hold(session: Session, active: Hold, *, status: str, now: datetime) -> None:
    """Move an active, unexpired hold to `status`, or raise 409 (it changed meanwhile)."""
    ended = _rowcount(session, update(Hold)
                      .where(Hold.id == active.id, active_hold_sql(now))
                      .values(status=status, ended_at=now))
    if ended != 1:
        raise Conflict("The hold is no longer active.")
    session.refresh(active)


def _insert(session: Session, row: Hold | Placement) -> None:
    """Insert a hold or placement; 409 when a unique index refuses it.

    The partial unique indexes catch what the conditional UPDATEs should have: two active
    holds on a unit or a request, or two open placements on a unit. Transitions run inside
    a command's savepoint (shelter_match.db.command), which the 409 rolls back, failed
    insert and all; no savepoint of its own, which would cost two more round trips.
    """
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(TAKEN_MEANWHILE) from error


def _rowcount(session: Session, statement: Any) -> int:
    return rowcount(session.execute(statement.execution_options(synchronize_session=False)))


# --- why a change by hand is refused --------------------------------------------------------


def _hand_change_guard(unit: UnitRecord, now: datetime, status: str, beds: int
                       ) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions under which a hand change may land, checked by the UPDATE.

    Why in the statement: the version pins the row to what we read, and the hold and
    placement conditions are checked by the database at the same moment, so nothing can
    slip in between a check and the write.
    """
    guard: list[ColumnElement[bool]] = []
    if status != effective_status(unit, now):
        live_hold = exists().where(Hold.unit_id == Unit.id, active_hold_sql(now))
        open_placement = exists().where(Placement.unit_id == Unit.id,
                                        Placement.ended_at.is_(None))
        guard += [
            not_(live_hold),
            not_(open_placement),
            # A unit marked held until later is held, with or without its hold row.
            not_(and_(Unit.status == "held", Unit.held_until > now)),
        ]
    if beds < unit.beds:
        held_household = (
            select(func.max(PlacementRequest.adults + PlacementRequest.children))
            .join(Hold, Hold.request_id == PlacementRequest.id)
            .where(Hold.unit_id == Unit.id, active_hold_sql(now))
            .scalar_subquery()
        )
        placed_household = (
            select(func.max(Placement.household_size))
            .where(Placement.unit_id == Unit.id, Placement.ended_at.is_(None))
            .scalar_subquery()
        )
        guard += [beds >= func.coalesce(held_household, 0),
                  beds >= func.coalesce(placed_household, 0)]
    return tuple(guard)


def _stale(version: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"The unit has changed: it is at version {version} now. Fetch it again, check that "
        f'the change still makes sense, and send it with If-Match: "{version}".'
    )


def _why_not(session: Session, unit: UnitRecord, now: datetime, *, status_change: bool,
             beds: int) -> Conflict:
    """Return the 409 that says which hold or placement blocked a change, and what to do."""
    held = session.execute(
        select(Hold.expires_at, PlacementRequest.adults + PlacementRequest.children)
        .join(PlacementRequest, PlacementRequest.id == Hold.request_id)
        .where(Hold.unit_id == unit.id, active_hold_sql(now))
    ).first()
    placed = session.scalar(
        select(Placement.household_size).where(
            Placement.unit_id == unit.id, Placement.ended_at.is_(None)
        )
    )
    if held is not None:
        until = held[0].strftime("%H:%M UTC")
        if status_change:
            return Conflict(
                f"The unit is held for a placement request until {until}; the hold must be "
                "released (or expire) before its status can be changed by hand."
            )
        return Conflict(
            f"The unit is held for a household of {held[1]} until {until}; it cannot have "
            f"fewer beds than that while the hold lasts."
        )
    if placed is not None:
        if status_change:
            return Conflict(
                "The unit is occupied by a placement; the placement must be discharged "
                "before its status can be changed by hand."
            )
        return Conflict(
            f"The unit is occupied by a household of {placed}; it cannot have fewer beds "
            "than that until the placement is discharged."
        )
    if unit.status == "held":
        return Conflict(
            "The unit is held; the hold must be released (or expire) before its status can "
            "be changed by hand."
        )
    return Conflict("The unit changed while we tried to change it; try again.")
