"""organisations and the waiting list: shared requests, offers, the matcher's outbox

Revision ID: 0009
Revises: 0008
CONTRACT 4.3: a crisis worker belongs to an organisation (a Veilig Thuis, a crisis
service); everyone in it sees and acts on its requests. Users and requests made before
this revision have none: each crisis worker stays her own, as in v1.
CONTRACT 4.4: a request may wait (status `waiting`, `waiting_since`); the matcher's
offers are holds marked `offer`; `matcher_wakeups` is the outbox that wakes it and
`immediate_escalations` what it escalates at once.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shelter_match.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STATUSES_BEFORE = "status IN ('open', 'placed', 'cancelled')"
STATUSES_AFTER = "status IN ('open', 'waiting', 'placed', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", shelter_match.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    # On SQLite these rebuild users and placement_requests; shelter_match.migrate runs
    # migrations there with foreign keys off (and checks them after), so that dropping the
    # old tables neither fails on the rows that refer to them nor cascades to tokens.
    for table in ("users", "placement_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("organisation_id", sa.String(length=36),
                                          nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_organisation_id"),
                                  ["organisation_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_organisation_id_organisations"), "organisations",
                ["organisation_id"], ["id"])

    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "waiting_since", shelter_match.models.base.UTCDateTime(timezone=True),
            nullable=True))
        batch_op.drop_constraint(op.f("ck_placement_requests_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_placement_requests_status"), STATUSES_AFTER)
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        "matcher_wakeups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", shelter_match.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_wakeups")),
    )
    op.create_table(
        "immediate_escalations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("hold_id", sa.String(length=36), nullable=True),
        sa.Column("why", sa.String(length=30), nullable=False),
        sa.Column("created_at", shelter_match.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"],
                                name=op.f("fk_immediate_escalations_hold_id_holds")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["placement_requests.id"],
            name=op.f("fk_immediate_escalations_request_id_placement_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immediate_escalations")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_immediate_escalations_hold_id")),
    )
    with op.batch_alter_table("immediate_escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_immediate_escalations_request_id"),
                              ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("immediate_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_immediate_escalations_request_id"))
    op.drop_table("immediate_escalations")
    op.drop_table("matcher_wakeups")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("offer")
    # A waiting request goes back to open: v1 has no waiting list.
    op.execute("UPDATE placement_requests SET status = 'open' WHERE status = 'waiting'")
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placement_requests_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_placement_requests_status"), STATUSES_BEFORE)
        batch_op.drop_column("waiting_since")
    for table in ("placement_requests", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_organisation_id_organisations"),
                                     type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_organisation_id"))
            batch_op.drop_column("organisation_id")
    op.drop_table("organisations")
