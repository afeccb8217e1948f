"""Load a running service from several threads and record every answer (fault tests, bench).

Each crisis thread runs the night's cycle over and over: a request, its proposals, a hold
on one option, then a release, or a confirm and the discharge. Another thread changes
units by hand, another reads the national list. Every call is recorded with its timing,
its status, its Retry-After and the id it created, to be checked against the database.

Every creating POST carries an Idempotency-Key, as a careful client's would: a 503 whose
COMMIT may have landed (the connection ended during it) is settled afterwards by retrying
with the same key (`settle`), which answers the first outcome or does the work now.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests


@dataclass(frozen=True)
class Call:
    """One answer (or a failure to get one) as the client saw it."""

    action: str
    started: float
    elapsed: float
    status: int | None  # None: no HTTP answer at all (refused, reset, timed out)
    retry_after: str | None = None
    created_id: str | None = None
    target_id: str | None = None
    error: str | None = None
    # A creating POST's method, address, headers (with its Idempotency-Key) and body.
    retry: tuple[str, str, dict[str, str], object] | None = field(default=None, repr=False)


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, http: requests.Session, action: str, method: str, url: str, *,
             headers: dict[str, str], json: object = None, creates: bool = False,
             target_id: str | None = None) -> requests.Response | None:
        """Make one call and record it; `creates` sends an Idempotency-Key with it."""
        if creates:
            headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        retry = (method, url, headers, json) if creates else None
        started = time.monotonic()
        try:
            answer = http.request(method, url, headers=headers, json=json, timeout=30)
        except requests.RequestException as error:
            self._add(Call(action, started, time.monotonic() - started, None,
                           target_id=target_id, error=type(error).__name__, retry=retry))
            return None
        created = None
        if answer.status_code == 201:
            created = answer.json().get("id")
        self._add(Call(action, started, time.monotonic() - started, answer.status_code,
                       answer.headers.get("Retry-After"), created, target_id, retry=retry))
        return answer

    def _add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


def settle(calls: list[Call]) -> list[Call]:
    """Retry every creating call answered 503 with its own Idempotency-Key; return the answers.

    A replay (`Idempotent-Replayed: true`) is the first call's saved outcome; otherwise the
    work is done now. Either way what the database holds is then answered 2xx.
    """
    settled = Recorder()
    with requests.Session() as http:
        for call in calls:
            if call.status == 503 and call.retry is not None:
                method, url, headers, body = call.retry
                settled.call(http, call.action, method, url, headers=headers, json=body,
                             target_id=call.target_id)
    return settled.calls


_cases = itertools.count(1)


def crisis_cycle(api: str, worker: dict[str, str], admin: dict[str, str], record: Recorder,
                 http: requests.Session, rng: random.Random) -> None:
    """Request, propose, hold; then release, or confirm and discharge."""
    case = {"case_reference": f"VT-FAULT-{next(_cases)}", "origin_region_code": "GM0599",
            "risk_level": "groen", "danger": {"place": "Schiedam"},
            "household": {"adults": 1, "children": 0}}
    created = record.call(http, "request", "POST", f"{api}/placement-requests", headers=worker,
                          json=case, creates=True)
    if created is None or created.status_code != 201:
        return
    request_id = created.json()["id"]
    proposals = record.call(http, "proposals", "POST",
                            f"{api}/placement-requests/{request_id}/proposals",
                            headers=worker, json={"limit": 5}, target_id=request_id)
    if proposals is None or proposals.status_code != 200 or not proposals.json()["options"]:
        return
    option = rng.choice(proposals.json()["options"])
    hold = record.call(http, "hold", "POST", f"{api}/placement-requests/{request_id}/holds",
                       headers=worker, json={"unit_id": option["unit_id"]},
                       creates=True, target_id=request_id)
    if hold is None or hold.status_code != 201:
        return
    hold_id = hold.json()["id"]
    if rng.random() < 0.5:
        record.call(http, "release", "POST", f"{api}/holds/{hold_id}/release", headers=worker,
                    target_id=hold_id)
        return
    placement = record.call(http, "confirm", "POST", f"{api}/holds/{hold_id}/confirm",
                            headers=worker, creates=True, target_id=hold_id)
    if placement is None or placement.status_code != 201:
        return
    placement_id = placement.json()["id"]
    record.call(http, "discharge", "POST", f"{api}/placements/{placement_id}/discharge",
                headers=admin, json={}, target_id=placement_id)


def unit_cycle(api: str, units: list[str], admin: dict[str, str], record: Recorder,
               http: requests.Session, rng: random.Random) -> None:
    """Close a unit by hand and open it again (409 when it is held or occupied)."""
    unit_id = rng.choice(units)
    for status in ("closed", "free"):
        record.call(http, "unit", "PATCH", f"{api}/units/{unit_id}", headers=admin,
                    json={"status": status}, target_id=unit_id)


def read_cycle(api: str, worker: dict[str, str], record: Recorder, http: requests.Session,
               _rng: random.Random) -> None:
    record.call(http, "list", "GET", f"{api}/locations", headers=worker)


def run_load(work: list, stop: threading.Event, seed: int = 0) -> list[threading.Thread]:
    """Start one thread per cycle function in `work`; each repeats until `stop` is set."""

    def loop(cycle, index: int) -> None:
        rng = random.Random(seed * 100 + index)
        with requests.Session() as http:
            while not stop.is_set():
                cycle(http, rng)

    threads = [threading.Thread(target=loop, args=(cycle, index), daemon=True)
               for index, cycle in enumerate(work)]
    for thread in threads:
        thread.start()
    return threads
