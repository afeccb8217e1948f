"""`shelter-match demo`, the README's first command, serves demo data on embedded SQLite."""

import re
import subprocess
from pathlib import Path

import requests

from testbed.cli import run_cli
from tests.live import running_service
from tests.web.helpers import csrf_from

ROOT = Path(__file__).resolve().parents[2]


def demo_rows(text: str) -> dict[str, dict[str, str]]:
    """Read the demo users' table: a header, a rule, then one row per user."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.split()[:2] == ["role", "name"])
    header = re.split(r"\s{2,}", lines[start].strip())
    assert header == ["role", "name", "may see", "password", "API token"]
    rows = {}
    for line in lines[start + 2:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != len(header):
            break
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_demo_serves_regions_to_a_demo_token(tmp_path):
    with running_service("demo", instance=tmp_path) as (base_url, output):
        # The tokens were printed before the server started listening.
        rows = demo_rows(output.read_text())
        printed = {role: row["API token"] for role, row in rows.items()}
        passwords = {row["name"]: row["password"] for row in rows.values()}
        assert set(printed) == {"crisis_worker", "coordinator", "region_reviewer",
                                "duty_officer", "admin"}
        assert all(token.startswith("smt_") for token in printed.values())
        headers = {"Authorization": f"Bearer {printed['crisis_worker']}"}
        regions = requests.get(f"{base_url}/api/v1/regions", headers=headers, timeout=10)
        assert regions.status_code == 200
        assert len(regions.json()) == 35
        assert requests.get(f"{base_url}/api/v1/regions", timeout=10).status_code == 401

        # The printed passwords open the web pages, each demo user on her own page.
        assert set(passwords) == {"demo-crisis-worker", "demo-coordinator",
                                  "demo-region-reviewer", "demo-duty-officer", "demo-admin"}
        with requests.Session() as browser:
            form = browser.get(f"{base_url}/aanmelden", timeout=10).text
            signed_in = browser.post(f"{base_url}/aanmelden", timeout=10, data={
                "name": "demo-crisis-worker", "password": passwords["demo-crisis-worker"],
                "csrf_token": csrf_from(form)})
            assert signed_in.status_code == 200 and "/crisis" in signed_in.url
    assert (tmp_path / "shelter-match.sqlite3").exists()


def test_demo_passwords_stay_the_same_at_every_run_and_the_table_is_labelled(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert run_cli("db", "upgrade", database_url=url).returncode == 0
    runs = []
    for _ in range(2):
        result = run_cli("seed", "demo", "--history-days", "0", "--web-passwords", "--table",
                         database_url=url, instance=tmp_path)
        assert result.returncode == 0, result.stderr
        runs.append(demo_rows(result.stdout))
    first, second = runs
    assert set(first) == {"crisis_worker", "coordinator", "region_reviewer", "duty_officer",
                          "admin"}
    assert {role: row["password"] for role, row in first.items()} == {
        role: row["password"] for role, row in second.items()}
    assert all(row["API token"] != second[role]["API token"] for role, row in first.items())
    assert "no client data" in first["region_reviewer"]["may see"]
    key = tmp_path / "demo-password-key"
    assert key.stat().st_mode & 0o777 == 0o600
    # Another machine (another instance folder) gets other passwords.
    other = run_cli("seed", "demo", "--history-days", "0", "--web-passwords", "--table",
                    database_url=url, instance=tmp_path / "other")
    assert demo_rows(other.stdout)["admin"]["password"] != first["admin"]["password"]


def test_make_demo_installs_only_what_serving_needs_and_takes_a_port(tmp_path):
    planned = subprocess.run(["make", "-n", "demo", "PORT=8123", f"VENV={tmp_path}/venv"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    installs = [line for line in planned.splitlines() if "pip install" in line]
    assert installs and all("[dev]" not in line for line in installs), installs
    assert "shelter-match demo --host 127.0.0.1 --port 8123" in planned
