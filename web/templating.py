"""What every template may use: the signed-in person, her menu, CSRF tokens, labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from shelter_match.clock import rfc3339
from web import labels
from web.auth import csrf_token, current_principal
from web.i18n import LANGUAGES

# The menu of each role: (endpoint, label).
MENUS = {
    "crisis_worker": (("web.crisis.home", _l("My requests")),
                      ("web.crisis.new_request", _l("New request"))),
    "coordinator": (("web.coordinator.home", _l("Bed board")),),
    "region_reviewer": (("web.reviewer.home", _l("Solidarity")),),
    "duty_officer": (("web.duty.home", _l("Duty")),),
    "admin": (("web.admin.home", _l("Locations")),
              ("web.admin.policy", _l("Policy")),
              ("web.admin_regions.home", _l("Regions")),
              ("web.admin_signals.home", _l("Signals")),
              ("web.admin_channels.home", _l("Notifications")),
              ("web.reviewer.home", _l("Solidarity")),
              ("web.duty.home", _l("Duty"))),
}


def menu() -> list[dict[str, Any]]:
    """Return the signed-in person's menu, marking the current page."""
    principal = current_principal()
    if principal is None:
        return []
    items = []
    for endpoint, label in MENUS.get(principal.role, ()):
        items.append({"url": url_for(endpoint), "label": label,
                      "current": request.endpoint == endpoint})
    return items


def local_time(moment: datetime | None) -> str:
    """Return a time as a person in the Netherlands reads it: 03:30."""
    return format_datetime(moment, "HH:mm") if moment else ""


def local_datetime(moment: datetime | None) -> str:
    """Return a date and time in the Dutch time zone: 22 nov. 03:30."""
    return format_datetime(moment, "d MMM HH:mm") if moment else ""


def iso(moment: datetime | None) -> str:
    """Return a moment as RFC 3339 UTC, for <time datetime> and the countdown script."""
    return rfc3339(moment) if moment else ""


def init_app(app: Flask) -> None:
    """Register the context and filters of the page templates."""

    @app.context_processor
    def page_context() -> dict[str, Any]:
        if not request.path or request.path.startswith("/api/"):
            return {}
        return {
            "principal": current_principal(),
            "menu": menu,
            "languages": LANGUAGES,
            "language": str(get_locale() or "nl"),
        }

    app.jinja_env.filters.update(local_time=local_time, local_datetime=local_datetime,
                                 iso=iso)
    # Globals, unlike the context, reach the macros a template imports.
    app.jinja_env.globals.update(csrf_token=csrf_token, labels=labels)
