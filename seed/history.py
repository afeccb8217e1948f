"""A deterministic, plausible history of placements, for the demo and the benchmarks.

`generate_history` is pure: the network (units, regions) and (now, days, seed) in, placements
out, the same every time. People come from each region in proportion to its population;
groen and oranje cases mostly stay in their own region, rood cases always leave it for a
region at least ROOD_MIN_KM away. Stays last days to months (log-normal), households have
1 to 5 members, and every placement goes to a unit of a secure enough location with beds
enough that is empty at that moment: a unit never holds two households at once.

Only a placement on a unit the network marks `occupied` now may still be open; every other
one was discharged before now. So the history agrees with the units' status and with the
rule of at most one open placement per unit (`uq_placements_open_unit`).

`load_history` reads the network from the database, generates, and inserts requests and
placements in bulk (SQLAlchemy Core, lists of dicts), made by a disabled system user, with
pseudonymous case references `DEMO-…`. Loading again replaces the earlier demo history.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Table, TypeDecorator, delete, func, insert, select
from sqlalchemy.orm import Session

from seed.demo_network import DEFAULT_WEIGHT, REGION_WEIGHTS
from shelter_match.gazetteer import km_between
from shelter_match.models import Location, Placement, PlacementRequest, Region, Unit, User, new_id
from solver.vocabulary import LEVELS

HISTORY_USER = "demo-history"
CASE_PREFIX = "DEMO-"
# Demand: about 11,000 requests a year for the national network of ~100 locations, of
# which some 10,000 find a free unit (the rest find the network full and are left out).
REQUESTS_PER_LOCATION_PER_YEAR = 110
RISK_SHARES = {"groen": 0.35, "oranje": 0.45, "rood": 0.20}
HOUSEHOLD_SHARES = {1: 0.45, 2: 0.22, 3: 0.17, 4: 0.10, 5: 0.06}
IN_REGION_SHARE = 0.85  # of groen and oranje cases
ROOD_MIN_KM = 75.0  # between region centres, the policy's default for rood
MEDIAN_STAY_DAYS = 14.0
STAY_SPREAD = 0.9  # sigma of the log-normal stay: from a few days to several months
MIN_STAY = timedelta(hours=12)
MAX_STAY = timedelta(days=270)
TURNAROUND = timedelta(hours=6)  # a unit is cleaned before the next household comes
UNIT_TRIES = 25  # random units looked at in a region before trying another region
REGION_TRIES = 4
BATCH = 5_000


@dataclass(frozen=True)
class HistoryUnit:
    key: tuple[str, ...]  # a stable sort key, so that the draw does not depend on ids
    unit_id: str
    location_id: str
    region_code: str
    safety_level: str
    beds: int
    occupied: bool


@dataclass(frozen=True)
class HistoryRegion:
    code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class HistoryPlacement:
    case_reference: str
    unit_id: str
    location_id: str
    origin_region_code: str
    destination_region_code: str
    risk_level: str
    adults: int
    children: int
    danger_lat: float
    danger_lon: float
    started_at: datetime
    ended_at: datetime | None

    @property
    def household_size(self) -> int:
        return self.adults + self.children


class _Weighted:
    """Draw keys in proportion to their weights (weights fixed, order as given)."""

    def __init__(self, weights: dict) -> None:
        self.keys = [key for key, weight in weights.items() if weight > 0]
        self.cumulative = list(itertools.accumulate(weights[key] for key in self.keys))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def draw(self, rng: random.Random):
        point = rng.random() * self.cumulative[-1]
        return self.keys[bisect.bisect_right(self.cumulative, point)]


def generate_history(
    regions: Sequence[HistoryRegion],
    units: Sequence[HistoryUnit],
    *,
    now: datetime,
    days: int,
    seed: int = 0,
    requests_per_location_per_year: float = REQUESTS_PER_LOCATION_PER_YEAR,
) -> list[HistoryPlacement]:
    """Return placements started in the `days` before `now`, oldest first."""
    rng = random.Random(seed)
    regions = sorted(regions, key=lambda r: r.code)
    units = sorted(units, key=lambda u: u.key)
    centres = {r.code: r for r in regions}
    locations = {u.location_id for u in units}
    wanted = round(len(locations) * requests_per_location_per_year * days / 365)
    window = timedelta(days=days)
    starts = sorted(now - window * rng.random() for _ in range(wanted))

    # pools[(region, risk)]: the units of locations secure enough for that risk level.
    pools: dict[tuple[str, str], list[int]] = {}
    for index, unit in enumerate(units):
        for risk in LEVELS[: LEVELS.index(unit.safety_level) + 1]:
            pools.setdefault((unit.region_code, risk), []).append(index)
    origins = _Weighted({r.code: REGION_WEIGHTS.get(r.code, DEFAULT_WEIGHT) for r in regions})
    risks = _Weighted(RISK_SHARES)
    households = _Weighted(HOUSEHOLD_SHARES)
    elsewhere = {
        (origin.code, risk): _Weighted({
            r.code: _away_weight(origin, r, risk, len(pools.get((r.code, risk), ())))
            for r in regions if r.code != origin.code
        })
        for origin in regions for risk in LEVELS
    }  # fmt: skip

    free_from = [now - window] * len(units)
    placed: list[tuple[datetime, int, str, str, str, int, datetime]] = []
    for started_at in starts:
        origin, risk, size = origins.draw(rng), risks.draw(rng), households.draw(rng)
        for _ in range(REGION_TRIES):
            stay_home = risk != "rood" and rng.random() < IN_REGION_SHARE
            away = elsewhere[(origin, risk)]
            if not stay_home and not away:
                continue
            destination = origin if stay_home else away.draw(rng)
            unit = _free_unit(rng, units, pools.get((destination, risk), ()), size,
                              started_at, free_from)
            if unit is not None:
                break
        else:
            continue  # the network was full for her: no placement in the history
        stay = timedelta(days=rng.lognormvariate(math.log(MEDIAN_STAY_DAYS), STAY_SPREAD))
        planned_end = started_at + min(max(stay, MIN_STAY), MAX_STAY)
        free_from[unit] = planned_end + TURNAROUND
        placed.append((started_at, unit, origin, destination, risk, size, planned_end))

    history = []
    for number, (started_at, unit, origin, destination, risk, size, planned_end) in enumerate(
        placed, start=1
    ):
        ended_at: datetime | None = planned_end
        if planned_end >= now:
            # Still there now: open only on a unit the network shows occupied (one per unit,
            # since nothing can start on a unit before its stay ends); else discharged early.
            ended_at = None if units[unit].occupied else \
                started_at + (now - started_at) * rng.uniform(0.3, 0.99)
        adults = 2 if size > 1 and rng.random() < 0.1 else 1
        centre = centres[origin]
        history.append(
            HistoryPlacement(
                case_reference=f"{CASE_PREFIX}{started_at:%Y}-{number:06d}",
                unit_id=units[unit].unit_id,
                location_id=units[unit].location_id,
                origin_region_code=origin,
                destination_region_code=destination,
                risk_level=risk,
                adults=adults,
                children=size - adults,
                # Rounded to about 1 km, like every stored danger location.
                danger_lat=round(centre.lat + rng.uniform(-0.08, 0.08), 2),
                danger_lon=round(centre.lon + rng.uniform(-0.12, 0.12), 2),
                started_at=started_at,
                ended_at=ended_at,
            )
        )
    return history


def _away_weight(origin: HistoryRegion, region: HistoryRegion, risk: str, units: int) -> float:
    """Weigh a destination outside the origin: its capacity, nearer ones preferred."""
    distance = km_between(origin.lat, origin.lon, region.lat, region.lon)
    if risk == "rood":
        return units if distance >= ROOD_MIN_KM else 0.0
    return units / (1 + distance / 50)


def _free_unit(rng: random.Random, units: Sequence[HistoryUnit], pool: Sequence[int], size: int,
               at: datetime, free_from: list[datetime]) -> int | None:
    """Return a random unit of `pool` that is empty at `at` with beds for `size`, or None."""
    if not pool:
        return None
    for _ in range(UNIT_TRIES):
        index = pool[rng.randrange(len(pool))]
        if units[index].beds >= size and free_from[index] <= at:
            return index
    return None


def read_network(session: Session) -> tuple[list[HistoryRegion], list[HistoryUnit]]:
    """Return the regions and the units of the network in the database.

    A unit that already has an open placement counts as not occupied, so that the history
    never opens a second placement there.
    """
    regions = [
        HistoryRegion(code, lat, lon)
        for code, lat, lon in session.execute(select(Region.code, Region.lat, Region.lon))
    ]
    busy = set(session.scalars(select(Placement.unit_id).where(Placement.ended_at.is_(None))))
    rows = session.execute(
        select(Unit.id, Unit.label, Unit.beds, Unit.status, Location.id, Location.name,
               Location.region_code, Location.safety_level)
        .join(Location, Location.id == Unit.location_id)
    )
    units = [
        HistoryUnit(
            key=(region_code, location_name, label),
            unit_id=unit_id,
            location_id=location_id,
            region_code=region_code,
            safety_level=level,
            beds=beds,
            occupied=status == "occupied" and unit_id not in busy,
        )
        for unit_id, label, beds, status, location_id, location_name, region_code, level in rows
    ]
    return regions, units


def history_user_id(session: Session, now: datetime) -> str:
    """Return the id of the system user that made the demo history, creating it.

    Disabled and without a token: it only signs the history, it can never log in.
    """
    user_id = session.scalar(select(User.id).where(User.name == HISTORY_USER))
    if user_id is None:
        user = User(name=HISTORY_USER, role="crisis_worker", created_at=now, disabled_at=now)
        session.add(user)
        session.flush()
        user_id = user.id
    return user_id


def has_history(session: Session) -> bool:
    """Return whether a demo history is loaded."""
    return bool(session.scalar(
        select(func.count()).select_from(PlacementRequest).join(
            User, User.id == PlacementRequest.created_by
        ).where(User.name == HISTORY_USER)
    ))  # fmt: skip


def clear_history(session: Session) -> int:
    """Delete the demo history (its placements and requests); return how many placements."""
    user_id = session.scalar(select(User.id).where(User.name == HISTORY_USER))
    if user_id is None:
        return 0
    removed = session.execute(delete(Placement).where(Placement.created_by == user_id)).rowcount
    session.execute(delete(PlacementRequest).where(PlacementRequest.created_by == user_id))
    return removed


def insert_history(
    session: Session, placements: Sequence[HistoryPlacement], *, created_by: str
) -> None:
    """Insert placements and their (placed) requests in bulk, BATCH rows a statement."""
    for batch in _batches(placements, BATCH):
        requests, rows = [], []
        for placement in batch:
            request_id = new_id()
            requests.append({
                "id": request_id,
                "case_reference": placement.case_reference,
                "created_by": created_by,
                "origin_region_code": placement.origin_region_code,
                "risk_level": placement.risk_level,
                "danger_lat": placement.danger_lat,
                "danger_lon": placement.danger_lon,
                "current_lat": None,
                "current_lon": None,
                "adults": placement.adults,
                "children": placement.children,
                "needs": [],
                "excluded_region_codes": [],
                "excluded_location_ids": [],
                "status": "placed",
                "created_at": placement.started_at - timedelta(minutes=45),
                "closed_at": placement.started_at,
                "purged_at": None,
            })  # fmt: skip
            rows.append({
                "id": new_id(),
                "request_id": request_id,
                "hold_id": None,
                "unit_id": placement.unit_id,
                "location_id": placement.location_id,
                "origin_region_code": placement.origin_region_code,
                "destination_region_code": placement.destination_region_code,
                "household_size": placement.household_size,
                "created_by": created_by,
                "started_at": placement.started_at,
                "ended_at": placement.ended_at,
                "ended_by": None if placement.ended_at is None else created_by,
                # History: everyone placed then arrived (none is on the way).
                "arrival_status": "arrived",
            })  # fmt: skip
        _insert_rows(session, PlacementRequest.__table__, requests)
        _insert_rows(session, Placement.__table__, rows)


def _insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert rows in bulk: COPY on PostgreSQL, Core executemany elsewhere.

    A year at 10x scale is some 100,000 requests and as many placements. Through psycopg's
    pipelined executemany they took 40 s; COPY writes them in a few seconds. Both run on the
    session's connection, inside its transaction, without ORM bookkeeping.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    # COPY bypasses SQLAlchemy's types: JSON columns go as JSON text, not as arrays.
    as_json = {name for name in names if isinstance(table.c[name].type, TypeDecorator)
               and isinstance(table.c[name].type.impl_instance, JSON)}
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[name]) if name in as_json else row[name]
                            for name in names])


def load_history(session: Session, *, now: datetime, days: int, seed: int = 0) -> int:
    """Replace the demo history with `days` days of generated placements; return how many."""
    clear_history(session)
    if days <= 0:
        return 0
    regions, units = read_network(session)
    placements = generate_history(regions, units, now=now, days=days, seed=seed)
    insert_history(session, placements, created_by=history_user_id(session, now))
    return len(placements)


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
