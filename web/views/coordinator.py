"""The coordinator's bed board: her units as tiles, who is on the way, discharge.

Everything goes through the availability, holds and placements services with her
principal, so she sees and changes only her own locations (an admin: any location).
The bed board never shows the address: she knows it, and a page that does not carry it
cannot leak it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from shelter_match.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from shelter_match.services import (
    arrivals,
    availability,
    holds,
    intake_phone,
    placements,
    regions,
)
from shelter_match.services.policy import get_policy
from web.auth import current_principal, requires_role
from web.forms import Form
from web.labels import UNIT_STATUSES
from web.pages import db_session, now, render

blp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

ROLES = ("coordinator", "admin")
SETTABLE = ("free", "occupied", "closed")
# A location this close to the stale limit gets a reminder: crisis workers will soon rank
# it after fresh places and see "phone to check".
STALE_REMINDER = timedelta(hours=2)


def _minutes_to_stale(boards: list[availability.LocationDetail]) -> dict[str, int]:
    """Return, per location near (not past) the stale limit, the minutes left."""
    limit = timedelta(hours=get_policy(db_session()).stale_after_hours)
    left = {board.id: board.availability_updated_at + limit - now() for board in boards
            if not board.stale}
    return {location_id: max(int(time.total_seconds() // 60), 1)
            for location_id, time in left.items() if time <= STALE_REMINDER}


def _board(location_id: str) -> availability.LocationDetail:
    """Return a location with its units as the bed board shows it (never its address)."""
    principal = current_principal()
    if not principal.manages_location(location_id):
        abort(404)
    detail = availability.location_detail(db_session(), location_id, viewer=principal,
                                          now=now())
    return availability.without_secrets(detail)


@blp.get("")
@requires_role(*ROLES)
def home():
    """List her locations with what they have free; one location goes straight to its board."""
    principal = current_principal()
    if principal.is_admin:
        return redirect(url_for("web.admin.home"))
    boards = [_board(location_id) for location_id in sorted(principal.location_ids)]
    boards.sort(key=lambda board: board.name)
    if len(boards) == 1:
        return redirect(url_for(".location", location_id=boards[0].id))
    coming = holds.list_holds(db_session(), actor=principal, now=now(), status="active")
    on_the_way: dict[str, int] = {}
    for view in coming:
        on_the_way[view.hold.location_id] = on_the_way.get(view.hold.location_id, 0) + 1
    return render("coordinator/home.html", boards=boards, on_the_way=on_the_way,
                  region_names=_region_names(), stale_in=_minutes_to_stale(boards))


@blp.get("/locaties/<location_id>")
@requires_role(*ROLES)
def location(location_id: str):
    """Show the bed board of one location: tiles, who is on the way, who is staying."""
    return _location_page(location_id)


def _location_page(location_id: str, *, status: int = 200, phone_form: Form | None = None,
                   phone_value: str | None = None):
    board = _board(location_id)
    principal = current_principal()
    coming = holds.list_holds(db_session(), actor=principal, now=now(),
                              location_id=location_id, status="active")
    staying = placements.list_placements(db_session(), actor=principal,
                                         location_id=location_id, open_only=True)
    placed_units = {view.placement.unit_id for view in staying}
    # Confirmed but not yet at the door: she marks them arrived or not come.
    arriving = [view for view in staying if view.placement.arrival_status == "on_the_way"]
    staying = [view for view in staying if view.placement.arrival_status != "on_the_way"]
    phone = intake_phone.get_intake_phone(db_session(), location_id, actor=principal)
    return render("coordinator/location.html", status=status, board=board, coming=coming,
                  staying=staying, arriving=arriving, placed_units=placed_units,
                  region_names=_region_names(), settable=SETTABLE,
                  stale_in=_minutes_to_stale([board]),
                  phone=intake_phone.shown(phone.intake_phone) if phone.intake_phone else None,
                  phone_form=phone_form or Form({}), phone_value=phone_value)


@blp.post("/eenheden/<unit_id>")
@requires_role(*ROLES)
def set_status(unit_id: str):
    """Set a unit free, occupied or out of use, with one tap."""
    form = Form(request.form)
    location_id = form.text("location_id")
    status = form.text("status")
    version = form.integer("version", default=0)
    back = url_for(".location", location_id=location_id) + f"#unit-{unit_id}"
    try:
        unit = availability.update_unit(db_session(), unit_id, actor=current_principal(),
                                        now=now(), status=status, if_match=[version])
    except PreconditionFailed:
        flash(_("Someone changed this unit just before you. Look at its state now and tap "
                "again if needed."), "warning")
    except Conflict:
        flash(_("This unit is held for, or occupied by, a placement. It changes when the "
                "hold is released or expires, or when the household is discharged."),
              "warning")
    except (ValidationFailed, NotFound):
        flash(_("That change is not possible."), "error")
    else:
        flash(_("Unit %(label)s is now: %(state)s.", label=unit.label,
                state=UNIT_STATUSES.get(unit.status, unit.status)), "success")
    return redirect(back, code=303)


@blp.post("/locaties/<location_id>/alles-klopt")
@requires_role(*ROLES)
def confirm(location_id: str):
    """Record that every unit's state was checked and is right ("alles klopt")."""
    availability.confirm_availability(db_session(), location_id, actor=current_principal(),
                                      now=now())
    flash(_("Thank you: the availability is marked as checked."), "success")
    return redirect(url_for(".location", location_id=location_id), code=303)


@blp.post("/vasthoudingen/<hold_id>/bevestigen")
@requires_role(*ROLES)
def confirm_hold(hold_id: str):
    """Confirm a hold at her location: the household is expected and the unit occupied."""
    location_id = Form(request.form).text("location_id")
    try:
        placements.confirm_hold(db_session(), hold_id, actor=current_principal(), now=now())
    except Conflict:
        flash(_("This hold is no longer active: it expired or was released."), "warning")
    else:
        flash(_("The placement is confirmed; the unit is occupied."), "success")
    return redirect(url_for(".location", location_id=location_id) + "#coming", code=303)


@blp.post("/plaatsingen/<placement_id>/uitstroom")
@requires_role(*ROLES)
def discharge(placement_id: str):
    """Discharge a household (uitstroom): the placement ends and the unit is free."""
    location_id = Form(request.form).text("location_id")
    try:
        view = placements.discharge(db_session(), placement_id, actor=current_principal(),
                                    now=now())
    except Conflict:
        flash(_("This placement had already ended."), "warning")
    else:
        flash(_("Discharged: the placement in unit %(label)s has ended.",
                label=view.unit.label), "success")
    return redirect(url_for(".location", location_id=location_id) + "#staying", code=303)


@blp.post("/plaatsingen/<placement_id>/aangekomen")
@requires_role(*ROLES)
def arrived(placement_id: str):
    """She has arrived (aangekomen): the placement is no longer on the way."""
    location_id = Form(request.form).text("location_id")
    try:
        view = arrivals.mark_arrived(db_session(), placement_id, actor=current_principal(),
                                     now=now())
    except Conflict:
        flash(_("This placement was already marked."), "warning")
    else:
        flash(_("Arrived: unit %(label)s.", label=view.unit.label), "success")
    return redirect(url_for(".location", location_id=location_id) + "#coming", code=303)


@blp.post("/plaatsingen/<placement_id>/niet-gekomen")
@requires_role(*ROLES)
def no_show(placement_id: str):
    """She did not come (niet gekomen): the unit is free and the request open again."""
    location_id = Form(request.form).text("location_id")
    try:
        view = arrivals.mark_no_show(db_session(), placement_id, actor=current_principal(),
                                     now=now())
    except Conflict:
        flash(_("This placement was already marked."), "warning")
    else:
        flash(_("Marked as not come: unit %(label)s is free again and the crisis service is "
                "alerted.", label=view.unit.label), "success")
    return redirect(url_for(".location", location_id=location_id) + "#coming", code=303)


@blp.post("/locaties/<location_id>/intakenummer")
@requires_role(*ROLES)
def set_phone(location_id: str):
    """Set or clear the location's 24/7 intake line."""
    if not current_principal().manages_location(location_id):
        abort(404)
    form = Form(request.form)
    value = form.text("intake_phone")
    try:
        intake_phone.set_intake_phone(db_session(), location_id, value,
                                      actor=current_principal(), now=now())
    except ValidationFailed:
        form.add("intake_phone", _("Fill in a Dutch phone number, like 020 123 4567, "
                                   "06 12345678 or 0800 1234."))
        return _location_page(location_id, status=422, phone_form=form, phone_value=value)
    flash(_("The intake line is saved."), "success")
    return redirect(url_for(".location", location_id=location_id) + "#intake-phone", code=303)


def _region_names() -> dict[str, str]:
    return {region.code: region.name for region in regions.list_regions(db_session())}

