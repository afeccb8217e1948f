"""`shelter-match matcher`: the long-running process that works the waiting list.

Woken by changes, never polling the tables in a busy loop: on PostgreSQL it LISTENs on
matcher_signal.CHANNEL, which every change that frees a unit or puts a request on the list
NOTIFYs at its commit; the outbox table (matcher_wakeups) keeps what arrived while no
matcher listened. Every PERIOD_SECONDS it also runs without being woken, to write down
holds that ran out (time is data: every read treats them as expired already; this frees
their units for the matcher and escalates expired offers at once), and every
FULL_RUN_EVERY periods it matches whether or not anything woke it, a safety net.

Exactly one matcher is active among many: the one that holds a session-level advisory
lock on its listening connection. The others wait on standby and take over within
STANDBY_POLL_SECONDS of the active one's connection closing (its process died). Each run
also takes a transaction-level advisory lock, so no two runs ever overlap, whatever
happens to the listening connections. A run is one transaction (waitlist.run_matcher): a
matcher killed mid-run leaves nothing half done, and the next run repeats it whole.

On SQLite (the embedded default) `serve` runs it in a thread of every gunicorn worker,
polling the outbox once a second; a lock on a file beside the database makes one of them
the active one (_file_lock).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from shelter_match.clock import Clock, system_clock
from shelter_match.services import delivery, waitlist
from shelter_match.services.matcher_signal import CHANNEL, pending_wakeups
from shelter_match.services.waitlist import MatcherRun
from solver import DistanceCache

log = logging.getLogger("shelter_match.matcher")

PERIOD_SECONDS = 5.0
FULL_RUN_EVERY = 12  # periods: a full match at least once a minute
STANDBY_POLL_SECONDS = 1.0
SQLITE_POLL_SECONDS = 1.0
# Advisory lock keys (any two numbers no other code uses): who is active, and who runs.
ACTIVE_LOCK = 0x5348_4D41  # "SHMA"
RUN_LOCK = ACTIVE_LOCK + 1


def _mail_settings() -> delivery.MailSettings:
    """Return where notification e-mail goes, from the environment (load_settings)."""
    from shelter_match.config import load_settings

    settings = load_settings()
    return delivery.MailSettings(settings.smtp_url, settings.mail_from, settings.base_url)


class Matcher:
    """Run the matcher against one database until `stop` is set."""

    def __init__(self, engine: Engine, clock: Clock = system_clock, *,
                 period: float = PERIOD_SECONDS,
                 on_run: Callable[[MatcherRun], None] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.period = period
        self.on_run = on_run
        self.active = threading.Event()
        self.postgres = engine.dialect.name == "postgresql"
        self.mail = _mail_settings()
        # Each waiting request's distances to the locations, kept for the process's life:
        # the next run measures only new requests and new locations (issue 16).
        self.distances = DistanceCache()

    def run_once(self, *, force: bool = False) -> MatcherRun | None:
        """Run once, in one transaction; None when another matcher's run holds the lock."""
        with Session(self.engine) as session, session.begin():
            if self.postgres and not session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RUN_LOCK}):
                return None
            run = waitlist.run_matcher(session, now=self.clock.now(), force=force,
                                       cache=self.distances)
        if run.offers or run.escalated or run.refused:
            log.info("matcher run: %d waiting, %d offer(s), %d refused, %d escalated",
                     run.waiting, len(run.offers), run.refused, run.escalated)
        self._deliver()
        if self.on_run is not None:
            self.on_run(run)
        return run

    def _deliver(self) -> None:
        """Send the notification outbox (each delivery in its own short transaction).

        A receiver that is down is logged and retried by delivery itself; anything else
        going wrong here must not stop the matching.
        """
        try:
            delivery.deliver_due(lambda: Session(self.engine), now=self.clock.now,
                                 mail=self.mail)
        except Exception:  # noqa: BLE001 - the matcher outlives a broken sender
            log.exception("notification delivery failed; the matcher goes on")

    def serve(self, stop: threading.Event) -> None:
        """Match until `stop` is set; on PostgreSQL, stand by until this one is active."""
        if self.postgres:
            while not stop.is_set():
                try:
                    self._serve_postgres(stop)
                except psycopg.OperationalError as error:
                    self.active.clear()
                    log.warning("matcher: lost the database (%s); standing by",
                                str(error).strip().splitlines()[0] if str(error) else "")
                    stop.wait(STANDBY_POLL_SECONDS)
        else:
            self._serve_polling(stop)

    def _serve_postgres(self, stop: threading.Event) -> None:
        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as listener:
            # Active: the one whose connection holds the lock. It is released when that
            # connection closes, however the process ends.
            while not stop.is_set():
                row = listener.execute("SELECT pg_try_advisory_lock(%s)", (ACTIVE_LOCK,)).fetchone()
                if row is not None and row[0]:
                    break
                stop.wait(STANDBY_POLL_SECONDS)
            else:
                return
            listener.execute(f"LISTEN {CHANNEL}")
            self.active.set()
            log.info("matcher: active")
            try:
                self.run_once(force=True)  # what happened while no matcher was active
                periods = 0
                while not stop.is_set():
                    woken = any(True for _ in listener.notifies(timeout=self.period,
                                                                stop_after=1))
                    periods = 0 if woken else periods + 1
                    self.run_once(force=periods >= FULL_RUN_EVERY)
                    if periods >= FULL_RUN_EVERY:
                        periods = 0
            finally:
                self.active.clear()

    def _serve_polling(self, stop: threading.Event) -> None:
        with _file_lock(self.engine, stop) as locked:
            if locked:
                self._poll(stop)

    def _poll(self, stop: threading.Event) -> None:
        self.active.set()
        since_run, periods = self.period, FULL_RUN_EVERY  # a full run at once
        try:
            while not stop.is_set():
                if since_run >= self.period or self._pending():
                    periods = periods + 1 if since_run >= self.period else 0
                    self.run_once(force=periods >= FULL_RUN_EVERY)
                    since_run = 0.0
                    if periods >= FULL_RUN_EVERY:
                        periods = 0
                stop.wait(SQLITE_POLL_SECONDS)
                since_run += SQLITE_POLL_SECONDS
        finally:
            self.active.clear()

    def _pending(self) -> bool:
        with Session(self.engine) as session:
            return pending_wakeups(session) is not None


@contextmanager
def _file_lock(engine: Engine, stop: threading.Event) -> Iterator[bool]:
    """Hold an exclusive lock on a file beside the SQLite database; yield whether we got it.

    The embedded matcher runs in a thread of each gunicorn worker (a SQLite connection must
    never be carried across a fork, so not in the master, which forks): the worker that
    holds this lock is the active one, the others stand by. The lock ends with its process.
    """
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with open(f"{database}.matcher-lock", "a") as handle:
        while not stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                stop.wait(STANDBY_POLL_SECONDS)
        else:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def serve_guarded(matcher: Matcher, stop: threading.Event) -> None:
    """Serve until `stop`; a failed run is logged and retried, never the end of matching."""
    while not stop.is_set():
        try:
            matcher.serve(stop)
        except Exception:  # a bug or an outage must not end matching for good
            log.exception("matcher: run failed; trying again")
            stop.wait(PERIOD_SECONDS)


def start_in_thread(engine: Engine, clock: Clock = system_clock) -> tuple[threading.Thread,
                                                                          threading.Event]:
    """Start a matcher in a daemon thread (the embedded default); return it and its stop."""
    stop = threading.Event()
    thread = threading.Thread(target=serve_guarded, args=(Matcher(engine, clock), stop),
                              name="shelter-match-matcher", daemon=True)
    thread.start()
    return thread, stop
