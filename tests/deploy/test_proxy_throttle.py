"""Behind the shipped nginx, with the shipped SHELTER_MATCH_PROXY_COUNT=1: the throttle counts
each client by her own address, and bad tokens never lock out a valid one.

Before, with the proxy count unset, every client was the proxy's address: ten bad tokens
from anyone refused every valid token in the country for five minutes.
"""

from __future__ import annotations

import http.client
import os
import signal
import ssl
import subprocess
import time

import pytest

from shelter_match.services.throttle import MAX_FAILURES
from testbed.cli import run_cli
from testbed.live import free_port
from tests.deploy.test_shipped_files import DEPLOY, require_tool, shipped_nginx_on
from tests.live import running_service


def shipped_proxy_count() -> str:
    lines = (DEPLOY / "shelter-match.service").read_text().splitlines()
    setting = next(line for line in lines if "SHELTER_MATCH_PROXY_COUNT=" in line)
    return setting.split("SHELTER_MATCH_PROXY_COUNT=", 1)[1].strip()


@pytest.mark.slow
def test_behind_the_shipped_nginx_each_client_is_counted_apart(fresh_database_url, tmp_path):
    nginx = require_tool("nginx")
    added = run_cli("user", "add", "nina", "--role", "crisis_worker",
                    database_url=fresh_database_url)
    assert added.returncode == 0, added.stderr
    valid = added.stdout.strip().splitlines()[-1]
    http_port, https_port = free_port(), free_port()
    with running_service("serve", database_url=fresh_database_url, workers=1,
                         extra_env={"SHELTER_MATCH_PROXY_COUNT": shipped_proxy_count()}
                         ) as (base, _):
        config = shipped_nginx_on(tmp_path, http_port, https_port, base)
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)

        def call(client: str, token: str) -> int:
            # Each client from its own loopback address: nginx sees it as $remote_addr.
            connection = http.client.HTTPSConnection("127.0.0.1", https_port, context=context,
                                                     source_address=(client, 0), timeout=30)
            try:
                connection.request("GET", "/api/v1/regions", headers={
                    "Authorization": f"Bearer {token}", "X-Forwarded-For": "192.0.2.99"})
                return connection.getresponse().status
            finally:
                connection.close()

        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    first = call("127.0.0.2", "guess-0")
                    break
                except (ConnectionError, OSError):
                    assert process.poll() is None, (tmp_path / "error.log").read_text()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.2)
            statuses = [first] + [call("127.0.0.2", f"guess-{n}") for n in range(1, MAX_FAILURES)]
            assert statuses == [401] * MAX_FAILURES
            assert call("127.0.0.2", "guess-x") == 429      # the guessing client is slowed
            assert call("127.0.0.3", "guess-y") == 401      # another client is not
            assert call("127.0.0.3", valid) == 200
            assert call("127.0.0.2", valid) == 200          # and a valid token never is
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
