"""The data model. Import models from here: `from shelter_match.models import Unit`."""

from shelter_match.models.base import Base, new_id
from shelter_match.models.escalation import (
    DeliveryAttempt,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    RequestOverride,
    user_duty_regions,
)
from shelter_match.models.network import UNIT_CHANGE_CAUSES, Location, Region, Unit, UnitChange
from shelter_match.models.people import (
    ROLES,
    ApiToken,
    Organisation,
    User,
    WebSession,
    user_locations,
)
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
from shelter_match.models.waitlist import ImmediateEscalation, MatcherWakeup

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
    "DeliveryAttempt",
    "Hold",
    "IdempotencyKey",
    "ImmediateEscalation",
    "Location",
    "MatcherWakeup",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "Organisation",
    "Placement",
    "PlacementRequest",
    "PointDigestKey",
    "PolicyRecord",
    "Region",
    "RegionGemeente",
    "RequestOverride",
    "Unit",
    "UnitChange",
    "User",
    "WebSession",
    "UserQuota",
    "new_id",
    "user_duty_regions",
    "user_locations",
]
