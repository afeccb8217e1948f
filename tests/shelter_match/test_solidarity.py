"""Solidarity figures computed by hand at the edges of the period, on both engines.

The clock stands at 2026-11-22 04:00 in Amsterdam (03:00 UTC). Rotterdam (GM0599) sends,
Utrecht (GM0344) takes in, unless a test says otherwise.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shelter_match.errors import ValidationFailed
from shelter_match.services.solidarity import (
    MAX_PERIOD_DAYS,
    Period,
    intake_by_region,
    make_period,
    region_balances,
    region_flows,
)
from tests.factories import make_placement

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ROTTERDAM, UTRECHT, GRONINGEN = "GM0599", "GM0344", "GM0014"
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 10))


def local(year, month, day, hour=12, minute=0, second=0, microsecond=0) -> datetime:
    """Return a wall-clock moment in Amsterdam as an aware UTC datetime."""
    moment = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=AMSTERDAM)
    return moment.astimezone(UTC)


def by_code(balance):
    return {row.region_code: row for row in balance.regions}


def figures(row):
    return (row.placements_out, row.placements_in, row.placements_own,
            row.bed_nights_out, row.bed_nights_in, row.bed_nights_own)


def test_every_region_appears_with_zeros_when_nothing_happened(session, clock):
    balance = region_balances(session, NOVEMBER, clock.now())
    assert len(balance.regions) == 35
    assert all(figures(row) == (0,) * 6 and row.net_bed_nights == 0 for row in balance.regions)
    assert figures(balance.totals) == (0,) * 6
    names = [row.name for row in balance.regions]
    assert names == sorted(names, key=str.casefold)
    assert region_flows(session, NOVEMBER, clock.now()) == []


def test_a_placement_before_the_period_counts_only_its_nights_inside(session, clock):
    # Admitted 31 Oct, discharged 3 Nov: nights of 31 Oct (outside), 1 and 2 Nov (inside).
    make_placement(session, clock, started_at=local(2026, 10, 31, 20),
                   ended_at=local(2026, 11, 3, 10), household_size=1)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    assert figures(rows[ROTTERDAM]) == (0, 0, 0, 2, 0, 0)
    assert figures(rows[UTRECHT]) == (0, 0, 0, 0, 2, 0)
    assert rows[UTRECHT].net_bed_nights == 2 and rows[ROTTERDAM].net_bed_nights == -2


def test_a_placement_starting_on_from_counts_and_one_a_moment_earlier_does_not(session, clock):
    make_placement(session, clock, started_at=local(2026, 11, 1, 0, 0),
                   ended_at=local(2026, 11, 2, 9), household_size=2)
    make_placement(session, clock, started_at=local(2026, 10, 31, 23, 59, 59, 999_999),
                   ended_at=local(2026, 11, 2, 9), household_size=1)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    # One placement of the period; nights: 1 Nov for both (2 + 1 people).
    assert figures(rows[ROTTERDAM]) == (1, 0, 0, 3, 0, 0)
    assert figures(rows[UTRECHT]) == (0, 1, 0, 0, 3, 0)


def test_a_placement_starting_on_to_counts_with_its_one_night_inside(session, clock):
    # Still open: its nights run up to now (22 Nov), but only the night of 10 Nov is inside.
    make_placement(session, clock, started_at=local(2026, 11, 10, 23, 30), household_size=4)
    make_placement(session, clock, started_at=local(2026, 11, 11, 0, 0), household_size=4)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    assert figures(rows[UTRECHT]) == (0, 1, 0, 0, 4, 0)


def test_a_placement_ending_on_from_has_no_night_inside(session, clock):
    make_placement(session, clock, started_at=local(2026, 10, 20),
                   ended_at=local(2026, 11, 1, 9), household_size=3)
    make_placement(session, clock, started_at=local(2026, 10, 20),
                   ended_at=local(2026, 11, 2, 23, 59, 59, 999_999), household_size=3)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    assert figures(rows[UTRECHT]) == (0, 0, 0, 0, 3, 0)  # only 1 Nov, of the second


def test_admitted_and_discharged_on_one_date_is_a_placement_without_nights(session, clock):
    make_placement(session, clock, started_at=local(2026, 11, 5, 1),
                   ended_at=local(2026, 11, 5, 23), household_size=5)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    assert figures(rows[UTRECHT]) == (0, 1, 0, 0, 0, 0)


def test_open_placements_count_up_to_now(session, clock):
    period = Period(date(2026, 11, 15), date(2026, 11, 30))
    make_placement(session, clock, started_at=local(2026, 11, 18, 14), household_size=3)
    # Now is 22 Nov 04:00: nights of 18, 19, 20 and 21 Nov.
    assert by_code(region_balances(session, period, clock.now()))[UTRECHT].bed_nights_in == 12
    clock.set(local(2026, 11, 22, 23, 59))
    assert by_code(region_balances(session, period, clock.now()))[UTRECHT].bed_nights_in == 12
    clock.set(local(2026, 11, 23, 0, 30))
    balance = region_balances(session, period, clock.now())
    assert by_code(balance)[UTRECHT].bed_nights_in == 15
    assert balance.as_of == clock.now()


def test_a_period_before_now_ignores_nights_after_it(session, clock):
    make_placement(session, clock, started_at=local(2026, 11, 8, 14), household_size=2)
    rows = by_code(region_balances(session, NOVEMBER, clock.now()))
    assert rows[UTRECHT].bed_nights_in == 2 * 3  # 8, 9 and 10 Nov


def test_a_period_after_now_has_no_nights_yet(session, clock):
    make_placement(session, clock, started_at=local(2026, 11, 18, 14), household_size=2)
    later = Period(date(2026, 12, 1), date(2026, 12, 31))
    assert figures(region_balances(session, later, clock.now()).totals) == (0,) * 6


def test_own_placements_are_neutral_and_reported_apart(session, clock):
    make_placement(session, clock, origin=UTRECHT, destination=UTRECHT,
                   started_at=local(2026, 11, 2), ended_at=local(2026, 11, 6), household_size=2)
    make_placement(session, clock, origin=GRONINGEN, destination=UTRECHT,
                   started_at=local(2026, 11, 2), ended_at=local(2026, 11, 4), household_size=1)
    make_placement(session, clock, origin=UTRECHT, destination=ROTTERDAM,
                   started_at=local(2026, 11, 9), ended_at=local(2026, 11, 20), household_size=1)
    balance = region_balances(session, NOVEMBER, clock.now())
    rows = by_code(balance)
    assert figures(rows[UTRECHT]) == (1, 1, 1, 2, 2, 8)
    assert rows[UTRECHT].net_bed_nights == 0
    assert figures(rows[GRONINGEN]) == (1, 0, 0, 2, 0, 0)
    assert figures(rows[ROTTERDAM]) == (0, 1, 0, 0, 2, 0)
    assert figures(balance.totals) == (2, 2, 1, 4, 4, 8)
    assert balance.totals.net_bed_nights == 0
    flows = {(f.origin_region_code, f.destination_region_code): (f.placements, f.bed_nights)
             for f in region_flows(session, NOVEMBER, clock.now())}
    assert flows == {(UTRECHT, UTRECHT): (1, 8), (GRONINGEN, UTRECHT): (1, 2),
                     (UTRECHT, ROTTERDAM): (1, 2)}


def test_flows_keep_pairs_with_only_bed_nights(session, clock):
    make_placement(session, clock, started_at=local(2026, 10, 1), household_size=2)
    flows = region_flows(session, NOVEMBER, clock.now())
    assert [(f.origin_region_code, f.destination_region_code, f.placements, f.bed_nights)
            for f in flows] == [(ROTTERDAM, UTRECHT, 0, 2 * 10)]


def test_local_dates_follow_daylight_saving_time(session, clock):
    # 25 Oct 2026 00:30 in Amsterdam is still summer time: 24 Oct 22:30 UTC.
    make_placement(session, clock, started_at=local(2026, 10, 25, 0, 30),
                   ended_at=local(2026, 10, 27, 12), household_size=1)
    # 29 Mar 2026 00:15 is winter time, 03:30 summer time, on the same local date.
    make_placement(session, clock, origin=GRONINGEN, started_at=local(2026, 3, 29, 0, 15),
                   ended_at=local(2026, 3, 29, 3, 30), household_size=1)
    october = by_code(region_balances(session, Period(date(2026, 10, 25), date(2026, 10, 25)),
                                      clock.now()))
    assert figures(october[ROTTERDAM]) == (1, 0, 0, 1, 0, 0)
    before = by_code(region_balances(session, Period(date(2026, 10, 1), date(2026, 10, 24)),
                                     clock.now()))
    assert figures(before[ROTTERDAM]) == (0,) * 6
    march = by_code(region_balances(session, Period(date(2026, 3, 29), date(2026, 3, 29)),
                                    clock.now()))
    assert figures(march[GRONINGEN]) == (1, 0, 0, 0, 0, 0)
    # A year across both changes: 25 and 26 Oct are the Rotterdam case's nights.
    year = by_code(region_balances(session, Period(date(2026, 1, 1), date(2026, 12, 31)),
                                   clock.now()))
    assert figures(year[ROTTERDAM]) == (1, 0, 0, 2, 0, 0)


def test_identities_hold_for_the_totals(session, clock):
    start = local(2026, 10, 28)
    pairs = [(ROTTERDAM, UTRECHT), (UTRECHT, GRONINGEN), (GRONINGEN, GRONINGEN),
             (UTRECHT, ROTTERDAM), ("GM0363", ROTTERDAM)]
    for n, (origin, destination) in enumerate(pairs * 3):
        ended = None if n % 4 == 0 else start + timedelta(days=n, hours=7)
        make_placement(session, clock, origin=origin, destination=destination,
                       started_at=start + timedelta(days=n // 2, hours=n),
                       ended_at=ended, household_size=1 + n % 5)
    totals = region_balances(session, NOVEMBER, clock.now()).totals
    assert totals.placements_out == totals.placements_in > 0
    assert totals.bed_nights_out == totals.bed_nights_in > 0
    assert totals.net_bed_nights == 0


def test_intake_by_region_still_counts_placements_from_elsewhere(session, clock):
    make_placement(session, clock, started_at=local(2026, 11, 20))
    make_placement(session, clock, origin=UTRECHT, started_at=local(2026, 11, 20))
    assert intake_by_region(session, local(2026, 11, 1)) == {UTRECHT: 1}


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 2, 1), date(2026, 1, 31), "to"),
        (date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=MAX_PERIOD_DAYS), "to"),
        (date(1999, 12, 31), date(2000, 1, 5), "from"),
        (date(2999, 12, 1), date(3000, 1, 1), "to"),
    ],
)
def test_make_period_refuses_bad_periods_naming_the_field(start, end, field):
    with pytest.raises(ValidationFailed) as refused:
        make_period(start, end)
    assert list(refused.value.errors) == [field]


def test_make_period_accepts_one_day_and_the_longest_period():
    assert make_period(date(2026, 1, 1), date(2026, 1, 1)).days == 1
    longest = make_period(date(2024, 1, 1), date(2024, 1, 1) + timedelta(MAX_PERIOD_DAYS - 1))
    assert longest.days == MAX_PERIOD_DAYS
