"""Duty officers, escalation by time and at once, the waiting list and overrides (CONTRACT
4.4, 4.5), over the API on both engines. Time is data: no job runs in any of these tests."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest

from shelter_match.clock import rfc3339
from shelter_match.services import audit, escalation, users
from tests.api.test_foundation import VALID_POLICY, assert_problem
from tests.factories import Caller, make_caller, make_location, make_request

_names = count(1)
DANGER_IN_GRONINGEN = (53.22, 6.56)  # far from Rotterdam: a place there is far enough


def duty_officer(session, clock, *regions: str) -> Caller:
    user, token = users.create_user(session, name=f"duty-{next(_names)}", role="duty_officer",
                                    now=clock.now(), duty_region_codes=regions)
    session.flush()
    return Caller(user, token)


@pytest.fixture
def people(session, clock):
    return {
        "worker": make_caller(session, clock, "crisis_worker"),
        "rotterdam": duty_officer(session, clock, "GM0599"),
        "groningen": duty_officer(session, clock, "GM0014"),
        "national": duty_officer(session, clock),
        "admin": make_caller(session, clock, "admin"),
        "reviewer": make_caller(session, clock, "region_reviewer"),
    }


def escalations(client, caller, query=""):
    response = client.get(f"/api/v1/escalations{query}", headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_rood_request_escalates_regionally_after_an_hour_then_nationally(
        client, session, clock, people):
    request = make_request(session, clock, people["worker"], risk_level="rood")
    made = clock.now()
    clock.advance(minutes=59, seconds=59)
    assert escalations(client, people["rotterdam"]) == []
    clock.advance(seconds=1)  # exactly 60 minutes: due now, with nothing having run
    [shown] = escalations(client, people["rotterdam"])
    assert shown == {
        "request_id": request.id, "case_reference": request.case_reference,
        "risk_level": "rood", "origin_region_code": "GM0599", "waiting_since": rfc3339(made),
        "level": "regional", "escalated_at": rfc3339(made + timedelta(minutes=60)),
        "cause": None,
    }
    assert escalations(client, people["groningen"]) == []
    assert escalations(client, people["national"]) == []
    clock.advance(minutes=60)
    [national] = escalations(client, people["national"])
    assert national["level"] == "national"
    assert national["escalated_at"] == rfc3339(made + timedelta(minutes=120))
    # Her region's duty still sees it; another region's never does.
    assert [e["level"] for e in escalations(client, people["rotterdam"])] == ["national"]
    assert escalations(client, people["groningen"]) == []
    assert len(escalations(client, people["admin"])) == 1


def test_each_risk_level_has_its_own_time_and_the_policy_sets_it(
        client, session, clock, people):
    oranje = make_request(session, clock, people["worker"], risk_level="oranje")
    groen = make_request(session, clock, people["worker"], risk_level="groen")
    clock.advance(minutes=239)
    assert escalations(client, people["rotterdam"]) == []
    clock.advance(minutes=1)
    assert [e["request_id"] for e in escalations(client, people["rotterdam"])] == [oranje.id]
    policy = {**VALID_POLICY, "escalation_minutes": {"groen": 200, "oranje": 240, "rood": 60}}
    response = client.put("/api/v1/policy", json=policy, headers=people["admin"].headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["escalation_minutes"]["groen"] == 200
    shown = {e["request_id"] for e in escalations(client, people["rotterdam"])}
    assert shown == {oranje.id, groen.id}


@pytest.mark.parametrize("minutes", [0, -5, "60", 7 * 24 * 60 + 1])
def test_escalation_minutes_out_of_range_are_422_naming_the_level(client, people, minutes):
    policy = {**VALID_POLICY, "escalation_minutes": {"groen": 1440, "oranje": 240,
                                                     "rood": minutes}}
    response = client.put("/api/v1/policy", json=policy, headers=people["admin"].headers)
    body = assert_problem(response, 422)
    assert any("escalation_minutes" in field for field in body["errors"])


def test_a_placed_or_cancelled_request_no_longer_escalates(client, session, clock, people):
    request = make_request(session, clock, people["worker"], risk_level="rood")
    clock.advance(minutes=61)
    assert len(escalations(client, people["rotterdam"])) == 1
    response = client.post(f"/api/v1/placement-requests/{request.id}/cancel",
                           headers=people["worker"].headers)
    assert response.status_code == 200
    assert escalations(client, people["rotterdam"]) == []


def test_escalate_now_escalates_at_once_and_nationally_one_period_later(
        client, session, clock, people):
    request = make_request(session, clock, people["worker"], risk_level="oranje")
    clock.advance(minutes=10)
    escalation.escalate_now(session, request, "no_show", now=clock.now())
    session.flush()
    [shown] = escalations(client, people["rotterdam"])
    assert (shown["level"], shown["cause"]) == ("regional", "no_show")
    assert shown["escalated_at"] == rfc3339(clock.now())
    assert escalations(client, people["national"]) == []
    clock.advance(minutes=240)
    [national] = escalations(client, people["national"])
    assert national["level"] == "national"
    [event] = audit.list_events(session, action="request.escalated")
    assert event.object_id == request.id and event.detail["cause"] == "no_show"


def test_who_may_read_escalations(client, session, clock, people):
    make_request(session, clock, people["worker"], risk_level="rood")
    clock.advance(minutes=61)
    for name in ("worker", "reviewer"):
        assert_problem(client.get("/api/v1/escalations", headers=people[name].headers), 403)
    assert_problem(client.get("/api/v1/escalations"), 401)
    # A region outside her duty reads as unknown.
    response = client.get("/api/v1/escalations?region_code=GM0599",
                          headers=people["groningen"].headers)
    assert_problem(response, 404)
    assert len(escalations(client, people["rotterdam"], "?region_code=GM0599")) == 1


def test_escalations_show_no_place_unit_or_address(client, session, clock, people):
    location = make_location(session, clock, address="Geheime Gracht 9, Utrecht")
    request = make_request(session, clock, people["worker"], risk_level="rood")
    clock.advance(minutes=61)
    text = client.get("/api/v1/escalations", headers=people["rotterdam"].headers
                      ).get_data(as_text=True)
    assert request.id in text
    for secret in ("Geheime", location.id, "Schiedam", "\"lat\"", "\"lon\""):
        assert secret not in text


def test_the_waiting_list_is_scoped(client, session, clock, people):
    from shelter_match.services import waitlist
    from tests.factories import principal_of

    actor = principal_of(session, people["worker"])
    rood = make_request(session, clock, people["worker"], risk_level="rood")
    other = make_request(session, clock, people["worker"], risk_level="groen",
                         origin_region_code="GM0014")
    for request in (other, rood):
        waitlist.join_waitlist(session, request.id, actor=actor, now=clock.now())
    session.flush()

    def ids(caller):
        response = client.get("/api/v1/waitlist", headers=caller.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["id"] for r in response.get_json()]

    assert ids(people["rotterdam"]) == [rood.id]
    assert ids(people["groningen"]) == [other.id]
    assert ids(people["national"]) == [rood.id, other.id]  # rood first
    assert ids(people["worker"]) == [rood.id, other.id]
    assert ids(make_caller(session, clock, "crisis_worker")) == []
    assert_problem(client.get("/api/v1/waitlist", headers=people["reviewer"].headers), 403)
    # Waiting counts as unplaced: it escalates like an open request.
    clock.advance(minutes=60)
    assert [e["request_id"] for e in escalations(client, people["rotterdam"])] == [rood.id]


def test_an_offer_is_notified_and_its_expiry_escalates_at_once(client, session, clock, people):
    from sqlalchemy import select

    from shelter_match.models import Notification
    from shelter_match.services import waitlist
    from tests.factories import principal_of

    make_location(session, clock, region_code="GM0344", units=(("A", 2),))
    request = make_request(session, clock, people["worker"], risk_level="oranje")
    waitlist.join_waitlist(session, request.id, actor=principal_of(session, people["worker"]),
                           now=clock.now())
    run = waitlist.run_matcher(session, now=clock.now(), force=True)
    assert len(run.offers) == 1
    session.flush()
    [note] = session.scalars(select(Notification)).all()
    assert (note.event, note.request_id) == ("offer_made", request.id)
    assert note.audience == f"user:{people['worker'].user.id}"
    assert note.link_path == f"/crisis/aanvragen/{request.id}"
    clock.advance(minutes=31)  # the offer expired unanswered
    waitlist.run_matcher(session, now=clock.now(), force=True)
    session.flush()
    [shown] = escalations(client, people["rotterdam"])
    assert (shown["request_id"], shown["cause"]) == (request.id, "offer_expired")
    events = [n.event for n in session.scalars(select(Notification)
                                               .order_by(Notification.created_at))]
    assert events.count("escalation") == 1


# --- overrides --------------------------------------------------------------------------


@pytest.fixture
def rood_in_rotterdam(session, clock, people):
    """A rood request of Rotterdam, whose danger is far away, and a rood place in Rotterdam."""
    location = make_location(session, clock, region_code="GM0599", safety_level="rood",
                             units=(("A", 2),))
    request = make_request(session, clock, people["worker"], risk_level="rood",
                           danger=DANGER_IN_GRONINGEN, danger_place=None)
    return request, location


def options(client, request, caller):
    response = client.post(f"/api/v1/placement-requests/{request.id}/proposals", json={},
                           headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def override(client, request, caller, body):
    return client.post(f"/api/v1/placement-requests/{request.id}/overrides", json=body,
                       headers=caller.headers)


def test_an_override_lets_a_rood_request_stay_in_her_region(
        client, session, clock, people, rood_in_rotterdam):
    request, location = rood_in_rotterdam
    before = options(client, request, people["worker"])
    assert before["options"] == []
    assert {"reason": "origin_region_not_allowed", "locations": 1} in before["excluded"]
    response = override(client, request, people["rotterdam"],
                        {"rood_in_origin_region": True, "reason": "Enige plek; dader in Gr."})
    assert response.status_code == 200, response.get_data(as_text=True)
    [made] = response.get_json()["overrides"]
    assert made["reason"] == "Enige plek; dader in Gr."
    after = options(client, request, people["worker"])
    assert [o["location_id"] for o in after["options"]] == [location.id]
    assert after["options"][0]["in_origin_region"] is True
    # Shown on the request, and the hold honours it the same way as the proposal.
    shown = client.get(f"/api/v1/placement-requests/{request.id}",
                       headers=people["worker"].headers).get_json()
    assert [o["id"] for o in shown["overrides"]] == [made["id"]]
    hold = client.post(f"/api/v1/placement-requests/{request.id}/holds",
                       json={"unit_id": after["options"][0]["unit_id"]},
                       headers=people["worker"].headers)
    assert hold.status_code == 201, hold.get_data(as_text=True)
    [event] = audit.list_events(session, action="request.override_added")
    assert event.object_id == request.id
    assert "Enige" not in str(event.detail)  # free text stays out of the permanent log


def test_no_override_lowers_a_minimum_distance(client, session, clock, people):
    make_location(session, clock, region_code="GM0599", safety_level="rood")
    request = make_request(session, clock, people["worker"], risk_level="rood")  # Schiedam
    response = override(client, request, people["rotterdam"],
                        {"rood_in_origin_region": True, "reason": "Proef"})
    assert response.status_code == 200
    after = options(client, request, people["worker"])
    assert after["options"] == []
    assert after["excluded"][0]["reason"] == "too_close_to_danger"
    response = override(client, request, people["rotterdam"],
                        {"reason": "Korter", "min_distance_km": 0})
    assert "min_distance_km" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"rood_in_origin_region": True}, "reason"),
    ({"rood_in_origin_region": True, "reason": ""}, "reason"),
    ({"rood_in_origin_region": True, "reason": "   "}, "reason"),
    ({"rood_in_origin_region": True, "reason": "x" * 301}, "reason"),
    ({"rood_in_origin_region": True, "reason": "BSN 111222333 vergeten"}, "reason"),
    ({"rood_in_origin_region": True, "reason": "geboren 12-03-1987"}, "reason"),
    ({"rood_in_origin_region": True, "reason": "twee\nregels"}, "reason"),
    ({"rood_in_origin_region": False, "reason": "Nee"}, "rood_in_origin_region"),
    ({"rood_in_origin_region": "ja", "reason": "Ja"}, "rood_in_origin_region"),
])
def test_bad_overrides_are_422_naming_the_field_and_change_nothing(
        client, session, clock, people, rood_in_rotterdam, body, field):
    request, _ = rood_in_rotterdam
    body_ = assert_problem(override(client, request, people["rotterdam"], body), 422)
    assert field in body_["errors"]
    assert "111222333" not in str(body_)
    assert options(client, request, people["worker"])["options"] == []


def test_overrides_outside_her_scope_are_404_and_others_403(
        client, session, clock, people, rood_in_rotterdam):
    request, _ = rood_in_rotterdam
    body = {"rood_in_origin_region": True, "reason": "Proef"}
    assert_problem(override(client, request, people["groningen"], body), 404)
    assert_problem(override(client, request, people["worker"], body), 403)
    assert_problem(override(client, request, people["reviewer"], body), 403)
    missing = client.post("/api/v1/placement-requests/nope/overrides", json=body,
                          headers=people["rotterdam"].headers)
    assert_problem(missing, 404)
    assert override(client, request, people["national"], body).status_code == 200
    assert override(client, request, people["admin"], body).status_code == 200


def test_an_override_of_a_closed_request_is_409(client, session, clock, people,
                                                rood_in_rotterdam):
    request, _ = rood_in_rotterdam
    client.post(f"/api/v1/placement-requests/{request.id}/cancel",
                headers=people["worker"].headers)
    response = override(client, request, people["rotterdam"],
                        {"rood_in_origin_region": True, "reason": "Te laat"})
    assert_problem(response, 409)


def test_the_purge_erases_an_overrides_reason_with_the_request(
        client, session, clock, people, rood_in_rotterdam):
    from shelter_match.services import overrides, retention

    request, _ = rood_in_rotterdam
    assert override(client, request, people["rotterdam"],
                    {"rood_in_origin_region": True, "reason": "Enige plek"}).status_code == 200
    client.post(f"/api/v1/placement-requests/{request.id}/cancel",
                headers=people["worker"].headers)
    clock.advance(days=40)
    retention.purge(session, older_than_days=30, now=clock.now())
    [kept] = overrides.overrides_of(session, request.id)
    assert kept.reason is None and kept.rood_in_origin_region is True


# --- notification channels ---------------------------------------------------------------


def test_an_admin_sets_a_channel_and_never_sees_the_secret_again(client, people):
    secret = "k" * 40
    response = client.put("/api/v1/notification-channels/duty:GM0599",
                          json={"email": "dienst@example.org",
                                "webhook_url": "https://hooks.example.org/sm",
                                "webhook_secret": secret}, headers=people["admin"].headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["has_webhook_secret"] is True
    for answer in (response, client.get("/api/v1/notification-channels/duty:GM0599",
                                        headers=people["admin"].headers),
                   client.get("/api/v1/notification-channels", headers=people["admin"].headers)):
        assert secret not in answer.get_data(as_text=True)


@pytest.mark.parametrize(("audience", "body", "field"), [
    ("duty:GM0599", {"email": "geen-adres"}, "email"),
    ("duty:GM0599", {"webhook_url": "https://hooks.example.org/sm"}, "webhook_secret"),
    ("duty:GM0599", {"webhook_url": "javascript:alert(1)", "webhook_secret": "k" * 40},
     "webhook_url"),
    ("duty:GM9999", {"email": "a@example.org"}, "audience"),
])
def test_bad_channels_are_422_naming_the_field(client, people, audience, body, field):
    response = client.put(f"/api/v1/notification-channels/{audience}", json=body,
                          headers=people["admin"].headers)
    assert field in assert_problem(response, 422)["errors"]
    assert_problem(client.get(f"/api/v1/notification-channels/{audience}",
                              headers=people["admin"].headers), 404)
