"""The locations API: create, list, show, edit, add units, confirm, history."""

import json

import pytest
from sqlalchemy import func, select

from api.schemas.locations import LocationSummarySchema
from shelter_match.models import AuditEvent, Location, Unit
from shelter_match.services.availability import list_locations, list_locations_json
from tests.api.test_foundation import assert_problem
from tests.factories import make_caller, make_location, principal_of

NEW_LOCATION = {
    "name": "Veilig Huis Utrecht 9",
    "region_code": "GM0344",
    "safety_level": "rood",
    "lat": 52.08,
    "lon": 5.13,
    "address": "Stille Laan 4, Utrecht",
    "features": ["pets_allowed", "wheelchair_accessible"],
    "accepts_night_intake": False,
    "units": [{"label": "Kamer 1", "beds": 1}, {"label": "Gezinsunit 1", "beds": 4}],
}
SUMMARY_FIELDS = {"id", "name", "region_code", "safety_level", "features",
                  "accepts_night_intake", "units_total", "units_free", "beds_free",
                  "availability_updated_at", "stale", "place", "gemeente_code", "public_area",
                  "target_group", "accepts_boys_up_to_age"}
SECRETS = {"address", "lat", "lon"}
UNIT_FIELDS = {"id", "location_id", "label", "beds", "status", "held_until", "version",
               "updated_at"}


def location_count(session):
    return session.scalar(select(func.count()).select_from(Location))


def test_admin_creates_a_location_with_units(client, session, clock):
    admin = make_caller(session, clock, "admin")
    response = client.post("/api/v1/locations", json=NEW_LOCATION, headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/locations/{body['id']}"
    assert set(body) == SUMMARY_FIELDS | SECRETS | {"units"}
    assert {k: body[k] for k in ("name", "region_code", "safety_level", "lat", "lon",
                                 "address", "features", "accepts_night_intake")} == {
        k: v for k, v in NEW_LOCATION.items() if k != "units"}
    assert (body["units_total"], body["units_free"], body["beds_free"]) == (2, 2, 5)
    assert body["availability_updated_at"] == "2026-11-22T03:00:00Z"
    assert body["stale"] is False
    assert [(u["label"], u["beds"], u["status"], u["version"]) for u in body["units"]] == [
        ("Gezinsunit 1", 4, "free", 1), ("Kamer 1", 1, "free", 1)]
    assert set(body["units"][0]) == UNIT_FIELDS
    shown = client.get(f"/api/v1/locations/{body['id']}", headers=admin.headers).get_json()
    assert shown == body


@pytest.mark.parametrize("role", ["crisis_worker", "coordinator", "region_reviewer"])
def test_only_admin_creates_locations(client, session, clock, role):
    caller = make_caller(session, clock, role)
    before = location_count(session)
    assert_problem(client.post("/api/v1/locations", json=NEW_LOCATION, headers=caller.headers),
                   403)
    assert location_count(session) == before


@pytest.mark.parametrize("change, field", [
    ({"region_code": "GM9999"}, "region_code"),
    ({"features": ["pets_allowed", "jacuzzi"]}, "features.1"),
    ({"safety_level": "paars"}, "safety_level"),
    ({"lat": 48.85}, "lat"),
    ({"lon": "oost"}, "lon"),
    ({"name": ""}, "name"),
    ({"address": "x" * 301}, "address"),
    ({"accepts_night_intake": "ja"}, "accepts_night_intake"),
    ({"units": [{"label": "A", "beds": -1}]}, "units.0.beds"),
    ({"units": [{"label": "A", "beds": 21}]}, "units.0.beds"),
    ({"units": [{"label": "A", "beds": 2.5}]}, "units.0.beds"),
    ({"units": [{"label": "A", "beds": 1, "status": "held"}]}, "units.0.status"),
    ({"units": [{"label": "A", "beds": 1}, {"label": "A", "beds": 2}]}, "units.1.label"),
    ({"units": [{"beds": 1}]}, "units.0.label"),
    ({"secret_note": "x"}, "secret_note"),
])
def test_bad_new_location_is_422_naming_the_field_and_creates_nothing(client, session, clock,
                                                                       change, field):
    admin = make_caller(session, clock, "admin")
    before = location_count(session), session.scalar(select(func.count()).select_from(Unit))
    response = client.post("/api/v1/locations", json={**NEW_LOCATION, **change},
                           headers=admin.headers)
    body = assert_problem(response, 422)
    assert field in body["errors"], body
    assert NEW_LOCATION["address"] not in response.get_data(as_text=True)
    assert (location_count(session),
            session.scalar(select(func.count()).select_from(Unit))) == before


def test_missing_field_and_bad_bodies(client, session, clock):
    admin = make_caller(session, clock, "admin")
    before = location_count(session)
    document = {k: v for k, v in NEW_LOCATION.items() if k != "address"}
    assert "address" in assert_problem(
        client.post("/api/v1/locations", json=document, headers=admin.headers), 422)["errors"]
    assert_problem(client.post("/api/v1/locations", data="{", headers={
        **admin.headers, "Content-Type": "application/json"}), 400)
    assert_problem(client.post("/api/v1/locations", data="name=x", headers={
        **admin.headers, "Content-Type": "application/x-www-form-urlencoded"}), 415)
    assert_problem(client.post("/api/v1/locations", json=[NEW_LOCATION],
                               headers=admin.headers), 422)
    assert location_count(session) == before


def test_list_shows_counts_and_freshness_to_every_role(client, session, clock):
    location = make_location(session, clock, units=(("A", 1), ("B", 4)))
    for role in ("crisis_worker", "coordinator", "region_reviewer", "admin"):
        caller = make_caller(session, clock, role)
        response = client.get("/api/v1/locations", headers=caller.headers)
        assert response.status_code == 200 and response.mimetype == "application/json"
        row = next(r for r in response.get_json() if r["id"] == location.id)
        expected = SUMMARY_FIELDS | SECRETS if role == "admin" else SUMMARY_FIELDS
        assert set(row) == expected
        assert (row["units_total"], row["units_free"], row["beds_free"]) == (2, 2, 5)


def test_list_filters_by_region(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    utrecht = make_location(session, clock, region_code="GM0344")
    rotterdam = make_location(session, clock, region_code="GM0599", lat=51.92, lon=4.48)
    body = client.get("/api/v1/locations?region_code=GM0599", headers=worker.headers).get_json()
    assert rotterdam.id in {r["id"] for r in body} and utrecht.id not in {r["id"] for r in body}
    assert {r["region_code"] for r in body} == {"GM0599"}
    problem = assert_problem(client.get("/api/v1/locations?region_code=GM9999",
                                        headers=worker.headers), 422)
    assert "region_code" in problem["errors"]
    problem = assert_problem(client.get("/api/v1/locations?regio=GM0599",
                                        headers=worker.headers), 422)
    assert "regio" in problem["errors"]


def test_list_is_sorted_by_name(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    for name in ("Zeta", "Alfa", "Mu"):
        make_location(session, clock, name=f"{name} huis")
    names = [r["name"] for r in client.get("/api/v1/locations",
                                           headers=worker.headers).get_json()]
    assert names == sorted(names)


def test_the_schema_leaves_out_what_a_viewer_may_not_see(client, session, clock):
    own = make_location(session, clock, features=("lhbti", "men"))
    make_location(session, clock, units=())
    coordinator = make_caller(session, clock, "coordinator", location_ids=(own.id,))
    summaries = list_locations(session, viewer=principal_of(session, coordinator),
                               now=clock.now())
    assert any(s.shows_address for s in summaries) and not all(s.shows_address
                                                               for s in summaries)
    schema = LocationSummarySchema(many=True)
    dumped = schema.dump(summaries)
    # What the API sends is exactly that, while the schema documents it.
    assert client.get("/api/v1/locations", headers=coordinator.headers).get_json() == dumped
    # The keys are absent, not null, where the address is not hers to see.
    assert {row["id"]: set(row) >= SECRETS for row in dumped}[own.id]
    assert all(not SECRETS & set(row) for row in dumped if row["id"] != own.id)
    # The service yields every field of the schema, so the two cannot drift apart.
    assert set(vars(summaries[0])) == set(LocationSummarySchema().fields)


def test_the_database_writes_the_list_the_schema_writes(client, session, clock, backend):
    # A crisis worker's list is written by PostgreSQL itself (list_locations_json); it must
    # be the schema's JSON to the byte's meaning: times to the second (also when stored with
    # microseconds), stale and fresh, features, counts, and never an address.
    make_location(session, clock, name="Aa oud", features=("men", "lhbti"))
    clock.advance(hours=13)
    make_location(session, clock, name="Bb", region_code="GM0599", units=(("A", 2),))
    clock.advance(microseconds=123456)
    make_location(session, clock, name="Cc", units=())
    worker = make_caller(session, clock, "crisis_worker")
    viewer = principal_of(session, worker)
    schema = LocationSummarySchema(many=True)
    fast = list_locations_json(session, viewer=viewer, now=clock.now())
    assert (fast is None) == (backend == "sqlite")

    for query, region in (("", None), ("?region_code=GM0599", "GM0599"),
                          ("?region_code=GM0014", "GM0014")):
        body = client.get(f"/api/v1/locations{query}", headers=worker.headers).get_json()
        expected = schema.dump(list_locations(session, viewer=viewer, now=clock.now(),
                                              region_code=region))
        assert body == expected
        assert all(not SECRETS & set(row) for row in body)
    ours = {row["name"]: row for row in body_of(client, worker) if row["name"] in
            ("Aa oud", "Bb", "Cc")}
    assert ours["Aa oud"]["stale"] and not ours["Bb"]["stale"]
    assert ours["Aa oud"]["features"] == ["lhbti", "men"]
    # One way to write a time everywhere: RFC 3339 in UTC, to the second, with a Z.
    assert ours["Cc"]["availability_updated_at"] == "2026-11-22T16:00:00Z"
    assert ours["Bb"]["availability_updated_at"] == "2026-11-22T16:00:00Z"
    assert (ours["Cc"]["units_total"], ours["Bb"]["beds_free"]) == (0, 2)
    # An admin's list is written by PostgreSQL too, with every address, and audited once;
    # a coordinator (some addresses only) keeps the schema.
    admin = make_caller(session, clock, "admin")
    by_admin = body_of(client, admin)
    assert by_admin == schema.dump(list_locations(session, viewer=principal_of(session, admin),
                                                  now=clock.now()))
    assert all(set(row) >= SECRETS for row in by_admin)
    coordinator = principal_of(session, make_caller(session, clock, "coordinator"))
    assert list_locations_json(session, viewer=coordinator, now=clock.now()) is None


def body_of(client, caller):
    return client.get("/api/v1/locations", headers=caller.headers).get_json()


def test_show_unknown_location_is_404(client, session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    assert_problem(client.get("/api/v1/locations/nope", headers=worker.headers), 404)


def test_admin_edits_a_location(client, session, clock):
    admin = make_caller(session, clock, "admin")
    location = make_location(session, clock)
    response = client.patch(f"/api/v1/locations/{location.id}",
                            json={"name": "Het Anker", "features": ["men", "men"],
                                  "accepts_night_intake": False, "lat": 52.1, "lon": 5.2,
                                  "address": "Ankerweg 3, Utrecht", "safety_level": "rood"},
                            headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["features"], body["accepts_night_intake"], body["lat"],
            body["lon"], body["address"], body["safety_level"]) == (
        "Het Anker", ["men"], False, 52.1, 5.2, "Ankerweg 3, Utrecht", "rood")
    assert len(body["units"]) == 2
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "location.updated")).one()
    assert "Ankerweg" not in json.dumps(event.detail)


@pytest.mark.parametrize("change, field", [
    ({"region_code": "GM0599"}, "region_code"),
    ({"safety_level": "paars"}, "safety_level"),
    ({"features": ["spa"]}, "features.0"),
    ({"lat": 10}, "lat"),
    ({"name": ""}, "name"),
    ({"units": []}, "units"),
])
def test_bad_location_edit_is_422_and_changes_nothing(client, session, clock, change, field):
    admin = make_caller(session, clock, "admin")
    location = make_location(session, clock)
    url = f"/api/v1/locations/{location.id}"
    before = client.get(url, headers=admin.headers).get_json()
    body = assert_problem(client.patch(url, json=change, headers=admin.headers), 422)
    assert field in body["errors"], body
    assert client.get(url, headers=admin.headers).get_json() == before


def test_only_admin_edits_a_location(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    assert_problem(client.patch(f"/api/v1/locations/{location.id}", json={"name": "X"},
                                headers=coordinator.headers), 403)
    admin = make_caller(session, clock, "admin")
    assert_problem(client.patch("/api/v1/locations/nope", json={"name": "X"},
                                headers=admin.headers), 404)


def test_add_unit_as_own_coordinator_and_admin(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    admin = make_caller(session, clock, "admin")
    url = f"/api/v1/locations/{location.id}/units"
    response = client.post(url, json={"label": "C", "beds": 3}, headers=coordinator.headers)
    assert response.status_code == 201
    unit = response.get_json()
    assert set(unit) == UNIT_FIELDS
    assert (unit["label"], unit["beds"], unit["status"], unit["version"]) == ("C", 3, "free", 1)
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/v1/units/{unit['id']}"
    response = client.post(url, json={"label": "D", "beds": 2, "status": "occupied"},
                           headers=admin.headers)
    assert response.status_code == 201 and response.get_json()["status"] == "occupied"
    detail = client.get(f"/api/v1/locations/{location.id}", headers=admin.headers).get_json()
    assert detail["units_total"] == 4
    events = session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "unit.created")).all()
    assert len(events) == 2


@pytest.mark.parametrize("body, field", [
    ({"label": "A", "beds": 2}, "label"),
    ({"label": "", "beds": 2}, "label"),
    ({"label": "C", "beds": -1}, "beds"),
    ({"label": "C", "beds": 99}, "beds"),
    ({"label": "C", "beds": "2"}, "beds"),
    ({"label": "C"}, "beds"),
    ({"label": "C", "beds": 2, "status": "held"}, "status"),
    ({"label": "C", "beds": 2, "status": "vol"}, "status"),
])
def test_bad_new_unit_is_422_and_adds_nothing(client, session, clock, body, field):
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    response = client.post(f"/api/v1/locations/{location.id}/units", json=body,
                           headers=coordinator.headers)
    assert field in assert_problem(response, 422)["errors"]
    assert session.scalar(select(func.count()).select_from(Unit).where(
        Unit.location_id == location.id)) == 2


def test_add_unit_scope(client, session, clock):
    location = make_location(session, clock)
    other = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(other.id,))
    unit = {"label": "C", "beds": 1}
    assert_problem(client.post(f"/api/v1/locations/{location.id}/units", json=unit,
                               headers=coordinator.headers), 403)
    assert_problem(client.post("/api/v1/locations/nope/units", json=unit,
                               headers=coordinator.headers), 404)
    for role in ("crisis_worker", "region_reviewer"):
        caller = make_caller(session, clock, role)
        assert_problem(client.post(f"/api/v1/locations/{location.id}/units", json=unit,
                                   headers=caller.headers), 403)
    assert session.scalar(select(func.count()).select_from(Unit).where(
        Unit.location_id == location.id)) == 2


def test_confirmation_by_own_coordinator(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    url = f"/api/v1/locations/{location.id}"
    clock.advance(hours=13)
    assert client.get(url, headers=coordinator.headers).get_json()["stale"] is True
    response = client.post(f"{url}/availability-confirmations", headers=coordinator.headers)
    assert response.status_code == 201
    assert response.get_json() == {"location_id": location.id,
                                   "confirmed_at": "2026-11-22T16:00:00Z",
                                   "availability_updated_at": "2026-11-22T16:00:00Z",
                                   "stale": False}
    shown = client.get(url, headers=coordinator.headers).get_json()
    assert (shown["stale"], shown["availability_updated_at"]) == (False, "2026-11-22T16:00:00Z")
    admin = make_caller(session, clock, "admin")
    assert client.post(f"{url}/availability-confirmations",
                       headers=admin.headers).status_code == 201


def test_confirmation_scope(client, session, clock):
    location = make_location(session, clock)
    other = make_coordinator = make_caller(session, clock, "coordinator",
                                           location_ids=(make_location(session, clock).id,))
    url = f"/api/v1/locations/{location.id}/availability-confirmations"
    clock.advance(hours=13)
    assert_problem(client.post(url, headers=other.headers), 403)
    for role in ("crisis_worker", "region_reviewer"):
        assert_problem(client.post(url, headers=make_caller(session, clock, role).headers), 403)
    assert_problem(client.post("/api/v1/locations/nope/availability-confirmations",
                               headers=make_coordinator.headers), 404)
    admin = make_caller(session, clock, "admin")
    assert client.get(f"/api/v1/locations/{location.id}",
                      headers=admin.headers).get_json()["stale"] is True


def test_unit_history(client, session, clock):
    location = make_location(session, clock)
    coordinator = make_caller(session, clock, "coordinator", location_ids=(location.id,))
    url = f"/api/v1/locations/{location.id}"
    unit = client.get(url, headers=coordinator.headers).get_json()["units"][0]
    clock.advance(hours=1)
    client.patch(f"/api/v1/units/{unit['id']}", json={"status": "occupied"},
                 headers=coordinator.headers)
    history = client.get(f"{url}/unit-changes", headers=coordinator.headers).get_json()
    assert [h["cause"] for h in history] == ["created", "created", "manual"]
    assert history[-1] == {"id": history[-1]["id"], "unit_id": unit["id"],
                           "changed_at": "2026-11-22T04:00:00Z",
                           "changed_by": coordinator.user.name, "cause": "manual",
                           "from_status": "free", "to_status": "occupied", "from_beds": 1,
                           "to_beds": 1}
    recent = client.get(f"{url}/unit-changes?since=2026-11-22T03:30:00Z",
                        headers=coordinator.headers).get_json()
    assert [h["cause"] for h in recent] == ["manual"]
    assert len(client.get(f"{url}/unit-changes?limit=1",
                          headers=coordinator.headers).get_json()) == 1
    for query, field in (("since=2026-11-22T03:30:00", "since"), ("since=gisteren", "since"),
                         ("limit=0", "limit")):
        problem = assert_problem(client.get(f"{url}/unit-changes?{query}",
                                            headers=coordinator.headers), 422)
        assert field in problem["errors"]


def test_unit_history_scope(client, session, clock):
    location = make_location(session, clock)
    other = make_caller(session, clock, "coordinator",
                        location_ids=(make_location(session, clock).id,))
    url = f"/api/v1/locations/{location.id}/unit-changes"
    assert_problem(client.get(url, headers=other.headers), 403)
    for role in ("crisis_worker", "region_reviewer"):
        assert_problem(client.get(url, headers=make_caller(session, clock, role).headers), 403)
    assert_problem(client.get("/api/v1/locations/nope/unit-changes", headers=other.headers), 404)


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/locations": {"get", "post"},
        "/api/v1/locations/{location_id}": {"get", "patch"},
        "/api/v1/locations/{location_id}/units": {"post"},
        "/api/v1/locations/{location_id}/availability-confirmations": {"post"},
        "/api/v1/locations/{location_id}/unit-changes": {"get"},
        "/api/v1/units/{unit_id}": {"get", "patch"},
    }.items():
        assert methods <= set(paths[path]), path
    patch = paths["/api/v1/units/{unit_id}"]["patch"]
    assert "If-Match" in [p["name"] for p in patch["parameters"]]
    assert {"200", "400", "404", "409", "412", "422"} <= set(patch["responses"])
    assert "last write wins" in json.dumps(patch)
    listed = paths["/api/v1/locations"]["get"]["responses"]["200"]
    assert "LocationSummary" in json.dumps(listed)
