"""The duty officer's page: her escalations and waiting list, pseudonymous."""

from shelter_match.services import users
from tests.factories import Caller, make_caller, make_location, make_request
from tests.web.helpers import PASSWORD, Person, make_person, signed_in


def duty_person(session, clock, *regions):
    user, token = users.create_user(session, name=f"dienst-{len(regions)}-{id(regions)}",
                                    role="duty_officer", now=clock.now(),
                                    duty_region_codes=regions)
    users.set_password(session, user.name, PASSWORD, clock.now())
    session.flush()
    return Person(Caller(user, token))


def test_a_duty_officer_signs_in_to_her_escalations(client, session, clock):
    make_location(session, clock, address="Geheime Gracht 9, Utrecht")
    worker = make_caller(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, risk_level="rood")
    other = make_request(session, clock, worker, risk_level="rood", origin_region_code="GM0014")
    clock.advance(minutes=61)
    signed_in(client, duty_person(session, clock, "GM0599"))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dienst")
    html = client.get("/dienst").get_data(as_text=True)
    assert request.case_reference in html
    assert other.case_reference not in html
    for secret in ("Geheime", "Schiedam"):
        assert secret not in html


def test_other_roles_may_not_see_the_duty_page(client, session, clock):
    signed_in(client, make_person(session, clock, "crisis_worker"))
    assert client.get("/dienst").status_code == 403
