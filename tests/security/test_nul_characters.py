"""A NUL character anywhere in an API call is a clear 4xx, never a 500 (fuzzing found it).

PostgreSQL refuses NUL in text columns outright; SQLite would store it. Both engines must
answer the same, so the API refuses it before any service sees it.
"""

from sqlalchemy import func, select

from shelter_match.models import Location
from tests.api.test_foundation import assert_problem
from tests.factories import make_caller


def test_a_nul_in_a_json_field_is_422_naming_it_and_writes_nothing(client, session, clock):
    from tests.security.test_authorization_matrix import NEW_LOCATION

    admin = make_caller(session, clock, "admin")
    before = session.scalar(select(func.count()).select_from(Location))
    body = {**NEW_LOCATION, "address": "Straat\x001", "units": [{"label": "\x00", "beds": 1}]}
    problem = assert_problem(client.post("/api/v1/locations", json=body,
                                         headers=admin.headers), 422)
    assert set(problem["errors"]) == {"address", "units.0.label"}
    assert session.scalar(select(func.count()).select_from(Location)) == before


def test_a_nul_in_the_query_is_422_and_in_the_path_404(client, session, clock):
    admin = make_caller(session, clock, "admin")
    problem = assert_problem(client.get("/api/v1/locations?region_code=GM%00",
                                        headers=admin.headers), 422)
    assert set(problem["errors"]) == {"region_code"}
    assert_problem(client.get("/api/v1/locations/abc%00def", headers=admin.headers), 404)
    assert_problem(client.post("/api/v1/holds/%00/release", headers=admin.headers), 404)
