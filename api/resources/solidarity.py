"""Solidarity balances of the regions, as JSON or CSV: aggregates only, never a case."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable

from api.auth import now
from api.database import db_session
from api.schemas.solidarity import (
    SolidarityFlowSchema,
    SolidarityQueryArgsSchema,
    SolidaritySchema,
    UnmetSchema,
)
from api.smorest import Blueprint
from shelter_match.services import solidarity, solidarity_csv, unmet
from shelter_match.services.solidarity import Period

blp = Blueprint(
    "solidarity", __name__, url_prefix="/api/v1/solidarity",
    description="Solidarity balances between the regions: aggregates only.",
)

JSON, CSV = "application/json", "text/csv"

SUPPRESSION = (
    f"In a period shorter than {solidarity.SHORT_PERIOD_DAYS} days, a figure that rests on "
    f"fewer than {solidarity.SMALL_COUNT} placements is `null` and its row (or the totals) "
    "`suppressed: true`; so is any figure from which a hidden one could be worked out "
    "(through a total, the flows of a region, or in − out = net). /solidarity and "
    "/solidarity/flows hide the same figures. In CSV a hidden figure is an empty cell."
)

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
    @csv_variant(",".join(solidarity_csv.REGION_COLUMNS)
                 + "\r\nGM0034,Almere,6,5,40,61,88,27,702,false\r\n")
    @blp.doc(description=f"{solidarity.DEFINITIONS}\n\nEvery region appears, with zeros "
                         f"where nothing happened; ordered by name. {SUPPRESSION} "
                         f"{NEGOTIATION}")
    def get(self, args):
        """Show every region's solidarity balance for a period."""
        media_type = negotiate()
        period = solidarity.make_period(args["start"], args["end"])
        balance, _flows = solidarity.shown_solidarity(db_session(), period, now())
        if media_type == CSV:
            return csv_response(solidarity_csv.balance_csv(balance.regions),
                                filename("solidarity", period))
        return balance, 200, {"Vary": "Accept"}


@blp.route("/flows")
class SolidarityFlows(MethodView):
    @blp.requires("region_reviewer", "admin")
    @blp.arguments(SolidarityQueryArgsSchema, location="query")
    @blp.response(200, SolidarityFlowSchema(many=True))
    @csv_variant(",".join(solidarity_csv.FLOW_COLUMNS)
                 + "\r\nGM0599,GM0344,12,310,false\r\n")
    @blp.doc(description=f"{solidarity.DEFINITIONS}\n\nOne row per (origin, destination) "
                         "pair with placements or bed-nights in the period, ordered by origin "
                         "and destination code; placements within a region appear with "
                         f"origin = destination. {SUPPRESSION} {NEGOTIATION}")
    def get(self, args):
        """List the placements and bed-nights between regions for a period."""
        media_type = negotiate()
        period = solidarity.make_period(args["start"], args["end"])
        _balance, flows = solidarity.shown_solidarity(db_session(), period, now())
        if media_type == CSV:
            return csv_response(solidarity_csv.flows_csv(flows),
                                filename("solidarity-flows", period))
        return flows, 200, {"Vary": "Accept"}


def negotiate() -> str:
    """Return the media type to answer in: JSON unless the client prefers CSV; else 406."""
    if not request.accept_mimetypes:
        return JSON
    # Parameters are dropped before matching: Werkzeug matches them exactly, so a client
    # asking for `text/csv; charset=utf-8` (what we send) would otherwise get 406.
    accept = MIMEAccept([(value.split(";", 1)[0].strip(), quality)
                         for value, quality in request.accept_mimetypes])
    best = accept.best_match((JSON, CSV))
    if best is None:
        raise NotAcceptable(f"This resource is available as {JSON} or {CSV}.")
    return best


def filename(stem: str, period: Period) -> str:
    return f"{stem}-{period.start.isoformat()}-{period.end.isoformat()}.csv"


def csv_response(text: str, name: str) -> Response:
    """Return CSV text as a download."""
    response = Response(text, mimetype=CSV)  # Flask adds charset=utf-8
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.vary.add("Accept")
    return response


@blp.route("/unmet")
class SolidarityUnmet(MethodView):
    @blp.requires("region_reviewer", "admin")
    @blp.arguments(SolidarityQueryArgsSchema, location="query")
    @blp.response(200, UnmetSchema)
    @blp.alt_response(200, schema={"type": "string"}, content_type=CSV, success=True,
                      example="\ufeffregion_code;name;requests;placed;…\r\n",
                      description="JSON, or CSV when asked with `Accept: text/csv`.")
    @blp.doc(description=f"{unmet.DEFINITIONS}\n\nEvery region appears, ordered by name. "
                         f"With `Accept: {CSV}`: one row per region for a Dutch "
                         "spreadsheet: `;`-separated, UTF-8 with a byte-order mark, CRLF "
                         "line ends, a suppressed figure as an empty cell, the region's "
                         "name beside its code.")
    def get(self, args):
        """Show every origin region's unmet demand for a period."""
        media_type = negotiate()
        period = solidarity.make_period(args["start"], args["end"])
        rows = unmet.unmet_demand(db_session(), period, now())
        if media_type == CSV:
            return csv_response(unmet.unmet_csv(rows), filename("unmet", period))
        return {"start": period.start, "end": period.end, "regions": rows}, 200, {
            "Vary": "Accept"}
