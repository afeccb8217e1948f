"""Organisations (CONTRACT 4.3): the day shift takes over the night's requests; others 404."""

import pytest
from sqlalchemy import select

from shelter_match.models import AuditEvent, Organisation, PlacementRequest
from tests.api import test_placement_flow as flow
from tests.api.test_placement_flow import create, problem
from tests.factories import make_caller

network = flow.network  # the same three secure locations, as a fixture here


@pytest.fixture
def shifts(session, clock):
    """Night and day at one Veilig Thuis, a colleague elsewhere, one worker on her own."""
    return {
        "night": make_caller(session, clock, "crisis_worker", organisation="VT Rotterdam"),
        "day": make_caller(session, clock, "crisis_worker", organisation="vt  rotterdam"),
        "other": make_caller(session, clock, "crisis_worker", organisation="VT Utrecht"),
        "alone": make_caller(session, clock, "crisis_worker"),
    }


def test_one_organisation_by_name_whatever_the_case_and_spaces(session, shifts):
    assert shifts["night"].user.organisation_id == shifts["day"].user.organisation_id
    assert shifts["night"].user.organisation_id != shifts["other"].user.organisation_id
    assert shifts["alone"].user.organisation_id is None
    names = set(session.scalars(select(Organisation.name)))
    assert names == {"VT Rotterdam", "VT Utrecht"}


def test_the_day_shift_acts_on_the_nights_request(client, session, network, shifts):
    night, day = shifts["night"], shifts["day"]
    created = create(client, night)
    request_id = created["id"]
    stored = session.get(PlacementRequest, request_id)
    assert stored.organisation_id == night.user.organisation_id
    # She sees it, in the list and alone, with the danger she needs to act on it.
    listed = client.get("/api/v1/placement-requests", headers=day.headers).get_json()
    assert [r["id"] for r in listed] == [request_id]
    shown = client.get(f"/api/v1/placement-requests/{request_id}", headers=day.headers)
    assert shown.status_code == 200 and shown.get_json()["danger"]["place"] == "Schiedam"
    # Proposals, a hold the night made, released by the day; a new hold, confirmed by day.
    options = client.post(f"/api/v1/placement-requests/{request_id}/proposals", json={},
                          headers=day.headers).get_json()["options"]
    assert options
    hold = client.post(f"/api/v1/placement-requests/{request_id}/holds",
                       json={"unit_id": options[0]["unit_id"]}, headers=night.headers)
    assert hold.status_code == 201
    hold_id = hold.get_json()["id"]
    listed_holds = client.get("/api/v1/holds", headers=day.headers).get_json()
    assert [h["id"] for h in listed_holds] == [hold_id]
    released = client.post(f"/api/v1/holds/{hold_id}/release", headers=day.headers)
    assert released.status_code == 200 and released.get_json()["status"] == "released"
    again = client.post(f"/api/v1/placement-requests/{request_id}/holds",
                        json={"unit_id": options[0]["unit_id"]}, headers=night.headers)
    confirmed = client.post(f"/api/v1/holds/{again.get_json()['id']}/confirm",
                            headers=day.headers)
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)
    assert confirmed.get_json()["address"]
    # The address went to the day shift, and the audit says so.
    disclosed = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "address.disclosed")).all()
    assert [e.actor_id for e in disclosed] == [day.user.id]


@pytest.mark.parametrize("outsider", ["other", "alone"])
def test_other_organisations_get_404_for_everything(client, network, shifts, outsider):
    night, stranger = shifts["night"], shifts[outsider]
    request_id = create(client, night)["id"]
    options = client.post(f"/api/v1/placement-requests/{request_id}/proposals", json={},
                          headers=night.headers).get_json()["options"]
    hold_id = client.post(f"/api/v1/placement-requests/{request_id}/holds",
                          json={"unit_id": options[0]["unit_id"]},
                          headers=night.headers).get_json()["id"]
    base = f"/api/v1/placement-requests/{request_id}"
    for method, path, body in (
        ("get", base, None),
        ("post", f"{base}/proposals", {}),
        ("post", f"{base}/holds", {"unit_id": options[1]["unit_id"]}),
        ("post", f"{base}/cancel", {}),
        ("get", f"/api/v1/holds/{hold_id}", None),
        ("post", f"/api/v1/holds/{hold_id}/confirm", None),
        ("post", f"/api/v1/holds/{hold_id}/release", None),
    ):
        answer = getattr(client, method)(path, json=body, headers=stranger.headers)
        problem(answer, 404)
    assert client.get("/api/v1/placement-requests", headers=stranger.headers).get_json() == []
    assert client.get("/api/v1/holds", headers=stranger.headers).get_json() == []
    # Nothing changed: the hold is still active for the night shift.
    shown = client.get(base, headers=night.headers).get_json()
    assert shown["status"] == "held" and shown["active_hold"]["id"] == hold_id


def test_a_worker_without_organisation_keeps_v1_scope(client, network, shifts):
    alone = shifts["alone"]
    request_id = create(client, alone)["id"]
    assert [r["id"] for r in client.get("/api/v1/placement-requests",
                                        headers=alone.headers).get_json()] == [request_id]
    for other in ("night", "day", "other"):
        problem(client.get(f"/api/v1/placement-requests/{request_id}",
                           headers=shifts[other].headers), 404)


def test_cancel_takes_an_outcome(client, network, shifts):
    night, day = shifts["night"], shifts["day"]
    first = create(client, night)["id"]
    cancelled = client.post(f"/api/v1/placement-requests/{first}/cancel",
                            json={"outcome": "own_network"}, headers=day.headers)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["outcome"] == "own_network"
    second = create(client, night)["id"]
    plain = client.post(f"/api/v1/placement-requests/{second}/cancel", headers=night.headers)
    assert plain.status_code == 200 and plain.get_json()["outcome"] == "other"


def test_an_unknown_outcome_is_422_and_changes_nothing(client, network, shifts):
    night = shifts["night"]
    request_id = create(client, night)["id"]
    body = problem(client.post(f"/api/v1/placement-requests/{request_id}/cancel",
                               json={"outcome": "gone"}, headers=night.headers), 422)
    assert "outcome" in body["errors"]
    shown = client.get(f"/api/v1/placement-requests/{request_id}", headers=night.headers)
    assert shown.get_json()["status"] == "open"


def test_waitlist_over_the_api_join_twice_list_and_409_once_closed(client, session, network,
                                                                    shifts):
    night, day, other = shifts["night"], shifts["day"], shifts["other"]
    request_id = create(client, night)["id"]
    path = f"/api/v1/placement-requests/{request_id}/waitlist"
    joined = client.post(path, headers=night.headers)
    assert joined.status_code == 200, joined.get_data(as_text=True)
    body = joined.get_json()
    assert body["status"] == "waiting" and body["offer"] is None
    assert body["waiting_since"].endswith("Z")
    again = client.post(path, headers=day.headers)
    assert again.status_code == 200 and again.get_json()["waiting_since"] == body["waiting_since"]
    problem(client.post(path, headers=other.headers), 404)
    listed = client.get("/api/v1/waitlist", headers=day.headers).get_json()
    assert [r["id"] for r in listed] == [request_id]
    assert client.get("/api/v1/waitlist", headers=other.headers).get_json() == []
    waiting = client.get("/api/v1/placement-requests?status=waiting", headers=day.headers)
    assert [r["id"] for r in waiting.get_json()] == [request_id]
    cancelled = client.post(f"/api/v1/placement-requests/{request_id}/cancel",
                            json={"outcome": "client_withdrew"}, headers=day.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    problem(client.post(path, headers=night.headers), 409)
