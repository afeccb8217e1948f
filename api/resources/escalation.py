"""The duty officers' API: escalations and overrides; notification channels.

The waiting list (GET /waitlist) is api.resources.waitlist, for duty officers too.

Pseudonymous throughout: case references, risk levels and regions, never a place, a
unit or an address. A request outside a duty officer's regions reads as unknown (404).
"""

from flask.views import MethodView

from api.auth import current_principal, now
from api.database import db_session
from api.schemas.escalation import (
    ChannelInSchema,
    ChannelSchema,
    DeliveryAttemptSchema,
    EscalationQueryArgsSchema,
    EscalationSchema,
    OverrideInSchema,
    OverridesSchema,
)
from api.smorest import Blueprint
from shelter_match.services import delivery, escalation, notifications, overrides

blp = Blueprint("escalation", __name__, url_prefix="/api/v1",
                description="The duty officers' view: escalations, the waiting list and "
                            "overrides; where notifications go.")


@blp.route("/escalations")
class Escalations(MethodView):
    @blp.requires("duty_officer", "admin")
    @blp.arguments(EscalationQueryArgsSchema, location="query")
    @blp.response(200, EscalationSchema(many=True))
    def get(self, args):
        """List the escalated requests of my regions, the longest waiting first.

        A request open or waiting `policy.escalation_minutes[risk_level]` without a
        placement is escalated to its origin region's duty officers from that moment, and
        after twice that to the national duty (a duty officer without regions). An expired
        offer or a no-show escalates at once. A region outside your duty: 404.
        """
        return escalation.list_escalations(db_session(), actor=current_principal(), now=now(),
                                           region_code=args.get("region_code"))


@blp.route("/placement-requests/<request_id>/overrides")
class RequestOverrides(MethodView):
    @blp.requires("duty_officer", "admin")
    @blp.arguments(OverrideInSchema)
    @blp.response(200, OverridesSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such request in your "
                      "regions.")
    @blp.alt_response(409, response="CONFLICT", description="The request is closed, or "
                      "not rood.")
    def post(self, data, request_id):
        """Let one rood request be placed in her origin region, with a reason (audited).

        The one rule an override lifts; no override lowers a minimum distance or a safety
        level. Shown on the request (`overrides`).
        """
        found = overrides.add_override(
            db_session(), request_id, rood_in_origin_region=data["rood_in_origin_region"],
            reason=data["reason"], actor=current_principal(), now=now())
        return {"request_id": request_id, "overrides": found}


@blp.route("/notification-channels")
class NotificationChannels(MethodView):
    @blp.requires("admin")
    @blp.response(200, ChannelSchema(many=True))
    def get(self):
        """List where each audience is told (never a webhook secret)."""
        return notifications.list_channels(db_session())


@blp.route("/notification-channels/<audience>")
class NotificationChannelByAudience(MethodView):
    @blp.requires("admin")
    @blp.response(200, ChannelSchema)
    def get(self, audience):
        """Show where an audience is told."""
        return notifications.get_channel(db_session(), audience)

    @blp.requires("admin")
    @blp.arguments(ChannelInSchema)
    @blp.response(200, ChannelSchema)
    def put(self, data, audience):
        """Set where an audience is told: e-mail and/or a signed webhook (audited).

        `audience`: `organisation:<id>`, `duty:<region code>` or `duty:national`. A webhook
        receives JSON signed with HMAC-SHA256 over `<timestamp>.<body>`
        (`X-Shelter-Match-Timestamp`, `X-Shelter-Match-Signature: sha256=<hex>`).
        """
        return notifications.set_channel(
            db_session(), audience, email=data["email"], webhook_url=data["webhook_url"],
            webhook_secret=data["webhook_secret"], actor=current_principal(), now=now())


@blp.route("/notification-deliveries")
class NotificationDeliveries(MethodView):
    @blp.requires("admin")
    @blp.response(200, DeliveryAttemptSchema(many=True))
    def get(self):
        """List the newest delivery attempts: every e-mail and webhook try, failed or not."""
        return delivery.delivery_log(db_session())
