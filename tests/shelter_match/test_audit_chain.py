"""The audit log's hash chain: every change to the log is found by `audit verify`.

Tampering is done the way only the tables' owner (or a superuser) can: the triggers are
dropped or disabled first, inside the test's transaction, which is rolled back after.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.migrate import upgrade
from shelter_match.models import AuditEvent, AuditLink
from shelter_match.services import audit
from shelter_match.services.audit import verify_chain
from testbed.cli import run_cli
from testbed.databases import create_empty_database, drop_database


def write_events(session: Session, clock, count: int, *, per_commit: int = 1) -> list[int]:
    """Write `count` events, committing every `per_commit`; return their ids."""
    ids = []
    for n in range(count):
        audit.record(session, actor=None, action="test.event", object_type="test",
                     object_id=str(n), now=clock.now() + timedelta(seconds=n), n=n,
                     nested={"b": [1, 2.5, None], "a": "zoë"})
        if (n + 1) % per_commit == 0:
            session.commit()
    session.commit()
    ids = list(session.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.event")
                               .order_by(AuditEvent.id)))
    return ids


def without_guards(connection, statement: str, **params) -> None:
    """Run `statement` past the append-only triggers, as only an owner could."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text("ALTER TABLE audit_chain DISABLE TRIGGER USER"))
        connection.execute(text(statement), params)
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        connection.execute(text("ALTER TABLE audit_chain ENABLE TRIGGER USER"))
    else:
        for trigger in ("audit_events_no_update", "audit_events_no_delete",
                        "audit_chain_no_update", "audit_chain_no_delete"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        connection.execute(text(statement), params)


def test_every_committed_event_is_linked_and_the_chain_verifies(session, connection, clock):
    ids = write_events(session, clock, 5, per_commit=2)
    linked = session.scalars(select(AuditLink.event_id).order_by(AuditLink.seq)).all()
    assert linked == ids
    report = verify_chain(connection)
    assert report.intact and report.events == 5 and len(report.head) == 64


def test_an_event_rolled_back_in_a_savepoint_leaves_no_link(session, connection, clock):
    audit.record(session, actor=None, action="kept", object_type="test", object_id="1",
                 now=clock.now())
    try:
        with session.begin_nested():
            audit.record(session, actor=None, action="undone", object_type="test",
                         object_id="2", now=clock.now())
            session.flush()
            raise RuntimeError("the transition failed")
    except RuntimeError:
        pass
    session.commit()
    assert session.scalars(select(AuditEvent.action)).all() == ["kept"]
    assert session.scalar(select(func.count()).select_from(AuditLink)) == 1
    assert verify_chain(connection).intact


def test_an_uncommitted_event_is_not_linked_and_the_next_commit_does_not_link_it(
        session, connection, clock):
    audit.record(session, actor=None, action="rolled.back", object_type="test", object_id="1",
                 now=clock.now())
    session.flush()
    session.rollback()
    write_events(session, clock, 1)
    assert session.scalar(select(func.count()).select_from(AuditLink)) == 1
    assert verify_chain(connection).intact


@pytest.mark.parametrize(("tamper", "kind", "which"), [
    ("UPDATE audit_events SET detail = '{\"n\": 99}' WHERE id = :third", "altered", 2),
    ("UPDATE audit_events SET actor_name = 'someone' WHERE id = :third", "altered", 2),
    ("UPDATE audit_events SET at = at WHERE id = :third", None, None),  # no change: intact
    ("DELETE FROM audit_events WHERE id = :third", "removed", 2),
    ("DELETE FROM audit_chain WHERE event_id = :third", "inserted", 2),  # unlinked
    ("DELETE FROM audit_events WHERE id IN (:third, :fourth)", "removed", 2),
    ("INSERT INTO audit_events (id, at, action, object_type, detail) "
     "SELECT :last + 1, at, 'forged', 'test', '{}' FROM audit_events WHERE id = :third",
     "inserted", "new"),
])
def test_verify_names_the_first_event_altered_removed_or_inserted(
        session, connection, clock, tamper, kind, which):
    ids = write_events(session, clock, 6, per_commit=3)
    without_guards(connection, tamper, third=ids[2], fourth=ids[3], last=ids[-1])
    report = verify_chain(connection)
    if kind is None:
        assert report.intact
        return
    assert not report.intact and report.problem.kind == kind
    expected = ids[-1] + 1 if which == "new" else ids[which]
    assert report.problem.event_id == expected
    assert f"event {expected}" in str(report.problem)


def test_an_event_rewritten_with_a_rehashed_link_breaks_the_next_link(
        session, connection, clock):
    """Recomputing one link's hash is not enough: the next link holds the old one."""
    ids = write_events(session, clock, 4)
    without_guards(connection, "UPDATE audit_events SET detail = '{}' WHERE id = :id",
                   id=ids[1])
    row = connection.execute(
        select(*audit.EVENT_COLUMNS).where(AuditEvent.id == ids[1])).one()
    link = connection.execute(select(AuditLink).where(AuditLink.event_id == ids[1])).one()
    without_guards(connection, "UPDATE audit_chain SET hash = :hash WHERE seq = :seq",
                   hash=audit.link_hash(link.seq, link.prev_hash, row), seq=link.seq)
    report = verify_chain(connection)
    assert report.problem.kind == "removed" and report.problem.event_id == ids[2]


def test_an_anchor_finds_the_newest_events_removed(session, connection, clock):
    ids = write_events(session, clock, 4)
    anchor = verify_chain(connection).head
    assert verify_chain(connection, anchor=anchor).intact
    without_guards(connection, "DELETE FROM audit_chain WHERE event_id = :id", id=ids[-1])
    without_guards(connection, "DELETE FROM audit_events WHERE id = :id", id=ids[-1])
    assert verify_chain(connection).intact  # a chain alone cannot see its tail cut off
    assert verify_chain(connection, anchor=anchor).anchor_found is False


def test_audit_verify_command_exit_status_and_message(fresh_database_url):
    assert run_cli("user", "add", "auditor", "--role", "admin",
                   database_url=fresh_database_url).returncode == 0
    assert run_cli("user", "revoke", "auditor", database_url=fresh_database_url).returncode == 0
    intact = run_cli("audit", "verify", database_url=fresh_database_url)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit trail intact: 2 event(s), head ")
    head = intact.stdout.split()[-1]
    assert run_cli("audit", "verify", "--anchor", head,
                   database_url=fresh_database_url).returncode == 0
    engine = create_database_engine(fresh_database_url)
    with engine.begin() as connection:
        first = connection.execute(select(func.min(AuditEvent.id))).scalar_one()
        without_guards(connection, "UPDATE audit_events SET actor_name = 'nobody' WHERE id = :id",
                       id=first)
    engine.dispose()
    broken = run_cli("audit", "verify", database_url=fresh_database_url)
    assert broken.returncode == 1
    assert broken.stderr.strip() == (
        f"shelter-match: error: audit trail broken: event {first} (chain position 1) altered: "
        "its content no longer matches its hash")
    # The listing still works beside the new subcommand.
    assert run_cli("audit", "--action", "token.revoked",
                   database_url=fresh_database_url).stdout.count("\n") == 1


def test_the_migration_links_the_events_already_in_the_log(backend, tmp_path):
    url = create_empty_database(backend, tmp_path)
    engine = create_database_engine(url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            for n in range(3):
                connection.execute(
                    text("INSERT INTO audit_events (at, action, object_type, detail) "
                         "VALUES (:at, 'old.event', 'test', :detail)"),
                    {"at": f"2026-11-0{n + 1} 10:00:00", "detail": f'{{"n": {n}}}'})
        upgrade(engine)
        with engine.connect() as connection:
            report = verify_chain(connection)
            assert report.intact and report.events == 3
    finally:
        engine.dispose()
        drop_database(url)


@pytest.mark.postgres_only
def test_concurrent_appenders_never_fork_the_chain(postgres_url, clock):
    """Eight writers commit audited transactions at once; the chain stays one line."""
    engine = create_database_engine(postgres_url)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            start.wait()
            for round_ in range(15):
                with Session(engine) as session, session.begin():
                    for part in range(2):
                        audit.record(session, actor=None, action="test.concurrent",
                                     object_type="test", object_id=f"{number}-{round_}-{part}",
                                     now=clock.now())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        with engine.connect() as connection:
            report = verify_chain(connection)
            seqs = connection.execute(select(AuditLink.seq).order_by(AuditLink.seq)).scalars()
            assert list(seqs) == list(range(1, 8 * 15 * 2 + 1))
        assert report.intact and report.events == 8 * 15 * 2
    finally:
        engine.dispose()
