"""quotas and signals: per-user quotas, point-digest keys, an index to count by user

Revision ID: 0008
Revises: 0007
`user_quotas` holds the quotas an admin gave one user (null: the policy's). Quotas are
counted from the audit log (proposals) and the requests themselves, so the audit log
gains an index on (actor_id, action, at). `point_digest_keys` holds the day's secret
that keys the audit's digests of danger and current points (erased by the retention
run, after which the digests say nothing about any place).

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shelter_match.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_quotas",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("requests_per_hour", sa.Integer(), nullable=True),
        sa.Column("proposals_per_hour", sa.Integer(), nullable=True),
        sa.Column("updated_at", shelter_match.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.CheckConstraint("requests_per_hour IS NULL OR requests_per_hour >= 0",
                           name=op.f("ck_user_quotas_requests_per_hour")),
        sa.CheckConstraint("proposals_per_hour IS NULL OR proposals_per_hour >= 0",
                           name=op.f("ck_user_quotas_proposals_per_hour")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_user_quotas_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_quotas")),
    )
    op.create_table(
        "point_digest_keys",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_point_digest_keys")),
    )
    op.create_index("ix_audit_events_actor_id_action_at", "audit_events",
                    ["actor_id", "action", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_events_actor_id_action_at", table_name="audit_events")
    op.drop_table("point_digest_keys")
    op.drop_table("user_quotas")
