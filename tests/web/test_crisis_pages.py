"""The crisis worker's pages: one form, safe options as cards, hold, confirm, release."""

import re

from sqlalchemy import func, select

from shelter_match.models import AuditEvent, Hold, PlacementRequest, Unit
from tests.factories import make_location
from tests.web.helpers import make_hold, make_person, make_request, post, signed_in

FORM = {"case_reference": "VT-2026-0042", "origin_region_code": "GM0599", "risk_level": "rood",
        "danger_place": "Schiedam", "household-adults": "1", "household-children": "2"}


def network(session, clock):
    """A safe place far from Rotterdam, one too close, one not secure enough."""
    return {
        "far": make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                             safety_level="rood", lat=53.2, lon=6.56,
                             address="Noorderweg 12, Groningen", units=(("A", 1), ("B", 4))),
        "near": make_location(session, clock, name="Havenhuis", region_code="GM0599",
                              safety_level="rood", lat=51.92, lon=4.47,
                              address="Kadeweg 1, Rotterdam", units=(("A", 4),)),
        "open": make_location(session, clock, name="Open Deur", region_code="GM0014",
                              safety_level="oranje", lat=53.21, lon=6.57,
                              address="Open Straat 3, Groningen", units=(("A", 4),)),
    }


def created_request(session):
    return session.scalar(select(PlacementRequest).order_by(PlacementRequest.created_at.desc()))


def test_the_form_offers_places_regions_codes_and_needs(client, session, clock):
    signed_in(client, make_person(session, clock, "crisis_worker"))
    html = client.get("/crisis/aanvragen/nieuw").get_data(as_text=True)
    assert '<datalist id="places">' in html and '<option value="Schiedam">' in html
    # Where she lives, the danger and where she is now.
    # ... and up to four more places of danger (a family network).
    assert html.count('list="places"') == 3 + 4 and "Waar woont zij?" in html
    region_select = html[html.index('id="origin_region_code"'):]
    assert len(re.findall(r"<option value=\"GM\d{4}\"", region_select[:region_select.index(
        "</select>")])) == 35
    for label in ("Groen", "Oranje", "Rood", "Rolstoel", "Neemt een huisdier mee",
                  "Casusnummer", "Waar is de dreiging?"):
        assert label in html
    for field in ("case_reference", "origin_place", "origin_region_code", "danger_place",
                  "household-adults"):
        assert f'for="{field}"' in html  # every field has its label


def test_request_options_hold_and_confirm_with_the_address(client, session, clock):
    places = network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    response = post(client, "/crisis/aanvragen/nieuw", FORM)
    assert response.status_code == 303
    page = response.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert "1 veilige mogelijkheid" in html
    assert "Veilig Huis Noord" in html
    assert "Havenhuis" not in html and "Open Deur" not in html
    assert "1 locatie ligt te dicht bij de plek van de dreiging." in html or \
        "ligt in haar eigen regio" in html
    assert "1 locatie is niet beveiligd genoeg voor deze veiligheidscode." in html
    for fact in ("Afstand tot dreiging", "Reisafstand", "Bedden", "Groningen", "Rood"):
        assert fact in html
    assert "Noorderweg" not in html  # no address before confirming

    unit_id = re.search(r'name="unit_id" value="([^"]+)"', html).group(1)
    held = post(client, f"{page}/vasthouden", {"unit_id": unit_id})
    assert held.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "Plek vastgehouden: Veilig Huis Noord, kamer B" in html
    assert "Voor jou vastgehouden tot 04:30." in html  # 03:30 UTC is 04:30 in Amsterdam
    assert 'data-expires-at="2026-11-22T03:30:00Z"' in html
    assert "Noorderweg" not in html

    hold_id = re.search(r"/crisis/vasthoudingen/([^/]+)/bevestigen", html).group(1)
    confirmed = post(client, f"/crisis/vasthoudingen/{hold_id}/bevestigen",
                     {"request_id": page.rsplit("/", 1)[1]})
    # Post-redirect-get: the address page is a GET, so reloading never confirms twice.
    assert confirmed.status_code == 303
    assert "Noorderweg" not in str(confirmed.headers)
    placed = client.get(confirmed.headers["Location"])
    assert placed.status_code == 200
    text = placed.get_data(as_text=True)
    assert '<address class="address">Noorderweg 12, Groningen</address>' in text
    assert placed.headers["Cache-Control"] == "no-store"
    assert "Noorderweg" not in placed.headers.get("Set-Cookie", "")
    disclosures = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "address.disclosed")).all()
    # Disclosed at the confirmation, and shown once on the page: both audited.
    assert [event.object_id for event in disclosures] == [places["far"].id] * 2
    assert "Geplaatst" in client.get(page).get_data(as_text=True)
    assert "Noorderweg" not in client.get(page).get_data(as_text=True)


def test_an_unknown_place_offers_suggestions_to_tap(client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    response = post(client, "/crisis/aanvragen/nieuw", {**FORM, "danger_place": "Schiedm"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Deze plaats kennen we niet. Bedoel je een van deze?" in html
    assert 'name="danger_suggestion" value="Schiedam"' in html
    assert 'value="VT-2026-0042"' in html  # what she typed is kept
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0
    tapped = post(client, "/crisis/aanvragen/nieuw",
                  {**FORM, "danger_place": "Schiedm", "danger_suggestion": "Schiedam"})
    assert tapped.status_code == 303
    assert created_request(session).danger_place == "Schiedam"


def test_a_name_of_towns_far_apart_asks_her_to_choose(client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    response = post(client, "/crisis/aanvragen/nieuw", {**FORM, "danger_place": "Hengelo"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Er zijn meerdere plaatsen met deze naam, ver uit elkaar. Kies de juiste." in html
    assert "Deze plaats kennen we niet" not in html
    for choice in ("Hengelo (Ov)", "Hengelo (Gld)"):
        assert f'name="danger_suggestion" value="{choice}"' in html
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0
    tapped = post(client, "/crisis/aanvragen/nieuw",
                  {**FORM, "danger_place": "Hengelo", "danger_suggestion": "Hengelo (Gld)"})
    assert tapped.status_code == 303
    assert created_request(session).danger_place == "Hengelo (Gld)"


def test_a_name_or_bsn_as_case_reference_is_refused(client, session, clock):
    signed_in(client, make_person(session, clock, "crisis_worker"))
    for reference in ("Jansen", "111222333"):
        response = post(client, "/crisis/aanvragen/nieuw",
                        {**FORM, "case_reference": reference})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Nooit een naam of BSN." in html
        assert 'id="case_reference-error"' in html and 'aria-invalid="true"' in html
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


def test_coordinates_instead_of_a_place(client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    form = {**FORM, "danger_place": "", "danger_lat": "51,92", "danger_lon": "4.40"}
    assert post(client, "/crisis/aanvragen/nieuw", form).status_code == 303
    request = created_request(session)
    assert (request.danger_lat, request.danger_place) == (51.92, None)
    bad = post(client, "/crisis/aanvragen/nieuw", {**form, "danger_lat": "noord"})
    assert bad.status_code == 422


def test_when_nothing_fits_she_is_told_why(client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    response = post(client, "/crisis/aanvragen/nieuw",
                    {**FORM, "household-adults": "3", "household-children": "4"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Er is op dit moment geen passende plek." in html
    assert "Waarom andere locaties niet getoond worden" in html
    assert "geen vrije kamer met genoeg bedden" in html


def test_release_and_cancel(client, session, clock):
    places = network(session, clock)
    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, risk_level="rood")
    unit = session.scalar(select(Unit).where(Unit.location_id == places["far"].id,
                                             Unit.label == "B"))
    hold = make_hold(session, clock, worker, request, unit)
    signed_in(client, worker)
    page = f"/crisis/aanvragen/{request.id}"
    home = client.get("/crisis").get_data(as_text=True)
    assert "VT-2026-0042" in home and "Plek vastgehouden" in home
    response = post(client, f"/crisis/vasthoudingen/{hold.id}/loslaten",
                    {"request_id": request.id})
    assert response.headers["Location"] == page
    session.refresh(unit)
    assert unit.status == "free"
    assert "De plek is vrijgegeven." in client.get(page).get_data(as_text=True)
    response = post(client, f"/crisis/aanvragen/{request.id}/annuleren")
    assert response.headers["Location"] == "/crisis"
    session.refresh(request)
    assert request.status == "cancelled"


def test_a_place_taken_meanwhile_and_an_expired_hold(client, session, clock):
    places = network(session, clock)
    worker = make_person(session, clock, "crisis_worker")
    colleague = make_person(session, clock, "crisis_worker")
    mine = make_request(session, clock, worker, risk_level="rood")
    theirs = make_request(session, clock, colleague, risk_level="rood", reference="VT-2026-7")
    unit = session.scalar(select(Unit).where(Unit.location_id == places["far"].id,
                                             Unit.label == "B"))
    make_hold(session, clock, colleague, theirs, unit)
    signed_in(client, worker)
    response = post(client, f"/crisis/aanvragen/{mine.id}/vasthouden", {"unit_id": unit.id})
    assert "iemand was je net voor" in client.get(response.headers["Location"]).get_data(
        as_text=True)

    # Her own hold runs out while she phones: confirming it is refused, the options return.
    other = make_location(session, clock, name="Tweede Huis", region_code="GM0014",
                          safety_level="rood", lat=53.22, lon=6.55, address="Tweede Laan 2")
    free = session.scalar(select(Unit).where(Unit.location_id == other.id, Unit.label == "B"))
    hold = make_hold(session, clock, worker, mine, free)
    clock.advance(minutes=31)
    response = post(client, f"/crisis/vasthoudingen/{hold.id}/bevestigen",
                    {"request_id": mine.id})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "verlopen of vrijgegeven" in html and "Tweede Laan" not in html
    assert "Tweede Huis" in html and "Plek vasthouden" in html
    assert session.scalar(select(Hold.status).where(Hold.id == hold.id)) in ("active",
                                                                              "expired")


def test_she_sees_only_her_own_requests(client, session, clock):
    network(session, clock)
    owner = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, owner, risk_level="rood")
    signed_in(client, make_person(session, clock, "crisis_worker"))
    assert client.get(f"/crisis/aanvragen/{request.id}").status_code == 404
    assert "VT-2026-0042" not in client.get("/crisis").get_data(as_text=True)
    response = post(client, f"/crisis/aanvragen/{request.id}/annuleren")
    assert response.status_code == 404
    session.refresh(request)
    assert request.status == "open"


def test_where_she_lives_gives_her_region(client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    form = {key: value for key, value in FORM.items() if key != "origin_region_code"}
    response = post(client, "/crisis/aanvragen/nieuw", {**form, "origin_place": "Schiedam"})
    assert response.status_code == 303
    assert created_request(session).origin_region_code == "GM0622"  # Vlaardingen's region


def test_a_home_several_places_carry_asks_her_to_choose_and_shows_the_region(
        client, session, clock):
    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    form = {key: value for key, value in FORM.items() if key != "origin_region_code"}
    response = post(client, "/crisis/aanvragen/nieuw", {**form, "origin_place": "Valkenburg",
                                                         "danger_place": "Bonaire"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for choice in ("Valkenburg (ZH)", "Valkenburg (L)"):
        assert f'name="origin_suggestion" value="{choice}"' in html
    assert "valt buiten dit netwerk" in html  # Bonaire: said plainly, no look-alikes
    assert 'name="danger_suggestion"' not in html
    # After her tap, the page shows the region that follows (here with a danger to fix).
    response = post(client, "/crisis/aanvragen/nieuw", {
        **form, "origin_place": "Valkenburg", "origin_suggestion": "Valkenburg (ZH)",
        "danger_place": "Valkenburg"})
    html = response.get_data(as_text=True)
    assert "Haar regio: Leiden." in html
    assert 'name="danger_suggestion" value="Valkenburg (L)"' in html


def test_the_options_page_does_not_move_with_a_secret_point(client, session, clock):
    # Issue 13: the crisis worker's page is computed from public areas only. Moving every
    # location's point elsewhere inside its area leaves the page as it was, to the byte
    # (the CSRF token aside).
    from geopy.distance import geodesic

    from shelter_match.models import Location

    network(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    page = post(client, "/crisis/aanvragen/nieuw", FORM).headers["Location"]

    def shown() -> str:
        return re.sub(r'name="csrf_token" value="[^"]*"', "",
                      client.get(page).get_data(as_text=True))

    before = shown()
    assert "Veilig Huis Noord" in before
    for location in session.scalars(select(Location)):
        point = geodesic(kilometers=location.area_radius_km * 0.9).destination(
            (location.area_lat, location.area_lon), 200)
        location.lat, location.lon = point.latitude, point.longitude
    session.flush()
    assert shown() == before


def test_options_show_freshness_and_what_would_give_more(client, session, clock):
    far = make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                        safety_level="rood", lat=53.2, lon=6.56, address="Noorderweg 12",
                        units=(("A", 4),))
    make_location(session, clock, name="Dierenhuis", region_code="GM0080",
                  safety_level="rood", features=("pets_allowed",), units=(("A", 4),))
    clock.advance(minutes=14)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    page = post(client, "/crisis/aanvragen/nieuw", FORM).headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert "bijgewerkt 14 min geleden" in html and "Niet recent bevestigd" not in html
    clock.advance(hours=13)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    assert far
    # A request that needs a wheelchair finds nothing; without that need, two places.
    response = post(client, "/crisis/aanvragen/nieuw", {**FORM, "needs": "wheelchair_accessible"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wat meer opties zou geven" in html
    assert "Zonder “Rolstoel”: 2 locaties." in html
    # 13 hours on, both places are stale: each option says so.
    stale = post(client, "/crisis/aanvragen/nieuw", {**FORM, "case_reference": "VT-2026-0043"})
    html = client.get(stale.headers["Location"]).get_data(as_text=True)
    assert html.count("Niet recent bevestigd") == 2
    assert "bijgewerkt 13 uur geleden" in html


def test_her_open_requests_poll_with_an_etag_and_show_a_new_offer(client, session, clock):
    """The list the page polls (site.js): 304 while nothing changed, the new list after."""
    from shelter_match.services import intake_phone, waitlist
    from tests.factories import make_caller, make_location, make_request, principal_of
    from tests.web.helpers import make_person, signed_in

    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker.caller, risk_level="oranje")
    waitlist.join_waitlist(session, request.id, actor=principal_of(session, worker.caller),
                           now=clock.now())
    signed_in(client, worker)
    page = client.get("/crisis").get_data(as_text=True)
    etag = page.split('data-etag="', 1)[1].split('"', 1)[0]
    unchanged = client.get("/crisis/live", headers={"If-None-Match": f'"{etag}"'})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    place = make_location(session, clock, region_code="GM0344", units=(("A", 2),))
    intake_phone.set_intake_phone(session, place.id, "050 123 4567", now=clock.now(),
                                  actor=principal_of(session, make_caller(session, clock, "admin")))
    assert len(waitlist.run_matcher(session, now=clock.now(), force=True).offers) == 1
    session.flush()
    changed = client.get("/crisis/live", headers={"If-None-Match": f'"{etag}"'})
    assert changed.status_code == 200
    assert changed.headers["ETag"].strip('"') != etag
    assert "Offered until" in changed.get_data(as_text=True) or \
        "Aangeboden tot" in changed.get_data(as_text=True)
    # The list shows no intake line, so no showing is audited, however often it polls; the
    # request's page shows it, audited.
    assert "050 123 4567" not in changed.get_data(as_text=True)
    shown = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "intake_phone.disclosed")
    for _ in range(3):
        client.get("/crisis/live")
    client.get("/crisis")
    assert session.scalar(shown) == 0
    page = client.get(f"/crisis/aanvragen/{request.id}").get_data(as_text=True)
    assert "050 123 4567" in page
    assert session.scalar(shown) == 1


def test_the_form_takes_the_childrens_ages_and_a_family_network(client, session, clock):
    # Contract 4.2 on the page: a boy above a location's age limit excludes it, and every
    # place of danger of a family network keeps its distance.
    network(session, clock)
    make_location(session, clock, name="Tot Twaalf", region_code="GM0935", safety_level="rood",
                  lat=50.85, lon=5.69, address="Laan 1, Maastricht", units=(("A", 4),),
                  accepts_boys_up_to_age=12)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    form = {**FORM, "household-children": "2",
            "household-children_detail-0-age": "14", "household-children_detail-0-sex": "male",
            "household-children_detail-1-age": "6", "household-children_detail-1-sex": "female",
            "danger-1_place": "Groningen"}
    response = post(client, "/crisis/aanvragen/nieuw", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    request = created_request(session)
    assert request.children_detail == [{"age": 14, "sex": "male"}, {"age": 6, "sex": "female"}]
    assert len(request.more_dangers) == 1
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # Groningen is a danger too: the place there is too close; Tot Twaalf takes no boy of 14.
    assert "Veilig Huis Noord" not in html and "Tot Twaalf" not in html
    assert "1 locatie neemt geen jongen van deze leeftijd op." in html
    assert "1 locatie ligt te dicht bij de plek van de dreiging." in html  # Groningen
    assert "0 veilige mogelijkheden" in html


def test_the_form_names_what_is_wrong_with_ages_and_places(client, session, clock):
    signed_in(client, make_person(session, clock, "crisis_worker"))
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    form = {**FORM, "case_reference": "VT-2026-0077", "household-children": "2",
            "household-children_detail-0-age": "19", "household-children_detail-0-sex": "male",
            "danger-1_place": "Valkenburg"}
    response = post(client, "/crisis/aanvragen/nieuw", form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vul voor elk kind een regel in" in html  # one line for two children
    assert "Vul een leeftijd van 0 tot en met 17 in." in html
    assert "Niet duidelijk welke plaats bedoeld is" in html and "Valkenburg (ZH)" in html
    # What she typed comes back, and nothing was stored.
    assert 'value="Valkenburg"' in html and 'value="19"' in html
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before
