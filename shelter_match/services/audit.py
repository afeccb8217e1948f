"""Write the append-only audit log, chain it by hash, and verify the chain.

Every event is one row of `audit_events`, written at once. When the transaction commits,
its events are appended to the hash chain (`audit_chain`): each link holds the previous
link's hash and SHA-256 over that hash and the event's canonical JSON. `verify_chain`
walks the chain and names the first event that was altered, removed or inserted.

Why the chain is appended at commit and not when the event is written: appending needs
the chain's head, so appenders must take turns (a lock). Taken at commit, the lock is the
last one a transaction asks for and it is held only for the two statements of the
append, so audited writes never wait on each other for longer than that, and no
transaction can hold the chain while waiting for a row that another, waiting for the
chain, holds (no deadlock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from shelter_match.models import AuditEvent, AuditLink
from shelter_match.services.auth import Principal

# The hash of the link before the first: 64 zeros.
GENESIS = "0" * 64
# Named in the hash, so that a future change of the canonical form is a new version.
CHAIN_VERSION = "shelter-match audit v1"
# pg_advisory_xact_lock key of the chain (any constant unique in this database; other
# advisory locks of the service must use other keys). Held from the head's read to commit.
CHAIN_LOCK_KEY = 0x5348_4D41_5544_4954 & 0x7FFF_FFFF_FFFF_FFFF  # "SHMAUDIT"
_PENDING = "shelter_match.audit.pending_event_ids"
_IN_CHUNKS = 1000

events_table: Table = AuditEvent.__table__  # type: ignore[assignment]
chain_table: Table = AuditLink.__table__  # type: ignore[assignment]
EVENT_COLUMNS = (
    events_table.c.id,
    events_table.c.at,
    events_table.c.actor_id,
    events_table.c.actor_name,
    events_table.c.action,
    events_table.c.object_type,
    events_table.c.object_id,
    events_table.c.detail,
)


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: str | None,
    now: datetime,
    **detail: object,
) -> None:
    """Append one audit event. `detail` must never hold client data or free text."""
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.user_id if actor else None,
            actor_name=actor.name if actor else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    )


def list_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_name: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    """Return audit events in time order, filtered by period, user and action."""
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if actor_name is not None:
        query = query.where(AuditEvent.actor_name == actor_name)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


# -- the canonical form and the hash ------------------------------------------------------

def canonical_event(row: Row[Any] | Any) -> bytes:
    """Return an event row (as read from the database) as canonical JSON bytes."""
    at: datetime = row.at
    document = {
        "id": row.id,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "detail": row.detail,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def link_hash(seq: int, prev_hash: str, row: Row[Any] | Any) -> str:
    """Return the hash of the link at `seq`: over the previous hash and the event."""
    digest = hashlib.sha256(f"{CHAIN_VERSION}\n{seq}\n{prev_hash}\n".encode("ascii"))
    digest.update(canonical_event(row))
    return digest.hexdigest()


# -- appending: at commit, under the chain's lock -----------------------------------------

def append_to_chain(connection: Connection, event_ids: Iterable[int]) -> int:
    """Link the events `event_ids` (in id order) to the chain's head; return how many.

    Runs inside the caller's transaction. On PostgreSQL a transaction-level advisory lock
    makes appenders take turns until they commit; READ COMMITTED (the default) then reads
    the head the previous appender committed. On SQLite every writing transaction holds
    the database's write lock from BEGIN IMMEDIATE, so appenders take turns already.
    Whatever happens, `seq` is the primary key: two links at one position cannot commit.
    """
    wanted = sorted(set(event_ids))
    if not wanted:
        return 0
    # Read the events before taking the lock: the lock is held until commit, so every
    # statement before it is one that other appenders need not wait for. Events written in
    # a savepoint that was rolled back are gone: only those that exist are linked.
    rows: list[Row[Any]] = []
    for start in range(0, len(wanted), _IN_CHUNKS):
        rows.extend(connection.execute(
            select(*EVENT_COLUMNS).where(events_table.c.id.in_(wanted[start:start + _IN_CHUNKS]))
            .order_by(events_table.c.id)
        ))
    if not rows:
        return 0
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,))
    head = connection.execute(
        select(chain_table.c.seq, chain_table.c.hash).order_by(chain_table.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    links = []
    for row in rows:
        seq += 1
        this_hash = link_hash(seq, prev_hash, row)
        links.append({"seq": seq, "event_id": row.id, "prev_hash": prev_hash,
                      "hash": this_hash})
        prev_hash = this_hash
    if links:
        connection.execute(insert(chain_table), links)
    return len(links)


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _flush_context: object) -> None:
    # After a flush the new events have their ids; session.new still lists them here.
    ids = [obj.id for obj in session.new if isinstance(obj, AuditEvent)]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


@event.listens_for(Session, "before_commit")
def _chain_new_events(session: Session) -> None:
    # A savepoint's release is not the commit: chain once, when the transaction commits.
    if session.in_nested_transaction():
        return
    session.flush()  # events added since the last flush get their ids now
    ids = session.info.pop(_PENDING, None)
    if ids:
        append_to_chain(session.connection(), ids)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending_events(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended: committed or rolled back
        session.info.pop(_PENDING, None)


# -- verifying ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain and the events disagree."""

    kind: str  # "altered", "removed" or "inserted"
    event_id: int | None
    seq: int | None
    explanation: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "an event"
        position = f" (chain position {self.seq})" if self.seq is not None else ""
        return f"{where}{position} {self.kind}: {self.explanation}"


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str
    problem: ChainProblem | None = None
    anchor_found: bool | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None and self.anchor_found is not False


def verify_chain(connection: Connection, *, anchor: str | None = None) -> ChainReport:
    """Walk the chain in order and return the first event altered, removed or inserted.

    `anchor` is a head printed by an earlier verification and kept elsewhere: a chain that
    no longer holds it lost its newest events (which a chain alone cannot show) or was
    rewritten as a whole.
    """
    expected_seq, prev_hash, previous_event = 1, GENESIS, None
    anchor_found = None if anchor is None else False
    problem: ChainProblem | None = None
    query = (
        select(chain_table.c.seq, chain_table.c.event_id.label("linked_id"),
               chain_table.c.prev_hash, chain_table.c.hash.label("link_hash"), *EVENT_COLUMNS)
        .select_from(chain_table.outerjoin(events_table,
                                           events_table.c.id == chain_table.c.event_id))
        .order_by(chain_table.c.seq)
        .execution_options(yield_per=1000)
    )
    count = 0
    for row in connection.execute(query):
        if row.seq != expected_seq or row.prev_hash != prev_hash:
            after = f"after event {previous_event}" if previous_event else "at the start"
            missing = (f"chain positions {expected_seq} to {row.seq - 1} are missing"
                       if row.seq != expected_seq else "its link does not follow the one before")
            problem = ChainProblem("removed", row.linked_id, row.seq,
                                   f"{missing}: an event {after} was removed, or the chain was "
                                   "rewritten there")
            break
        if row.id is None:
            problem = ChainProblem("removed", row.linked_id, row.seq,
                                   "the chain links it but the event is gone")
            break
        if link_hash(row.seq, prev_hash, row) != row.link_hash:
            problem = ChainProblem("altered", row.id, row.seq,
                                   "its content no longer matches its hash")
            break
        prev_hash, previous_event = row.link_hash, row.id
        if anchor is not None and row.link_hash == anchor:
            anchor_found = True
        expected_seq += 1
        count += 1
    unlinked = connection.execute(
        select(events_table.c.id)
        .select_from(events_table.outerjoin(chain_table,
                                            chain_table.c.event_id == events_table.c.id))
        .where(chain_table.c.seq.is_(None))
        .order_by(events_table.c.id).limit(1)
    ).scalar()
    if unlinked is not None and (problem is None or problem.event_id is None
                                 or unlinked < problem.event_id):
        problem = ChainProblem("inserted", unlinked, None,
                               "it is not in the chain (written past the service, or its "
                               "link removed)")
    return ChainReport(events=count, head=prev_hash, problem=problem, anchor_found=anchor_found)
