"""Solidarity balances of the regions, as JSON or CSV: aggregates only, never a case."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response, request
from flask.views import MethodView
from werkzeug.exceptions import NotAcceptable

from api.auth import now
from api.database import db_session
from api.schemas.solidarity import (
    SolidarityFlowSchema,
    SolidarityQueryArgsSchema,
    SolidaritySchema,
)
from api.smorest import Blueprint
from shelter_match.services import solidarity
from shelter_match.services.solidarity import Period

blp = Blueprint(
    "solidarity", __name__, url_prefix="/api/v1/solidarity",
    description="Solidarity balances between the regions: aggregates only.",
)

JSON, CSV = "application/json", "text/csv"
REGION_COLUMNS = ("region_code", "name", "placements_out", "placements_in", "placements_own",
                  "bed_nights_out", "bed_nights_in", "net_bed_nights", "bed_nights_own")
FLOW_COLUMNS = ("origin_region_code", "destination_region_code", "placements", "bed_nights")
# A spreadsheet reads a cell starting with one of these as a formula (or strips it first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

NEGOTIATION = (
    f"Answers JSON by default; with `Accept: {CSV}` the same rows as CSV "
    "(UTF-8, a header line, one row per region or flow, CRLF line ends), as a download. "
    "Text cells that a spreadsheet would read as a formula are prefixed with an apostrophe."
)


def csv_variant(example: str):
    """Document the CSV form of the 200 answer next to the JSON one."""
    return blp.alt_response(200, schema={"type": "string"}, content_type=CSV, success=True,
                            example=example,
                            description="JSON, or CSV when asked with `Accept: text/csv`.")


@blp.route("")
class Solidarity(MethodView):
    @blp.requires("region_reviewer", "admin")
    @blp.arguments(SolidarityQueryArgsSchema, location="query")
    @blp.response(200, SolidaritySchema)
    @csv_variant(",".join(REGION_COLUMNS) + "\r\nGM0034,Almere,3,5,40,61,88,27,702\r\n")
    @blp.doc(description=f"{solidarity.DEFINITIONS}\n\nEvery region appears, with zeros "
                         f"where nothing happened; ordered by name. {NEGOTIATION}")
    def get(self, args):
        """Show every region's solidarity balance for a period."""
        media_type = negotiate()
        period = solidarity.make_period(args["start"], args["end"])
        balance = solidarity.region_balances(db_session(), period, now())
        if media_type == CSV:
            return csv_response(REGION_COLUMNS, balance.regions, filename("solidarity", period))
        return balance, 200, {"Vary": "Accept"}


@blp.route("/flows")
class SolidarityFlows(MethodView):
    @blp.requires("region_reviewer", "admin")
    @blp.arguments(SolidarityQueryArgsSchema, location="query")
    @blp.response(200, SolidarityFlowSchema(many=True))
    @csv_variant(",".join(FLOW_COLUMNS) + "\r\nGM0599,GM0344,12,310\r\n")
    @blp.doc(description=f"{solidarity.DEFINITIONS}\n\nOne row per (origin, destination) "
                         "pair with placements or bed-nights in the period, ordered by origin "
                         "and destination code; placements within a region appear with "
                         f"origin = destination. {NEGOTIATION}")
    def get(self, args):
        """List the placements and bed-nights between regions for a period."""
        media_type = negotiate()
        period = solidarity.make_period(args["start"], args["end"])
        flows = solidarity.region_flows(db_session(), period, now())
        if media_type == CSV:
            return csv_response(FLOW_COLUMNS, flows, filename("solidarity-flows", period))
        return flows, 200, {"Vary": "Accept"}


def negotiate() -> str:
    """Return the media type to answer in: JSON unless the client prefers CSV; else 406."""
    if not request.accept_mimetypes:
        return JSON
    best = request.accept_mimetypes.best_match((JSON, CSV))
    if best is None:
        raise NotAcceptable(f"This resource is available as {JSON} or {CSV}.")
    return best


def filename(stem: str, period: Period) -> str:
    return f"{stem}-{period.start.isoformat()}-{period.end.isoformat()}.csv"


def spreadsheet_safe(value: object) -> object:
    """Return a cell value that no spreadsheet will run as a formula.

    Region names come from an editable data file: a text cell that starts (after spaces)
    like a formula is prefixed with an apostrophe, which spreadsheets show as plain text.
    Numbers are ours and stay numbers, negative ones included.
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(columns: Sequence[str], rows: Iterable[object], name: str) -> Response:
    """Return `rows` as a CSV download with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(getattr(row, column)) for column in columns])
    response = Response(buffer.getvalue(), mimetype=CSV)  # Flask adds charset=utf-8
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.vary.add("Accept")
    return response
