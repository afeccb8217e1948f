"""What every benchmark shares: a seeded database, a real server, and honest statistics.

Benchmarks run against PostgreSQL through real HTTP (gunicorn started by the
`shelter-match` command), print medians and p95 measured in one run, and never assert.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testbed.cli import run_cli  # noqa: E402
from testbed.databases import create_migrated_database, drop_database  # noqa: E402
from testbed.live import running_service  # noqa: E402


@dataclass(frozen=True)
class Stats:
    name: str
    samples: int
    median_ms: float
    p95_ms: float

    def row(self) -> str:
        return f"{self.name:55} n={self.samples:5}  median {self.median_ms:8.2f} ms  " \
               f"p95 {self.p95_ms:8.2f} ms"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(name: str, action: Callable[[], object], repeat: int, warmup: int = 5) -> Stats:
    """Time `action` `repeat` times after `warmup` untimed runs."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return Stats(name, repeat, statistics.median(timings), percentile(timings, 0.95))


@dataclass(frozen=True)
class SeededService:
    base_url: str
    database_url: str
    tokens: dict[str, str]  # role -> demo token

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@contextmanager
def seeded_service(scale: int, workers: int = 2, seed: int = 0) -> Iterator[SeededService]:
    """Yield a gunicorn-served API on a fresh PostgreSQL database with demo data at `scale`."""
    url = create_migrated_database("postgresql")
    try:
        seeded = run_cli("seed", "demo", "--scale", str(scale), "--seed", str(seed),
                         database_url=url, timeout=900)
        if seeded.returncode != 0:
            raise RuntimeError(seeded.stderr)
        tokens = {}
        for line in seeded.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("smt_"):
                tokens[parts[0]] = parts[2]
                # A benchmark makes far more calls an hour than a person: lift her quotas.
                raised = run_cli("user", "quotas", parts[1], "--requests-per-hour", "100000",
                                 "--proposals-per-hour", "100000", database_url=url)
                if raised.returncode != 0:
                    raise RuntimeError(raised.stderr)
        with running_service("serve", database_url=url, workers=workers) as (base_url, _log):
            yield SeededService(base_url, url, tokens)
    finally:
        drop_database(url)
