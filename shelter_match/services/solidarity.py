"""Solidarity figures: who placed how many people, for how many bed-nights, where.

Definitions (the OpenAPI description of /api/v1/solidarity repeats them, see DEFINITIONS):

- Dates are calendar dates in Europe/Amsterdam. The period [from, to] holds every date
  from `from` to `to`, both included.
- A placement counts as a placement of the period when the local date of its `started_at`
  lies in the period. It is *out* for its origin region and *in* for its destination
  region when the two differ, and *own* for the region when they are the same.
- The night of date d runs from d into d+1. A placement occupies the night of d when its
  local start date ≤ d < its local end date; the end is `ended_at`, or now while the
  placement is open. Admitted at 03:00 on Monday and discharged on Wednesday: two nights
  (Monday's and Tuesday's); admitted and discharged on the same date: none.
- A night of d lies in the period when from ≤ d ≤ to. A placement's bed-nights in the
  period are the nights it occupies there times its household size, whether or not it
  started in the period: one that started before counts only its nights inside.
- bed_nights_out / bed_nights_in / bed_nights_own split them like the placements;
  net_bed_nights = bed_nights_in − bed_nights_out (own placements are neutral).

How it is counted: a placement occupies the night of d exactly when
start < M(d) ≤ end, where M(d) is the local midnight that ends that night. So its nights in
the period are the number of the period's midnights M(from) … M(to) up to its end minus
the number up to its start, and no local date is ever computed per placement: the
midnights are worked out here with zoneinfo (daylight saving included) and the database
only compares instants. Everything is summed by the database in one pass over the
placements that touch the period, grouped by (origin, destination):

- PostgreSQL counts the midnights with width_bucket over the sorted array of them (a
  binary search per placement);
- SQLite, which has no width_bucket, turns the instants clamped to the period into whole
  epoch seconds, shifts them by the UTC offset in force (a CASE over the daylight-saving
  changes inside the period) and divides by 86,400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from shelter_match.errors import ValidationFailed
from shelter_match.models import Placement, Region

ZONE = ZoneInfo("Europe/Amsterdam")
# Two years, leap day included: long enough to compare two years side by side, short
# enough that one question can never make the database sum decades.
MAX_PERIOD_DAYS = 731
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
SECONDS_PER_DAY = 86_400

DEFINITIONS = (
    "Dates are calendar dates in Europe/Amsterdam; the period [from, to] includes both "
    f"dates and is at most {MAX_PERIOD_DAYS} days long. A placement counts in the period "
    "when the local date of its started_at lies in it: *out* for its origin region and "
    "*in* for its destination region when they differ, *own* when they are the same. "
    "The night of date d runs from d into d+1; a placement occupies it when its local "
    "start date ≤ d < its local end date (ended_at, or now while it is open), so a "
    "placement admitted and discharged on the same date has no night. Bed-nights are the "
    "nights with from ≤ d ≤ to times the household size, also for placements that "
    "started before the period (only their nights inside it count). "
    "net_bed_nights = bed_nights_in − bed_nights_out; bed_nights_own is reported apart "
    "and does not enter the net."
)


@dataclass(frozen=True)
class Period:
    """The dates `start` to `end`, both included, in Europe/Amsterdam."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def starts_at(self) -> datetime:
        """Return the UTC instant of the local midnight that opens the period."""
        return local_midnight(self.start)

    @property
    def ends_at(self) -> datetime:
        """Return the UTC instant of the local midnight that closes the period."""
        return local_midnight(self.end + timedelta(days=1))


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Placements and bed-nights of a region (or of all regions together)."""

    placements_out: int = 0
    placements_in: int = 0
    placements_own: int = 0
    bed_nights_out: int = 0
    bed_nights_in: int = 0
    bed_nights_own: int = 0

    @property
    def net_bed_nights(self) -> int:
        return self.bed_nights_in - self.bed_nights_out


@dataclass(frozen=True, kw_only=True)
class RegionBalance(Figures):
    region_code: str
    name: str


@dataclass(frozen=True)
class Balance:
    period: Period
    as_of: datetime
    regions: list[RegionBalance]
    totals: Figures


@dataclass(frozen=True)
class Flow:
    origin_region_code: str
    destination_region_code: str
    placements: int
    bed_nights: int
    # Placements with a start or a night in the period: the people behind the bed-nights.
    present: int = 0


FIGURE_FIELDS = tuple(f.name for f in fields(Figures))


def local_midnight(day: date) -> datetime:
    """Return the UTC instant at which `day` begins in Europe/Amsterdam."""
    return datetime.combine(day, time(0), ZONE).astimezone(UTC)


def make_period(start: date, end: date) -> Period:
    """Return the period from `start` to `end`; raise ValidationFailed naming the field."""
    errors: dict[str, list[str]] = {}
    for field, value in (("from", start), ("to", end)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            errors[field] = [f"Must lie between {EARLIEST_DATE} and {LATEST_DATE}."]
    if not errors and end < start:
        errors["to"] = [f"Must not be before from ({start})."]
    if not errors and (end - start).days + 1 > MAX_PERIOD_DAYS:
        errors["to"] = [
            f"The period may be at most {MAX_PERIOD_DAYS} days long; this one has "
            f"{(end - start).days + 1}."
        ]
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end)


def region_balances(session: Session, period: Period, now: datetime) -> Balance:
    """Return every region's balance for the period (zeros where nothing happened)."""
    flows = _flows_query(session, period, now).cte("flows")
    region = Region.code
    kinds = {
        "out": and_(flows.c.origin == region, flows.c.destination != region),
        "in": and_(flows.c.destination == region, flows.c.origin != region),
        "own": and_(flows.c.origin == region, flows.c.destination == region),
    }

    def total(kind: str, column: ColumnElement[int]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((kinds[kind], column), else_=0)), 0)

    query = (
        select(
            Region.code,
            Region.name,
            *(total(kind, flows.c.placements) for kind in kinds),
            *(total(kind, flows.c.bed_nights) for kind in kinds),
        )
        # Every region joins the flows it sent or received, once each (an own flow once);
        # the outer join keeps the regions where nothing happened.
        .select_from(Region)
        .outerjoin(flows, or_(flows.c.origin == region, flows.c.destination == region))
        .group_by(Region.code, Region.name)
    )
    rows = [
        RegionBalance(
            region_code=code,
            name=name,
            **dict(zip(FIGURE_FIELDS, (int(v) for v in figures), strict=True)),
        )
        for code, name, *figures in session.execute(query)
    ]
    # Sorted here, not by the database: the engines collate names differently.
    rows.sort(key=lambda row: (row.name.casefold(), row.region_code))
    return Balance(period, now, rows, _sum_figures(rows))


def region_flows(session: Session, period: Period, now: datetime) -> list[Flow]:
    """Return the (origin, destination) pairs with placements or bed-nights in the period.

    Own placements appear as flows whose origin and destination are the same region.
    """
    query = _flows_query(session, period, now).order_by("origin", "destination")
    return [
        Flow(origin, destination, int(placements), int(bed_nights), int(present))
        for origin, destination, placements, bed_nights, present in session.execute(query)
        if placements or bed_nights
    ]


def intake_by_region(session: Session, since: datetime) -> dict[str, int]:
    """Return how many placements each region took in from elsewhere since `since`.

    Used by the ranking as a tie-breaker: regions that took in fewer are slightly preferred.
    """
    rows = session.execute(
        select(Placement.destination_region_code, func.count())
        .where(
            Placement.started_at >= since,
            Placement.origin_region_code != Placement.destination_region_code,
            Placement.arrival_status != "no_show",
        )
        .group_by(Placement.destination_region_code)
    )
    return {region: count for region, count in rows}


def _sum_figures(rows: Iterable[Figures]) -> Figures:
    rows = list(rows)
    return Figures(**{name: sum(getattr(row, name) for row in rows) for name in FIGURE_FIELDS})


def _flows_query(session: Session, period: Period, now: datetime
                 ) -> Select[str, str, Any, int, int]:
    """Return the SELECT of placements and bed-nights per (origin, destination)."""
    starts_at, ends_at = period.starts_at, period.ends_at
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        nights = _nights_postgresql(period, now)
    elif dialect == "sqlite":
        nights = _nights_sqlite(period, now)
    else:
        raise NotImplementedError(f"solidarity figures on {dialect}")
    started_in_period = and_(Placement.started_at >= starts_at, Placement.started_at < ends_at)
    return (
        select(
            Placement.origin_region_code.label("origin"),
            Placement.destination_region_code.label("destination"),
            func.sum(case((started_in_period, 1), else_=0)).label("placements"),
            func.sum(nights * Placement.household_size).label("bed_nights"),
            func.count().label("present"),
        )
        # Only placements that can have a start or a night in the period.
        .where(
            Placement.started_at < ends_at,
            or_(Placement.ended_at.is_(None), Placement.ended_at > starts_at),
            # A household that never came was not placed and stayed no night.
            Placement.arrival_status != "no_show",
        )
        .group_by(Placement.origin_region_code, Placement.destination_region_code)
    )


def _midnights(period: Period) -> list[datetime]:
    """Return the local midnights that end the nights of the period, in UTC, in order."""
    return [local_midnight(period.start + timedelta(days=n)) for n in range(1, period.days + 1)]


def _nights_postgresql(period: Period, now: datetime) -> ColumnElement[int]:
    """Return nights in the period as the number of its midnights in (start, end]."""
    midnights = bindparam("midnights", _midnights(period),
                          type_=postgresql.ARRAY(DateTime(timezone=True)))
    end = func.coalesce(Placement.ended_at, literal(now, Placement.ended_at.type))
    # width_bucket(x, sorted thresholds) = how many thresholds are ≤ x. The floor at 0
    # guards an open placement whose start lies after `now` (a clock set back).
    nights = func.width_bucket(end, midnights) - func.width_bucket(Placement.started_at,
                                                                     midnights)
    return func.greatest(nights, 0)


def _nights_sqlite(period: Period, now: datetime) -> ColumnElement[int]:
    """Return nights in the period from local day numbers computed in epoch seconds."""
    first, last = _epoch_of(period.starts_at), _epoch_of(period.ends_at)
    # UTCDateTime stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; strftime would round the
    # fraction, and an instant just before midnight must never land on the next day, so
    # the fraction is cut off first.
    def epoch(column: Any) -> ColumnElement[int]:
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)

    ended = case((Placement.ended_at.is_(None), _epoch_of(now)), else_=epoch(Placement.ended_at))
    # Clamped to the period, so only the offsets in force inside it matter; SQLite's
    # max() and min() with two arguments are the scalar greatest and least.
    since = func.max(epoch(Placement.started_at), first)
    until = func.min(ended, last)
    day = _local_day_sql(period.starts_at, period.ends_at)
    return case((until > since, day(until) - day(since)), else_=0)


def _epoch_of(moment: datetime) -> int:
    """Return whole seconds since 1970 (UTC), rounded down."""
    return int(moment.timestamp() // 1)


def _local_day_sql(first: datetime, last: datetime
                   ) -> Callable[[ColumnElement[int]], ColumnElement[int]]:
    """Return a function building the local day number (0 = the period's first day).

    Valid for epoch seconds between `first` and `last`, which must be local midnights.
    """
    segments = _utc_offsets(first, last)
    origin = _epoch_of(first) + segments[0][1]

    def day(seconds: ColumnElement[int]) -> ColumnElement[int]:
        offset: ColumnElement[int] | int = segments[-1][1]
        if len(segments) > 1:
            offset = case(
                *((seconds < begins, previous) for (begins, _), (_, previous)
                  in zip(segments[1:], segments, strict=False)),
                else_=segments[-1][1],
            )
        # Integer division: the numerator is never negative inside the period.
        return (seconds + offset - literal(origin)) // SECONDS_PER_DAY

    return day


def _utc_offsets(first: datetime, last: datetime) -> list[tuple[int, int]]:
    """Return [(epoch second from which it applies, UTC offset in seconds)] for the span.

    Found day by day and, where the offset changes, to the second by bisection, so any
    zone zoneinfo knows works (at most one change a day is assumed).
    """

    def offset_at(second: int) -> int:
        moment = datetime.fromtimestamp(second, UTC).astimezone(ZONE)
        offset = moment.utcoffset()
        assert offset is not None  # a zone from zoneinfo always has one
        return int(offset.total_seconds())

    begin, end = _epoch_of(first), _epoch_of(last)
    segments = [(begin, offset_at(begin))]
    for day_start in range(begin, end, SECONDS_PER_DAY):
        low, high = day_start, min(day_start + SECONDS_PER_DAY, end)
        before = offset_at(low)
        if offset_at(high) == before:
            continue
        while high - low > 1:
            middle = (low + high) // 2
            if offset_at(middle) == before:
                low = middle
            else:
                high = middle
        segments.append((high, offset_at(high)))
    return segments


# -- small counts: aggregates for short periods do not follow single placements ------------
#
# CONTRACT 4.1: in a period shorter than SHORT_PERIOD_DAYS, a figure that rests on fewer
# than SMALL_COUNT placements (or requests) is shown as null, its row `suppressed: true`.
# Hiding the small figure alone is not enough: a reader who knows the other figures of a
# row and its total, or that a region's placements out are the sum of its flows out, or
# that in − out is the net, could subtract her way back to it. So every identity a reader
# knows is a *group* of figures, and wherever a group has exactly one hidden figure, its
# smallest shown figure is hidden too (complementary suppression), until no group has
# exactly one. What remains derivable is the sum of two or more hidden figures, never one.
#
# What this does not stop: two long periods that differ by a day (both ≥ 92 days, so
# nothing is hidden) still differ by that day's placements. The contract leaves long
# periods whole; see SECURITY.md.

SMALL_COUNT = 5
SHORT_PERIOD_DAYS = 92
K = TypeVar("K")


def is_short(period: Period) -> bool:
    """Return whether small counts of this period are hidden (shorter than 92 days)."""
    return period.days < SHORT_PERIOD_DAYS


def suppressed_cells(period: Period, values: Mapping[K, int], behind: Mapping[K, int],
                        groups: Iterable[Iterable[K]]) -> frozenset[K]:
    """Return the figures to show as null: small ones, and those that would give them away.

    `values` holds every figure shown, by any key; `behind[key]` is how many placements (or
    requests) the figure rests on, and a figure resting on fewer than SMALL_COUNT in a short
    period is hidden. `groups` are the sets of figures tied by an identity a reader knows
    (a column and its total; out = the sum of the flows out; in − out = net). Used by every
    aggregate endpoint (/solidarity, /solidarity/flows, /solidarity/unmet).
    """
    if not is_short(period):
        return frozenset()
    hidden = {key for key, count in behind.items() if count < SMALL_COUNT}
    tied = [list(dict.fromkeys(group)) for group in groups]
    changed = True
    while changed:
        changed = False
        for group in tied:
            if sum(1 for key in group if key in hidden) != 1:
                continue
            shown = [key for key in group if key not in hidden]
            if shown:
                # The smallest shown figure: the least information lost.
                hidden.add(min(shown, key=lambda key: (values.get(key, 0), repr(key))))
                changed = True
    return frozenset(hidden)


SHOWN_FIELDS = (*FIGURE_FIELDS, "net_bed_nights")
KINDS = ("out", "in", "own")


@dataclass(frozen=True, kw_only=True)
class ShownFigures:
    """Figures as shown: null where hidden, and `suppressed` when any of them is."""

    placements_out: int | None
    placements_in: int | None
    placements_own: int | None
    bed_nights_out: int | None
    bed_nights_in: int | None
    bed_nights_own: int | None
    net_bed_nights: int | None
    suppressed: bool


@dataclass(frozen=True, kw_only=True)
class ShownRegion(ShownFigures):
    region_code: str
    name: str


@dataclass(frozen=True)
class ShownBalance:
    period: Period
    as_of: datetime
    regions: list[ShownRegion]
    totals: ShownFigures


@dataclass(frozen=True)
class ShownFlow:
    origin_region_code: str
    destination_region_code: str
    placements: int | None
    bed_nights: int | None
    suppressed: bool


def shown_solidarity(session: Session, period: Period, now: datetime
                     ) -> tuple[ShownBalance, list[ShownFlow]]:
    """Return the balance and the flows of a period as every reader sees them.

    Both together, always: the region figures and the flows are tied (a region's
    placements out are the sum of its flows out), so what either shows is decided over
    both, and /solidarity and /solidarity/flows hide the same things. In a short period
    the flows list every pair of regions, so that a pair's presence tells nothing.
    """
    balance = region_balances(session, period, now)
    flows = region_flows(session, period, now)
    if is_short(period):
        # Every pair, zeros too: which pairs had a placement in a short period is itself
        # what must not show, so the list may not depend on it.
        listed = {(f.origin_region_code, f.destination_region_code): f for f in flows}
        codes = sorted(row.region_code for row in balance.regions)
        flows = [listed.get((origin, destination), Flow(origin, destination, 0, 0, 0))
                 for origin in codes for destination in codes]
    values: dict[tuple[str, ...], int] = {}
    behind: dict[tuple[str, ...], int] = {}
    groups: list[list[tuple[str, ...]]] = []
    # The people behind a region's bed-nights: placements present in the period, per kind.
    present = {(row.region_code, kind): 0 for row in balance.regions for kind in KINDS}
    for flow in flows:
        if flow.origin_region_code == flow.destination_region_code:
            present[(flow.origin_region_code, "own")] += flow.present
        else:
            present[(flow.origin_region_code, "out")] += flow.present
            present[(flow.destination_region_code, "in")] += flow.present
    for row in balance.regions:
        code = row.region_code
        for field in SHOWN_FIELDS:
            values[("r", code, field)] = getattr(row, field)
        for kind in KINDS:
            behind[("r", code, f"placements_{kind}")] = getattr(row, f"placements_{kind}")
            behind[("r", code, f"bed_nights_{kind}")] = present[(code, kind)]
        behind[("r", code, "net_bed_nights")] = present[(code, "in")] + present[(code, "out")]
        groups.append([("r", code, "bed_nights_in"), ("r", code, "bed_nights_out"),
                       ("r", code, "net_bed_nights")])
    for field in SHOWN_FIELDS:
        values[("t", field)] = getattr(balance.totals, field)
        behind[("t", field)] = (sum(present.values()) if field.startswith(("bed", "net"))
                                else getattr(balance.totals, field))
        groups.append([("r", row.region_code, field) for row in balance.regions]
                      + [("t", field)])
    # Every placement out of one region is into another: the two totals are equal.
    groups.append([("t", "placements_out"), ("t", "placements_in")])
    groups.append([("t", "bed_nights_out"), ("t", "bed_nights_in")])
    flow_groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for flow in flows:
        origin, destination = flow.origin_region_code, flow.destination_region_code
        for measure, value, count in (("placements", flow.placements, flow.placements),
                                      ("bed_nights", flow.bed_nights, flow.present)):
            key = ("f", origin, destination, measure)
            values[key], behind[key] = value, count
            if origin == destination:
                flow_groups.setdefault((origin, f"{measure}_own"), []).append(key)
            else:
                flow_groups.setdefault((origin, f"{measure}_out"), []).append(key)
                flow_groups.setdefault((destination, f"{measure}_in"), []).append(key)
    for (code, field), keys in flow_groups.items():
        groups.append([("r", code, field), *keys])
    hidden = suppressed_cells(period, values, behind, groups)

    def figures(prefix: tuple[str, ...], source: object) -> dict[str, Any]:
        shown = {field: None if (*prefix, field) in hidden else getattr(source, field)
                 for field in SHOWN_FIELDS}
        return {**shown, "suppressed": any(value is None for value in shown.values())}

    regions = [ShownRegion(region_code=row.region_code, name=row.name,
                           **figures(("r", row.region_code), row))
               for row in balance.regions]
    totals = ShownFigures(**figures(("t",), balance.totals))
    shown_flows = []
    for flow in flows:
        pair = ("f", flow.origin_region_code, flow.destination_region_code)
        placements = None if (*pair, "placements") in hidden else flow.placements
        bed_nights = None if (*pair, "bed_nights") in hidden else flow.bed_nights
        shown_flows.append(ShownFlow(flow.origin_region_code, flow.destination_region_code,
                                     placements, bed_nights,
                                     placements is None or bed_nights is None))
    return ShownBalance(period, balance.as_of, regions, totals), shown_flows
