"""Who may call what: every endpoint of the OpenAPI document against every kind of caller.

The table below is the authorisation contract (shared/CONTRACT.md §2 "Roles" and the
endpoint notes of §3) written out cell by cell. An endpoint that appears in the OpenAPI
document without a row fails the test, so a new endpoint cannot ship without someone
deciding who may call it.

Every call runs against real objects (a location with units, requests, a live hold, an open
placement) inside a savepoint that is rolled back after it, so each cell starts from the
same state: a confirmation in one column does not make the next column's hold inactive.
"""

from __future__ import annotations

import pytest

from tests.api.test_foundation import VALID_POLICY, assert_problem

CALLERS = (
    "none",                 # no Authorization header
    "revoked",              # an admin's token, revoked
    "crisis_worker",        # made the requests and the hold below
    "other_crisis_worker",  # another crisis worker: not her requests
    "coordinator",          # of the location where the units, hold and placement are
    "other_coordinator",    # of another location
    "region_reviewer",
    "admin",
)

# Expected status per caller, in the order of CALLERS (non = none, rev = revoked, cw = the
# crisis worker, cw2 = another one, co = the location's coordinator, co2 = another location's,
# rr = region_reviewer, adm = admin). Why some cells are what they are:
# - 404 for another's request, hold or placement: the contract allows 404 instead of 403
#   where telling that an object exists would leak; a request or hold is client data.
# - 403 for a coordinator writing to another location: every role may list locations, so
#   saying that one exists leaks nothing (and a 403 tells her what went wrong).
# - 422 for another crisis worker's request id in a batch: the id is a body field, and it
#   reads as unknown, exactly like an id that does not exist.
MATRIX = """
method path                                                       non rev cw  cw2 co  co2 rr  adm
GET    /healthz                                                   200 200 200 200 200 200 200 200
GET    /readyz                                                    200 200 200 200 200 200 200 200
GET    /api/v1/regions                                            401 401 200 200 200 200 200 200
GET    /api/v1/regions/{code}                                     401 401 200 200 200 200 200 200
GET    /api/v1/places                                             401 401 200 200 200 200 200 200
GET    /api/v1/policy                                             401 401 200 200 200 200 200 200
PUT    /api/v1/policy                                             401 401 403 403 403 403 403 200
GET    /api/v1/locations                                          401 401 200 200 200 200 200 200
POST   /api/v1/locations                                          401 401 403 403 403 403 403 201
GET    /api/v1/locations/{location_id}                            401 401 200 200 200 200 200 200
PATCH  /api/v1/locations/{location_id}                            401 401 403 403 403 403 403 200
POST   /api/v1/locations/{location_id}/units                      401 401 403 403 201 403 403 201
POST   /api/v1/locations/{location_id}/availability-confirmations 401 401 403 403 201 403 403 201
GET    /api/v1/locations/{location_id}/unit-changes               401 401 403 403 200 403 403 200
GET    /api/v1/locations/{location_id}/intake-phone               401 401 403 403 200 403 403 200
PUT    /api/v1/locations/{location_id}/intake-phone               401 401 403 403 200 403 403 200
GET    /api/v1/units/{unit_id}                                    401 401 200 200 200 200 200 200
PATCH  /api/v1/units/{unit_id}                                    401 401 403 403 200 403 403 200
GET    /api/v1/solidarity                                         401 401 403 403 403 403 200 200
GET    /api/v1/solidarity/flows                                   401 401 403 403 403 403 200 200
GET    /api/v1/solidarity/unmet                                   401 401 403 403 403 403 200 200
GET    /api/v1/placement-requests                                 401 401 200 200 403 403 403 200
POST   /api/v1/placement-requests                                 401 401 201 201 403 403 403 201
GET    /api/v1/placement-requests/{request_id}                    401 401 200 404 403 403 403 200
POST   /api/v1/placement-requests/{request_id}/cancel             401 401 200 404 403 403 403 200
POST   /api/v1/placement-requests/{request_id}/proposals          401 401 200 404 403 403 403 200
POST   /api/v1/placement-requests/{request_id}/holds              401 401 201 404 403 403 403 201
POST   /api/v1/placement-requests/{request_id}/waitlist           401 401 200 404 403 403 403 200
GET    /api/v1/waitlist                                           401 401 200 200 403 403 403 200
GET    /api/v1/holds                                              401 401 200 200 200 200 403 200
GET    /api/v1/holds/{hold_id}                                    401 401 200 404 200 404 403 200
POST   /api/v1/holds/{hold_id}/confirm                            401 401 201 404 201 404 403 201
POST   /api/v1/holds/{hold_id}/release                            401 401 200 404 200 404 403 200
POST   /api/v1/holds/{hold_id}/extend                             401 401 200 404 200 404 403 200
GET    /api/v1/placements                                         401 401 403 403 200 200 403 200
GET    /api/v1/placements/{placement_id}                          401 401 403 403 200 404 403 200
POST   /api/v1/placements/{placement_id}/discharge                401 401 403 403 200 404 403 200
POST   /api/v1/placements/{placement_id}/arrival                  401 401 403 403 200 404 403 200
POST   /api/v1/placements/{placement_id}/no-show                  401 401 403 403 200 404 403 200
POST   /api/v1/batch-proposals                                    401 401 200 422 403 403 403 200
GET    /api/v1/users/{name}/quotas                                401 401 403 403 403 403 403 200
PUT    /api/v1/users/{name}/quotas                                401 401 403 403 403 403 403 200
GET    /api/v1/escalations                                        401 401 403 403 403 403 403 200
POST   /api/v1/placement-requests/{request_id}/overrides          401 401 403 403 403 403 403 409
GET    /api/v1/notification-channels                              401 401 403 403 403 403 403 200
GET    /api/v1/notification-channels/{audience}                   401 401 403 403 403 403 403 404
PUT    /api/v1/notification-channels/{audience}                   401 401 403 403 403 403 403 200
GET    /api/v1/notification-deliveries                            401 401 403 403 403 403 403 200
"""
# The duty officer's column is in tests/api/test_escalation.py (a duty officer in and out of
# her regions). An override of the world's oranje request is 409 even for an admin: only a
# rood request must leave its region; a channel nobody set is 404.


def parse_matrix(text: str) -> dict[tuple[str, str], dict[str, int]]:
    rows = {}
    for line in text.strip().splitlines()[1:]:
        method, path, *statuses = line.split()
        assert len(statuses) == len(CALLERS), f"row {method} {path} has a wrong cell count"
        assert (method, path) not in rows, f"row {method} {path} appears twice"
        rows[(method, path)] = dict(zip(CALLERS, map(int, statuses), strict=True))
    return rows


EXPECTED = parse_matrix(MATRIX)

# Valid bodies and query strings, so that an allowed caller gets the success status and a
# refused one cannot be refused for a bad body instead.
NEW_LOCATION = {
    "name": "Opvang Matrix", "region_code": "GM0014", "safety_level": "rood", "lat": 53.2,
    "lon": 6.57, "address": "Matrixstraat 7, Groningen", "features": [],
    "accepts_night_intake": True, "units": [{"label": "A", "beds": 2}],
}
NEW_REQUEST = {
    "case_reference": "VT-2026-9001", "origin_region_code": "GM0599", "risk_level": "oranje",
    "danger": {"place": "Schiedam"}, "household": {"adults": 1, "children": 0},
}


def call_details(world: dict, method: str, path: str) -> tuple[str, dict | None]:
    """Return the concrete URL and JSON body of one endpoint for this world."""
    url = path.format(**world["ids"])
    query = {
        "/api/v1/places": "?q=Schiedam",
        "/api/v1/solidarity": "?from=2026-11-01&to=2026-11-30",
        "/api/v1/solidarity/flows": "?from=2026-11-01&to=2026-11-30",
        "/api/v1/solidarity/unmet": "?from=2026-11-01&to=2026-11-30",
    }.get(path, "")
    bodies = {
        ("PUT", "/api/v1/policy"): VALID_POLICY,
        ("POST", "/api/v1/locations"): NEW_LOCATION,
        ("PATCH", "/api/v1/locations/{location_id}"): {"name": "Opvang Hernoemd"},
        ("POST", "/api/v1/locations/{location_id}/units"): {"label": "Z", "beds": 2},
        ("PATCH", "/api/v1/units/{unit_id}"): {"status": "closed"},
        ("PUT", "/api/v1/locations/{location_id}/intake-phone"): {"intake_phone": "0201234567"},
        ("POST", "/api/v1/placement-requests"): NEW_REQUEST,
        ("POST", "/api/v1/placement-requests/{request_id}/proposals"): {},
        ("POST", "/api/v1/placement-requests/{request_id}/holds"):
            {"unit_id": world["ids"]["free_unit_id"]},
        ("POST", "/api/v1/placements/{placement_id}/discharge"): {},
        ("POST", "/api/v1/batch-proposals"): {"request_ids": [world["ids"]["request_id"]]},
        ("PUT", "/api/v1/users/{name}/quotas"): {"proposals_per_hour": 600},
        ("POST", "/api/v1/placement-requests/{request_id}/overrides"):
            {"rood_in_origin_region": True, "reason": "Matrix"},
        ("PUT", "/api/v1/notification-channels/{audience}"): {"email": "dienst@example.org"},
    }
    # Commands without a body (cancel, confirm, release, a confirmation) send none.
    return url + query, bodies.get((method, path))


def openapi_operations(client) -> set[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").get_json()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_endpoint_of_the_openapi_document_has_a_row(client):
    operations = openapi_operations(client)
    missing = sorted(operations - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - operations)
    assert not missing, f"endpoints without a row in MATRIX: {missing}"
    assert not stale, f"rows in MATRIX for endpoints that do not exist: {stale}"


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED),
                         ids=[f"{method} {path}" for method, path in sorted(EXPECTED)])
def test_each_caller_gets_the_status_of_the_table(client, connection, world, method, path):
    url, body = call_details(world, method, path)
    actual = {}
    for caller in CALLERS:
        # Each caller starts from the same state: her call is undone before the next one.
        savepoint = connection.begin_nested()
        try:
            response = client.open(url, method=method, json=body,
                                   headers=world["headers"][caller])
            actual[caller] = response.status_code
            if response.status_code >= 400:
                assert_problem(response, response.status_code)
        finally:
            savepoint.rollback()
    expected = EXPECTED[(method, path)]
    wrong = {caller: f"expected {expected[caller]}, got {actual[caller]}"
             for caller in CALLERS if actual[caller] != expected[caller]}
    assert not wrong, f"{method} {path}: {wrong}"
