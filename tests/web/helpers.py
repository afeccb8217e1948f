"""Sign people in to the pages the way a browser does: fetch the form, post it back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shelter_match.services import users
from tests.factories import Caller, make_caller

PASSWORD = "lang-genoeg-wachtwoord"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    """A user with a password, and her API token (to show the API ignores the cookie)."""

    caller: Caller

    @property
    def name(self) -> str:
        return self.caller.user.name

    @property
    def user(self):
        return self.caller.user


def make_person(session, clock, role: str, **scope) -> Person:
    """Create a user with a password for the pages."""
    caller = make_caller(session, clock, role, **scope)
    users.set_password(session, caller.user.name, PASSWORD, clock.now())
    session.flush()
    return Person(caller)


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def session_csrf(client) -> str:
    """Return the CSRF token of this browser's session (every form of a page carries it)."""
    with client.session_transaction() as stored:
        token = stored.get("csrf")
    if token is None:
        token = csrf_from(client.get("/aanmelden").get_data(as_text=True))
    return token


def sign_in(client, person: Person, password: str = PASSWORD):
    """Sign in through the form; return the response to the POST."""
    token = csrf_from(client.get("/aanmelden").get_data(as_text=True))
    return client.post("/aanmelden", data={"name": person.name, "password": password,
                                           "csrf_token": token})


def signed_in(client, person: Person):
    """Sign `person` in and return the client."""
    response = sign_in(client, person)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def post(client, path: str, data: dict | None = None):
    """POST a form the way the page would, with the session's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": session_csrf(client)})


def principal_of(session, person: Person):
    """Return the services' principal of a person (to act as her through the services)."""
    from shelter_match.services.auth import principal_for

    return principal_for(session, person.user)


def make_request(session, clock, worker: Person, *, risk_level: str = "oranje",
                 danger: str = "Schiedam", origin: str = "GM0599", adults: int = 1,
                 children: int = 0, reference: str = "VT-2026-0042"):
    """Create a placement request as `worker` through the requests service."""
    from shelter_match.services import requests

    created = requests.create_request(
        session,
        requests.RequestData(case_reference=reference, origin_region_code=origin,
                             risk_level=risk_level, danger=requests.PointData(place=danger),
                             adults=adults, children=children),
        actor=principal_of(session, worker), now=clock.now())
    session.flush()
    return created


def make_hold(session, clock, worker: Person, request, unit):
    """Hold `unit` for `request` as `worker` through the holds service."""
    from shelter_match.services import holds

    hold = holds.create_hold(session, request.id, unit.id, actor=principal_of(session, worker),
                             now=clock.now())
    session.flush()
    return hold


def make_placement(session, clock, worker: Person, unit, **request):
    """Place a household in `unit` through the services: request, hold, confirm."""
    from shelter_match.services import placements

    made = make_request(session, clock, worker, **request)
    hold = make_hold(session, clock, worker, made, unit)
    view = placements.confirm_hold(session, hold.id, actor=principal_of(session, worker),
                                   now=clock.now())
    session.flush()
    return view.placement
