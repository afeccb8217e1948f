"""Start the real service (gunicorn through `shelter-match`) for tests over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import requests

from shelter_match.config import load_settings
from tests import leak_scanner
from tests.cli_runner import SCRIPT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
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
                    workers: int = 2, extra_env: dict[str, str] | None = None,
                    scan_for_leaks: bool = True):
    """Run `shelter-match ARGS --port P --workers N`; yield (base_url, output_path).

    Output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    Every answer the test receives from it is scanned for leaked location secrets at the
    end (tests/leak_scanner.py), against the server's own database. Benchmarks turn that
    off: recording would be timed with every call, and scanning thousands of large answers
    takes longer than the benchmark.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    if database_url:
        env["SHELTER_MATCH_DATABASE_URL"] = database_url
    if instance:
        env["SHELTER_MATCH_INSTANCE_PATH"] = str(instance)
    env.update(extra_env or {})
    output = Path(tempfile.mkstemp(prefix="shelter-match-", suffix=".log")[1])
    with output.open("w") as sink:
        process = subprocess.Popen(
            [SCRIPT, *args, "--port", str(port), "--workers", str(workers)],
            stdout=sink, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process)
        recording = (leak_scanner.recording_live_answers(base_url) if scan_for_leaks
                     else nullcontext(None))
        with recording as answers:
            yield base_url, output
        served_from = database_url or (
            load_settings({"SHELTER_MATCH_INSTANCE_PATH": str(instance)})
            .database_url.render_as_string(hide_password=False)
            if instance else None)
        if answers is not None and served_from:
            leak_scanner.scanner.leaks.extend(
                leak_scanner.scan_live_answers(served_from, answers))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output.unlink(missing_ok=True)
