"""Benchmark outages: how soon clients get a 503, and how soon the service recovers.

    .venv/bin/python bench/outage.py [--rounds 5] [--down 5] [--quick]

Runs a PRIVATE PostgreSQL cluster (testbed/private_postgres.py: its own folder and port,
never the shared server), seeds the demo network on it, and serves it with gunicorn
(2 workers, the default database timeouts). One client calls GET /api/v1/locations every
50 ms, as a crisis worker. Each round breaks the database for `--down` seconds in one of
two ways: `stop` (pg_ctl stop -m fast, then start: a restart or a crash) and `freeze`
(SIGSTOP on every PostgreSQL process: a hung server that keeps its sockets open). Prints
the medians over the rounds of
- time to 503: from the fault to the first 503 answer;
- slowest answer during the outage;
- time to recovery: from the database being back to the first 200.
Prints, never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass

import requests
from harness import run_cli, running_service

from testbed.private_postgres import private_postgres

PROBE_INTERVAL = 0.05


@dataclass(frozen=True)
class Answer:
    sent: float
    received: float
    status: int | None


class Prober:
    """Call one URL every PROBE_INTERVAL seconds from a thread; keep every answer."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with requests.Session() as http:
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    status: int | None = http.get(self.url, headers=self.headers,
                                                  timeout=60).status_code
                except requests.RequestException:
                    status = None
                self.answers.append(Answer(sent, time.monotonic(), status))
                time.sleep(max(0.0, PROBE_INTERVAL - (time.monotonic() - sent)))

    def first(self, after: float, statuses: set[int], sent_after: bool = False) -> float | None:
        for answer in list(self.answers):
            moment = answer.sent if sent_after else answer.received
            if moment >= after and answer.status in statuses:
                return answer.received
        return None


def one_round(cluster, prober: Prober, kind: str, down: float) -> tuple[float, float, float]:
    """Break the database once; return (time to 503, slowest answer, time to recovery)."""
    time.sleep(1.0)
    began = time.monotonic()
    if kind == "stop":
        cluster.stop("fast")
        time.sleep(down)
        cluster.start()
    else:
        with cluster.frozen():
            time.sleep(down)
    back = time.monotonic()
    deadline = back + 60
    while prober.first(back, {200}, sent_after=True) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first_503 = prober.first(began, {503})
    recovered = prober.first(back, {200}, sent_after=True)
    during = [a.received - a.sent for a in prober.answers if began <= a.received <= back + 1]
    refused = [a for a in prober.answers if a.status is None or a.status == 500]
    if refused:
        print(f"  {kind}: {len(refused)} answers were neither 2xx nor 503")
    return ((first_503 - began) if first_503 else float("nan"), max(during, default=0.0),
            (recovered - back) if recovered else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--down", type=float, default=12.0)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 10 s")
    args = parser.parse_args()
    rounds, down = (2, 10.0) if args.quick else (args.rounds, args.down)

    with private_postgres() as cluster:
        url = cluster.create_database("shelter_match")
        if run_cli("db", "upgrade", database_url=url).returncode != 0:
            raise RuntimeError("db upgrade failed")
        seeded = run_cli("seed", "demo", "--scale", "1", "--seed", "0", database_url=url,
                         timeout=900)
        token = next(line.split()[2] for line in seeded.stdout.splitlines()
                     if line.startswith("crisis_worker") and len(line.split()) == 3)
        with running_service("serve", database_url=url, workers=2) as (base_url, _log):
            prober = Prober(f"{base_url}/api/v1/locations",
                            {"Authorization": f"Bearer {token}"})
            prober.thread.start()
            print(f"outage bench: {rounds} rounds of {down:g} s per kind, default timeouts "
                  "(connect 3 s, statement 5 s, lock 2 s), probe every 50 ms")
            for kind in ("stop", "freeze"):
                results = [one_round(cluster, prober, kind, down) for _ in range(rounds)]
                to_503, slowest, recovery = (statistics.median(r[i] for r in results)
                                             for i in range(3))
                print(f"{kind:7} time to 503 median {to_503 * 1000:7.0f} ms   slowest answer "
                      f"during the outage median {slowest * 1000:7.0f} ms   time to recovery "
                      f"median {recovery * 1000:7.0f} ms   (rounds: "
                      + ", ".join(f"{a * 1000:.0f}/{b * 1000:.0f}/{c * 1000:.0f}"
                                  for a, b, c in results) + ")")
            prober.stop.set()
            prober.thread.join(timeout=70)


if __name__ == "__main__":
    main()
