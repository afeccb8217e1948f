"""`shelter-match demo`, the README's first command, serves demo data on embedded SQLite."""

import requests

from tests.live import running_service
from tests.web.helpers import csrf_from


def test_demo_serves_regions_to_a_demo_token(tmp_path):
    with running_service("demo", instance=tmp_path) as (base_url, output):
        # The tokens were printed before the server started listening.
        printed, passwords = {}, {}
        for line in output.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("smt_"):
                printed[parts[0]] = parts[2]
            if line.startswith("web sign-in") and len(parts) == 5:
                passwords[parts[2]] = parts[4]
        assert set(printed) == {"crisis_worker", "coordinator", "region_reviewer",
                                "duty_officer", "admin"}
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
