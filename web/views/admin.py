"""Admin pages: create and edit locations and their units; edit the policy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shelter_match.errors import Conflict, PreconditionFailed, ValidationFailed
from shelter_match.services import availability, locations, regions
from shelter_match.services.policy import (
    MAX_ADDRESS_VIEW_MINUTES,
    MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS,
    MAX_DISTANCE_KM,
    MAX_HOLD_EXTENSION_MINUTES,
    MAX_HOLD_MINUTES,
    MAX_STALE_AFTER_HOURS,
    get_policy,
    replace_policy,
)
from web import labels
from web.auth import current_principal, requires_role
from web.forms import Form
from web.pages import db_session, now, render

blp = Blueprint("admin", __name__, url_prefix="/beheer")

NEW_UNIT_ROWS = 6
LOCATION_HINTS = {
    "name": _l("Fill in a name of at most %(max)d characters.", max=locations.MAX_NAME),
    "region_code": _l("Choose the region of the municipality the location lies in."),
    "safety_level": _l("Choose the safety level."),
    "address": _l("Fill in the address (at most %(max)d characters).",
                  max=locations.MAX_ADDRESS),
    "lat": _l("Fill in a latitude in the Netherlands, between %(low)s and %(high)s.",
              low=locations.NL_LAT[0], high=locations.NL_LAT[1]),
    "lon": _l("Fill in a longitude in the Netherlands, between %(low)s and %(high)s.",
              low=locations.NL_LON[0], high=locations.NL_LON[1]),
    "features": _l("Choose from the list."),
    "place": _l("Give the town (woonplaats) that holds the location, or leave it empty."),
    "units.*.label": _l("Give every unit its own name (at most %(max)d characters).",
                        max=locations.MAX_LABEL),
    "units.*.beds": _l("Fill in from 0 to %(max)d beds.", max=locations.MAX_BEDS_PER_UNIT),
    "label": _l("Give the unit a name that this location does not use yet."),
    "beds": _l("Fill in from 0 to %(max)d beds.", max=locations.MAX_BEDS_PER_UNIT),
}
POLICY_HINTS = {
    "min_distance_km.*": _l("Fill in 0 to %(max)d km; green ≤ orange ≤ red.",
                            max=MAX_DISTANCE_KM),
    "hold_minutes": _l("Fill in 1 to %(max)d minutes.", max=MAX_HOLD_MINUTES),
    "stale_after_hours": _l("Fill in 1 to %(max)d hours.", max=MAX_STALE_AFTER_HOURS),
    "close_open_requests_after_days": _l("Fill in 1 to %(max)d days.",
                                         max=MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS),
    "hold_extension_minutes": _l("Fill in 1 to %(max)d minutes.",
                                 max=MAX_HOLD_EXTENSION_MINUTES),
    "address_view_minutes": _l("Fill in 1 to %(max)d minutes.", max=MAX_ADDRESS_VIEW_MINUTES),
}
POLICY_LABELS = {
    "min_distance_km": _l("Minimum distance from the danger (km), per safety code"),
    "rood_outside_origin_region": _l("A red case is placed outside her own region"),
    "hold_minutes": _l("How long a hold keeps a place (minutes)"),
    "stale_after_hours": _l("Availability counts as out of date after (hours)"),
    "ranking_weights": _l("Ranking weights (advanced)"),
    "danger_place_radius_km": _l("Extra margin when the danger is a place name (km)"),
    "close_open_requests_after_days": _l("Close a request left open after (days)"),
    "location_level_min_distance": _l(
        "A location's own safety code keeps the danger at its minimum distance too"),
    "night_hours": _l("Night: locations without night intake are not offered (Amsterdam time)"),
    "hold_extension_minutes": _l("A hold may be extended once by (minutes)"),
    "address_view_minutes": _l("After confirming, the address page can be opened again for "
                               "(minutes)"),
    "quotas": _l("Hourly quotas per user"),
}
NIGHT_LABELS = {"from": _l("From"), "to": _l("Until")}
PLACE_KINDS = {"gemeente": _l("Municipality"), "place": _l("Town or village")}


def _region_options() -> list[tuple[str, str]]:
    return [(region.code, region.name) for region in regions.list_regions(db_session())]


def _level_options() -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in labels.LEVELS.items()]


def _target_group_options() -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in labels.TARGET_GROUPS.items()]


def _boys_age(form: Form) -> int | None:
    """Return the boys' age limit of the form; empty means no limit."""
    return form.integer("accepts_boys_up_to_age") if form.text("accepts_boys_up_to_age") \
        else None


def _feature_options() -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in labels.FEATURES.items()]


@blp.get("")
@requires_role("admin")
def home():
    """List the locations, of one region or all."""
    region_code = request.args.get("regio") or None
    region_names = dict(_region_options())
    if region_code not in region_names:
        region_code = None
    found = availability.list_locations(db_session(), viewer=current_principal(), now=now(),
                                        region_code=region_code)
    return render("admin/locations.html", locations=found, region_code=region_code,
                  regions=region_names)


@blp.route("/locaties/nieuw", methods=["GET", "POST"])
@requires_role("admin")
def new_location():
    """Create a location with its first units."""
    form = Form(request.form)
    if request.method == "GET":
        return _new_location_page(form, {"accepts_night_intake": True, "target_group": "women"})
    units = []
    for index in range(NEW_UNIT_ROWS):
        label = form.text(f"units-{index}-label")
        if label or form.text(f"units-{index}-beds"):
            units.append(locations.UnitData(label, form.integer(f"units-{index}-beds") or 0))
    data = locations.LocationData(
        name=form.text("name"),
        region_code=form.text("region_code"),
        safety_level=form.text("safety_level"),
        lat=form.decimal("lat") or 0.0,
        lon=form.decimal("lon") or 0.0,
        address=form.text("address"),
        features=form.many("features", labels.FEATURES),
        accepts_night_intake=form.flag("accepts_night_intake"),
        units=units,
        place=form.text("place") or None,
        target_group=form.text("target_group") or None,
        accepts_boys_up_to_age=_boys_age(form),
    )
    if not form.errors:
        try:
            location = locations.create_location(db_session(), data, now=now(),
                                                 actor=current_principal())
        except ValidationFailed as error:
            form.take(error, LOCATION_HINTS)
        else:
            flash(_("Location %(name)s was created.", name=location.name), "success")
            return redirect(url_for(".location", location_id=location.id), code=303)
    return _new_location_page(form, request.form, status=422)


def _new_location_page(form: Form, values: Any, status: int = 200):
    return render("admin/new_location.html", status=status, form=form, values=values,
                  regions=_region_options(), levels=_level_options(),
                  features=_feature_options(), unit_rows=range(NEW_UNIT_ROWS),
                  target_groups=_target_group_options())


@blp.route("/locaties/<location_id>", methods=["GET", "POST"])
@requires_role("admin")
def location(location_id: str):
    """Show and edit one location: its details, address and units."""
    form = Form(request.form)
    if request.method == "POST":
        changes = {
            "name": form.text("name"),
            "safety_level": form.text("safety_level"),
            "address": form.text("address"),
            "lat": form.decimal("lat"),
            "lon": form.decimal("lon"),
            "features": form.many("features", labels.FEATURES),
            "accepts_night_intake": form.flag("accepts_night_intake"),
            # Empty: the place that holds the point (derived again).
            "place": form.text("place") or None,
            "accepts_boys_up_to_age": _boys_age(form),
            # An older form without the choice keeps what the location has.
            **({"target_group": form.text("target_group")} if form.text("target_group")
               else {}),
        }
        if not form.errors:
            try:
                locations.update_location(db_session(), location_id, changes,
                                          actor=current_principal(), now=now())
            except ValidationFailed as error:
                form.take(error, LOCATION_HINTS)
            else:
                flash(_("The location was saved."), "success")
                return redirect(url_for(".location", location_id=location_id), code=303)
    detail = availability.get_location(db_session(), location_id, viewer=current_principal(),
                                       now=now())
    values = request.form if form.errors else asdict(detail)
    return render("admin/location.html", status=422 if form.errors else 200, form=form,
                  location=detail, values=values, region_name=dict(_region_options()).get(
                      detail.region_code, detail.region_code),
                  levels=_level_options(), features=_feature_options(),
                  target_groups=_target_group_options())


@blp.post("/locaties/<location_id>/eenheden")
@requires_role("admin")
def add_unit(location_id: str):
    """Add a unit (room or family unit) to a location."""
    form = Form(request.form)
    beds = form.integer("beds")
    if not form.errors:
        try:
            unit = locations.add_unit_to_location(
                db_session(), location_id, locations.UnitData(form.text("label"), beds or 0),
                actor=current_principal(), now=now())
        except ValidationFailed as error:
            form.take(error, LOCATION_HINTS)
        else:
            flash(_("Unit %(label)s was added.", label=unit.label), "success")
            return redirect(url_for(".location", location_id=location_id) + "#units", code=303)
    for messages in form.errors.values():
        for message in messages:
            flash(message, "error")
    return redirect(url_for(".location", location_id=location_id) + "#add-unit", code=303)


@blp.post("/eenheden/<unit_id>")
@requires_role("admin")
def change_beds(unit_id: str):
    """Change the number of beds of a unit."""
    form = Form(request.form)
    beds = form.integer("beds")
    version = form.integer("version", default=0)
    location_id = form.text("location_id")
    if not form.errors:
        try:
            availability.update_unit(db_session(), unit_id, actor=current_principal(),
                                     now=now(), beds=beds, if_match=[version])
        except ValidationFailed:
            flash(str(LOCATION_HINTS["beds"]), "error")
        except PreconditionFailed:
            flash(_("This unit was changed by someone else in the meantime; check it and "
                    "try again."), "warning")
        except Conflict:
            flash(_("This unit is held or occupied by a household that needs more beds; it "
                    "cannot have fewer beds until they leave."), "warning")
        else:
            flash(_("The number of beds was saved."), "success")
    else:
        flash(str(LOCATION_HINTS["beds"]), "error")
    return redirect(url_for(".location", location_id=location_id) + "#units", code=303)


@blp.route("/beleid", methods=["GET", "POST"])
@requires_role("admin")
def policy():
    """Show and replace the placement policy."""
    form = Form(request.form)
    current = get_policy(db_session()).as_document()
    if request.method == "POST":
        # The form mirrors the document: whole numbers, one yes/no, groups of whole numbers.
        document: dict[str, Any] = {}
        for name, value in current.items():
            if isinstance(value, bool):
                document[name] = form.flag(name)
            elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                document[name] = {key: form.text(f"{name}-{key}") for key in value}  # times
            elif isinstance(value, dict):
                document[name] = {key: form.integer(f"{name}-{key}") for key in value}
            else:
                document[name] = form.integer(name)
        if not form.errors:
            try:
                replace_policy(db_session(), document, actor=current_principal(), now=now())
            except ValidationFailed as error:
                form.take(error, POLICY_HINTS)
            else:
                flash(_("The policy was saved. It applies to what happens from now on."),
                      "success")
                return redirect(url_for(".policy"), code=303)
    return render("admin/policy.html", status=422 if form.errors else 200, form=form,
                  policy=current, values=request.form if form.errors else None,
                  names=POLICY_LABELS, hints=POLICY_HINTS, kinds={**PLACE_KINDS, **NIGHT_LABELS})

