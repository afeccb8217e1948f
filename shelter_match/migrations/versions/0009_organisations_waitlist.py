"""organisations: crisis workers of one organisation share its requests

Revision ID: 0009
Revises: 0004
CONTRACT 4.3: a crisis worker belongs to an organisation (a Veilig Thuis, a crisis
service); everyone in it sees and acts on its requests. Users and requests made before
this revision have none: each crisis worker stays her own, as in v1.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shelter_match.models.base

revision: str = "0009"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    for table in ("users", "placement_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("organisation_id", sa.String(length=36),
                                          nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_organisation_id"),
                                  ["organisation_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_organisation_id_organisations"), "organisations",
                ["organisation_id"], ["id"])


def downgrade() -> None:
    for table in ("placement_requests", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_organisation_id_organisations"),
                                     type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_organisation_id"))
            batch_op.drop_column("organisation_id")
    op.drop_table("organisations")
