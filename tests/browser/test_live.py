"""Her open requests page shows a new offer within seconds, without a reload (site.js)."""

from __future__ import annotations

import pytest
import requests as http

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


def test_an_offer_appears_on_her_page_without_a_reload(visit, site):
    worker = visit()
    worker.sign_in("crisis_worker")
    page = worker.page
    api = site.base_url + "/api/v1"
    headers = {"Authorization": f"Bearer {site.people['crisis_worker'].token}"}
    created = http.post(f"{api}/placement-requests", headers=headers, timeout=10, json={
        "case_reference": "VT-2026-0077", "origin_region_code": "GM0599", "risk_level": "rood",
        "danger": {"place": "Schiedam"}, "household": {"adults": 1, "children": 3}})
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    page.goto(worker.url("/crisis"))
    card = page.locator("#live-requests li.card", has_text="VT-2026-0077")
    assert card.count() == 1 and "hold" not in card.get_attribute("class")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    try:
        # On the waiting list, with a fitting bed free (Huis aan de Maas, 4 beds): the
        # matcher inside the server offers it, and her open page shows it by itself.
        joined = http.post(f"{api}/placement-requests/{request_id}/waitlist", headers=headers,
                           timeout=10)
        assert joined.status_code == 200, joined.text
        page.wait_for_selector("#live-requests li.card.hold:has-text('VT-2026-0077')",
                               timeout=20_000)
        assert navigations == []  # no reload: the list was replaced in place
        worker.check("crisis-live-offer")
    finally:
        # Leave the shared units as they were: decline the offer, close the request.
        shown = http.get(f"{api}/placement-requests/{request_id}", headers=headers,
                         timeout=10).json()
        if shown.get("offer"):
            http.post(f"{api}/holds/{shown['offer']['hold_id']}/release", headers=headers,
                      timeout=10)
        http.post(f"{api}/placement-requests/{request_id}/cancel", headers=headers, timeout=10)
