"""Short periods hide small counts, and nothing hidden can be worked back (CONTRACT 4.1).

The check that matters is the reader's: with every figure the API shows (regions, totals,
flows) and every identity she knows (totals are sums, a region's flows add up to its
out and in, in − out = net, placements out = placements in nationally), solve for what is
hidden, as far as it goes. No hidden figure may come out.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_caller, make_placement

SHORT = "from=2026-11-01&to=2026-11-30"  # 30 days
LONG = "from=2026-09-01&to=2026-11-30"  # 91 days: still short
WHOLE = "from=2026-08-31&to=2026-11-30"  # 92 days: shown whole
START = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def reviewer(session, clock):
    return make_caller(session, clock, "region_reviewer", region_code="GM0344")


@pytest.fixture
def history(session, clock):
    """Rotterdam sends 6 to Utrecht and 1 to Groningen; Groningen sends 2 to Rotterdam;
    Utrecht places 5 of its own; Amsterdam sends 1 to Utrecht."""
    def place(origin, destination, count, size=1):
        for n in range(count):
            make_placement(session, clock, origin=origin, destination=destination,
                           started_at=START + timedelta(hours=n),
                           ended_at=START + timedelta(days=3 + n), household_size=size)
    place("GM0599", "GM0344", 6)
    place("GM0599", "GM0014", 1, size=3)
    place("GM0014", "GM0599", 2)
    place("GM0344", "GM0344", 5)
    place("GM0363", "GM0344", 1)


def cell(value) -> str:
    """Return a JSON value as its CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read(client, caller, period):
    balance = client.get(f"/api/v1/solidarity?{period}", headers=caller.headers)
    flows = client.get(f"/api/v1/solidarity/flows?{period}", headers=caller.headers)
    assert balance.status_code == flows.status_code == 200
    return balance.get_json(), flows.get_json()


def identities(balance, flows):
    """Return (values, equations): every figure shown by key, and sum(coef * key) == 0."""
    values = {}
    for row in balance["regions"]:
        for field, value in row.items():
            if field not in ("region_code", "name", "suppressed"):
                values[("r", row["region_code"], field)] = value
    for field, value in balance["totals"].items():
        if field != "suppressed":
            values[("t", field)] = value
    for flow in flows:
        for measure in ("placements", "bed_nights"):
            values[("f", flow["origin_region_code"], flow["destination_region_code"],
                    measure)] = flow[measure]
    codes = [row["region_code"] for row in balance["regions"]]
    equations = []
    for code in codes:
        for measure in ("placements", "bed_nights"):
            for kind, match in (
                ("out", lambda f, c=code: f["origin_region_code"] == c
                 and f["destination_region_code"] != c),
                ("in", lambda f, c=code: f["destination_region_code"] == c
                 and f["origin_region_code"] != c),
                ("own", lambda f, c=code: f["origin_region_code"] == c
                 and f["destination_region_code"] == c),
            ):
                terms = [(1, ("r", code, f"{measure}_{kind}"))]
                terms += [(-1, ("f", f["origin_region_code"], f["destination_region_code"],
                                measure)) for f in flows if match(f)]
                equations.append(terms)
        equations.append([(1, ("r", code, "net_bed_nights")), (-1, ("r", code, "bed_nights_in")),
                          (1, ("r", code, "bed_nights_out"))])
    for field in balance["totals"]:
        if field != "suppressed":
            equations.append([(1, ("t", field))] + [(-1, ("r", c, field)) for c in codes])
    equations.append([(1, ("t", "placements_out")), (-1, ("t", "placements_in"))])
    equations.append([(1, ("t", "bed_nights_out")), (-1, ("t", "bed_nights_in"))])
    values[("t", "net_bed_nights")] = values[("t", "net_bed_nights")]  # may be hidden
    equations.append([(1, ("t", "net_bed_nights"))])  # always 0: a reader knows it
    return values, equations


def worked_back(values, equations):
    """Return the hidden figures a reader can solve for from the shown ones."""
    known = {key: value for key, value in values.items() if value is not None}
    found = set()
    changed = True
    while changed:
        changed = False
        for terms in equations:
            unknown = [(coef, key) for coef, key in terms if key not in known]
            if len(unknown) == 1:
                coef, key = unknown[0]
                known[key] = -sum(c * known[k] for c, k in terms if k in known) // coef
                found.add(key)
                changed = True
    return found


def test_a_short_period_hides_small_counts_and_nothing_can_be_worked_back(
        client, reviewer, history):
    balance, flows = read(client, reviewer, SHORT)
    rows = {row["region_code"]: row for row in balance["regions"]}
    # Rotterdam sent 7 (6 + 1): shown; Groningen sent 2: hidden.
    assert rows["GM0599"]["placements_out"] == 7
    assert rows["GM0014"]["placements_out"] is None and rows["GM0014"]["suppressed"] is True
    # Utrecht's 5 own placements are not small.
    assert rows["GM0344"]["placements_own"] == 5
    # A region where nothing happened shows no zero either: 0 is below 5.
    assert rows["GM0935"]["placements_in"] is None and rows["GM0935"]["suppressed"] is True
    by_pair = {(f["origin_region_code"], f["destination_region_code"]): f for f in flows}
    assert by_pair[("GM0599", "GM0014")]["placements"] is None
    assert by_pair[("GM0599", "GM0014")]["suppressed"] is True
    assert by_pair[("GM0363", "GM0344")]["bed_nights"] is None
    values, equations = identities(balance, flows)
    assert worked_back(values, equations) == set()
    # The single placement to Groningen: its 3 people's bed-nights appear nowhere.
    hidden = [key for key, value in values.items() if value is None]
    assert ("f", "GM0599", "GM0014", "bed_nights") in hidden
    assert ("r", "GM0014", "bed_nights_in") in hidden


def test_91_days_is_still_short_and_92_days_shows_everything(client, reviewer, history):
    balance, flows = read(client, reviewer, LONG)
    assert any(row["suppressed"] for row in balance["regions"])
    values, equations = identities(balance, flows)
    assert worked_back(values, equations) == set()
    balance, flows = read(client, reviewer, WHOLE)
    assert not any(row["suppressed"] for row in balance["regions"])
    assert not balance["totals"]["suppressed"]
    assert not any(flow["suppressed"] for flow in flows)
    rows = {row["region_code"]: row for row in balance["regions"]}
    assert rows["GM0014"]["placements_out"] == 2 and rows["GM0935"]["placements_in"] == 0
    assert {(f["origin_region_code"], f["destination_region_code"]): f["placements"]
            for f in flows}[("GM0599", "GM0014")] == 1


def test_csv_shows_hidden_figures_as_empty_cells(client, reviewer, history):
    answer = client.get(f"/api/v1/solidarity?{SHORT}",
                        headers={**reviewer.headers, "Accept": "text/csv"})
    header, *rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert header[-1] == "suppressed"
    groningen = dict(zip(header, next(r for r in rows if r[0] == "GM0014"), strict=True))
    assert groningen["placements_out"] == "" and groningen["suppressed"] == "true"
    json_rows = client.get(f"/api/v1/solidarity?{SHORT}",
                           headers=reviewer.headers).get_json()["regions"]
    assert rows == [[cell(row[f]) for f in header] for row in json_rows]
    flows = client.get(f"/api/v1/solidarity/flows?{SHORT}",
                       headers={**reviewer.headers, "Accept": "text/csv"})
    assert "GM0599,GM0014,,,true" in flows.get_data(as_text=True)


def test_the_reviewer_page_hides_the_same_figures(client, session, clock, history):
    from tests.web.helpers import make_person, signed_in  # noqa: PLC0415

    signed_in(client, make_person(session, clock, "region_reviewer"))
    html = client.get("/regio?van=2026-11-01&tot=2026-11-30").get_data(as_text=True)
    assert "<abbr" in html  # hidden figures are marked, with an explanation
    flows = html[html.index('id="flows-heading"'):html.index('id="table-heading"')]
    assert "Amsterdam" not in flows  # the single Amsterdam placement is not listed
    row = html[html.index(">Groningen", html.index('id="table-heading"')):]
    row = row[:row.index("</tr>")]
    assert "<td class=\"num\">2</td>" not in row
