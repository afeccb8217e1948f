"""Admin page: which gemeenten each region serves, and moving a gemeente (audited)."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.services import places, regions
from web.auth import current_principal, requires_role
from web.forms import Form
from web.pages import db_session, now, render

blp = Blueprint("admin_regions", __name__, url_prefix="/beheer/regios")


@blp.get("")
@requires_role("admin")
def home():
    """List the 35 regions with their gemeenten; a form moves one gemeente."""
    return _page(Form({}))


def _page(form: Form, status: int = 200, values=None):
    session = db_session()
    by_region = defaultdict(list)
    for row in places.all_region_gemeenten(session):
        by_region[row.region_code].append(row)
    region_list = regions.list_regions(session)
    gemeenten = sorted((row for rows in by_region.values() for row in rows),
                       key=lambda row: row.gemeente_name)
    names = {region.code: region.name for region in region_list}
    return render(
        "admin/regions.html", status=status, form=form, values=values or {},
        regions=region_list, by_region=by_region,
        gemeente_options=[(row.gemeente_code, f"{row.gemeente_name} ({row.gemeente_code}, "
                           f"{names.get(row.region_code, row.region_code)})")
                          for row in gemeenten],
        region_options=[(region.code, region.name) for region in region_list])


@blp.post("/verplaatsen")
@requires_role("admin")
def move():
    """Move a gemeente to another region."""
    form = Form(request.form)
    gemeente, region_code = form.text("gemeente"), form.text("region_code")
    try:
        row = places.move_gemeente(db_session(), gemeente, region_code,
                                   actor=current_principal(), now=now(), source="web")
    except (ValidationFailed, NotFound) as error:
        if isinstance(error, NotFound):
            form.errors["gemeente"] = [_("Choose a gemeente from the list.")]
        else:
            form.take(error, {"region_code": _("Choose a region from the list."),
                              "gemeente": _("Choose a gemeente from the list.")})
        return _page(form, status=422, values=request.form)
    flash(_("%(gemeente)s now belongs to region %(region)s.", gemeente=row.gemeente_name,
            region=row.region_code), "success")
    return redirect(url_for(".home"), code=303)
