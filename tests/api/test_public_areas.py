"""Public areas of locations (CONTRACT 4.1): a place and a disc everyone sees, never the point."""

from datetime import UTC, datetime

import pytest
from geopy.distance import geodesic
from sqlalchemy import func, select, text

from seed.demo_network import generate_network
from shelter_match.db import create_database_engine
from shelter_match.gazetteer import Gazetteer
from shelter_match.migrate import upgrade
from shelter_match.models import Location
from shelter_match.services import public_areas
from testbed.databases import create_empty_database, drop_database
from tests.factories import make_caller

ZEIST = {
    "name": "Veilig Huis Zeist 1", "region_code": "GM0344", "safety_level": "rood",
    "lat": 52.0890, "lon": 5.2330, "address": "Stille Laan 4, Zeist",
    "units": [{"label": "Kamer 1", "beds": 2}],
}
AREA_FIELDS = {"place", "gemeente_code", "public_area"}


def count(session):
    return session.scalar(select(func.count()).select_from(Location))


def assert_holds_point(body, lat, lon):
    area = body["public_area"]
    assert set(area) == {"lat", "lon", "radius_km"}
    assert 5 <= area["radius_km"] <= 15
    assert geodesic((area["lat"], area["lon"]), (lat, lon)).km <= area["radius_km"]


def test_a_given_place_is_the_public_area_every_role_sees(client, session, clock):
    admin = make_caller(session, clock, "admin")
    response = client.post("/api/v1/locations", json=ZEIST | {"place": "Zeist"},
                           headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # "Zeist" means the gemeente (its namesake woonplaats lies inside it), 5 km at least.
    zeist = Gazetteer.default().resolve("Zeist")
    assert zeist is not None and zeist.kind == "gemeente"
    assert body["place"] == "Zeist" and body["gemeente_code"] == "GM0355"
    assert body["public_area"]["lat"] == zeist.lat
    assert body["public_area"]["radius_km"] >= max(5, zeist.radius_km)
    assert_holds_point(body, ZEIST["lat"], ZEIST["lon"])
    # Every role sees the place and the area; only the admin sees the point.
    for role in ("crisis_worker", "region_reviewer", "coordinator"):
        caller = make_caller(session, clock, role)
        shown = client.get(f"/api/v1/locations/{body['id']}", headers=caller.headers).get_json()
        assert {k: shown[k] for k in AREA_FIELDS} == {k: body[k] for k in AREA_FIELDS}
        assert not {"lat", "lon", "address"} & set(shown)
        row = next(r for r in client.get("/api/v1/locations", headers=caller.headers)
                   .get_json() if r["id"] == body["id"])
        assert {k: row[k] for k in AREA_FIELDS} == {k: body[k] for k in AREA_FIELDS}


def test_without_a_place_the_point_gives_it(client, session, clock):
    admin = make_caller(session, clock, "admin")
    response = client.post("/api/v1/locations", json=ZEIST, headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["place"] == "Zeist (woonplaats)"  # the smallest place that holds the point
    assert_holds_point(body, ZEIST["lat"], ZEIST["lon"])


@pytest.mark.parametrize(("place", "words"), [
    ("Rotterdam", "choose its woonplaats"),  # the gemeente: 45 km across
    ("Amersfoort", "outside"),  # a town 15 km off the point
    ("Hengelo", "Choose one of"),  # two places carry the name
    ("Nergensdorp", "Unknown place"),
    ("3011", "give a Dutch woonplaats or gemeente"),  # a postcode is no public place
    ("Aachen", "give a Dutch woonplaats or gemeente"),
])
def test_a_place_that_cannot_be_the_area_is_422_naming_place(client, session, clock, place,
                                                              words):
    admin = make_caller(session, clock, "admin")
    before = count(session)
    response = client.post("/api/v1/locations", json=ZEIST | {"place": place},
                           headers=admin.headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"place"} and words in " ".join(errors["place"])
    # Never the point in an error: it is secret.
    assert "52.08" not in response.get_data(as_text=True)
    assert count(session) == before


def test_rotterdam_the_woonplaats_is_a_public_place(client, session, clock):
    admin = make_caller(session, clock, "admin")
    response = client.post("/api/v1/locations", headers=admin.headers, json=ZEIST | {
        "region_code": "GM0599", "lat": 51.9200, "lon": 4.4800, "place": "Rotterdam (woonplaats)",
        "name": "Veilig Huis Rotterdam 1"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["place"] == "Rotterdam (woonplaats)"


def test_patching_the_place_or_moving_the_point(client, session, clock):
    admin = make_caller(session, clock, "admin")
    body = client.post("/api/v1/locations", json=ZEIST, headers=admin.headers).get_json()
    url = f"/api/v1/locations/{body['id']}"
    # A place that holds the point: taken.
    patched = client.patch(url, json={"place": "gemeente Zeist"}, headers=admin.headers)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["place"] == "Zeist"
    # A place that does not: 422, nothing changes.
    refused = client.patch(url, json={"place": "Amersfoort"}, headers=admin.headers)
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"place"}
    assert client.get(url, headers=admin.headers).get_json()["place"] == \
        patched.get_json()["place"]
    # Moving the point out of its area: the place that holds the new point, as on create.
    moved = client.patch(url, json={"lat": 52.0860, "lon": 4.8830}, headers=admin.headers)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["place"] == "Woerden (woonplaats)"
    assert_holds_point(moved.get_json(), 52.0860, 4.8830)


def test_every_demo_location_has_a_public_area_that_holds_it():
    for scale in (1, 10):
        for demo in generate_network(scale=scale):
            area = public_areas.derive(demo.lat, demo.lon)
            assert area is not None, demo.name
            assert public_areas.MIN_RADIUS_KM <= area.radius_km <= public_areas.MAX_RADIUS_KM
            assert geodesic((area.lat, area.lon), (demo.lat, demo.lon)).km <= area.radius_km


def test_migration_0005_gives_existing_locations_their_area(backend, tmp_path):
    url = create_empty_database(backend, tmp_path)
    engine = create_database_engine(url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO regions (code, name, lat, lon) VALUES ('GM0344', 'Utrecht', 52.09, "
                "5.12)"))
            connection.execute(text(
                "INSERT INTO locations (id, name, region_code, safety_level, lat, lon, address, "
                "features, accepts_night_intake, created_at, availability_updated_at) VALUES "
                "('loc-1', 'Oud', 'GM0344', 'rood', 52.089, 5.233, 'Laan 1', '[]', true, "
                ":now, :now)"), {"now": datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)})
        upgrade(engine)
        with engine.connect() as connection:
            place, code, lat, lon, radius = connection.execute(text(
                "SELECT place, gemeente_code, area_lat, area_lon, area_radius_km "
                "FROM locations")).one()
        assert (place, code) == ("Zeist (woonplaats)", "GM0355")
        assert 5 <= radius <= 15 and geodesic((lat, lon), (52.089, 5.233)).km <= radius
    finally:
        engine.dispose()
        drop_database(url)
