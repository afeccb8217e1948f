"""A location's 24/7 intake line: who may set it, and who is shown it (each showing audited).

The number is shown to a crisis worker only on her own holds and offers: a crisis worker
may make a request for any case, so an intake line on options, location lists or location
details would let any account collect every shelter's number, and with it whom to call to
find a shelter. Each showing is audited as `intake_phone.disclosed` (which location, for
which hold; never the number). The location's coordinators and admins set it and see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import ValidationFailed
from shelter_match.models import Hold, Location, PlacementRequest
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from shelter_match.services.locations import get_location_or_404, require_manager
from shelter_match.services.request_access import may_see

FIELD = "intake_phone"
PHONE_HINT = ("Must be a Dutch phone number: 10 digits starting with 0 (020 123 4567, "
              "06 12345678), +31 and 9 digits, or an 0800/0900 number.")
# Spaces, dashes, dots, slashes and brackets are how people write numbers; they go.
_SEPARATORS = re.compile(r"[\s\-./()]")
# 0800/0900/0906/0909 service numbers have 4 or 7 digits after the prefix.
_SERVICE = re.compile(r"^0(800|900|906|909)(\d{4}|\d{7})$")


@dataclass(frozen=True)
class IntakePhone:
    """A location's intake line as shown: E.164, a `tel:` link, and a readable form."""

    number: str
    uri: str
    display: str


def normalise(value: object) -> str | None:
    """Return a Dutch phone number in E.164 (+31…), or raise ValidationFailed naming the field.

    An empty value (None or "") clears the number and returns None.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 30:
        raise ValidationFailed({FIELD: [PHONE_HINT]})
    digits = _SEPARATORS.sub("", value.strip())
    if digits.startswith("+31"):
        national = "0" + digits[3:]
    elif digits.startswith("0031"):
        national = "0" + digits[4:]
    else:
        national = digits
    if national.startswith("00") or not national.isdigit() or not national.startswith("0"):
        raise ValidationFailed({FIELD: [PHONE_HINT]})
    if _SERVICE.match(national) or (len(national) == 10 and national[1] != "0"):
        return "+31" + national[1:]
    raise ValidationFailed({FIELD: [PHONE_HINT]})


def shown(number: str) -> IntakePhone:
    """Return how an E.164 number is shown and dialled."""
    national = "0" + number[3:]
    if national.startswith("06"):
        display = f"{national[:2]} {national[2:]}"
    elif _SERVICE.match(national):
        display = f"{national[:4]} {national[4:]}"
    else:
        display = f"{national[:3]} {national[3:6]} {national[6:]}"
    return IntakePhone(number=number, uri=f"tel:{number}", display=display)


@command
def set_intake_phone(session: Session, location_id: str, value: object, *, actor: Principal,
                     now: datetime) -> Location:
    """Set (or clear, with an empty value) a location's intake line: admin or its coordinator."""
    location = get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    number = normalise(value)
    if number != location.intake_phone:
        location.intake_phone = number
        session.flush()
        # That it changed, never the number: the audit log names, it does not copy.
        audit.record(session, actor=actor, action="location.intake_phone_set",
                     object_type="location", object_id=location.id, now=now,
                     cleared=number is None)
    return location


def get_intake_phone(session: Session, location_id: str, *, actor: Principal) -> Location:
    """Return a location whose intake line `actor` manages (admin or its coordinator)."""
    location = get_location_or_404(session, location_id)
    require_manager(actor, location_id)
    return location


def may_be_shown(actor: Principal, request: PlacementRequest) -> bool:
    """Return whether `actor` is shown the intake line on a hold of `request`.

    The crisis worker whose request it is (or an admin): she phones the location while the
    unit is held. A coordinator has her own location's number already.
    """
    return actor.role in ("crisis_worker", "admin") and may_see(actor, request)


def disclose_for_hold(session: Session, hold: Hold, request: PlacementRequest, *,
                      actor: Principal, now: datetime, context: str = "hold"
                      ) -> IntakePhone | None:
    """Return the intake line to show `actor` on a hold (or offer), audited; None if not hers.

    None also when the location has no number. `context` says where it was shown ("hold",
    "hold_page", "offer"), for the audit trail. The offers of the waiting list reuse this.
    """
    if not may_be_shown(actor, request):
        return None
    location = session.get(Location, hold.location_id)
    if location is None or location.intake_phone is None:
        return None
    audit.record(session, actor=actor, action="intake_phone.disclosed", object_type="location",
                 object_id=location.id, now=now, hold_id=hold.id, request_id=request.id,
                 context=context)
    return shown(location.intake_phone)


def note_shown_again(session: Session, *, actor: Principal, location_id: str, hold_id: str,
                     now: datetime) -> None:
    """Audit that a replayed answer (Idempotency-Key) showed the intake line again."""
    audit.record(session, actor=actor, action="intake_phone.disclosed", object_type="location",
                 object_id=location_id, now=now, hold_id=hold_id, context="replay",
                 replayed=True)
