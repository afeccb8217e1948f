"""For random histories, the database's figures obey the identities and equal a reference.

The reference is deliberately naive and independent of the SQL: it converts each instant
to a local date with zoneinfo and counts the nights with date arithmetic. Histories are
drawn around both daylight-saving changes of 2026 and around the period's edges.
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from seed.history import HistoryPlacement, history_user_id, insert_history
from shelter_match.models import Unit
from shelter_match.services.solidarity import Period, region_balances, region_flows
from tests.factories import make_location

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
REGIONS = ("GM0599", "GM0344", "GM0014", "GM0363")
MAX_PLACEMENTS = 12
# Histories live in these windows; each holds a daylight-saving change.
WINDOWS = (datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC))
SPAN_DAYS = 45
SPAN_MINUTES = SPAN_DAYS * 24 * 60
# Minutes of the UTC day near the local midnights (22:00 UTC in summer, 23:00 in winter),
# where a wrong offset or rounding would move an instant to another date.
NEAR_MIDNIGHT = (0, 59, 60, 21 * 60 + 59, 22 * 60, 22 * 60 + 59, 23 * 60, 23 * 60 + 59)
minutes_of_day = st.one_of(st.sampled_from(NEAR_MIDNIGHT), st.integers(0, 24 * 60 - 1))


@st.composite
def placements(draw):
    origin = draw(st.sampled_from(REGIONS))
    destination = draw(st.sampled_from(REGIONS))
    start = draw(st.integers(0, SPAN_DAYS - 1)) * 24 * 60 + draw(minutes_of_day)
    # Whole minutes and, now and then, the last microsecond before a minute.
    jitter = draw(st.sampled_from((0, 0, 59_999_999)))
    length = draw(st.one_of(
        st.none(),
        st.integers(0, 20 * 24 * 60),
        st.builds(lambda days, minute: days * 24 * 60 + minute - start % (24 * 60),
                  st.integers(1, 20), minutes_of_day),
    ))
    size = draw(st.integers(1, 5))
    return origin, destination, start, jitter, length, size


@st.composite
def histories(draw):
    window = draw(st.sampled_from(WINDOWS))
    rows = draw(st.lists(placements(), max_size=MAX_PLACEMENTS))
    first = draw(st.integers(0, 44))
    days = draw(st.integers(1, 30))
    now_minutes = draw(st.integers(0, SPAN_MINUTES + 30 * 24 * 60))
    return window, rows, first, days, now_minutes


def reference(history, period, now):
    """Return {(origin, destination): [placements, bed_nights]}, counted the plain way."""
    flows = Counter(), Counter()
    for p in history:
        start_date = p.started_at.astimezone(AMSTERDAM).date()
        end_date = (p.ended_at or now).astimezone(AMSTERDAM).date()
        nights = (min(end_date, period.end + timedelta(days=1))
                  - max(start_date, period.start)).days
        key = (p.origin_region_code, p.destination_region_code)
        flows[0][key] += period.start <= start_date <= period.end
        flows[1][key] += max(nights, 0) * p.household_size
    return {key: (flows[0][key], flows[1][key]) for key in flows[0]
            if flows[0][key] or flows[1][key]}


def region_figures(flows, code):
    """Return (placements out, in, own, bed-nights out, in, own) of a region from flows."""
    out = [v for (origin, destination), v in flows.items() if origin == code != destination]
    into = [v for (origin, destination), v in flows.items() if destination == code != origin]
    own = flows.get((code, code), (0, 0))
    return (sum(v[0] for v in out), sum(v[0] for v in into), own[0],
            sum(v[1] for v in out), sum(v[1] for v in into), own[1])


@pytest.fixture
def units(session, clock):
    """One location per region with a unit for every placement an example may open."""
    pools = {}
    for region in REGIONS:
        location = make_location(session, clock, region_code=region,
                                 units=tuple((f"U{n}", 5) for n in range(MAX_PLACEMENTS)))
        pools[region] = list(session.scalars(
            select(Unit).where(Unit.location_id == location.id).order_by(Unit.label)))
    return pools


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=histories())
def test_database_figures_equal_the_reference_and_balance(session, clock, units, example):
    window, rows, first, days, now_minutes = example
    now = window + timedelta(minutes=now_minutes)
    history = []
    for n, (origin, destination, start, jitter, length, size) in enumerate(rows):
        started_at = window + timedelta(minutes=start, microseconds=jitter)
        ended_at = None if length is None else started_at + timedelta(minutes=length)
        unit = units[destination][n]  # a unit of its own: open placements never share one
        history.append(HistoryPlacement(
            case_reference=f"PROP-{n}", unit_id=unit.id, location_id=unit.location_id,
            origin_region_code=origin, destination_region_code=destination,
            risk_level="groen", adults=1, children=size - 1, danger_lat=52.0,
            danger_lon=5.0, started_at=started_at, ended_at=ended_at,
        ))  # fmt: skip
    local_start = window.astimezone(AMSTERDAM).date() + timedelta(days=first)
    period = Period(local_start, local_start + timedelta(days=days - 1))

    savepoint = session.begin_nested()
    try:
        insert_history(session, history, created_by=history_user_id(session, clock.now()))
        balance = region_balances(session, period, now)
        flows = region_flows(session, period, now)
    finally:
        savepoint.rollback()

    expected = reference(history, period, now)
    assert {(f.origin_region_code, f.destination_region_code): (f.placements, f.bed_nights)
            for f in flows} == expected
    totals = balance.totals
    assert totals.placements_out == totals.placements_in
    assert totals.bed_nights_out == totals.bed_nights_in
    assert sum(row.net_bed_nights for row in balance.regions) == 0 == totals.net_bed_nights
    assert len(balance.regions) == 35
    for row in balance.regions:
        assert (row.placements_out, row.placements_in, row.placements_own, row.bed_nights_out,
                row.bed_nights_in, row.bed_nights_own) == region_figures(expected, row.region_code)

def test_the_reference_counts_a_known_case():
    # Guard against a reference that agrees with anything.
    start = datetime(2026, 10, 24, 10, tzinfo=UTC)
    history = [HistoryPlacement("X", "u", "l", "GM0599", "GM0344", "groen", 1, 2, 52.0, 5.0,
                                start, start + timedelta(days=3))]
    period = Period(date(2026, 10, 25), date(2026, 10, 31))
    assert reference(history, period, start) == {("GM0599", "GM0344"): (0, 2 * 3)}
