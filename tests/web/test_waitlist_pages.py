"""The crisis worker's pages and the waiting list: join when nothing fits, see the offer."""

from sqlalchemy import select

from shelter_match.models import Hold, PlacementRequest, Unit
from shelter_match.services import waitlist
from shelter_match.services.availability import update_unit
from tests.factories import make_caller, make_location, principal_of
from tests.web.helpers import make_person, make_request, post, signed_in


def test_wait_then_the_offer_her_colleague_sees_and_declines(app, client, session, clock):
    far = make_location(session, clock, name="Veilig Huis Noord", region_code="GM0014",
                        safety_level="rood", lat=53.2, lon=6.56, units=(("A", 4),))
    unit_id = session.scalar(select(Unit.id).where(Unit.location_id == far.id))
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(far.id,)))
    update_unit(session, unit_id, actor=coordinator, now=clock.now(), status="closed")
    night = make_person(session, clock, "crisis_worker", organisation="VT Rijnmond")
    day = make_person(session, clock, "crisis_worker", organisation="VT Rijnmond")
    request = make_request(session, clock, night, risk_level="rood")
    signed_in(client, night)
    page = f"/crisis/aanvragen/{request.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Op de wachtlijst zetten" in html
    assert post(client, f"{page}/wachtlijst").status_code == 303
    session.expire_all()
    assert session.get(PlacementRequest, request.id).status == "waiting"
    html = client.get(page).get_data(as_text=True)
    assert "Op de wachtlijst sinds" in html and "Op de wachtlijst zetten" not in html

    update_unit(session, unit_id, actor=coordinator, now=clock.now(), status="free")
    offer = waitlist.run_matcher(session, now=clock.now()).offers[0]
    client = signed_in(app.test_client(), day)  # the day shift, on her own phone
    home = client.get("/crisis").get_data(as_text=True)
    assert "Plek aangeboden" in home and "Aangeboden tot" in home
    html = client.get(page).get_data(as_text=True)
    assert "Plek aangeboden: Veilig Huis Noord" in html and "Afwijzen" in html
    declined = post(client, f"/crisis/vasthoudingen/{offer.id}/loslaten",
                    {"request_id": request.id})
    assert declined.status_code == 303
    session.expire_all()
    assert session.get(Hold, offer.id).status == "released"
    assert session.get(PlacementRequest, request.id).status == "waiting"


def test_cancel_says_why(client, session, clock):
    worker = make_person(session, clock, "crisis_worker")
    request = make_request(session, clock, worker)
    signed_in(client, worker)
    # The request page links to a page that asks once, and why.
    html = client.get(f"/crisis/aanvragen/{request.id}").get_data(as_text=True)
    assert f"/crisis/aanvragen/{request.id}/annuleren" in html
    html = client.get(f"/crisis/aanvragen/{request.id}/annuleren").get_data(as_text=True)
    assert "Ze is naar haar eigen netwerk gegaan" in html
    assert post(client, f"/crisis/aanvragen/{request.id}/annuleren",
                {"outcome": "own_network"}).status_code == 303
    session.expire_all()
    assert session.get(PlacementRequest, request.id).outcome == "own_network"
