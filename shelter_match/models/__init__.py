"""The data model. Import models from here: `from shelter_match.models import Unit`."""

from shelter_match.models.base import Base, new_id
from shelter_match.models.network import UNIT_CHANGE_CAUSES, Location, Region, Unit, UnitChange
from shelter_match.models.people import ROLES, ApiToken, User, WebSession, user_locations
from shelter_match.models.placements import (
    ARRIVAL_STATUSES,
    HOLD_STATUSES,
    OUTCOMES,
    REQUEST_STATUSES,
    Hold,
    Placement,
    PlacementRequest,
)
from shelter_match.models.places import RegionGemeente
from shelter_match.models.records import (
    AuditEvent,
    AuditLink,
    AuthFailureWindow,
    IdempotencyKey,
    PointDigestKey,
    PolicyRecord,
    UserQuota,
)

__all__ = [
    "ARRIVAL_STATUSES",
    "HOLD_STATUSES",
    "OUTCOMES",
    "REQUEST_STATUSES",
    "ROLES",
    "UNIT_CHANGE_CAUSES",
    "ApiToken",
    "AuditEvent",
    "AuditLink",
    "AuthFailureWindow",
    "Base",
    "Hold",
    "IdempotencyKey",
    "Location",
    "Placement",
    "PlacementRequest",
    "PointDigestKey",
    "PolicyRecord",
    "Region",
    "RegionGemeente",
    "Unit",
    "UnitChange",
    "User",
    "WebSession",
    "UserQuota",
    "new_id",
    "user_locations",
]
