"""The duty officer's page: escalated requests and the waiting list of her regions.

Pseudonymous, as the API: case references, risk levels, regions and times; never a
place, a unit or an address. The same services as GET /escalations and /waitlist.
"""

from __future__ import annotations

from flask import Blueprint

from shelter_match.services import escalation, regions, waitlist
from web.auth import current_principal, requires_role
from web.pages import db_session, now, render

blp = Blueprint("duty", __name__, url_prefix="/dienst")

ROLES = ("duty_officer", "admin")


@blp.get("")
@requires_role(*ROLES)
def home():
    """Show the escalations and the waiting list the duty officer looks after."""
    session = db_session()
    principal = current_principal()
    names = {region.code: region.name for region in regions.list_regions(session)}
    return render("duty/home.html",
                  escalations=escalation.list_escalations(session, actor=principal, now=now()),
                  waiting=waitlist.list_waitlist(session, actor=principal, now=now()),
                  names=names, now=now(),
                  scope=sorted(names.get(code, code) for code in principal.duty_region_codes))
