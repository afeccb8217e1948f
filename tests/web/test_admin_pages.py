"""Admin pages: create and edit locations and their units, edit the policy."""

import re

from sqlalchemy import select

from shelter_match.models import AuditEvent, Location, Unit
from shelter_match.services.policy import DEFAULT_POLICY, get_policy
from tests.factories import make_location
from tests.web.helpers import make_person, post, signed_in

NEW = {"region_code": "GM0344", "name": "Huis aan de Vecht", "safety_level": "oranje",
       "address": "Vechtkade 7, Utrecht", "lat": "52,1", "lon": "5.12",
       "features": ["pets_allowed", "lhbti"], "accepts_night_intake": "1",
       "units-0-label": "A", "units-0-beds": "2", "units-1-label": "Gezin 1",
       "units-1-beds": "5"}


def policy_form(**changes):
    document = {**DEFAULT_POLICY.as_document(), **changes}
    form = {}
    for name, value in document.items():
        if isinstance(value, bool):
            if value:
                form[name] = "1"
        elif isinstance(value, dict):
            form.update({f"{name}-{key}": str(number) for key, number in value.items()})
        else:
            form[name] = str(value)
    return form


def test_create_a_location_with_units(client, session, clock):
    signed_in(client, make_person(session, clock, "admin"))
    page = client.get("/beheer/locaties/nieuw").get_data(as_text=True)
    assert 'name="units-5-beds"' in page and 'for="address"' in page
    response = post(client, "/beheer/locaties/nieuw", NEW)
    assert response.status_code == 303
    location = session.scalar(select(Location).where(Location.name == "Huis aan de Vecht"))
    assert (location.lat, location.lon, location.features) == (52.1, 5.12,
                                                               ["lhbti", "pets_allowed"])
    units = session.scalars(select(Unit).where(Unit.location_id == location.id)).all()
    assert sorted((u.label, u.beds) for u in units) == [("A", 2), ("Gezin 1", 5)]
    assert response.headers["Location"] == f"/beheer/locaties/{location.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Locatie Huis aan de Vecht is aangemaakt." in html
    assert 'value="Vechtkade 7, Utrecht"' in html  # the admin sees the address (audited)
    assert session.scalar(select(AuditEvent).where(
        AuditEvent.action == "location.address_disclosed"))


def test_a_bad_location_is_refused_naming_the_fields(client, session, clock):
    signed_in(client, make_person(session, clock, "admin"))
    response = post(client, "/beheer/locaties/nieuw",
                    {**NEW, "lat": "40", "name": "", "units-1-beds": "99", "lon": "oost"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="lon-error"' in html and "Vul een getal in" in html
    response = post(client, "/beheer/locaties/nieuw", {**NEW, "lat": "40", "name": "",
                                                        "units-1-beds": "99"})
    html = response.get_data(as_text=True)
    for field in ("lat", "name", "units-1-beds"):
        assert f'id="{field}-error"' in html, field
        assert f'href="#{field}"' in html  # the summary links to the field
    assert "Vul een breedtegraad in Nederland in" in html
    assert 'value="Vechtkade 7, Utrecht"' in html  # her input is kept
    assert session.scalar(select(Location).where(Location.name == "Huis aan de Vecht")) is None


def test_edit_a_location_add_a_unit_and_change_beds(client, session, clock):
    location = make_location(session, clock, name="Oud", address="Oude Weg 1")
    signed_in(client, make_person(session, clock, "admin"))
    page = f"/beheer/locaties/{location.id}"
    response = post(client, page, {"name": "Nieuw", "safety_level": "rood",
                                   "address": "Nieuwe Weg 2", "lat": "52.2", "lon": "5.2",
                                   "features": ["men"]})
    assert response.status_code == 303
    session.refresh(location)
    assert (location.name, location.safety_level, location.address, location.features,
            location.accepts_night_intake) == ("Nieuw", "rood", "Nieuwe Weg 2", ["men"], False)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "location.updated"))
    assert "Nieuwe Weg" not in str(event.detail)

    assert post(client, f"{page}/eenheden", {"label": "Z", "beds": "3"}).status_code == 303
    unit = session.scalar(select(Unit).where(Unit.location_id == location.id,
                                             Unit.label == "Z"))
    assert unit.beds == 3
    duplicate = post(client, f"{page}/eenheden", {"label": "Z", "beds": "3"})
    assert "naam die deze locatie nog niet gebruikt" in client.get(
        duplicate.headers["Location"]).get_data(as_text=True)

    response = post(client, f"/beheer/eenheden/{unit.id}",
                    {"beds": "5", "version": unit.version, "location_id": location.id})
    assert response.status_code == 303
    session.refresh(unit)
    assert unit.beds == 5
    stale = post(client, f"/beheer/eenheden/{unit.id}",
                 {"beds": "6", "version": 1, "location_id": location.id})
    assert "intussen gewijzigd" in client.get(stale.headers["Location"]).get_data(as_text=True)
    session.refresh(unit)
    assert unit.beds == 5


def test_edit_the_policy(client, session, clock):
    signed_in(client, make_person(session, clock, "admin"))
    page = client.get("/beheer/beleid").get_data(as_text=True)
    for field in ("min_distance_km-rood", "hold_minutes", "stale_after_hours",
                  "rood_outside_origin_region"):
        assert f'name="{field}"' in page
    response = post(client, "/beheer/beleid", policy_form(
        hold_minutes=20, min_distance_km={"groen": 0, "oranje": 30, "rood": 90}))
    assert response.status_code == 303
    policy = get_policy(session)
    assert policy.hold_minutes == 20 and policy.min_distance_km["rood"] == 90
    assert policy.rood_outside_origin_region is True
    refused = post(client, "/beheer/beleid", policy_form(
        min_distance_km={"groen": 0, "oranje": 80, "rood": 10}, hold_minutes=0))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="min_distance_km-rood-error"' in html and 'id="hold_minutes-error"' in html
    assert get_policy(session).hold_minutes == 20


def test_only_an_admin_reaches_admin_pages_and_forms(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_person(session, clock, "coordinator", location_ids=(location.id,))
    signed_in(client, coordinator)
    assert post(client, "/beheer/beleid", policy_form(hold_minutes=5)).status_code == 403
    assert post(client, f"/beheer/locaties/{location.id}",
                {"name": "Gekaapt"}).status_code == 403
    assert get_policy(session).hold_minutes == DEFAULT_POLICY.hold_minutes
    session.refresh(location)
    assert location.name != "Gekaapt"
    assert re.search("Geen toegang", client.get("/beheer").get_data(as_text=True))


def test_the_regions_page_lists_gemeenten_and_moves_one_audited(client, session, clock):
    from shelter_match.models import RegionGemeente

    signed_in(client, make_person(session, clock, "admin"))
    html = client.get("/beheer/regios").get_data(as_text=True)
    assert "Vlaardingen" in html and "Schiedam" in html and "3 gemeenten" in html
    assert html.count('<details>') == 35
    response = post(client, "/beheer/regios/verplaatsen",
                    {"gemeente": "GM1961", "region_code": "GM0505"})
    assert response.status_code == 303
    assert session.get(RegionGemeente, "GM1961").region_code == "GM0505"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "region.gemeente_moved")).one()
    assert event.detail["source"] == "web" and event.detail["after"] == "GM0505"
    refused = post(client, "/beheer/regios/verplaatsen",
                   {"gemeente": "GM1961", "region_code": "GM9999"})
    assert refused.status_code == 422
    assert session.get(RegionGemeente, "GM1961").region_code == "GM0505"


def test_only_an_admin_moves_a_gemeente(client, session, clock):
    from shelter_match.models import RegionGemeente

    signed_in(client, make_person(session, clock, "crisis_worker"))
    assert post(client, "/beheer/regios/verplaatsen",
                {"gemeente": "GM0606", "region_code": "GM0599"}).status_code == 403
    assert session.get(RegionGemeente, "GM0606").region_code == "GM0622"


def test_a_location_takes_a_target_group_and_a_boys_age_limit(client, session, clock):
    signed_in(client, make_person(session, clock, "admin"))
    page = client.get("/beheer/locaties/nieuw").get_data(as_text=True)
    assert 'name="target_group"' in page and 'for="accepts_boys_up_to_age"' in page
    response = post(client, "/beheer/locaties/nieuw", {
        **NEW, "target_group": "all", "accepts_boys_up_to_age": "12"})
    assert response.status_code == 303
    location = session.scalar(select(Location).where(Location.name == "Huis aan de Vecht"))
    assert (location.target_group, location.accepts_boys_up_to_age) == ("all", 12)
    bad = post(client, "/beheer/locaties/nieuw", {**NEW, "name": "Ander Huis",
                                                  "accepts_boys_up_to_age": "40"})
    assert bad.status_code == 422
