"""The solidarity figures as CSV: one way of writing them, for the API and the pages.

UTF-8 text, a header line, one row per region or flow, CRLF line ends. Text cells that a
spreadsheet would read as a formula get a leading apostrophe (region names come from an
editable data file); numbers stay numbers, negative ones included. A suppressed figure
(null in JSON) is an empty cell; `suppressed` is true or false.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

REGION_COLUMNS = ("region_code", "name", "placements_out", "placements_in", "placements_own",
                  "bed_nights_out", "bed_nights_in", "net_bed_nights", "bed_nights_own",
                 "suppressed")
FLOW_COLUMNS = ("origin_region_code", "destination_region_code", "placements", "bed_nights",
                "suppressed")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def spreadsheet_safe(value: object) -> object:
    """Return a cell value that no spreadsheet will run as a formula (a flag as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_as_csv(columns: Sequence[str], rows: Iterable[object]) -> str:
    """Return the named attributes of `rows` as CSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(getattr(row, column)) for column in columns])
    return buffer.getvalue()


def balance_csv(regions: Iterable[object]) -> str:
    """Return every region's balance as CSV."""
    return rows_as_csv(REGION_COLUMNS, regions)


def flows_csv(flows: Iterable[object]) -> str:
    """Return the flows between regions as CSV."""
    return rows_as_csv(FLOW_COLUMNS, flows)
