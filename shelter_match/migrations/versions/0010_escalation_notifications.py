"""escalation and notifications: duty officers, overrides, the notification outbox

Revision ID: 0010
Revises: 0009
A new role, `duty_officer`, scoped to regions (`user_duty_regions`; none: the national
duty). Escalations by time are computed, never stored; those at once are the rows of 0009's
`immediate_escalations`. `request_overrides` holds a
duty officer's per-request exceptions with her reason. The notification outbox:
`notification_channels` (where an audience is told), `notifications` (one event for one
audience), `notification_deliveries` (per channel, retried) and `delivery_attempts`.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shelter_match.models.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("crisis_worker", "coordinator", "region_reviewer", "admin")
NEW_ROLES = ("crisis_worker", "coordinator", "region_reviewer", "duty_officer", "admin")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # On SQLite `users` is rebuilt to change its CHECK; shelter_match.migrate runs the
    # upgrade with foreign keys off so that dropping the old table cascades nothing.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", NEW_ROLES))
    op.create_table(
        "user_duty_regions",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_user_duty_regions_user_id_users")),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"],
                                name=op.f("fk_user_duty_regions_region_code_regions")),
        sa.PrimaryKeyConstraint("user_id", "region_code", name=op.f("pk_user_duty_regions")),
    )
    op.create_table(
        "request_overrides",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("rood_in_origin_region", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["placement_requests.id"],
                                name=op.f("fk_request_overrides_request_id_placement_requests")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_request_overrides_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_overrides")),
    )
    op.create_index(op.f("ix_request_overrides_request_id"), "request_overrides",
                    ["request_id"])
    op.create_table(
        "notification_channels",
        sa.Column("audience", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=op.f("fk_notification_channels_updated_by_users")),
        sa.PrimaryKeyConstraint("audience", name=op.f("pk_notification_channels")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=60), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("link_path", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("event IN ('offer_made', 'escalation', 'no_show')",
                           name=op.f("ck_notifications_event")),
        sa.ForeignKeyConstraint(["request_id"], ["placement_requests.id"],
                                name=op.f("fk_notifications_request_id_placement_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index(op.f("ix_notifications_audience"), "notifications", ["audience"])
    op.create_index(op.f("ix_notifications_request_id"), "notifications", ["request_id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'webhook')",
                           name=op.f("ck_notification_deliveries_channel")),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')",
                           name=op.f("ck_notification_deliveries_status")),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index("ix_notification_deliveries_due", "notification_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index(op.f("ix_notification_deliveries_notification_id"),
                    "notification_deliveries", ["notification_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["notification_deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_notification_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(op.f("ix_delivery_attempts_delivery_id"), "delivery_attempts",
                    ["delivery_id"])


def downgrade() -> None:
    for table in ("delivery_attempts", "notification_deliveries", "notifications",
                  "notification_channels", "request_overrides",
                  "user_duty_regions"):
        op.drop_table(table)
    # The old CHECK knows no duty officers: they become disabled reviewers (no client data).
    op.execute("UPDATE users SET role = 'region_reviewer', "
               "disabled_at = COALESCE(disabled_at, CURRENT_TIMESTAMP) "
               "WHERE role = 'duty_officer'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", OLD_ROLES))
