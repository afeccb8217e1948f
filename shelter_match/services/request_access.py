"""Who may see and act on a placement request (CONTRACT 4.3): her organisation, or an admin.

A module of its own so that services the request module uses (the intake line) can ask it
too without an import circle.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement

from shelter_match.models import PlacementRequest
from shelter_match.services.auth import Principal


def in_organisation(actor: Principal, request: PlacementRequest) -> bool:
    """Return whether a request is the actor's own or her organisation's (CONTRACT 4.3).

    Everyone in the organisation sees and acts on its requests, so the day shift takes
    over from the night; a crisis worker without an organisation only on her own.
    """
    return request.created_by == actor.user_id or (
        actor.organisation_id is not None and request.organisation_id == actor.organisation_id)


def in_organisation_sql(actor: Principal) -> ColumnElement[bool]:
    """Return the SQL of in_organisation: requests of the actor or of her organisation."""
    if actor.organisation_id is None:
        return PlacementRequest.created_by == actor.user_id
    return or_(PlacementRequest.created_by == actor.user_id,
               PlacementRequest.organisation_id == actor.organisation_id)


def may_see(actor: Principal, request: PlacementRequest) -> bool:
    """Return whether `actor` may see and act on a request: her organisation's, or an admin."""
    return actor.is_admin or in_organisation(actor, request)
