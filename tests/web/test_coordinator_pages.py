"""The coordinator's bed board: tiles changed with one tap, "alles klopt", who is coming."""

import re

from sqlalchemy import select

from shelter_match.models import AuditEvent, Placement, Unit
from tests.factories import make_location
from tests.web.helpers import make_hold, make_person, make_request, post, signed_in


def units_of(session, location):
    return {unit.label: unit for unit in session.scalars(
        select(Unit).where(Unit.location_id == location.id).execution_options(
            populate_existing=True))}


def board_setup(session, clock, **location):
    place = make_location(session, clock, name="De Linde", region_code="GM0344",
                          lat=52.1, lon=5.1, address="Lindelaan 4, Utrecht", **location)
    coordinator = make_person(session, clock, "coordinator", location_ids=(place.id,))
    return place, coordinator


def test_board_shows_every_unit_as_a_tile_without_the_address(client, session, clock):
    place, coordinator = board_setup(session, clock, units=(("A", 1), ("B", 4), ("C", 2)))
    signed_in(client, coordinator)
    response = client.get("/coordinator", follow_redirects=True)  # one location: its board
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [label for label in re.findall(r'class="unit-label">([^<]+)<', html)] == ["A", "B",
                                                                                   "C"]
    assert html.count('class="tile tile-free"') == 3
    assert "Zet op: Bezet" in html and "Zet op: Buiten gebruik" in html
    assert "Lindelaan" not in html and "52.1" not in html
    # The title is words only: no copy of the intake form (and its CSRF token) inside it.
    assert re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1) == (
        "De Linde · Beddenoverzicht · shelter-match")
    assert html.count('id="intake-phone"') == 1


def test_one_tap_sets_a_unit_and_refreshes_availability(client, session, clock):
    place, coordinator = board_setup(session, clock)
    signed_in(client, coordinator)
    unit = units_of(session, place)["A"]
    clock.advance(hours=2)
    response = post(client, f"/coordinator/eenheden/{unit.id}",
                    {"status": "occupied", "version": unit.version, "location_id": place.id})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/coordinator/locaties/{place.id}#unit-{unit.id}")
    assert units_of(session, place)["A"].status == "occupied"
    session.refresh(place)
    assert place.availability_updated_at == clock.now()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kamer A staat nu op: Bezet." in page
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.updated"))


def test_a_stale_tap_is_refused_with_a_clear_message(client, session, clock):
    place, coordinator = board_setup(session, clock)
    signed_in(client, coordinator)
    unit = units_of(session, place)["A"]
    old_version = unit.version
    post(client, f"/coordinator/eenheden/{unit.id}",
         {"status": "closed", "version": old_version, "location_id": place.id})
    # A second phone still shows the old tile and taps "occupied".
    response = post(client, f"/coordinator/eenheden/{unit.id}",
                    {"status": "occupied", "version": old_version, "location_id": place.id})
    assert response.status_code == 303
    assert units_of(session, place)["A"].status == "closed"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Iemand wijzigde deze kamer net voor jou" in page


def test_stale_warning_and_alles_klopt(client, session, clock):
    place, coordinator = board_setup(session, clock)
    signed_in(client, coordinator)
    board = f"/coordinator/locaties/{place.id}"
    assert "verouderd" not in client.get(board).get_data(as_text=True)
    clock.advance(hours=13)  # policy: stale after 12 hours
    signed_in(client, coordinator)  # a new shift
    page = client.get(board).get_data(as_text=True)
    assert "De beschikbaarheid is verouderd" in page and 'role="alert"' in page
    response = post(client, f"{board}/alles-klopt")
    assert response.status_code == 303
    page = client.get(board).get_data(as_text=True)
    assert "De beschikbaarheid is verouderd" not in page
    assert "Dank je: de beschikbaarheid staat als gecontroleerd." in page
    session.refresh(place)
    assert place.availability_updated_at == clock.now()


def test_who_is_coming_confirm_and_discharge(client, session, clock):
    place, coordinator = board_setup(session, clock, safety_level="oranje")
    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, risk_level="oranje", danger="Groningen",
                           origin="GM0014", adults=1, children=2)
    unit = units_of(session, place)["B"]
    hold = make_hold(session, clock, worker, request, unit)
    signed_in(client, coordinator)
    board = f"/coordinator/locaties/{place.id}"
    html = client.get(board).get_data(as_text=True)
    coming = html[html.index('id="coming"'):html.index('id="staying"')]
    assert "Kamer B" in coming and "1 volwassene, 2 kinderen" in coming and "Groningen" in coming
    assert "VT-2026-0042" not in html  # the case reference is the crisis worker's
    assert 'class="tile tile-held"' in html and "Vastgehouden tot 04:30" in html  # 03:30 UTC

    response = post(client, f"/coordinator/vasthoudingen/{hold.id}/bevestigen",
                    {"location_id": place.id})
    assert response.status_code == 303
    placement = session.scalar(select(Placement).where(Placement.request_id == request.id))
    assert placement is not None and units_of(session, place)["B"].status == "occupied"
    # Confirmed, she is on the way until the coordinator marks her arrived.
    html = client.get(board).get_data(as_text=True)
    coming = html[html.index('id="coming"'):html.index('id="staying"')]
    assert "Kamer B" in coming and "Onderweg" in coming and "Aangekomen" in coming
    response = post(client, f"/coordinator/plaatsingen/{placement.id}/aangekomen",
                    {"location_id": place.id})
    assert response.status_code == 303
    session.refresh(placement)
    assert placement.arrival_status == "arrived"
    html = client.get(board).get_data(as_text=True)
    staying = html[html.index('id="staying"'):]
    assert "Ja, ze is vertrokken" in staying and "Kamer B" not in html[
        html.index('id="coming"'):html.index('id="staying"')]

    clock.advance(days=3)
    signed_in(client, coordinator)  # three days later, another shift
    response = post(client, f"/coordinator/plaatsingen/{placement.id}/uitstroom",
                    {"location_id": place.id})
    assert response.status_code == 303
    session.refresh(placement)
    assert placement.ended_at == clock.now()
    assert units_of(session, place)["B"].status == "free"
    again = post(client, f"/coordinator/plaatsingen/{placement.id}/uitstroom",
                 {"location_id": place.id})
    assert "Deze plaatsing was al beëindigd." in client.get(
        again.headers["Location"]).get_data(as_text=True)


def test_a_held_unit_cannot_be_tapped_free(client, session, clock):
    place, coordinator = board_setup(session, clock, safety_level="oranje")
    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, danger="Groningen", origin="GM0014")
    unit = units_of(session, place)["A"]
    make_hold(session, clock, worker, request, unit)
    signed_in(client, coordinator)
    html = client.get(f"/coordinator/locaties/{place.id}").get_data(as_text=True)
    tile = html[html.index(f'id="unit-{unit.id}"'):]
    tile = tile[:tile.index("</li>")]
    assert "<button" not in tile
    held = units_of(session, place)["A"]
    response = post(client, f"/coordinator/eenheden/{unit.id}",
                    {"status": "closed", "version": held.version, "location_id": place.id})
    assert units_of(session, place)["A"].status == "held"
    assert "vastgehouden of bezet door een plaatsing" in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_a_coordinator_of_several_locations_sees_them_all(client, session, clock):
    first = make_location(session, clock, name="Alfa")
    second = make_location(session, clock, name="Beta")
    coordinator = make_person(session, clock, "coordinator",
                              location_ids=(first.id, second.id))
    signed_in(client, coordinator)
    html = client.get("/coordinator").get_data(as_text=True)
    assert html.index("Alfa") < html.index("Beta")
    assert f"/coordinator/locaties/{first.id}" in html
    # Someone else's unit cannot be changed through her page.
    outsider = make_location(session, clock, name="Gamma")
    unit = units_of(session, outsider)["A"]
    response = post(client, f"/coordinator/eenheden/{unit.id}",
                    {"status": "closed", "version": unit.version, "location_id": outsider.id})
    assert response.status_code in (303, 403, 404)
    assert units_of(session, outsider)["A"].status == "free"


def test_the_board_reminds_her_before_her_location_turns_stale(client, session, clock):
    place, coordinator = board_setup(session, clock)
    board = f"/coordinator/locaties/{place.id}"
    clock.advance(hours=10, minutes=30)  # stale after 12 hours: 90 minutes left
    signed_in(client, coordinator)
    page = client.get(board).get_data(as_text=True)
    assert "Over 90 minuten verouderd" in page
    assert "De beschikbaarheid is verouderd" not in page
    post(client, f"{board}/alles-klopt")
    assert "minuten verouderd" not in client.get(board).get_data(as_text=True)
