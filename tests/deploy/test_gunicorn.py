"""The shipped gunicorn settings, over a real server: no banner, no shared control socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from testbed.live import free_port, wait_until_ready
from tests.live import running_service

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def raw_answer(base_url: str, request: bytes) -> bytes:
    """Send a raw HTTP request; return the raw answer's head (status line and headers)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n")[0]


def assert_no_server_header(base_url: str) -> None:
    for path in ("/healthz", "/api/v1/regions", "/nowhere", "/aanmelden"):
        answer = requests.get(f"{base_url}{path}", timeout=30)
        assert "Server" not in answer.headers, (path, answer.headers)
    # What gunicorn answers itself, without the app: a request line it cannot parse.
    head = raw_answer(base_url, b"NONSENSE\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"server:" not in head.lower()
    head = raw_answer(base_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"server:" not in head.lower()


def test_serve_answers_without_a_server_header(fresh_database_url, backend, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir()
    with running_service("serve", database_url=fresh_database_url, workers=1,
                         extra_env={"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(runtime)}
                         ) as (base_url, log):
        assert_no_server_header(base_url)
        # The tests' databases belong to the superuser: serve says that it should not be so.
        warned = "warning: serving as a database role that owns the tables" in log.read_text()
        assert warned == (backend == "postgresql")
    # Two `serve` on one machine would share (and clobber) this socket.
    assert not (runtime / "gunicorn.ctl").exists(), "serve made gunicorn's control socket"


def test_the_shipped_gunicorn_config_answers_without_a_server_header(fresh_database_url,
                                                                     tmp_path):
    """As the systemd unit and the container run it: gunicorn -c deploy/gunicorn.conf.py."""
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SHELTER_MATCH_") and key != "XDG_RUNTIME_DIR"}
    env.update(HOME=str(tmp_path), SHELTER_MATCH_DATABASE_URL=fresh_database_url,
               SHELTER_MATCH_INSTANCE_PATH=str(tmp_path / "instance"),
               SHELTER_MATCH_BIND=f"127.0.0.1:{port}", SHELTER_MATCH_WORKERS="1")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "app.wsgi:app"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process)
        assert_no_server_header(base_url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert not (tmp_path / ".gunicorn").exists(), "gunicorn made its control socket"
    assert "Traceback" not in log.read_text()
