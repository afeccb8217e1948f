"""Unmet demand per origin region (CONTRACT 4.6): how many asked, how many were placed,
why the others closed, who is waiting now, and how long placement took.

Definitions (the OpenAPI description repeats them, see DEFINITIONS):
- A request counts in the period when the local date (Europe/Amsterdam) of its
  `created_at` lies in [from, to]; it belongs to its origin region.
- `placed`: those of them that were placed (whenever). `closed_without_placement`: those
  cancelled, by outcome. `waiting_now`: requests of the region on the waiting list now,
  whenever they were made.
- `median_minutes_to_placement`: per risk level, the median of the whole minutes from
  request to placement (`started_at`) of the placed ones; null when none.
- Small counts: in a period shorter than 92 days a count below 5 is null and the row says
  `suppressed: true`, and so is a median of fewer than 5 placements (CONTRACT 4.1).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.models import OUTCOMES, Placement, PlacementRequest, Region
from shelter_match.services.solidarity import (
    SHORT_PERIOD_DAYS,
    SMALL_COUNT,
    Period,
    suppressed_cells,
)
from solver.vocabulary import LEVELS

# CONTRACT 4.1: aggregates of a short period must not follow single cases.
WAITING_STATUSES = ("waiting", "offered")

DEFINITIONS = (
    "Per origin region. A request counts in the period when the local date "
    "(Europe/Amsterdam) of its created_at lies in [from, to]. `placed`: those placed; "
    "`closed_without_placement`: those cancelled, by outcome; `waiting_now`: the region's "
    "requests on the waiting list now, whenever made; `median_minutes_to_placement`: per "
    "risk level, the median whole minutes from request to placement of the placed ones "
    f"(null when none). In a period shorter than {SHORT_PERIOD_DAYS} days a count below "
    f"{SMALL_COUNT}, and a median of fewer than {SMALL_COUNT} placements, is null and the "
    "row has `suppressed: true`."
)


@dataclass
class UnmetRow:
    """One origin region's demand in a period; None where a figure is suppressed."""

    region_code: str
    name: str
    requests: int | None = 0
    placed: int | None = 0
    closed_without_placement: dict[str, int | None] = field(
        default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    waiting_now: int | None = 0
    median_minutes_to_placement: dict[str, int | None] = field(
        default_factory=lambda: dict.fromkeys(LEVELS))
    suppressed: bool = False


@dataclass(frozen=True)
class UnmetDemand:
    start: datetime
    end: datetime
    regions: list[UnmetRow]


def unmet_demand(session: Session, period: Period, now: datetime) -> list[UnmetRow]:
    """Return every region's unmet demand in the period, ordered by region name."""
    rows = {code: UnmetRow(code, name) for code, name in session.execute(
        select(Region.code, Region.name).order_by(Region.name, Region.code))}
    in_period = (PlacementRequest.created_at >= period.starts_at,
                 PlacementRequest.created_at < period.ends_at)
    for origin, status, outcome, number in session.execute(
        select(PlacementRequest.origin_region_code, PlacementRequest.status,
               PlacementRequest.outcome, func.count())
        .where(*in_period)
        .group_by(PlacementRequest.origin_region_code, PlacementRequest.status,
                  PlacementRequest.outcome)
    ):
        row = rows.get(origin)
        if row is None:
            continue
        row.requests = (row.requests or 0) + number
        if status == "placed":
            row.placed = (row.placed or 0) + number
        elif status == "cancelled" and outcome in row.closed_without_placement:
            row.closed_without_placement[outcome] = (
                (row.closed_without_placement[outcome] or 0) + number)
    for origin, number in session.execute(
        select(PlacementRequest.origin_region_code, func.count())
        .where(PlacementRequest.status.in_(WAITING_STATUSES))
        .group_by(PlacementRequest.origin_region_code)
    ):
        if origin in rows:
            rows[origin].waiting_now = number
    minutes: dict[tuple[str, str], list[int]] = {}
    for origin, level, asked, placed in session.execute(
        select(PlacementRequest.origin_region_code, PlacementRequest.risk_level,
               PlacementRequest.created_at, Placement.started_at)
        .join(Placement, Placement.request_id == PlacementRequest.id)
        .where(*in_period)
    ):
        minutes.setdefault((origin, level), []).append(
            max(int((placed - asked).total_seconds() // 60), 0))
    samples: dict[tuple[str, str], int] = {}
    for (origin, level), values in minutes.items():
        if origin in rows:
            rows[origin].median_minutes_to_placement[level] = int(statistics.median(values))
            samples[(origin, level)] = len(values)
    result = list(rows.values())
    suppress_small_counts(period, result, samples)
    return result


def suppress_small_counts(period: Period, rows: list[UnmetRow],
                          samples: dict[tuple[str, str], int]) -> None:
    """Blank the figures that rest on too few requests, and those that would give them away.

    The rule and the way a hidden figure is kept from being recomputed live in one place,
    solidarity.suppressed_cells: a request made in the period is placed, closed by one of
    the outcomes, or still open, so those figures of a row are tied together. A median
    rests on its number of placements. There is no totals row to subtract from.
    """
    Key = tuple[str, ...]
    values: dict[Key, int] = {}
    behind: dict[Key, int] = {}
    groups: list[list[Key]] = []
    for row in rows:
        code = row.region_code
        for name in ("requests", "placed", "waiting_now"):
            count = getattr(row, name) or 0
            values[(code, name)] = behind[(code, name)] = count
        for outcome, count in row.closed_without_placement.items():
            values[(code, "closed", outcome)] = behind[(code, "closed", outcome)] = count or 0
        for level in LEVELS:
            median = row.median_minutes_to_placement[level]
            if median is not None:
                values[(code, "median", level)] = median
                behind[(code, "median", level)] = samples.get((code, level), 0)
        groups.append([(code, "requests"), (code, "placed"),
                       *((code, "closed", outcome) for outcome in row.closed_without_placement)])
    hidden = suppressed_cells(period, values, behind, groups)
    for row in rows:
        code = row.region_code
        for name in ("requests", "placed", "waiting_now"):
            if (code, name) in hidden:
                setattr(row, name, None)
                row.suppressed = True
        for outcome in row.closed_without_placement:
            if (code, "closed", outcome) in hidden:
                row.closed_without_placement[outcome] = None
                row.suppressed = True
        for level in LEVELS:
            if (code, "median", level) in hidden:
                row.median_minutes_to_placement[level] = None
                row.suppressed = True


CSV_COLUMNS = (
    ("region_code", "region_code"), ("name", "name"), ("requests", "requests"),
    ("placed", "placed"),
    *((f"closed_{o}", f"closed_without_placement.{o}") for o in OUTCOMES),
    ("waiting_now", "waiting_now"),
    *((f"median_minutes_{level}", f"median_minutes_to_placement.{level}") for level in LEVELS),
    ("suppressed", "suppressed"),
)


def unmet_csv(rows: list[UnmetRow]) -> str:
    """Return the rows as CSV for a Dutch spreadsheet: `;`-separated, UTF-8 with a BOM.

    Dutch Excel reads `,` as the decimal mark and splits only on `;`, and reads a file
    without a BOM as Windows-1252 ('s-Hertogenbosch and Fryslân would break). A suppressed
    figure is an empty cell. Text cells that would start a formula get an apostrophe.
    """
    import csv
    import io

    from shelter_match.services.solidarity_csv import spreadsheet_safe

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for row in rows:
        cells = []
        for _, path in CSV_COLUMNS:
            name, _, key = path.partition(".")
            value = getattr(row, name)
            if key:
                value = value[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            cells.append("" if value is None else spreadsheet_safe(value))
        writer.writerow(cells)
    return "\ufeff" + buffer.getvalue()
