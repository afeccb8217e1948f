"""The crisis worker's pages: describe the case, see safe options, hold one, confirm.

Made for a phone at night: one form, options as cards, one tap to hold. The address is
shown once, in the answer to "confirm" (the placements service audits that disclosure);
it is never put in a cookie, a redirect or any other page.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shelter_match.errors import Conflict, ValidationFailed
from shelter_match.gazetteer import Gazetteer
from shelter_match.services import (
    availability,
    holds,
    placements,
    places,
    proposals,
    regions,
    requests,
    waitlist,
)
from shelter_match.services.policy import get_policy
from web import labels
from web.auth import RESUMED, current_principal, requires_role
from web.forms import Form, field_id
from web.pages import db_session, now, render
from web.templating import local_time

blp = Blueprint("crisis", __name__, url_prefix="/crisis")

ROLES = ("crisis_worker", "admin")
HINTS = {
    "case_reference": _l("Use a pseudonymous reference such as VT-2026-0042: letters, digits, "
                         "'.', '_', '/' or '-', with at least one digit. Never a name or BSN."),
    "origin_region_code": _l("Fill in where she lives, or choose her region."),
    "risk_level": _l("Choose the safety code."),
    "household.adults": _l("Fill in 1 to %(max)d adults.", max=requests.MAX_ADULTS),
    "household.children": _l("Fill in 0 to %(max)d children.", max=requests.MAX_CHILDREN),
    "needs": _l("Choose from the list."),
    "excluded_region_codes": _l("Choose regions from the list."),
    "excluded_location_ids": _l("Choose locations from the list."),
    "household.children_detail": _l("Give a line for every child (as many as children), or "
                                    "none at all."),
    "household.children_detail.*.age": _l("Fill in an age from 0 to 17."),
    "household.children_detail.*.sex": _l("Choose boy or girl."),
}
POINT_HINTS = {
    "origin": _l("Fill in the Dutch municipality, town or postcode where she lives."),
    "danger": _l("Fill in a Dutch municipality or town, or both coordinates (in the "
                 "Netherlands)."),
    "current": _l("Fill in a Dutch municipality or town, or both coordinates (in the "
                  "Netherlands), or leave both empty."),
}
OPEN_STATUSES = ("open", "held", "waiting", "offered")


def _my_requests() -> tuple[list[Any], list[Any]]:
    # The list shows no intake line (the request's page does, audited there).
    views = requests.list_requests(db_session(), actor=current_principal(), now=now(),
                                   limit=50, show_phone=False)
    current = [view for view in views if view.status in OPEN_STATUSES]
    closed = [view for view in views if view.status not in OPEN_STATUSES][:10]
    return current, closed


def _etag(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:32]


@blp.get("")
@requires_role(*ROLES)
def home():
    """List her open requests and holds, then the ones closed recently."""
    current, closed = _my_requests()
    names = _region_names()
    fragment = render_template("crisis/_current.html", current=current, region_names=names)
    return render("crisis/home.html", current=current, closed=closed,
                  region_names=names, etag=_etag(fragment))


@blp.get("/live")
@requires_role(*ROLES)
def live():
    """Return her open requests as the page shows them, for the page to poll (site.js).

    An offer the matcher makes shows within seconds without a reload. The ETag is a digest
    of the fragment: an unchanged list answers 304 with no body.
    """
    current, _closed = _my_requests()
    fragment = render_template("crisis/_current.html", current=current,
                               region_names=_region_names())
    etag = _etag(fragment)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(fragment, mimetype="text/html")
    response.set_etag(etag)
    response.headers["X-Live-Fragment"] = "1"
    return response


@blp.route("/aanvragen/nieuw", methods=["GET", "POST"])
@requires_role(*ROLES, resumable=True)
def new_request():
    """Describe the case: one form, then the options."""
    form = Form(request.form)
    if request.method == "GET":
        return _request_form(form, {"adults": "1", "children": "0"})
    if form.flag(RESUMED):
        # Back from signing in again: what she had typed, to check and send (never sent
        # on her behalf; see web.auth.requires_role).
        return _request_form(form, request.form, resumed=True)
    data = _request_data(form)
    suggestions: dict[str, list[str]] = {}
    session = db_session()
    try:
        if form.errors:
            # Every mistake at once: the service's too, for the fields the form could read.
            requests.validate_request(session, data, now=now())
        elif not form.flag("duplicate_ok") and requests.count_open_with_reference(
                session, data.case_reference, actor=current_principal()):
            return _request_form(form, request.form, duplicate=True)
        else:
            created = requests.create_request(session, data, actor=current_principal(),
                                              now=now())
            return redirect(url_for(".request_page", request_id=created.id), code=303)
    except ValidationFailed as error:
        suggestions = dict(error.extra.get("suggestions", {}))
        if "danger.0" in suggestions:  # the first of a list of dangers: the danger field's
            suggestions["danger"] = suggestions.pop("danger.0")
        unread = ValidationFailed({field: messages for field, messages in error.errors.items()
                                   if field_id(field) not in form.errors})
        form.take(unread, {**HINTS, **_point_hints(error, data)})
        _place_errors_on_fields(form)
    return _request_form(form, request.form, status=422, suggestions=suggestions)


def _request_data(form: Form) -> requests.RequestData:
    """Turn the form into the service's request data (the service checks every rule)."""
    origin = form.text("origin_suggestion") or form.text("origin_place")
    return requests.RequestData(
        case_reference=form.text("case_reference"),
        # Where she lives decides her region; the list of regions is the fallback.
        origin_region_code=form.text("origin_region_code") or None,
        origin_place=origin or None,
        risk_level=form.text("risk_level"),
        danger=_point(form, "danger") or requests.PointData(),
        current=_point(form, "current"),
        adults=form.integer("household-adults", default=0) or 0,
        children=form.integer("household-children", default=0) or 0,
        needs=form.many("needs", labels.FEATURES),
        excluded_region_codes=form.data.getlist("excluded_region_codes"),
        excluded_location_ids=form.data.getlist("excluded_location_ids"),
        more_dangers=_more_dangers(form),
        children_detail=_children_detail(form),
    )


def _more_dangers(form: Form) -> list[requests.PointData] | None:
    """Return the further places of danger she filled in (a family network); None: none."""
    more = [requests.PointData(place=form.text(f"danger-{n}_place")) for n in range(1, 5)
            if form.text(f"danger-{n}_place")]
    return more or None


def _children_detail(form: Form) -> list[tuple[int, str]] | None:
    """Return (age, sex) of each child on a filled line; None when she filled none in.

    The service checks the rest (one line per child, an age 0-17, a sex) and names the field.
    """
    lines = []
    for n in range(MAX_CHILD_ROWS):
        age_field, sex_field = (f"household-children_detail-{n}-age",
                                f"household-children_detail-{n}-sex")
        if not (form.text(age_field) or form.text(sex_field)):
            continue
        age = form.integer(age_field)
        lines.append((-1 if age is None else age, form.text(sex_field)))
    return lines or None


def _place_errors_on_fields(form: Form) -> None:
    """Show the service's errors of a list of dangers beside the fields that gave them."""
    for key in [key for key in form.errors if key.startswith("danger-")]:
        number = key.removeprefix("danger-")
        target = "danger" if number == "0" else f"danger-{number}_place"
        form.errors.setdefault(target, []).extend(form.errors.pop(key))


def _point(form: Form, name: str) -> requests.PointData | None:
    """Return a place name (or a suggestion she tapped) or coordinates; None when empty."""
    place = form.text(f"{name}_suggestion") or form.text(f"{name}_place")
    if place:
        return requests.PointData(place=place)
    if form.text(f"{name}_lat") or form.text(f"{name}_lon"):
        return requests.PointData(lat=form.decimal(f"{name}_lat"),
                                  lon=form.decimal(f"{name}_lon"))
    return None


def _point_hints(error: ValidationFailed, data: requests.RequestData) -> dict[str, Any]:
    # An unknown or ambiguous place comes with suggestions, shown as buttons; the message
    # says which of the two it is.
    hints: dict[str, Any] = {}
    for name, hint in POINT_HINTS.items():
        if name in error.errors:
            point = (requests.PointData(place=data.origin_place) if name == "origin"
                     else getattr(data, name))
            outside = (point is not None and point.place is not None
                       and Gazetteer.default().lookup(point.place).status == "outside")
            if outside:
                hints[name] = _("%(place)s lies in the Caribbean part of the Kingdom, outside "
                                "this network: call 911 there in an emergency, and the "
                                "island's own shelter and Veilig Thuis services.",
                                place=point.place)
            elif not error.extra.get("suggestions", {}).get(name):
                hints[name] = hint
            elif point and point.place and Gazetteer.default().ambiguous(point.place):
                hints[name] = _("Several places far apart have this name. Choose the right "
                                "one.")
            else:
                hints[name] = _("We do not know this place. Did you mean one of these?")
    # A family network's further places (danger.1 to danger.4): no buttons there, so the
    # message names the candidates.
    for field in error.errors:
        if field.startswith("danger.") and field.removeprefix("danger.").isdigit():
            candidates = error.extra.get("suggestions", {}).get(field)
            hints[field] = (_("Not clear which place is meant: %(names)s. Fill in one of "
                              "these.", names=", ".join(candidates)) if candidates
                            else POINT_HINTS["danger"])
    return hints


def _request_form(form: Form, values: Any, status: int = 200,
                  suggestions: dict[str, list[str]] | None = None, duplicate: bool = False,
                  resumed: bool = False):
    session = db_session()
    others = availability.list_locations(session, viewer=current_principal(), now=now())
    return render(
        "crisis/new_request.html", status=status, form=form, values=values,
        suggestions=suggestions or {}, duplicate=duplicate, resumed=resumed,
        origin_region=_derived_region(values, form),
        regions=[(region.code, region.name) for region in regions.list_regions(session)],
        levels=[(code, labels.LEVELS[code], labels.LEVEL_HINTS[code]) for code in labels.LEVELS],
        needs=[(code, str(text)) for code, text in labels.NEEDS.items()],
        locations=[(location.id, location.name) for location in others],
        places=_place_names(),
        sexes=[("male", _("Boy")), ("female", _("Girl"))],
        child_rows=_child_rows(values),
        children_open=any(key.startswith("household-children_detail") and (values.get(key) or
                                                                           form.errors.get(key))
                          for key in (*values.keys(), *form.errors.keys())),
        more_dangers_open=any(key.startswith("danger-") and (values.get(key) or
                                                             form.errors.get(key))
                              for key in (*values.keys(), *form.errors.keys())),
    )


MAX_CHILD_ROWS = 15  # as many as the form's largest household of children


def _child_rows(values: Any) -> int:
    """Return how many lines of children's ages to show: one per child, at least three."""
    try:
        children = int(values.get("household-children") or 0)
    except ValueError:
        children = 0
    return min(max(children, 3), MAX_CHILD_ROWS)


def _place_names() -> list[str]:
    # Gemeenten and towns (not hamlets or districts): a list a phone can carry.
    return sorted({place.qualified_name for place in Gazetteer.default().places()
                   if place.kind == "gemeente" or place.population >= 2000})


def _derived_region(values: Any, form: Form) -> str | None:
    """Return the name of the region where she lives, once the place says it, else None."""
    text = (values.get("origin_suggestion") or values.get("origin_place") or "").strip()
    if not text or form.errors.get("origin"):
        return None
    code = places.origin_region(db_session(), text, {}, {})
    return _region_names().get(code) if code else None


@blp.get("/aanvragen/<request_id>")
@requires_role(*ROLES)
def request_page(request_id: str):
    """Show one request: its hold with the time left, or the safe options to hold."""
    session = db_session()
    principal = current_principal()
    # The intake line is shown (and audited) once, with the hold below.
    view = requests.view_request(session, request_id, actor=principal, now=now(),
                                 show_phone=False)
    hold = None
    proposal = None
    why_not: list[str] = []
    next_steps: list[str] = []
    if view.active_hold is not None:
        hold = holds.view_hold(session, view.active_hold.id, actor=principal, now=now(),
                               show_phone="hold_page")
    elif view.status in ("open", "waiting"):
        # Waiting, she may still look for herself: a place may fit that the matcher would
        # give to someone who waited longer.
        proposal = proposals.propose_for_request(session, request_id, actor=principal,
                                                 now=now())
        why_not = [labels.exclusion(entry.reason, entry.locations)
                   for entry in proposal.excluded if entry.locations]
        next_steps = [labels.relaxation(entry.drop, entry.options)
                      for entry in proposal.relaxations if entry.options]
    return render("crisis/request.html", view=view, hold=hold, proposal=proposal,
                  extension_minutes=get_policy(session).hold_extension_minutes,
                  why_not=why_not, next_steps=next_steps, region_names=_region_names(),
                  now_s=now().timestamp())


@blp.post("/aanvragen/<request_id>/vasthouden")
@requires_role(*ROLES)
def hold(request_id: str):
    """Hold the chosen unit for this request while she phones."""
    unit_id = Form(request.form).text("unit_id")
    try:
        holds.create_hold(db_session(), request_id, unit_id, actor=current_principal(),
                          now=now())
    except Conflict:
        flash(_("This place cannot be held any more: it was just taken, or no longer fits. "
                "Here are the options as they are now."), "warning")
    except ValidationFailed:
        flash(_("Choose one of the options."), "error")
    else:
        flash(_("The place is held for you. Phone the location, then confirm."), "success")
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@blp.post("/aanvragen/<request_id>/wachtlijst")
@requires_role(*ROLES)
def join_waitlist(request_id: str):
    """Put the request on the waiting list: she is offered a place the moment one frees."""
    try:
        waitlist.join_waitlist(db_session(), request_id, actor=current_principal(), now=now())
    except Conflict:
        flash(_("This request was already closed."), "info")
    else:
        flash(_("The request is on the waiting list. When a place that fits frees, it is "
                "offered here, to you and your colleagues."), "success")
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@blp.post("/vasthoudingen/<hold_id>/bevestigen")
@requires_role(*ROLES)
def confirm(hold_id: str):
    """Confirm the hold: she is placed; show the address, this once."""
    request_id = Form(request.form).text("request_id")
    try:
        view = placements.confirm_hold(db_session(), hold_id, actor=current_principal(),
                                       now=now())
    except Conflict:
        flash(_("This hold has expired or was released; it cannot be confirmed. Hold a "
                "place again."), "warning")
        return redirect(url_for(".request_page", request_id=request_id), code=303)
    # Post-redirect-get: reloading the address page never confirms twice. The address
    # never travels in the redirect or the session cookie: the page reads it again, for
    # her alone and for policy.address_view_minutes, each showing audited.
    return redirect(url_for(".placed", placement_id=view.placement.id), code=303)


@blp.get("/plaatsingen/<placement_id>")
@requires_role(*ROLES)
def placed(placement_id: str):
    """Show the placement she just confirmed, with the address for a short, audited while."""
    session = db_session()
    view = placements.view_own_confirmation(session, placement_id, actor=current_principal(),
                                            now=now())
    minutes = get_policy(session).address_view_minutes
    return render("crisis/placed.html", placement=view.placement, location=view.location,
                  unit=view.unit, show_address=view.show_address, minutes=minutes,
                  region_names=_region_names())


@blp.post("/vasthoudingen/<hold_id>/verlengen")
@requires_role(*ROLES)
def extend(hold_id: str):
    """Extend the hold once, while she is still on the phone."""
    request_id = Form(request.form).text("request_id")
    try:
        hold = holds.extend_hold(db_session(), hold_id, actor=current_principal(), now=now())
    except Conflict:
        flash(_("This hold cannot be extended: it was extended once already, or has ended."),
              "warning")
    else:
        flash(_("The place is held for you longer, until %(time)s.",
                time=local_time(hold.expires_at)), "success")
    return redirect(url_for(".request_page", request_id=request_id) + "#hold", code=303)


@blp.post("/vasthoudingen/<hold_id>/loslaten")
@requires_role(*ROLES)
def release(hold_id: str):
    """Release the hold: the unit is free again and the request open."""
    request_id = Form(request.form).text("request_id")
    try:
        holds.release_hold(db_session(), hold_id, actor=current_principal(), now=now())
    except Conflict:
        flash(_("This hold had already ended."), "info")
    else:
        flash(_("The place is released."), "success")
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@blp.get("/aanvragen/<request_id>/annuleren")
@requires_role(*ROLES)
def cancel_page(request_id: str):
    """Ask once before cancelling: a cancelled request cannot be opened again."""
    view = requests.view_request(db_session(), request_id, actor=current_principal(),
                                 now=now())
    if view.status not in OPEN_STATUSES:
        flash(_("This request was already closed."), "info")
        return redirect(url_for(".request_page", request_id=request_id), code=303)
    return render("crisis/cancel.html", view=view,
                  outcomes=[(code, str(text)) for code, text in labels.OUTCOMES.items()])


@blp.post("/aanvragen/<request_id>/annuleren")
@requires_role(*ROLES)
def cancel(request_id: str):
    """Cancel the request (and release its hold), with why it closed."""
    outcome = Form(request.form).text("outcome") or "other"
    if outcome not in labels.OUTCOMES:
        outcome = "other"
    try:
        holds.cancel_request(db_session(), request_id, actor=current_principal(), now=now(),
                             outcome=outcome)
    except Conflict:
        flash(_("This request was already closed."), "info")
    else:
        flash(_("The request is cancelled."), "success")
    return redirect(url_for(".home"), code=303)


def _region_names() -> dict[str, str]:
    return {region.code: region.name for region in regions.list_regions(db_session())}
