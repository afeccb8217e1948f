"""The words people read for the codes of the domain (CONTRACT vocabularies)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from solver import Reason

LEVELS = {
    "groen": _l("Green"),
    "oranje": _l("Orange"),
    "rood": _l("Red"),
}

LEVEL_HINTS = {
    "groen": _l("safety can be restored with simple measures"),
    "oranje": _l("specialised help needed; an open location is fine"),
    "rood": _l("extreme threat: a secret, secured location far away"),
}

TARGET_GROUPS = {
    "women": _l("Women"),
    "men": _l("Men"),
    "all": _l("Women and men"),
}

FEATURES = {
    "wheelchair_accessible": _l("Wheelchair accessible"),
    "pets_allowed": _l("Pets allowed"),
    "men": _l("Takes men"),
    "lhbti": _l("LGBTI+ safe"),
    "honour_related_violence": _l("Honour-related violence"),
    "human_trafficking": _l("Human trafficking"),
}

NEEDS = {
    "wheelchair_accessible": _l("Wheelchair"),
    "pets_allowed": _l("Brings a pet"),
    "men": _l("Client is a man"),
    "lhbti": _l("LGBTI+ safe place"),
    "honour_related_violence": _l("Honour-related violence"),
    "human_trafficking": _l("Human trafficking"),
}

UNIT_STATUSES = {
    "free": _l("Free"),
    "held": _l("Held"),
    "occupied": _l("Occupied"),
    "closed": _l("Out of use"),
}

REQUEST_STATUSES = {
    "open": _l("Open"),
    "held": _l("Place held"),
    "waiting": _l("On the waiting list"),
    "offered": _l("Place offered"),
    "placed": _l("Placed"),
    "cancelled": _l("Cancelled"),
}

HOLD_STATUSES = {
    "active": _l("Held"),
    "released": _l("Released"),
    "confirmed": _l("Confirmed"),
    "expired": _l("Expired"),
    "cancelled": _l("Cancelled"),
}

# Whether a placed household reached the location (Dutch: onderweg, aangekomen, niet gekomen).
ARRIVAL_STATUSES = {
    "on_the_way": _l("On the way"),
    "arrived": _l("Arrived"),
    "no_show": _l("Did not come"),
}

# Why a request closed without a placement (CONTRACT 4.3), asked when she cancels.
OUTCOMES = {
    "client_withdrew": _l("She withdrew"),
    "own_network": _l("She went to her own network"),
    "ambulant_support": _l("Help at home (ambulant support)"),
    "placed_outside_service": _l("Placed outside shelter-match"),
    "no_place_found": _l("No place found"),
    "other": _l("Other"),
}

# What a notification tells of, and how it is sent (the delivery log).
NOTIFICATION_EVENTS = {
    "offer_made": _l("Offer made"),
    "escalation": _l("Escalation"),
    "no_show": _l("Did not come"),
}
NOTIFICATION_CHANNELS = {
    "email": _l("E-mail"),
    "webhook": _l("Webhook"),
}


def exclusion(reason: str, count: int) -> str:
    """Return one line of why locations were not proposed, in plain words."""
    if reason == "too_close_to_danger":
        return ngettext("%(num)d location is too close to where the danger is.",
                        "%(num)d locations are too close to where the danger is.", count)
    if reason == "safety_level_too_low":
        return ngettext("%(num)d location is not secure enough for this safety code.",
                        "%(num)d locations are not secure enough for this safety code.", count)
    if reason == "missing_features":
        return ngettext("%(num)d location does not offer what is needed.",
                        "%(num)d locations do not offer what is needed.", count)
    if reason == "no_free_unit_large_enough":
        return ngettext("%(num)d location has no free room with enough beds.",
                        "%(num)d locations have no free room with enough beds.", count)
    if reason == "excluded_by_request":
        return ngettext("%(num)d location was excluded by you.",
                        "%(num)d locations were excluded by you.", count)
    if reason == "target_group_mismatch":
        return ngettext("%(num)d location does not take in this target group.",
                        "%(num)d locations do not take in this target group.", count)
    if reason == "too_close_for_location":
        return ngettext(
            "%(num)d location is too close to the danger for its own safety level.",
            "%(num)d locations are too close to the danger for their own safety level.",
            count)
    if reason == "no_night_intake":
        return ngettext("%(num)d location takes no one in at night.",
                        "%(num)d locations take no one in at night.", count)
    if reason == "boys_age_limit":
        return ngettext("%(num)d location does not take in a boy this old.",
                        "%(num)d locations do not take in a boy this old.", count)
    if reason == "origin_region_not_allowed":
        return ngettext(
            "%(num)d location lies in her own region, and a red case must go elsewhere.",
            "%(num)d locations lie in her own region, and a red case must go elsewhere.",
            count)
    return ngettext("%(num)d location was left out.", "%(num)d locations were left out.",
                    count)


def relaxation(drop: str, options: int) -> str:
    """Return one next step: how many options dropping a need would give."""
    need = drop.removeprefix("needs:")
    return ngettext("Without “%(need)s”: %(num)d location.",
                    "Without “%(need)s”: %(num)d locations.", options,
                    need=str(NEEDS.get(need, need)))


def freshness(updated_s: float | None, now_s: float) -> str:
    """Return how long ago a location's availability was updated, in plain words."""
    if updated_s is None:
        return _("never confirmed")
    minutes = max(int((now_s - updated_s) // 60), 0)
    if minutes < 120:
        return ngettext("updated %(num)d min ago", "updated %(num)d min ago", minutes)
    return ngettext("updated %(num)d hour ago", "updated %(num)d hours ago", minutes // 60)


def reason(option_reason: Reason) -> str:
    """Return one reason the solver gives for an option, in plain words."""
    p = option_reason.params
    code = option_reason.code
    if code == "distance_from_danger":
        if p["uncertainty_km"]:
            return _("At least %(km)d km from the danger, allowing %(margin)s km for where "
                     "exactly it is (%(minimum)d km needed for %(level)s).",
                     km=p["distance_km"], margin=f"{p['uncertainty_km']:g}",
                     minimum=p["min_km"], level=LEVELS[p["risk_level"]])
        return _("%(km)d km from the danger (%(minimum)d km needed for %(level)s).",
                 km=p["distance_km"], minimum=p["min_km"], level=LEVELS[p["risk_level"]])
    if code == "travel":
        if p["start"] == "current":
            return _("%(km)d km to travel from where she is now.", km=p["km"])
        return _("%(km)d km to travel from where the danger is.", km=p["km"])
    if code == "in_origin_region":
        return _("In her own region.")
    if code == "outside_origin_region":
        return _("Outside her own region.")
    if code == "outside_origin_region_required":
        return _("Outside her own region, as %(level)s requires.",
                 level=LEVELS[p["risk_level"]])
    if code == "safety_level_matches":
        return _("Secured exactly as this safety code needs.")
    if code == "safety_level_surplus":
        return ngettext("Secured %(num)d level more than this safety code needs.",
                        "Secured %(num)d levels more than this safety code needs.",
                        p["surplus"])
    if code == "fits_exactly":
        return _("Fits the household exactly.")
    if code == "spare_beds":
        return ngettext("%(num)d bed to spare.", "%(num)d beds to spare.", p["spare"])
    if code == "offers_needs":
        return _("Offers every need: %(needs)s.",
                 needs=", ".join(str(NEEDS.get(need, need)) for need in p["needs"]))
    if code == "recent_intake":
        return ngettext("This region took in %(num)d person from elsewhere lately.",
                        "This region took in %(num)d people from elsewhere lately.",
                        p["people"])
    if code == "specialised_place":
        return _("Specialised (%(what)s): offered after every suitable general place.",
                 what=", ".join(str(NEEDS.get(need, need)) for need in p["features"]))
    if code == "stale_availability":
        if p["hours"] is None:
            return _("Availability never confirmed: phone to check.")
        return ngettext("Availability last updated %(num)d hour ago: phone to check.",
                        "Availability last updated %(num)d hours ago: phone to check.",
                        p["hours"])
    return code
