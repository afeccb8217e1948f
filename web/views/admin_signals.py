"""Admin page: users whose pattern looks like probing (the same report as the CLI)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _

from shelter_match.services import signals
from web.auth import requires_role
from web.forms import Form
from web.pages import db_session, now, render

blp = Blueprint("admin_signals", __name__, url_prefix="/beheer/signalen")


@blp.get("")
@requires_role("admin")
def home():
    """List the users who reach a probing threshold in the last hours."""
    form = Form(request.args)
    hours = signals.DEFAULT_HOURS
    raw = form.text("uren")
    if raw:
        if raw.isdigit() and 1 <= int(raw) <= signals.MAX_HOURS:
            hours = int(raw)
        else:
            form.add("uren", _("Fill in 1 to %(max)d hours.", max=signals.MAX_HOURS))
    report = signals.probing_signals(db_session(), now=now(), hours=hours)
    return render("admin/signals.html", status=422 if form.errors else 200, form=form,
                  report=report, hours=hours, signal_names=signals.SIGNALS,
                  max_hours=signals.MAX_HOURS)
