"""Start the real service (gunicorn through `shelter-match`) for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from testbed.cli import SCRIPT


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(base_url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until /readyz answers 200; fail when the server exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # booting, or busy booting
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base_url} did not become ready")


@contextmanager
def running_service(*args: str, database_url: str | None = None, instance: Path | None = None,
                    workers: int = 2, extra_env: dict[str, str] | None = None
                    ) -> Iterator[tuple[str, Path]]:
    """Run `shelter-match ARGS --port P --workers N`; yield (base_url, output_path).

    Output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    """
    port = free_port()
    env = {}
    if database_url:
        env["SHELTER_MATCH_DATABASE_URL"] = database_url
    if instance:
        env["SHELTER_MATCH_INSTANCE_PATH"] = str(instance)
    env.update(extra_env or {})
    with running_command(*args, "--port", str(port), "--workers", str(workers),
                         env=env) as (process, output):
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process)
        yield base_url, output


@contextmanager
def running_command(*args: str, env: dict[str, str]
                    ) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Run `shelter-match ARGS` in a process group of its own; yield (process, output_path).

    Only `env` configures it: the caller's SHELTER_MATCH_ variables are left out. Output goes
    to a file, not a pipe (see running_service). On the way out the group gets SIGTERM, and
    SIGKILL when it has not stopped within 20 s.
    """
    own_env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    own_env.update(env)
    output = Path(tempfile.mkstemp(prefix="shelter-match-", suffix=".log")[1])
    with output.open("w") as sink:
        process = subprocess.Popen([SCRIPT, *args], stdout=sink, stderr=subprocess.STDOUT,
                                   text=True, env=own_env, start_new_session=True)
    try:
        yield process, output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output.unlink(missing_ok=True)
