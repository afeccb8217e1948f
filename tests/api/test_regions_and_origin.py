"""Regions are tables of gemeenten; the origin follows from where she lives; locations are
checked against their region (CONTRACT §4.2)."""

import pytest
from sqlalchemy import func, select

from seed.demo_network import load_regions
from shelter_match.gazetteer import Gazetteer
from shelter_match.models import AuditEvent, Location, PlacementRequest, RegionGemeente
from shelter_match.services import places
from tests.factories import make_caller, principal_of

REQUEST = {
    "case_reference": "VT-2026-0142",
    "risk_level": "oranje",
    "danger": {"place": "Rotterdam"},
    "household": {"adults": 1, "children": 0},
}
LOCATION = {
    "name": "Opvang Controle", "region_code": "GM0344", "safety_level": "oranje",
    "lat": 52.0877, "lon": 5.1187, "address": "Controlestraat 1, Utrecht", "features": [],
    "accepts_night_intake": True, "units": [{"label": "A", "beds": 2}],
}


def test_every_gemeente_lies_in_exactly_one_region(session):
    rows = list(session.scalars(select(RegionGemeente)))
    codes = [row.gemeente_code for row in rows]
    assert len(codes) == len(set(codes)) == 342
    assert {g.gemeente_code for g in Gazetteer.default().gemeenten()} == set(codes)
    regions = {region.code for region in load_regions()}
    assert {row.region_code for row in rows} == regions and len(regions) == 35


def test_every_region_contains_its_centrumgemeente(session):
    for region in load_regions():
        assert places.region_of_gemeente(session, region.code) == region.code, region


@pytest.mark.parametrize(("gemeente", "region"), [
    ("GM0606", "GM0622"),  # Schiedam: Vlaardingen's region
    ("GM0556", "GM0622"),  # Maassluis
    ("GM0637", "GM0518"),  # Zoetermeer: 's-Gravenhage
    ("GM0303", "GM0034"),  # Dronten: Almere
    ("GM0184", "GM0034"),  # Urk
    ("GM0171", "GM0034"),  # Noordoostpolder
    ("GM0503", "GM0518"),  # Delft
    ("GM0513", "GM0513"),  # Gouda
    ("GM1992", "GM0599"),  # Voorne aan Zee
])
def test_known_gemeenten_are_in_their_region(session, gemeente, region):
    assert places.region_of_gemeente(session, gemeente) == region


def test_a_region_lists_its_gemeenten(client, session, clock):
    headers = make_caller(session, clock, "crisis_worker").headers
    body = client.get("/api/v1/regions/GM0622", headers=headers).get_json()
    assert body["code"] == "GM0622" and body["name"] == "Vlaardingen"
    assert body["gemeenten"] == [{"code": "GM0556", "name": "Maassluis"},
                                 {"code": "GM0606", "name": "Schiedam"},
                                 {"code": "GM0622", "name": "Vlaardingen"}]
    almere = client.get("/api/v1/regions/GM0034", headers=headers).get_json()
    assert {"Dronten", "Urk", "Noordoostpolder", "Lelystad"} <= {
        g["name"] for g in almere["gemeenten"]}
    missing = client.get("/api/v1/regions/GM9999", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


@pytest.mark.parametrize(("place", "region"), [
    ("Schiedam", "GM0622"), ("Zoetermeer", "GM0518"), ("Urk", "GM0034"),
    ("Hoogvliet", "GM0599"), ("3131", "GM0622"), ("Frjentsjer", "GM0080"),
    ("Hengelo (Gld)", "GM0200"),
])
def test_the_origin_region_follows_from_where_she_lives(client, session, clock, place, region):
    headers = make_caller(session, clock, "crisis_worker").headers
    response = client.post("/api/v1/placement-requests", headers=headers,
                           json={**REQUEST, "origin": {"place": place}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["origin_region_code"] == region


def test_origin_place_and_region_must_agree(client, session, clock):
    headers = make_caller(session, clock, "crisis_worker").headers
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    response = client.post("/api/v1/placement-requests", headers=headers, json={
        **REQUEST, "origin": {"place": "Schiedam"}, "origin_region_code": "GM0599"})
    assert response.status_code == 422
    assert "GM0622" in " ".join(response.get_json()["errors"]["origin_region_code"])
    agreeing = client.post("/api/v1/placement-requests", headers=headers, json={
        **REQUEST, "origin": {"place": "Schiedam"}, "origin_region_code": "GM0622"})
    assert agreeing.status_code == 201
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before + 1


@pytest.mark.parametrize(("origin", "words"), [
    ({"place": "Hengelo"}, ["Hengelo (Ov)", "Hengelo (Gld)"]),
    ({"place": "Antwerpen"}, ["abroad", "danger"]),
    ({"place": "Bonaire"}, ["valt buiten dit netwerk", "911"]),
    ({"place": "Nergenshuizen"}, ["Unknown place"]),
])
def test_an_origin_that_is_no_dutch_home_is_422_naming_origin(client, session, clock, origin,
                                                              words):
    headers = make_caller(session, clock, "crisis_worker").headers
    response = client.post("/api/v1/placement-requests", headers=headers,
                           json={**REQUEST, "origin": origin})
    assert response.status_code == 422
    message = " ".join(response.get_json()["errors"]["origin"])
    for word in words:
        assert word in message


def test_neither_origin_nor_region_is_422(client, session, clock):
    headers = make_caller(session, clock, "crisis_worker").headers
    response = client.post("/api/v1/placement-requests", headers=headers, json=REQUEST)
    assert response.status_code == 422
    assert "origin_region_code" in response.get_json()["errors"]


def test_a_danger_across_the_border_is_a_point_with_its_extent(client, session, clock):
    headers = make_caller(session, clock, "crisis_worker").headers
    response = client.post("/api/v1/placement-requests", headers=headers, json={
        **REQUEST, "origin_region_code": "GM0935", "danger": {"place": "Aken"}})
    assert response.status_code == 201, response.get_json()
    danger = response.get_json()["danger"]
    assert danger["place"] == "Aachen" and danger["uncertainty_km"] >= 5.8


def test_a_danger_place_keeps_its_whole_extent(client, session, clock):
    """Rotterdam reaches Hoek van Holland and the Maasvlakte: far more than a flat 5 km."""
    headers = make_caller(session, clock, "crisis_worker").headers
    body = client.post("/api/v1/placement-requests", headers=headers, json={
        **REQUEST, "origin_region_code": "GM0599"}).get_json()
    assert body["danger"]["uncertainty_km"] > 24.5
    stored = session.get(PlacementRequest, body["id"])
    assert stored.danger_radius_km == Gazetteer.default().gemeente("GM0599").radius_km


@pytest.mark.parametrize(("change", "fields"), [
    ({"lat": 50.8467, "lon": 4.3525}, {"lat", "lon"}),          # Brussels
    ({"lat": 53.7, "lon": 4.5}, {"lat", "lon"}),                # the North Sea
    ({"region_code": "GM0599"}, {"region_code"}),               # Utrecht is not Rotterdam's
    ({"lat": 51.9192, "lon": 4.3889, "region_code": "GM0599"}, {"region_code"}),  # Schiedam
])
def test_a_location_must_lie_in_a_gemeente_of_its_region(client, session, clock, change, fields):
    headers = make_caller(session, clock, "admin").headers
    before = session.scalar(select(func.count()).select_from(Location))
    response = client.post("/api/v1/locations", headers=headers, json={**LOCATION, **change})
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == fields
    # The point is secret: the message names the field, never the coordinates.
    assert str(change.get("lat", "none")) not in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Location)) == before
    assert client.post("/api/v1/locations", headers=headers, json=LOCATION).status_code == 201
    schiedam = {**LOCATION, "lat": 51.9192, "lon": 4.3889, "region_code": "GM0622"}
    assert client.post("/api/v1/locations", headers=headers, json=schiedam).status_code == 201


def test_moving_a_location_out_of_its_region_is_422(client, session, clock):
    headers = make_caller(session, clock, "admin").headers
    created = client.post("/api/v1/locations", headers=headers, json=LOCATION).get_json()
    response = client.patch(f"/api/v1/locations/{created['id']}", headers=headers,
                            json={"lat": 52.3702, "lon": 4.8952})  # Amsterdam
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {
        "region_code"}
    assert session.get(Location, created["id"]).lat == LOCATION["lat"]


def test_moving_a_gemeente_is_audited_and_changes_the_derived_origin(session, clock):
    admin = principal_of(session, make_caller(session, clock, "admin"))
    assert places.region_of_gemeente(session, "GM1961") == "GM0344"
    places.move_gemeente(session, "Vijfheerenlanden", "GM0505", actor=admin, now=clock.now())
    assert places.region_of_gemeente(session, "GM1961") == "GM0505"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "region.gemeente_moved")).one()
    assert (event.object_id, event.detail["before"], event.detail["after"]) == (
        "GM1961", "GM0344", "GM0505")
    with pytest.raises(Exception, match="region"):
        places.move_gemeente(session, "GM1961", "GM9999", actor=admin, now=clock.now())
