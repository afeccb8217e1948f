"""The hold's life on the pages: the intake call, one extension, confirm by post-redirect-get,
cancel asks once, a duplicate case reference warns, forms keep her work; and the
coordinator's arrivals, no-shows and intake line."""

import re

from sqlalchemy import func, select

from shelter_match.models import AuditEvent, Placement, PlacementRequest, Unit
from shelter_match.services import intake_phone
from tests.factories import make_location
from tests.web.helpers import (
    PASSWORD,
    csrf_from,
    make_hold,
    make_person,
    make_placement,
    make_request,
    post,
    principal_of,
    signed_in,
)
from web.auth import IDLE_TIMEOUT

FORM = {"case_reference": "VT-2026-0042", "origin_region_code": "GM0599", "risk_level": "rood",
        "danger_place": "Schiedam", "household-adults": "1", "household-children": "2"}
ADDRESS = "Noorderweg 12, Groningen"


def shelter(session, clock):
    return make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                         safety_level="rood", lat=53.2, lon=6.56, address=ADDRESS,
                         units=(("A", 1), ("B", 4)))


def unit_b(session, location):
    return session.scalar(select(Unit).where(Unit.location_id == location.id,
                                             Unit.label == "B"))


def actions(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def held_page(client, session, clock):
    place = shelter(session, clock)
    admin = make_person(session, clock, "admin")
    intake_phone.set_intake_phone(session, place.id, "050 123 4567",
                                  actor=principal_of(session, admin), now=clock.now())
    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, risk_level="rood", children=2)
    hold = make_hold(session, clock, worker, request, unit_b(session, place))
    signed_in(client, worker)
    return place, worker, request, hold, f"/crisis/aanvragen/{request.id}"


def test_the_held_place_shows_the_intake_line_to_tap(client, session, clock):
    place, _worker, _request, _hold, page = held_page(client, session, clock)
    html = client.get(page).get_data(as_text=True)
    assert 'href="tel:+31501234567"' in html and "Bel de intake: 050 123 4567" in html
    events = actions(session, "intake_phone.disclosed")
    assert [(e.object_id, e.detail["context"]) for e in events] == [(place.id, "hold_page")]
    # Not on the list of requests, nor on the new-request page.
    for other in ("/crisis", "/crisis/aanvragen/nieuw"):
        assert "1234567" not in client.get(other).get_data(as_text=True)
    assert len(actions(session, "intake_phone.disclosed")) == 1


def test_hold_longer_once(client, session, clock):
    _place, _worker, _request, hold, page = held_page(client, session, clock)
    html = client.get(page).get_data(as_text=True)
    assert "15 minuten langer vasthouden" in html
    response = post(client, f"/crisis/vasthoudingen/{hold.id}/verlengen",
                    {"request_id": page.rsplit("/", 1)[1]})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tot 04:45" in html  # 03:00 UTC + 30 + 15 minutes, in Amsterdam
    assert "minuten langer vasthouden" not in html  # the one extension is used
    again = post(client, f"/crisis/vasthoudingen/{hold.id}/verlengen",
                 {"request_id": page.rsplit("/", 1)[1]})
    assert "kan niet langer worden vastgehouden" in client.get(
        again.headers["Location"]).get_data(as_text=True)
    assert len(actions(session, "hold.extended")) == 1


def test_confirm_redirects_and_a_reload_never_confirms_twice(client, session, clock):
    place, _worker, request, hold, page = held_page(client, session, clock)
    confirmed = post(client, f"/crisis/vasthoudingen/{hold.id}/bevestigen",
                     {"request_id": request.id})
    assert confirmed.status_code == 303 and ADDRESS not in str(confirmed.headers)
    address_page = confirmed.headers["Location"]
    for _reload in range(3):
        html = client.get(address_page).get_data(as_text=True)
        assert ADDRESS in html
    assert session.scalar(select(func.count()).select_from(Placement)) == 1
    # Confirmation + three showings, each audited.
    assert len(actions(session, "address.disclosed")) == 4
    # Back to the request: placed, no address there.
    html = client.get(page).get_data(as_text=True)
    assert "Geplaatst" in html and ADDRESS not in html
    # After the window the page no longer shows it (and records no showing).
    clock.advance(minutes=16)
    html = client.get(address_page).get_data(as_text=True)
    assert ADDRESS not in html and "niet meer getoond" in html
    assert len(actions(session, "address.disclosed")) == 4


def test_another_crisis_worker_cannot_open_the_address_page(client, session, clock):
    _place, _worker, request, hold, _page = held_page(client, session, clock)
    confirmed = post(client, f"/crisis/vasthoudingen/{hold.id}/bevestigen",
                     {"request_id": request.id})
    stranger = signed_in(client.application.test_client(),
                         make_person(session, clock, "crisis_worker"))
    response = stranger.get(confirmed.headers["Location"])
    assert response.status_code == 404 and ADDRESS not in response.get_data(as_text=True)


def test_cancelling_asks_once(client, session, clock):
    _place, _worker, request, _hold, page = held_page(client, session, clock)
    html = client.get(page).get_data(as_text=True)
    assert f'href="/crisis/aanvragen/{request.id}/annuleren"' in html
    asked = client.get(f"/crisis/aanvragen/{request.id}/annuleren")
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Ja, annuleer deze aanvraag" in text and "Nee, ga terug" in text
    session.refresh(request)
    assert request.status == "open"  # asking changed nothing
    done = post(client, f"/crisis/aanvragen/{request.id}/annuleren",
                {"outcome": "own_network"})
    assert done.status_code == 303
    session.refresh(request)
    assert (request.status, request.outcome) == ("cancelled", "own_network")


def test_a_second_open_request_with_the_same_reference_warns(client, session, clock):
    shelter(session, clock)
    signed_in(client, make_person(session, clock, "crisis_worker"))
    assert post(client, "/crisis/aanvragen/nieuw", FORM).status_code == 303
    warned = post(client, "/crisis/aanvragen/nieuw", FORM)
    assert warned.status_code == 200
    html = warned.get_data(as_text=True)
    assert "Je hebt al een open aanvraag met kenmerk VT-2026-0042" in html
    assert 'name="duplicate_ok"' in html and 'value="VT-2026-0042"' in html
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 1
    anyway = post(client, "/crisis/aanvragen/nieuw", {**FORM, "duplicate_ok": "1"})
    assert anyway.status_code == 303
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 2
    # Another reference: no warning.
    other = post(client, "/crisis/aanvragen/nieuw", {**FORM, "case_reference": "VT-2026-0043"})
    assert other.status_code == 303


def test_the_form_shows_all_its_errors_at_once(client, session, clock):
    signed_in(client, make_person(session, clock, "crisis_worker"))
    response = post(client, "/crisis/aanvragen/nieuw",
                    {**FORM, "household-children": "twee", "case_reference": "Jan Jansen",
                     "risk_level": "", "danger_place": "Schiedm"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index('id="error-summary"'):html.index("</div>",
                                                               html.index('id="error-summary"'))]
    for field in ("household-children", "case_reference", "risk_level", "danger"):
        assert f'href="#{field}"' in summary, field
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


def test_a_form_posted_after_the_session_ended_comes_back_after_signing_in(client, session,
                                                                           clock):
    shelter(session, clock)
    worker = make_person(session, clock, "crisis_worker")
    signed_in(client, worker)
    form_page = client.get("/crisis/aanvragen/nieuw").get_data(as_text=True)
    token = csrf_from(form_page)
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() + 60)
    expired = client.post("/crisis/aanvragen/nieuw", data={**FORM, "csrf_token": token,
                                                           "needs": "pets_allowed"})
    assert expired.status_code == 401
    html = expired.get_data(as_text=True)
    assert 'name="carry:case_reference" value="VT-2026-0042"' in html
    assert 'name="carry:needs" value="pets_allowed"' in html
    assert "carry:csrf_token" not in html
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0
    # She signs in on that page; her form comes back as a page that posts it for review.
    carried = dict(re.findall(r'name="(carry:[^"]+)" value="([^"]*)"', html))
    signed = client.post("/aanmelden", data={
        "csrf_token": csrf_from(html), "name": worker.name, "password": PASSWORD,
        "next": "/crisis/aanvragen/nieuw", **carried})
    assert signed.status_code == 200
    resume = signed.get_data(as_text=True)
    assert 'name="_resumed" value="1"' in resume
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resume))
    back = client.post("/crisis/aanvragen/nieuw", data=fields)
    assert back.status_code == 200
    again = back.get_data(as_text=True)
    assert 'value="VT-2026-0042"' in again and "Controleer het en verstuur het dan" in again
    # Shown to check, never sent on her behalf.
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


def test_a_session_cookie_gone_entirely_still_keeps_the_form(app, session, clock):
    fresh = app.test_client()
    response = fresh.post("/crisis/aanvragen/nieuw", data=FORM)
    assert response.status_code == 401
    assert 'name="carry:case_reference" value="VT-2026-0042"' in response.get_data(as_text=True)
    # Other forms without a session stay refused as before.
    assert fresh.post("/crisis/aanvragen/x/annuleren", data={}).status_code == 400


# --- the coordinator -------------------------------------------------------------------------


def test_the_coordinator_marks_arrival_and_no_show(client, session, clock):
    place = shelter(session, clock)
    worker = make_person(session, clock, "crisis_worker")
    first = make_placement(session, clock, worker, unit_b(session, place), risk_level="rood")
    second = make_placement(session, clock, worker,
                            session.scalar(select(Unit).where(Unit.location_id == place.id,
                                                              Unit.label == "A")),
                            risk_level="rood", reference="VT-2026-0099", children=0)
    signed_in(client, make_person(session, clock, "coordinator", location_ids=(place.id,)))
    board = f"/coordinator/locaties/{place.id}"
    html = client.get(board).get_data(as_text=True)
    coming = html[html.index('id="coming"'):html.index('id="staying"')]
    assert coming.count("Onderweg") >= 2 and "Niet gekomen" in coming
    assert post(client, f"/coordinator/plaatsingen/{first.id}/aangekomen",
                {"location_id": place.id}).status_code == 303
    assert post(client, f"/coordinator/plaatsingen/{second.id}/niet-gekomen",
                {"location_id": place.id}).status_code == 303
    session.refresh(first)
    session.refresh(second)
    assert first.arrival_status == "arrived" and second.arrival_status == "no_show"
    assert session.get(PlacementRequest, second.request_id).status == "open"
    html = client.get(board).get_data(as_text=True)
    assert "Ja, ze is vertrokken" in html[html.index('id="staying"'):]
    assert "Niet gekomen" not in html[html.index('id="coming"'):html.index('id="staying"')]


def test_the_coordinator_sets_the_intake_line(client, session, clock):
    place = shelter(session, clock)
    signed_in(client, make_person(session, clock, "coordinator", location_ids=(place.id,)))
    wrong = post(client, f"/coordinator/locaties/{place.id}/intakenummer",
                 {"intake_phone": "12345"})
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert 'value="12345"' in html and 'aria-invalid="true"' in html
    assert "Vul een Nederlands telefoonnummer in" in html
    session.refresh(place)
    assert place.intake_phone is None
    right = post(client, f"/coordinator/locaties/{place.id}/intakenummer",
                 {"intake_phone": "050-1234567"})
    assert right.status_code == 303
    session.refresh(place)
    assert place.intake_phone == "+31501234567"
    assert 'href="tel:+31501234567"' in client.get(
        f"/coordinator/locaties/{place.id}").get_data(as_text=True)
