"""The demo placement history: deterministic, plausible, consistent with the units."""

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from seed.demo_network import generate_network, load_regions
from seed.history import (
    CASE_PREFIX,
    HISTORY_USER,
    HistoryRegion,
    HistoryUnit,
    clear_history,
    generate_history,
    has_history,
    load_history,
    read_network,
)
from shelter_match.db import create_database_engine
from shelter_match.models import Placement, PlacementRequest, User
from shelter_match.services.locations import LocationData, UnitData, create_location
from shelter_match.services.solidarity import Period, region_balances
from solver.vocabulary import LEVELS
from testbed.cli import run_cli

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def network():
    """The scale-1 demo network as the generator sees it (ids made up, stable)."""
    regions = [HistoryRegion(r.code, r.lat, r.lon) for r in load_regions()]
    units = [
        HistoryUnit(key=(loc.region_code, loc.name, unit.label), unit_id=f"{loc.key}/{unit.label}",
                    location_id=loc.key, region_code=loc.region_code,
                    safety_level=loc.safety_level, beds=unit.beds,
                    occupied=unit.status == "occupied")
        for loc in generate_network(scale=1, seed=0) for unit in loc.units
    ]  # fmt: skip
    return regions, units


@pytest.fixture(scope="module")
def year(network):
    regions, units = network
    return generate_history(regions, units, now=NOW, days=365, seed=0)


def test_the_same_seed_gives_the_same_history(network, year):
    regions, units = network
    assert generate_history(regions, list(reversed(units)), now=NOW, days=365, seed=0) == year
    assert generate_history(regions, units, now=NOW, days=365, seed=1) != year


def test_about_a_hundred_placements_per_location_a_year(network, year):
    locations = len({unit.location_id for unit in network[1]})
    assert 85 * locations <= len(year) <= 110 * locations
    assert all(NOW - timedelta(days=365) <= p.started_at <= NOW for p in year)
    assert [p.started_at for p in year] == sorted(p.started_at for p in year)
    assert len({p.case_reference for p in year}) == len(year)
    assert all(p.case_reference.startswith(CASE_PREFIX) for p in year)


def test_placements_fit_their_unit_and_the_safety_rules(network, year):
    units = {unit.unit_id: unit for unit in network[1]}
    for p in year:
        unit = units[p.unit_id]
        assert unit.region_code == p.destination_region_code
        assert unit.location_id == p.location_id
        assert LEVELS.index(unit.safety_level) >= LEVELS.index(p.risk_level)
        assert 1 <= p.household_size <= min(5, unit.beds)
        if p.risk_level == "rood":
            assert p.origin_region_code != p.destination_region_code
    in_region = [p.origin_region_code == p.destination_region_code
                 for p in year if p.risk_level != "rood"]
    assert 0.75 < sum(in_region) / len(in_region) < 0.95
    assert Counter(p.household_size for p in year).keys() == {1, 2, 3, 4, 5}


def test_origins_follow_population(year):
    origins = Counter(p.origin_region_code for p in year)
    assert origins["GM0599"] > 2 * origins["GM0400"]  # Rotterdam sends more than Den Helder
    assert len(origins) == 35


def test_stays_last_days_to_months_and_never_overlap_on_a_unit(network, year):
    units = {unit.unit_id: unit for unit in network[1]}
    stays = defaultdict(list)
    for p in year:
        stays[p.unit_id].append((p.started_at, p.ended_at or NOW + timedelta(days=999)))
        if p.ended_at is not None:
            assert p.started_at <= p.ended_at < NOW
    lengths = sorted((p.ended_at or NOW) - p.started_at for p in year)
    assert lengths[len(lengths) // 2] > timedelta(days=5)
    assert lengths[-1] > timedelta(days=60)
    for unit_id, periods in stays.items():
        periods.sort()
        for (_, end), (next_start, _) in zip(periods, periods[1:], strict=False):
            assert end <= next_start, unit_id
    open_units = [p.unit_id for p in year if p.ended_at is None]
    assert open_units, "some placements are still open"
    assert len(open_units) == len(set(open_units))
    assert all(units[unit_id].occupied for unit_id in open_units)


def _small_network(session, now):
    for n, (region, level, lat, lon) in enumerate([
            ("GM0599", "groen", 51.92, 4.48), ("GM0344", "rood", 52.09, 5.12),
            ("GM0014", "oranje", 53.22, 6.57), ("GM0935", "rood", 50.85, 5.69)]):
        create_location(session, LocationData(
            name=f"Historie {n}", region_code=region, safety_level=level, lat=lat, lon=lon,
            address="Straat 1", units=[UnitData(f"K{i}", 1 + i % 5, "occupied" if i % 3 else
                                                "free") for i in range(12)],
        ), now=now)  # fmt: skip
    session.flush()


def test_load_history_inserts_replaces_and_clears(session, clock):
    _small_network(session, clock.now())
    assert not has_history(session)
    loaded = load_history(session, now=clock.now(), days=120, seed=3)
    assert loaded > 50
    assert has_history(session)
    count = select(func.count()).select_from(Placement)
    assert session.scalar(count) == loaded
    user = session.scalars(select(User).where(User.name == HISTORY_USER)).one()
    assert user.disabled_at is not None  # signs the history, can never log in
    statuses = set(session.scalars(select(PlacementRequest.status)))
    assert statuses == {"placed"}
    # Loading again replaces: the same history, not twice as much.
    assert load_history(session, now=clock.now(), days=120, seed=3) == loaded
    assert session.scalar(count) == loaded
    period = Period(date(2026, 8, 1), date(2026, 11, 21))
    totals = region_balances(session, period, clock.now()).totals
    assert totals.placements_own + totals.placements_out > 0
    assert totals.placements_out == totals.placements_in
    assert clear_history(session) == loaded
    assert session.scalar(count) == 0 and not has_history(session)


def test_loaded_rows_read_back_as_generated(session, clock):
    # PostgreSQL loads by COPY, which bypasses SQLAlchemy's types: times, JSON lists and
    # NULLs must still read back as the generator made them.
    _small_network(session, clock.now())
    expected = generate_history(*read_network(session), now=clock.now(), days=60, seed=5)
    load_history(session, now=clock.now(), days=60, seed=5)

    rows = session.execute(
        select(PlacementRequest.case_reference, PlacementRequest.adults,
               PlacementRequest.children, PlacementRequest.needs,
               PlacementRequest.excluded_location_ids, PlacementRequest.current_lat,
               Placement.unit_id, Placement.origin_region_code,
               Placement.destination_region_code, Placement.household_size,
               Placement.started_at, Placement.ended_at, Placement.hold_id)
        .join(Placement, Placement.request_id == PlacementRequest.id)
        .order_by(PlacementRequest.case_reference)
    ).all()
    assert [tuple(row) for row in rows] == [
        (p.case_reference, p.adults, p.children, [], [], None, p.unit_id,
         p.origin_region_code, p.destination_region_code, p.household_size, p.started_at,
         p.ended_at, None)
        for p in sorted(expected, key=lambda p: p.case_reference)
    ]
    assert any(p.ended_at is None for p in expected)
    assert all(row.started_at.tzinfo is UTC for row in rows)


@pytest.mark.slow
def test_seed_demo_loads_a_history_once(fresh_database_url):
    seeded = run_cli("seed", "demo", "--history-days", "30", database_url=fresh_database_url,
                     timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    engine = create_database_engine(fresh_database_url)
    count = select(func.count()).select_from(Placement)
    try:
        with engine.connect() as connection:
            first = connection.scalar(count)
        assert 500 < first < 1200  # ~100 locations × 110 a year × 30 days, some left out
        again = run_cli("seed", "demo", database_url=fresh_database_url, timeout=300)
        assert again.returncode == 0, again.stderr
        with engine.connect() as connection:
            assert connection.scalar(count) == first
        replaced = run_cli("seed", "history", "--days", "10", database_url=fresh_database_url)
        assert replaced.returncode == 0, replaced.stderr
        assert replaced.stdout.startswith("history: ")
        with engine.connect() as connection:
            assert 0 < connection.scalar(count) < first
    finally:
        engine.dispose()
