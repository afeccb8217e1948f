"""`shelter-match demo`, the README's first command, serves demo data on embedded SQLite."""

import requests

from tests.live import running_service


def test_demo_serves_regions_to_a_demo_token(tmp_path):
    with running_service("demo", instance=tmp_path) as (base_url, output):
        # The tokens were printed before the server started listening.
        printed = {}
        for line in output.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("smt_"):
                printed[parts[0]] = parts[2]
        assert set(printed) == {"crisis_worker", "coordinator", "region_reviewer", "admin"}
        headers = {"Authorization": f"Bearer {printed['crisis_worker']}"}
        regions = requests.get(f"{base_url}/api/v1/regions", headers=headers, timeout=10)
        assert regions.status_code == 200
        assert len(regions.json()) == 35
        assert requests.get(f"{base_url}/api/v1/regions", timeout=10).status_code == 401
    assert (tmp_path / "shelter-match.sqlite3").exists()
