"""places and regions: every gemeente in one region; the extent of a named danger

Revision ID: 0002
Revises: 0001
Adds region_gemeenten, filled from the shipped shelter_match/data/region_gemeenten.csv (342
gemeenten of 2023 onwards, each in one of the 35 regions), and
placement_requests.danger_radius_km (the extent of a danger given as a place name).

Create Date: 2026-12-02 01:00:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import shelter_match.models.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Read here rather than through the services: a migration must keep doing what it did when
# it was written, whatever the application code becomes.
CSV = Path(__file__).resolve().parents[2] / "data" / "region_gemeenten.csv"


def _rows() -> list[dict[str, str]]:
    lines = [line for line in CSV.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return [{"gemeente_code": r["gemeente_code"], "gemeente_name": r["gemeente_name"],
             "region_code": r["region_code"]} for r in csv.DictReader(lines)]


def upgrade() -> None:
    table = op.create_table('region_gemeenten',
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('gemeente_name', sa.String(length=100), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('updated_at', shelter_match.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_region_gemeenten_updated_by_users')),
    sa.PrimaryKeyConstraint('gemeente_code', name=op.f('pk_region_gemeenten'))
    )
    with op.batch_alter_table('region_gemeenten', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_gemeenten_region_code'), ['region_code'], unique=False)
    op.bulk_insert(table, _rows())

    with op.batch_alter_table('placement_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('danger_radius_km', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placement_requests', schema=None) as batch_op:
        batch_op.drop_column('danger_radius_km')
    with op.batch_alter_table('region_gemeenten', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_gemeenten_region_code'))
    op.drop_table('region_gemeenten')
