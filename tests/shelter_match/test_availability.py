"""Live availability in the service layer: counts, staleness, hand changes, holds, history."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shelter_match.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from shelter_match.models import AuditEvent, Hold, Unit, UnitChange
from shelter_match.services.availability import (
    confirm_availability,
    get_location,
    list_locations,
    list_unit_changes,
    update_unit,
)
from shelter_match.services.locations import UnitData, add_unit_to_location, update_location
from shelter_match.services.policy import DEFAULT_POLICY, replace_policy
from tests.factories import (
    hold_unit_for_test,
    make_caller,
    make_location,
    place_unit_for_test,
    principal_of,
)


@pytest.fixture
def admin(session, clock):
    return principal_of(session, make_caller(session, clock, "admin"))


def units_of(session, location):
    return {u.label: u for u in session.scalars(select(Unit).where(Unit.location_id ==
                                                                    location.id))}


def summary(session, clock, viewer, location):
    found = [s for s in list_locations(session, viewer=viewer, now=clock.now())
             if s.id == location.id]
    assert len(found) == 1
    return found[0]


def count(session, model, **where):
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.scalar(query)


def test_counts_use_the_effective_status(session, clock, admin):
    location = make_location(session, clock, units=(("free", 2), ("held", 3), ("expired", 4),
                                                    ("occupied", 5), ("closed", 6)))
    units = units_of(session, location)
    hold_unit_for_test(session, clock, units["held"].id, minutes=30)
    hold_unit_for_test(session, clock, units["expired"].id, minutes=10)
    update_unit(session, units["occupied"].id, actor=admin, now=clock.now(), status="occupied")
    update_unit(session, units["closed"].id, actor=admin, now=clock.now(), status="closed")
    clock.advance(minutes=15)  # the 10-minute hold has expired; nothing swept it

    row = summary(session, clock, admin, location)
    assert (row.units_total, row.units_free, row.beds_free) == (5, 2, 2 + 4)
    detail = get_location(session, location.id, viewer=admin, now=clock.now())
    assert {u.label: u.status for u in detail.units} == {
        "free": "free", "held": "held", "expired": "free", "occupied": "occupied",
        "closed": "closed",
    }
    assert [u for u in detail.units if u.label == "expired"][0].held_until is None


def test_location_without_units_counts_zero(session, clock, admin):
    location = make_location(session, clock, units=())
    row = summary(session, clock, admin, location)
    assert (row.units_total, row.units_free, row.beds_free) == (0, 0, 0)


def test_region_filter_and_unknown_region(session, clock, admin):
    utrecht = make_location(session, clock, region_code="GM0344")
    rotterdam = make_location(session, clock, region_code="GM0599", lat=51.92, lon=4.48)
    ids = {s.id for s in list_locations(session, viewer=admin, now=clock.now(),
                                           region_code="GM0599")}
    assert rotterdam.id in ids and utrecht.id not in ids
    with pytest.raises(ValidationFailed) as raised:
        list_locations(session, viewer=admin, now=clock.now(), region_code="GM9999")
    assert "region_code" in raised.value.errors


def test_stale_follows_the_policy(session, clock, admin):
    location = make_location(session, clock)
    clock.advance(hours=DEFAULT_POLICY.stale_after_hours)
    assert summary(session, clock, admin, location).stale is False  # exactly 12 h: not older
    clock.advance(seconds=1)
    assert summary(session, clock, admin, location).stale is True
    replace_policy(session, {**DEFAULT_POLICY.as_document(), "stale_after_hours": 24},
                   actor=admin, now=clock.now())
    assert summary(session, clock, admin, location).stale is False


def test_confirmation_refreshes_and_is_audited(session, clock, admin):
    location = make_location(session, clock)
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(location.id,)))
    clock.advance(hours=13)
    assert summary(session, clock, admin, location).stale is True
    confirm_availability(session, location.id, actor=coordinator, now=clock.now())
    row = summary(session, clock, admin, location)
    assert row.stale is False and row.availability_updated_at == clock.now()
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "location.availability_confirmed")).one()
    assert (event.object_id, event.actor_id) == (location.id, coordinator.user_id)


def test_hand_change_makes_version_history_audit_and_freshness(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]
    clock.advance(hours=2)
    changed = update_unit(session, unit.id, actor=admin, now=clock.now(), status="occupied",
                          beds=5, if_match={1})
    assert (changed.status, changed.beds, changed.version) == ("occupied", 5, 2)
    assert changed.updated_at == clock.now()
    change = session.scalars(select(UnitChange).where(UnitChange.unit_id == unit.id,
                                                      UnitChange.cause == "manual")).one()
    assert (change.from_status, change.to_status, change.from_beds, change.to_beds) == (
        "free", "occupied", 4, 5)
    assert change.changed_by == admin.user_id and change.changed_at == clock.now()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.updated")).one()
    assert event.detail == {"location_id": location.id, "from_status": "free",
                            "to_status": "occupied", "from_beds": 4, "to_beds": 5,
                            "version": 2}
    assert summary(session, clock, admin, location).availability_updated_at == clock.now()


def test_a_change_to_the_same_values_writes_nothing(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["A"]
    before = count(session, UnitChange), count(session, AuditEvent)
    same = update_unit(session, unit.id, actor=admin, now=clock.now(), status="free", beds=1)
    assert same.version == 1
    assert (count(session, UnitChange), count(session, AuditEvent)) == before


def test_stale_version_is_412_and_changes_nothing(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["A"]
    update_unit(session, unit.id, actor=admin, now=clock.now(), status="closed", if_match={1})
    with pytest.raises(PreconditionFailed):
        update_unit(session, unit.id, actor=admin, now=clock.now(), status="free", if_match={1})
    session.expire_all()
    assert (unit.status, unit.version) == ("closed", 2)
    assert count(session, UnitChange, unit_id=unit.id, cause="manual") == 1


@pytest.mark.parametrize("changes, field", [
    ({"status": "held"}, "status"),
    ({"status": "gone"}, "status"),
    ({"beds": -1}, "beds"),
    ({"beds": 21}, "beds"),
    ({}, "status"),
])
def test_bad_change_is_422_naming_the_field(session, clock, admin, changes, field):
    location = make_location(session, clock)
    unit = units_of(session, location)["A"]
    with pytest.raises(ValidationFailed) as raised:
        update_unit(session, unit.id, actor=admin, now=clock.now(), **changes)
    assert field in raised.value.errors
    session.expire_all()
    assert (unit.status, unit.beds, unit.version) == ("free", 1, 1)


def test_unknown_unit_is_404_and_other_coordinator_403(session, clock):
    location = make_location(session, clock)
    other = make_location(session, clock)
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(other.id,)))
    with pytest.raises(NotFound):
        update_unit(session, "no-such-unit", actor=coordinator, now=clock.now(), status="free")
    with pytest.raises(Forbidden):
        update_unit(session, units_of(session, location)["A"].id, actor=coordinator,
                    now=clock.now(), status="closed")


@pytest.mark.parametrize("status", ["free", "occupied", "closed"])
def test_held_unit_keeps_its_status(session, clock, admin, status):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]
    hold_unit_for_test(session, clock, unit.id)
    with pytest.raises(Conflict) as raised:
        update_unit(session, unit.id, actor=admin, now=clock.now(), status=status)
    assert "hold must be released" in raised.value.detail
    session.expire_all()
    assert (unit.status, unit.version) == ("held", 2)


def test_held_unit_keeps_beds_for_its_household(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]  # 4 beds
    hold_unit_for_test(session, clock, unit.id, adults=1, children=2)
    with pytest.raises(Conflict) as raised:
        update_unit(session, unit.id, actor=admin, now=clock.now(), beds=2)
    assert "household of 3" in raised.value.detail
    changed = update_unit(session, unit.id, actor=admin, now=clock.now(), beds=3)
    assert (changed.status, changed.beds, changed.version) == ("held", 3, 3)
    assert changed.held_until == clock.now() + timedelta(minutes=30)
    session.expire_all()
    assert session.scalar(select(Hold.status).where(Hold.unit_id == unit.id)) == "active"


def test_placed_unit_keeps_its_status_and_household_beds(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]
    place_unit_for_test(session, clock, unit.id, household_size=3)
    with pytest.raises(Conflict) as raised:
        update_unit(session, unit.id, actor=admin, now=clock.now(), status="free")
    assert "discharged" in raised.value.detail
    with pytest.raises(Conflict) as raised:
        update_unit(session, unit.id, actor=admin, now=clock.now(), beds=2)
    assert "household of 3" in raised.value.detail
    assert update_unit(session, unit.id, actor=admin, now=clock.now(), beds=6).beds == 6
    # The same status is no change at all, so it is allowed.
    assert update_unit(session, unit.id, actor=admin, now=clock.now(),
                       status="occupied").status == "occupied"


def test_unit_marked_held_without_a_hold_row_keeps_its_status(session, clock, admin):
    from sqlalchemy import update

    location = make_location(session, clock)
    unit = units_of(session, location)["A"]
    session.execute(update(Unit).where(Unit.id == unit.id).values(
        status="held", held_until=clock.now() + timedelta(minutes=5)))
    with pytest.raises(Conflict):
        update_unit(session, unit.id, actor=admin, now=clock.now(), status="closed")


def test_expired_hold_frees_the_unit_for_a_hand_change(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]
    hold = hold_unit_for_test(session, clock, unit.id, minutes=30)
    clock.advance(minutes=31)
    changed = update_unit(session, unit.id, actor=admin, now=clock.now(), status="closed",
                          if_match={2})
    assert (changed.status, changed.version, changed.held_until) == ("closed", 3, None)
    session.expire_all()
    assert (hold.status, hold.ended_at) == ("expired", hold.expires_at)
    history = list(session.scalars(select(UnitChange).where(UnitChange.unit_id == unit.id)
                                   .order_by(UnitChange.id)))
    assert [(c.cause, c.from_status, c.to_status) for c in history] == [
        ("created", None, "free"), ("expire", "held", "free"), ("manual", "free", "closed")]
    assert history[1].changed_at == hold.expires_at
    # The partial unique index of active holds tells the truth: the unit can be held again.
    update_unit(session, unit.id, actor=admin, now=clock.now(), status="free")
    hold_unit_for_test(session, clock, unit.id)


def test_beds_change_on_an_expired_hold_writes_the_unit_free(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["B"]
    hold_unit_for_test(session, clock, unit.id, minutes=5)
    clock.advance(minutes=6)
    changed = update_unit(session, unit.id, actor=admin, now=clock.now(), beds=2)
    assert (changed.status, changed.beds) == ("free", 2)
    session.expire_all()
    assert (unit.status, unit.held_until) == ("free", None)


def test_coordinator_adds_units_to_her_location_only(session, clock):
    location = make_location(session, clock)
    other = make_location(session, clock)
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(location.id,)))
    clock.advance(hours=1)
    unit = add_unit_to_location(session, location.id, UnitData("C", 2), actor=coordinator,
                                now=clock.now())
    assert (unit.status, unit.version) == ("free", 1)
    assert summary(session, clock, coordinator, location).availability_updated_at == \
        clock.now()
    with pytest.raises(Forbidden):
        add_unit_to_location(session, other.id, UnitData("C", 2), actor=coordinator,
                             now=clock.now())
    with pytest.raises(ValidationFailed) as raised:
        add_unit_to_location(session, location.id, UnitData(" C ", 2), actor=coordinator,
                             now=clock.now())
    assert "label" in raised.value.errors
    with pytest.raises(NotFound):
        add_unit_to_location(session, "nowhere", UnitData("D", 2), actor=coordinator,
                             now=clock.now())
    assert count(session, Unit, location_id=location.id) == 3


def test_update_location_is_for_admins_and_audits_no_secrets(session, clock, admin):
    location = make_location(session, clock)
    lon_before = location.lon
    coordinator = principal_of(session, make_caller(session, clock, "coordinator",
                                                    location_ids=(location.id,)))
    with pytest.raises(Forbidden):
        update_location(session, location.id, {"name": "X"}, actor=coordinator,
                        now=clock.now())
    update_location(session, location.id,
                    {"name": "Nieuw Huis", "address": "Stille Gracht 9, Utrecht",
                     "lat": 52.1, "safety_level": "rood"}, actor=admin, now=clock.now())
    session.expire_all()
    assert (location.name, location.address, location.lat, location.safety_level) == (
        "Nieuw Huis", "Stille Gracht 9, Utrecht", 52.1, "rood")
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "location.updated")).one()
    assert event.detail["fields"] == ["address", "lat", "name", "safety_level"]
    assert event.detail["changes"]["safety_level"] == {"from": "oranje", "to": "rood"}
    assert "Stille" not in str(event.detail) and "52.1" not in str(event.detail)
    with pytest.raises(ValidationFailed) as raised:
        update_location(session, location.id, {"region_code": "GM0599", "lon": 99.0,
                                                "features": ["spa"]}, actor=admin,
                        now=clock.now())
    assert set(raised.value.errors) == {"region_code", "lon", "features"}
    session.expire_all()
    assert (location.region_code, location.lon) == ("GM0344", lon_before)


def test_history_is_for_the_location_keepers(session, clock, admin):
    location = make_location(session, clock)
    unit = units_of(session, location)["A"]
    clock.advance(hours=1)
    update_unit(session, unit.id, actor=admin, now=clock.now(), status="occupied")
    changes = list_unit_changes(session, location.id, actor=admin)
    assert [c.cause for c in changes] == ["created", "created", "manual"]
    since = list_unit_changes(session, location.id, actor=admin, since=clock.now())
    assert [(c.cause, c.unit_id) for c in since] == [("manual", unit.id)]
    assert since[0].changed_by.startswith("admin-")
    only_a = list_unit_changes(session, location.id, actor=admin, unit_id=unit.id)
    assert {c.unit_id for c in only_a} == {unit.id}
    worker = principal_of(session, make_caller(session, clock, "crisis_worker"))
    with pytest.raises(Forbidden):
        list_unit_changes(session, location.id, actor=worker)
