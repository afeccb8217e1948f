"""Unmet demand per origin region (CONTRACT 4.6), JSON and CSV for Dutch Excel, with small
counts suppressed in short periods (4.1). Built through the real services."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from shelter_match.models import Unit
from shelter_match.services import holds, placements
from tests.api.test_foundation import assert_problem
from tests.factories import make_caller, make_location, make_request, principal_of

YEAR = "?from=2026-01-01&to=2026-12-31"
NOVEMBER = "?from=2026-11-01&to=2026-11-30"


@pytest.fixture
def demand(session, clock):
    """Rotterdam: 8 requests, 5 placed (oranje after 10, 20, 30, 40, 50 minutes), 2 cancelled
    (own_network, no_place_found), 1 still open. Groningen: 1 request, placed."""
    worker = make_caller(session, clock, "crisis_worker")
    actor = principal_of(session, worker)
    location = make_location(session, clock, region_code="GM0344",
                             units=tuple((f"U{i}", 2) for i in range(6)))
    units = list(session.scalars(select(Unit.id).where(Unit.location_id == location.id)
                                 .order_by(Unit.label)))
    start = clock.now()
    for number in range(5):
        clock.set(start + timedelta(hours=number))
        request = make_request(session, clock, worker)
        clock.advance(minutes=10 * (number + 1))
        hold = holds.create_hold(session, request.id, units[number], actor=actor,
                                 now=clock.now())
        placements.confirm_hold(session, hold.id, actor=actor, now=clock.now())
    for outcome in ("own_network", "no_place_found"):
        request = make_request(session, clock, worker)
        holds.cancel_request(session, request.id, actor=actor, now=clock.now(),
                             outcome=outcome)
    make_request(session, clock, worker)
    groningen = make_request(session, clock, worker, origin_region_code="GM0014")
    hold = holds.create_hold(session, groningen.id, units[5], actor=actor, now=clock.now())
    placements.confirm_hold(session, hold.id, actor=actor, now=clock.now())
    session.flush()
    return worker


def unmet(client, caller, query, **headers):
    return client.get(f"/api/v1/solidarity/unmet{query}",
                      headers={**caller.headers, **headers})


def by_code(body):
    return {row["region_code"]: row for row in body["regions"]}


def test_a_year_shows_every_figure(client, session, clock, demand):
    reviewer = make_caller(session, clock, "region_reviewer")
    response = unmet(client, reviewer, YEAR)
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = by_code(response.get_json())
    assert len(rows) == 35
    rotterdam = rows["GM0599"]
    assert rotterdam["name"] == "Rotterdam"
    assert (rotterdam["requests"], rotterdam["placed"]) == (8, 5)
    assert rotterdam["closed_without_placement"] == {
        "ambulant_support": 0, "own_network": 1, "client_withdrew": 0,
        "placed_outside_service": 0, "no_place_found": 1, "other": 0}
    assert rotterdam["median_minutes_to_placement"] == {"groen": None, "oranje": 30,
                                                        "rood": None}
    assert rotterdam["waiting_now"] == 0
    assert rotterdam["suppressed"] is False
    assert rows["GM0014"]["requests"] == 1


def test_a_short_period_suppresses_small_counts(client, session, clock, demand):
    admin = make_caller(session, clock, "admin")
    rows = by_code(unmet(client, admin, NOVEMBER).get_json())
    rotterdam, groningen = rows["GM0599"], rows["GM0014"]
    assert (rotterdam["requests"], rotterdam["placed"]) == (8, 5)
    assert rotterdam["closed_without_placement"]["own_network"] is None
    assert rotterdam["median_minutes_to_placement"]["oranje"] == 30  # five placements
    assert rotterdam["suppressed"] is True
    # One placed request in Groningen never shows as a figure, nor its waiting time.
    assert groningen["requests"] is None and groningen["placed"] is None
    assert groningen["median_minutes_to_placement"]["oranje"] is None
    assert groningen["suppressed"] is True


def test_csv_opens_in_dutch_excel(client, session, clock, demand):
    reviewer = make_caller(session, clock, "region_reviewer")
    response = unmet(client, reviewer, YEAR, Accept="text/csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 35
    rotterdam = next(r for r in rows if r["region_code"] == "GM0599")
    assert rotterdam["name"] == "Rotterdam"
    assert (rotterdam["requests"], rotterdam["placed"], rotterdam["closed_own_network"]) == (
        "8", "5", "1")
    assert rotterdam["median_minutes_oranje"] == "30" and rotterdam["median_minutes_rood"] == ""
    # Names with an apostrophe and a circumflex survive ('s-Hertogenbosch, Fryslân).
    names = {r["name"] for r in rows}
    assert any(name.startswith("'s-") or name.startswith("''s-") for name in names)


def test_suppressed_figures_are_empty_cells_in_csv(client, session, clock, demand):
    admin = make_caller(session, clock, "admin")
    text = unmet(client, admin, NOVEMBER, Accept="text/csv").get_data().decode("utf-8-sig")
    groningen = next(r for r in csv.DictReader(io.StringIO(text), delimiter=";")
                     if r["region_code"] == "GM0014")
    assert (groningen["requests"], groningen["suppressed"]) == ("", "true")


@pytest.mark.parametrize(("query", "field"), [
    ("?from=2026-12-01&to=2026-11-01", "to"),
    ("?from=2026-13-01&to=2026-12-31", "from"),
    ("?to=2026-12-31", "from"),
    ("?from=2020-01-01&to=2026-12-31", "to"),
])
def test_bad_periods_are_422_naming_the_field(client, session, clock, query, field):
    admin = make_caller(session, clock, "admin")
    assert field in assert_problem(unmet(client, admin, query), 422)["errors"]


def test_only_reviewers_and_admins(client, session, clock):
    for role in ("crisis_worker", "coordinator"):
        caller = make_caller(session, clock, role)
        assert_problem(unmet(client, caller, YEAR), 403)
    assert_problem(client.get(f"/api/v1/solidarity/unmet{YEAR}"), 401)
