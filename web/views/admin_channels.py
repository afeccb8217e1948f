"""Admin page: where each audience is told (e-mail, signed webhook) and the delivery log.

The same services as `shelter-match notify channel` / `notify log` and the admin API. The
webhook secret is write-only: the page never shows it, and an empty field keeps it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shelter_match.errors import ValidationFailed
from shelter_match.services import delivery, notifications
from web.auth import current_principal, requires_role
from web.forms import Form
from web.pages import db_session, now, render

blp = Blueprint("admin_channels", __name__, url_prefix="/beheer/meldingen")

LOG_LIMIT = 200
CHANNEL_HINTS = {
    "audience": _l("Choose who is told from the list."),
    "email": _l("Fill in an e-mail address, like achterwacht@gemeente.example, or leave it "
                "empty."),
    "webhook_url": _l("Fill in a web address that starts with https:// (or http://), "
                      "without a user name or password, of at most 500 characters, or leave "
                      "it empty."),
    "webhook_secret": _l("Fill in a secret of %(low)d to %(high)d characters; a new webhook "
                         "needs one.", low=notifications.MIN_SECRET_LENGTH,
                         high=notifications.MAX_SECRET_LENGTH),
}


def audience_name(audience: notifications.Audience) -> str:
    """Return the name people know an audience by: "Achterwacht Rotterdam-Rijnmond"."""
    if audience.kind == "duty_region":
        return _("Duty %(region)s", region=audience.name)
    if audience.kind == "duty_national":
        return _("National duty")
    if audience.kind == "user":
        return _("%(name)s (crisis worker without an organisation)", name=audience.name)
    return audience.name


def _names() -> dict[str, str]:
    return {audience.key: audience_name(audience)
            for audience in notifications.audiences(db_session())}


@blp.get("")
@requires_role("admin")
def home():
    """List the channels and the newest delivery attempts; a form sets a channel."""
    return _page(Form({}), chosen=request.args.get("doelgroep", ""))


def _page(form: Form, status: int = 200, values: dict[str, Any] | None = None,
          chosen: str = "", names: dict[str, str] | None = None):
    """Render the page; `chosen` fills the form with that audience's channel (no secret)."""
    session = db_session()
    names = _names() if names is None else names
    channels = notifications.list_channels(session)
    audience = values.get("audience", "") if values is not None else chosen
    current = next((channel for channel in channels if channel.audience == audience), None)
    if values is None:
        values = {"audience": current.audience, "email": current.email or "",
                  "webhook_url": current.webhook_url or ""} if current else {}
    return render("admin/channels.html", status=status, form=form, values=values,
                  channels=channels, names=names, current=current,
                  audience_options=list(names.items()),
                  log=delivery.delivery_log(session, limit=LOG_LIMIT), log_limit=LOG_LIMIT,
                  max_attempts=delivery.MAX_ATTEMPTS,
                  min_secret=notifications.MIN_SECRET_LENGTH,
                  max_secret=notifications.MAX_SECRET_LENGTH)


@blp.post("/kanaal")
@requires_role("admin")
def set_channel():
    """Set where an audience is told; an empty secret keeps the one already set."""
    form = Form(request.form)
    audience = form.text("audience")
    names = _names()
    if audience not in names:
        # The service accepts any well-formed organisation or user id; the page only those
        # that exist, so a channel never waits for an audience that is not there.
        form.add("audience", str(CHANNEL_HINTS["audience"]))
    else:
        try:
            notifications.set_channel(
                db_session(), audience, email=form.text("email") or None,
                webhook_url=form.text("webhook_url") or None,
                webhook_secret=form.text("webhook_secret") or None,
                keep_webhook_secret=True, actor=current_principal(), now=now())
        except ValidationFailed as error:
            form.take(error, CHANNEL_HINTS)
    if form.errors:
        # Never the secret back into the page: she types it again.
        values = {name: request.form.get(name, "") for name in
                  ("audience", "email", "webhook_url")}
        return _page(form, status=422, values=values, names=names)
    flash(_("The channel of %(audience)s was saved.", audience=names[audience]), "success")
    return redirect(url_for(".home"), code=303)


@blp.post("/kanaal/wissen")
@requires_role("admin")
def clear_channel():
    """Stop telling an audience: no e-mail, no webhook (and its secret is forgotten)."""
    form = Form(request.form)
    audience = form.text("audience")
    channels = {channel.audience for channel in notifications.list_channels(db_session())}
    if audience not in channels:
        flash(_("This audience has no channel."), "error")
        return redirect(url_for(".home"), code=303)
    notifications.set_channel(db_session(), audience, email=None, webhook_url=None,
                              webhook_secret=None, actor=current_principal(), now=now())
    flash(_("%(audience)s is no longer told.", audience=_names().get(audience, audience)),
          "success")
    return redirect(url_for(".home"), code=303)
