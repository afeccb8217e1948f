"""The region's dashboard: the solidarity balance of a period, its chart, flows and CSV.

Aggregates only, from the same solidarity service as the API; no page here carries a case,
a location or an address.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from shelter_match.errors import ValidationFailed
from shelter_match.services import solidarity, solidarity_csv, unmet
from shelter_match.services.solidarity import ZONE
from web.auth import current_principal, requires_role
from web.charts import net_bed_nights_chart
from web.forms import Form
from web.pages import db_session, now, render

blp = Blueprint("reviewer", __name__, url_prefix="/regio")

ROLES = ("region_reviewer", "admin")
DEFAULT_DAYS = solidarity.SHORT_PERIOD_DAYS  # the shortest period shown whole
TOP_FLOWS = 10


def _period(form: Form) -> solidarity.Period:
    """Return the period asked for (default: the last 90 days up to today)."""
    today = now().astimezone(ZONE).date()
    start = _date(form, "van", today - timedelta(days=DEFAULT_DAYS - 1))
    end = _date(form, "tot", today)
    try:
        return solidarity.make_period(start, end)
    except ValidationFailed as error:
        for field in error.errors:
            form.add("tot" if field == "to" else "van",
                     _("Choose a period of at most %(days)d days, ending after it starts.",
                       days=solidarity.MAX_PERIOD_DAYS))
        return solidarity.make_period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def _date(form: Form, name: str, default: date) -> date:
    raw = form.text(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.add(name, _("Fill in a date like 2026-11-22."))
        return default


@blp.get("")
@requires_role(*ROLES)
def home():
    """Show every region's balance for a period, as a table and a chart, and the flows."""
    form = Form(request.args)
    period = _period(form)
    session = db_session()
    # As the API shows them: a short period's small counts are hidden (null), and so is
    # whatever would give them away; nothing on the page is ordered by a hidden figure.
    balance, shown_flows = solidarity.shown_solidarity(session, period, now())
    names = {row.region_code: row.name for row in balance.regions}
    flows = [flow for flow in shown_flows
             if flow.origin_region_code != flow.destination_region_code
             and not flow.suppressed]
    flows.sort(key=lambda flow: (-(flow.bed_nights or 0), -(flow.placements or 0),
                                 flow.origin_region_code, flow.destination_region_code))
    ranked = sorted(balance.regions, key=lambda row: (row.net_bed_nights is None,
                                                      -(row.net_bed_nights or 0), row.name))
    chart = net_bed_nights_chart(
        [(row.name, row.net_bed_nights) for row in ranked],
        title=_("Net bed-nights per region, %(start)s to %(end)s", start=period.start,
                end=period.end),
        description=_("One bar per region, from most taken in to most sent elsewhere. Right "
                      "of the line: the region took in more bed-nights than it placed "
                      "elsewhere; left: fewer. The same figures are in the table below."),
        axis_label=_("net bed-nights (in − out)"),
        hidden_label=_("hidden"),
    )
    return render("reviewer/home.html", status=422 if form.errors else 200, form=form,
                  period=period, balance=balance, flows=flows[:TOP_FLOWS], names=names,
                  chart=chart, own_region=current_principal().region_code,
                  suppressed=any(row.suppressed for row in balance.regions)
                  or balance.totals.suppressed,
                  small_count=solidarity.SMALL_COUNT,
                  short_days=solidarity.SHORT_PERIOD_DAYS,
                  unmet=unmet.unmet_demand(session, period, now()))


@blp.get("/solidariteit.csv")
@requires_role(*ROLES)
def download():
    """Download every region's balance for the period as CSV (as the API gives it)."""
    period = _period(Form(request.args))
    balance, _flows = solidarity.shown_solidarity(db_session(), period, now())
    return _csv(solidarity_csv.balance_csv(balance.regions), "solidarity", period)


@blp.get("/stromen.csv")
@requires_role(*ROLES)
def download_flows():
    """Download the flows between regions for the period as CSV (as the API gives it)."""
    period = _period(Form(request.args))
    _balance, flows = solidarity.shown_solidarity(db_session(), period, now())
    return _csv(solidarity_csv.flows_csv(flows), "solidarity-flows", period)


@blp.get("/onvervulde-vraag.csv")
@requires_role(*ROLES)
def download_unmet():
    """Download the unmet demand per origin region as CSV for Dutch Excel (as the API)."""
    period = _period(Form(request.args))
    return _csv(unmet.unmet_csv(unmet.unmet_demand(db_session(), period, now())), "unmet",
                period)


def _csv(text: str, stem: str, period: solidarity.Period) -> Response:
    response = Response(text, mimetype="text/csv")
    name = f"{stem}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
