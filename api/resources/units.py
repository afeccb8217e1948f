"""Units: a coordinator keeps their status and beds true, with optimistic concurrency."""

from __future__ import annotations

import re

from flask import request
from flask.views import MethodView
from werkzeug.exceptions import BadRequest

from api.auth import ALL_ROLES, current_principal, now
from api.database import db_session
from api.schemas.locations import UnitPatchSchema, UnitSchema
from api.smorest import Blueprint
from shelter_match.services.availability import get_unit, update_unit

blp = Blueprint("units", __name__, url_prefix="/api/v1/units",
                description="Units of the locations: their status, beds and version.")

# One entity-tag of RFC 9110 §8.8.3, followed by a comma or the end of the header.
ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e]*)"\s*(?:,|$)')
VERSION = re.compile(r"[0-9]{1,9}")
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "example": '"3"',
    "description": (
        'The version the change is meant for, as an entity tag: `"3"`. A version that is '
        "not the current one is 412 and changes nothing. Without If-Match the change "
        "applies to whatever version is current (last write wins): that is the caller's "
        "choice; send If-Match whenever a person decided on what she saw. `*` matches any "
        "version; a header that is not an entity tag (`abc`) is 400."
    ),
}


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """Return the versions an If-Match header accepts; None when it accepts any.

    A syntactically invalid header is 400; a valid one that names no version of ours (a weak
    tag, `"abc"`) matches nothing, which is 412 (RFC 9110 compares If-Match strongly).
    """
    if header is None or header.strip() == "*":
        return None
    versions, position = set(), 0
    while position < len(header):
        match = ENTITY_TAG.match(header, position)
        if match is None:
            raise BadRequest('If-Match must be an entity tag such as "3" (with the quotes).')
        weak, tag = match.group(1), match.group(2)
        if not weak and VERSION.fullmatch(tag):
            versions.add(int(tag))
        position = match.end()
    if position == 0:
        raise BadRequest('If-Match must be an entity tag such as "3" (with the quotes).')
    return frozenset(versions)


@blp.route("/<unit_id>")
class UnitById(MethodView):
    @blp.requires(*ALL_ROLES)
    @blp.response(200, UnitSchema, headers={"ETag": {"schema": {"type": "string"},
                                                     "description": 'The version: "N".'}})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, unit_id):
        """Show a unit with its effective status and version."""
        unit = get_unit(db_session(), unit_id, now=now())
        return unit, 200, {"ETag": etag(unit.version)}

    @blp.requires("admin", "coordinator")
    @blp.arguments(UnitPatchSchema)
    @blp.response(200, UnitSchema, headers={"ETag": {"schema": {"type": "string"},
                                                     "description": 'The new version: "N".'}})
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        parameters=[IF_MATCH],
        description=(
            "Admin or the location's own coordinator (another location's unit is 403). "
            "`status` may be free, occupied or closed; `held` is 422 (holds come from "
            "placement requests). A unit with a live hold or an open placement keeps its "
            "status (409: release the hold or discharge the placement first) and keeps at "
            "least its household's beds (409). A unit whose hold has expired is free and may "
            "be changed. Every change makes a new `version` (also in the ETag header), a "
            "history row, an audit event `unit.updated`, and refreshes the location's "
            "availability_updated_at. A change to the values the unit has already changes "
            "nothing and keeps the version."
        ),
    )
    def patch(self, changes, unit_id):
        """Change a unit's status or beds."""
        expected = parse_if_match(request.headers.get("If-Match"))
        unit = update_unit(db_session(), unit_id, actor=current_principal(), now=now(),
                           status=changes.get("status"), beds=changes.get("beds"),
                           if_match=expected)
        return unit, 200, {"ETag": etag(unit.version)}
