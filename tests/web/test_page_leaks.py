"""Every page a non-entitled person can reach is free of location addresses and coordinates.

A location's address and coordinates are for the admin and its own coordinators only (the
crisis worker who confirms a placement gets the address once, in the answer to her
"confirm", and on the page after it for policy.address_view_minutes). This scan
fetches every page of the site, with real ids filled in, as each other
kind of person, and also posts every form as them, and looks for the secrets in what comes
back. The list of pages comes from the app itself, so a page added later is scanned too.
"""

import pytest
from flask import url_for
from sqlalchemy import select

from shelter_match.models import Unit
from tests.factories import make_location
from tests.web.helpers import (
    make_hold,
    make_person,
    make_placement,
    make_request,
    session_csrf,
    signed_in,
)

ADDRESS = "Verborgen Pad 17, Groningen"
LAT, LON = 53.21937, 6.56651
# The coordinates as any page might print them: Dutch or English decimal mark, rounded or not.
NEEDLES = (ADDRESS, "Verborgen Pad", "53.219", "53,219", "6.566", "6,566")


def secret_network(session, clock):
    """A secret location with a hold, a placement and an open request aimed at it."""
    secret = make_location(session, clock, name="Huis Zonder Naam", region_code="GM0014",
                           safety_level="rood", lat=LAT, lon=LON, address=ADDRESS,
                           units=(("N1", 3), ("N2", 3), ("N3", 3)))
    elsewhere = make_location(session, clock, name="Elders", region_code="GM0344",
                              safety_level="rood", lat=52.09, lon=5.12,
                              address="Andere Straat 2, Utrecht", units=(("E1", 1),))
    units = {unit.label: unit for unit in session.scalars(
        select(Unit).where(Unit.location_id == secret.id))}
    owner = make_person(session, clock, "crisis_worker")
    held = make_request(session, clock, owner, risk_level="rood", reference="VT-2026-0001",
                        children=2)
    hold = make_hold(session, clock, owner, held, units["N1"])
    placement = make_placement(session, clock, owner, units["N2"], risk_level="rood",
                               reference="VT-2026-0002", children=2)
    proposed = make_request(session, clock, owner, risk_level="rood", reference="VT-2026-0003",
                            children=2)
    # The crisis worker who confirmed the placement may see its address on the page after
    # confirming for policy.address_view_minutes (15); the scan runs after that window, so
    # it also shows that the page stops showing it.
    clock.advance(minutes=16)
    return {
        "secret": secret, "elsewhere": elsewhere, "owner": owner, "hold": hold,
        "placement": placement, "unit": units["N3"],
        "ids": {"location_id": secret.id, "request_id": proposed.id, "hold_id": hold.id,
                "placement_id": placement.id, "unit_id": units["N3"].id},
        "requests": (held.id, placement.request_id, proposed.id),
    }


def page_rules(app, method):
    """Return the page routes (not the static files) that answer `method`."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("web.") and rule.endpoint != "web.static"
            and method in rule.methods]


def urls(app, method, ids, request_ids=()):
    """Return every address of the pages for `method`, with real ids filled in."""
    found = []
    for rule in page_rules(app, method):
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"the scan cannot fill {missing} of {rule.rule}: add an id"
        with app.test_request_context():
            if "request_id" in rule.arguments:
                # Each request: the held one, the placed one and the one with options.
                found += [(rule.endpoint, url_for(rule.endpoint, request_id=rid))
                          for rid in request_ids or (ids["request_id"],)]
            else:
                found.append((rule.endpoint, url_for(
                    rule.endpoint, **{name: ids[name] for name in rule.arguments})))
    return found


def assert_no_secret(body: str, who: str, url: str) -> None:
    for needle in NEEDLES:
        assert needle not in body, f"{who} sees {needle!r} on {url}"


def people(session, clock, network):
    """Everyone who is not entitled to the secret location's address, by description."""
    return {
        "someone not signed in": None,
        "the crisis worker who holds there": network["owner"],
        "another crisis worker": make_person(session, clock, "crisis_worker"),
        "a coordinator of another location": make_person(
            session, clock, "coordinator", location_ids=(network["elsewhere"].id,)),
        "a reviewer of the region": make_person(session, clock, "region_reviewer",
                                                region_code="GM0014"),
        "a reviewer of all regions": make_person(session, clock, "region_reviewer"),
    }


def test_no_page_shows_an_address_or_coordinates_to_those_not_entitled(app, session, clock):
    network = secret_network(session, clock)
    pages = urls(app, "GET", network["ids"], network["requests"])
    fetched = {endpoint for endpoint, _url in pages}
    assert fetched == {rule.endpoint for rule in page_rules(app, "GET")}
    seen_pages = 0
    for who, person in people(session, clock, network).items():
        client = app.test_client()
        if person is not None:
            signed_in(client, person)
        for _endpoint, url in pages:
            for query in ("", "?van=2026-01-01&tot=2026-11-22"):
                response = client.get(url + query, follow_redirects=True)
                assert response.status_code < 500, (who, url)
                seen_pages += response.status_code == 200
                assert_no_secret(response.get_data(as_text=True), who, url)
    assert seen_pages > 20  # the scan read real pages, not only refusals

    # The needles do find the secrets where they are shown: to the admin.
    admin = signed_in(app.test_client(), make_person(session, clock, "admin"))
    html = admin.get(f"/beheer/locaties/{network['secret'].id}").get_data(as_text=True)
    assert ADDRESS in html and "53.21937" in html and "6.56651" in html


@pytest.mark.parametrize("who", ["another crisis worker", "a coordinator of another location",
                                 "a reviewer of all regions", "someone not signed in"])
def test_no_form_answers_with_an_address_to_those_not_entitled(app, session, clock, who):
    network = secret_network(session, clock)
    person = people(session, clock, network)[who]
    client = app.test_client()
    if person is not None:
        signed_in(client, person)
    for _endpoint, url in urls(app, "POST", network["ids"]):
        fields = {"csrf_token": session_csrf(client), "request_id": network["ids"]["request_id"],
                  "location_id": network["secret"].id, "unit_id": network["unit"].id,
                  "status": "free", "version": "1"}
        response = client.post(url, data=fields, follow_redirects=True)
        assert response.status_code < 500, (who, url)
        assert_no_secret(response.get_data(as_text=True), who, url)
    # Nothing they posted placed anyone: the hold is still active, the placement open.
    session.expire_all()
    assert network["hold"].status == "active"
    assert network["placement"].ended_at is None
