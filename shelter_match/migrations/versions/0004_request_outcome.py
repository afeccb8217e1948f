"""request outcome: why a request closed without a placement

Revision ID: 0004
Revises: 0003
`outcome` is set exactly when a request is cancelled (CONTRACT 4.3: ambulant_support,
own_network, client_withdrew, placed_outside_service, no_place_found, other). Requests
cancelled before this revision had no recorded reason: they get `other`, the contract's
default.

Create Date: 2026-12-02 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("ambulant_support", "own_network", "client_withdrew", "placed_outside_service",
            "no_place_found", "other")


def upgrade() -> None:
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=30), nullable=True))
    op.execute("UPDATE placement_requests SET outcome = 'other' WHERE status = 'cancelled'")
    listed = ", ".join(f"'{outcome}'" for outcome in OUTCOMES)
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_placement_requests_outcome"), f"outcome IS NULL OR outcome IN ({listed})")
        batch_op.create_check_constraint(
            op.f("ck_placement_requests_outcome_when_cancelled"),
            "(status = 'cancelled') = (outcome IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placement_requests_outcome_when_cancelled"),
                                 type_="check")
        batch_op.drop_constraint(op.f("ck_placement_requests_outcome"), type_="check")
        batch_op.drop_column("outcome")
