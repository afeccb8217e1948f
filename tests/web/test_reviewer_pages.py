"""The region's dashboard: all 35 regions, an accessible SVG chart, flows, the CSV."""

import re

from sqlalchemy import select

from shelter_match.models import Unit
from tests.factories import make_location
from tests.web.helpers import make_person, make_placement, signed_in
from web.charts import net_bed_nights_chart, signed


def placed_network(session, clock):
    """Two placements from Rotterdam to Groningen, one within Utrecht, three nights ago."""
    groningen = make_location(session, clock, name="Noord", region_code="GM0014",
                              safety_level="rood", lat=53.2, lon=6.56, address="Noordweg 1",
                              units=(("A", 4), ("B", 4)))
    # Groen: an oranje location keeps a danger in Utrecht itself 25 km away (its own level).
    utrecht = make_location(session, clock, name="Midden", region_code="GM0344",
                            safety_level="groen", lat=52.09, lon=5.12, address="Middenweg 2",
                            units=(("A", 4),))
    worker = make_person(session, clock, "crisis_worker")
    units = {(u.location_id, u.label): u for u in session.scalars(select(Unit))}
    clock.advance(days=-3)
    make_placement(session, clock, worker, units[(groningen.id, "A")], risk_level="rood",
                   origin="GM0599", danger="Schiedam", adults=1, children=1)
    make_placement(session, clock, worker, units[(groningen.id, "B")], risk_level="rood",
                   origin="GM0599", danger="Schiedam", adults=1)
    make_placement(session, clock, worker, units[(utrecht.id, "A")], risk_level="groen",
                   origin="GM0344", danger="Utrecht", adults=1, reference="VT-2026-9")
    clock.advance(days=3)


def test_dashboard_shows_every_region_a_chart_and_the_flows(client, session, clock):
    placed_network(session, clock)
    signed_in(client, make_person(session, clock, "region_reviewer", region_code="GM0344"))
    # 92 days: the shortest period whose small counts are shown (CONTRACT 4.1).
    response = client.get("/regio?van=2026-08-23&tot=2026-11-22")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    body = html[html.index("<tbody>", html.index('id="table-heading"')):]
    assert len(re.findall(r'<th scope="row">', body[:body.index("</tbody>")])) == 35
    row = body[body.index(">Groningen"):]
    cells = re.findall(r'<td class="num">(-?\d+)</td>', row[:row.index("</tr>")])
    assert cells == ["0", "2", "0", "0", "9", "9"]  # out, in, own, nights out, in, net
    assert "jouw regio" in html
    # The chart: an image with a title and a description, text labels with signs.
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Netto bednachten per regio, 2026-08-23 tot en met 2026-11-22" in svg
    assert ">+9<" in svg and ">\u22129<" in svg  # Groningen took in 9, Rotterdam sent 9
    flows = html[html.index('id="flows-heading"'):html.index('id="table-heading"')]
    assert "Rotterdam" in flows and "Groningen" in flows and "Utrecht" not in flows
    for secret in ("Noordweg", "Middenweg", "VT-2026", "53.2", "6.56"):
        assert secret not in html


def test_csv_download_is_the_apis_csv(client, session, clock):
    placed_network(session, clock)
    reviewer = make_person(session, clock, "region_reviewer")
    signed_in(client, reviewer)
    query = "van=2026-11-01&tot=2026-11-22"
    page = client.get(f"/regio?{query}").get_data(as_text=True)
    assert f"/regio/solidariteit.csv?{query}" in page.replace("&amp;", "&")
    download = client.get(f"/regio/solidariteit.csv?{query}")
    assert download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="solidarity-2026-11-01-2026-11-22.csv"')
    api = client.get("/api/v1/solidarity?from=2026-11-01&to=2026-11-22",
                     headers={**reviewer.caller.headers, "Accept": "text/csv"})
    assert download.get_data() == api.get_data()
    lines = download.get_data(as_text=True).splitlines()
    assert len(lines) == 36 and lines[0].startswith("region_code,name,")
    flows = client.get(f"/regio/stromen.csv?{query}")
    api_flows = client.get("/api/v1/solidarity/flows?from=2026-11-01&to=2026-11-22",
                           headers={**reviewer.caller.headers, "Accept": "text/csv"})
    assert flows.get_data() == api_flows.get_data()


def test_a_bad_period_is_explained_and_the_default_shown(client, session, clock):
    signed_in(client, make_person(session, clock, "region_reviewer"))
    response = client.get("/regio?van=2026-12-01&tot=2026-01-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Kies een periode van hoogstens" in html
    assert 'value="2026-11-22"' in html  # the default period, ending today
    assert client.get("/regio?van=gisteren").status_code == 422


def test_chart_is_drawn_by_sign_and_text_not_colour_alone():
    svg = str(net_bed_nights_chart([("A & B", 10), ("C", -5), ("D", 0)], title="T <1>",
                                   description="D", axis_label="net"))
    assert "A &amp; B" in svg and "T &lt;1&gt;" in svg
    bars = re.findall(r'<rect class="(bar-\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    zero = 200.0
    (kind_a, x_a, w_a), (kind_c, x_c, w_c), (_, _, w_d) = bars
    assert kind_a == "bar-in" and float(x_a) == zero and float(w_a) == 192.0
    assert kind_c == "bar-out" and float(x_c) + float(w_c) == zero and float(w_c) == 96.0
    assert float(w_d) == 0
    assert [signed(9), signed(-9), signed(0)] == ["+9", "\u22129", "0"]


def test_the_region_page_shows_unmet_demand_and_its_csv(client, session, clock):
    placed_network(session, clock)
    signed_in(client, make_person(session, clock, "region_reviewer", region_code="GM0344"))
    html = client.get("/regio?van=2026-01-01&tot=2026-11-22").get_data(as_text=True)
    assert 'id="unmet-heading"' in html
    section = html[html.index('id="unmet-heading"'):]
    assert len(re.findall(r'<th scope="row">', section)) == 35
    response = client.get("/regio/onvervulde-vraag.csv?van=2026-01-01&tot=2026-11-22")
    assert response.status_code == 200
    assert response.get_data().startswith(b"\xef\xbb\xbfregion_code;name;")
