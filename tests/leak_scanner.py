"""Scan every answer the app gives during the tests for secret location data.

A location's address and coordinates may reach only an admin, the location's own
coordinators and, once, the crisis worker who confirmed a placement there (an audited
`address.disclosed` event). Every other test in the suite exercises the app somehow; this
module listens to all of them, so a leak in any page or endpoint fails the run, not only
in the tests written to look for it.

How: SQLAlchemy events note each location written (its id, address, lat, lon) and each
audited address disclosure; Flask's `request_finished` signal hands us every response of
an in-process app (API and web pages alike) together with `g.principal`. A response to a
caller not entitled to a location must not hold its address (raw or HTML-escaped) nor its
coordinates (both numbers, as Python and JSON format floats). The scanner is per process,
so it works the same under xdist; `reset()` runs before each test.
Answers of a live server (a gunicorn subprocess, tests/live.py) are recorded on the client
side and scanned against that server's database when it stops (`scan_live_answers`).
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import markupsafe
import requests
from flask import g, request, request_finished
from sqlalchemy import event
from werkzeug.exceptions import HTTPException

from shelter_match.models import AuditEvent, Location

# Values too short, too word-like or too round to be told from other text ("A", "cancel",
# "0.0", a score of 5.5) are left out: they come from fuzzed locations, never from a real
# address book (a street, a number, a town).
MIN_ADDRESS_LENGTH = 8
ONE_WORD = re.compile(r"[A-Za-z_]+")
MIN_COORDINATE_DECIMALS = 2

SCANNED_TYPES = ("application/json", "application/problem+json", "text/html", "text/csv",
                 "text/plain")


@dataclass(frozen=True)
class Secret:
    location_id: str
    address: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Leak:
    location_id: str
    what: str
    path: str
    caller: str

    def __str__(self) -> str:
        return f"{self.what} of location {self.location_id} sent to {self.caller}: {self.path}"


@functools.lru_cache(maxsize=4096)
def number_pattern(value: float) -> re.Pattern[str]:
    """Match a coordinate as it is written in JSON or a page, not inside a longer number."""
    text = repr(float(value))
    variants = {re.escape(text), re.escape(text.replace(".", ","))}
    return re.compile(rf"(?<![\d.,]){'|'.join(sorted(variants))}(?![\d])")


def distinctive_address(address: str) -> bool:
    """Return whether an address is unlike any word or number the answers hold anyway."""
    address = address.strip()
    return len(address) >= MIN_ADDRESS_LENGTH and not ONE_WORD.fullmatch(address)


def distinctive(lat: float, lon: float) -> bool:
    """Return whether a point is written precisely enough to be recognised in any text."""
    return any(len(repr(float(value)).partition(".")[2]) >= MIN_COORDINATE_DECIMALS
               for value in (lat, lon))


def written_forms(address: str) -> set[str]:
    """Return the address as text, JSON and the two HTML escapings (Jinja's and Python's)."""
    return {address, str(markupsafe.escape(address)), html.escape(address),
            json.dumps(address)[1:-1]}


def request_body_text() -> str:
    """Return the body of the current request as text; empty when it was refused as too big."""
    try:
        return request.get_data(as_text=True)
    except HTTPException:
        return ""


@dataclass
class LeakScanner:
    secrets: list[Secret] = field(default_factory=list)
    disclosed: set[tuple[str, str]] = field(default_factory=set)  # (user id, location id)
    leaks: list[Leak] = field(default_factory=list)
    responses: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.secrets.clear()
            self.disclosed.clear()
            self.leaks.clear()

    def note_location(self, location: Location) -> None:
        if location.id is None or location.address is None:
            return
        secret = Secret(location.id, location.address, location.lat, location.lon)
        with self.lock:
            if secret not in self.secrets:
                self.secrets.append(secret)

    def note_disclosure(self, audit_event: AuditEvent) -> None:
        if audit_event.action == "address.disclosed" and audit_event.actor_id:
            with self.lock:
                self.disclosed.add((audit_event.actor_id, audit_event.object_id))

    def entitled(self, principal, location_id: str) -> bool:
        if principal is None:
            return False
        if principal.role == "admin":
            return True
        if principal.role == "coordinator" and location_id in principal.location_ids:
            return True
        return (principal.user_id, location_id) in self.disclosed

    def scan(self, principal, path: str, text: str, asked: str = "") -> list[Leak]:
        """Return the leaks in one answer `text` sent to `principal` (None: anonymous).

        A value the caller sent herself (`asked`: her URL and body) and got echoed back
        in a validation error is not a leak: the fuzzer does send such strings.
        """
        caller = "anonymous" if principal is None else f"{principal.role} {principal.name}"
        with self.lock:
            secrets = list(self.secrets)
        # A value shared with a location she may see (two test locations at one address)
        # tells her nothing new.
        allowed = [s for s in secrets if self.entitled(principal, s.location_id)]
        allowed_addresses = {s.address for s in allowed}
        allowed_points = {(s.lat, s.lon) for s in allowed}
        found = []
        for secret in secrets:
            if self.entitled(principal, secret.location_id):
                continue
            if distinctive_address(secret.address) and (
                secret.address not in allowed_addresses) and secret.address not in asked and any(
                form in text for form in written_forms(secret.address)
            ):
                found.append(Leak(secret.location_id, "address", path, caller))
            if distinctive(secret.lat, secret.lon) and (
                (secret.lat, secret.lon) not in allowed_points) and (
                number_pattern(secret.lat).search(text)
                and number_pattern(secret.lon).search(text)
            ) and not (number_pattern(secret.lat).search(asked)
                       and number_pattern(secret.lon).search(asked)):
                found.append(Leak(secret.location_id, "coordinates", path, caller))
        return found

    def on_response(self, sender, response, **_extra) -> None:
        if response.direct_passthrough or response.mimetype not in SCANNED_TYPES:
            return
        text = response.get_data(as_text=True)
        path = f"{request.method} {request.full_path}"
        asked = unquote_plus(request.full_path) + request_body_text()
        leaks = self.scan(g.get("principal"), path, text, asked)
        with self.lock:
            self.responses += 1
            self.leaks.extend(leaks)


scanner = LeakScanner()


def install() -> None:
    """Listen to every location write, audit event and in-process response."""
    for name in ("after_insert", "after_update"):
        event.listen(Location, name, lambda _mapper, _conn, target: scanner.note_location(target))
    event.listen(AuditEvent, "after_insert",
                 lambda _mapper, _conn, target: scanner.note_disclosure(target))
    request_finished.connect(scanner.on_response)


# --- Answers of a real server (tests/live.py) ----------------------------------------------

@dataclass(frozen=True)
class LiveAnswer:
    authorization: str | None
    has_cookie: bool
    path: str
    asked: str
    content_type: str
    text: str


@contextmanager
def recording_live_answers(base_url: str) -> Iterator[list[LiveAnswer]]:
    """Record every `requests` answer from `base_url` while the block runs (any thread)."""
    answers: list[LiveAnswer] = []
    lock = threading.Lock()
    original = requests.Session.send

    def send(session, prepared, **kwargs):
        response = original(session, prepared, **kwargs)
        if prepared.url.startswith(base_url):
            body = prepared.body or b""
            answer = LiveAnswer(
                authorization=prepared.headers.get("Authorization"),
                has_cookie="Cookie" in prepared.headers,
                path=f"{prepared.method} {prepared.path_url}",
                asked=unquote_plus(prepared.path_url)
                + (body.decode("utf-8", "replace") if isinstance(body, bytes) else body),
                content_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
                text=response.text,
            )
            with lock:
                answers.append(answer)
        return response

    requests.Session.send = send
    try:
        yield answers
    finally:
        requests.Session.send = original


def scan_live_answers(database_url: str, answers: list[LiveAnswer]) -> list[Leak]:
    """Scan a real server's answers against the locations and users of its database.

    The caller of an answer is the owner of its bearer token. An answer to a signed-in page
    (a cookie, no token) is skipped: its principal lives in the server's session.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from shelter_match.db import create_database_engine
    from shelter_match.models import ApiToken, User
    from shelter_match.services.auth import hash_token, principal_for

    live = LeakScanner()
    principals = {}
    engine = create_database_engine(database_url)
    try:
        with Session(engine) as session:
            for location in session.scalars(select(Location)):
                live.note_location(location)
            for audit_event in session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "address.disclosed")):
                live.note_disclosure(audit_event)
            for answer in answers:
                token = (answer.authorization or "").partition(" ")[2].strip()
                if token and token not in principals:
                    user = session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                                          .where(ApiToken.token_hash == hash_token(token)))
                    principals[token] = principal_for(session, user) if user else None
    finally:
        engine.dispose()
    leaks = []
    for answer in answers:
        if answer.content_type not in SCANNED_TYPES or (answer.has_cookie and not
                                                        answer.authorization):
            continue
        token = (answer.authorization or "").partition(" ")[2].strip()
        leaks += live.scan(principals.get(token), answer.path, answer.text, answer.asked)
    return leaks
