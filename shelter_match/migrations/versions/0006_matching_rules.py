"""matching rules: target groups, boys' age limits, children, several dangers

Revision ID: 0006
Revises: 0005
CONTRACT 4.2. A location takes in `women` (default), `men` or `all`; one created with
the v1 feature `men` takes in `all` (and keeps `men` in its features). It may set the
oldest boy it takes in with his mother. A request is for `women` (default) or `men` (a
v1 request that needs `men` is for men); it may describe its children (age and sex, no
names) and give up to four dangers beyond the first, each rounded like the first and
purged with it.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_group", sa.String(length=5), nullable=False,
                                      server_default="women"))
        batch_op.add_column(sa.Column("accepts_boys_up_to_age", sa.Integer(), nullable=True))
    # Features are a JSON array of strings; the v1 feature "men" meant "takes men too".
    op.execute("UPDATE locations SET target_group = 'all' "
               "WHERE CAST(features AS TEXT) LIKE '%\"men\"%'")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_locations_target_group"), "target_group IN ('women', 'men', 'all')")
        batch_op.create_check_constraint(
            op.f("ck_locations_accepts_boys_up_to_age"),
            "accepts_boys_up_to_age IS NULL OR accepts_boys_up_to_age BETWEEN 0 AND 17")

    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_group", sa.String(length=5), nullable=False,
                                      server_default="women"))
        batch_op.add_column(sa.Column("children_detail", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("more_dangers", sa.JSON(), nullable=True))
    op.execute("UPDATE placement_requests SET target_group = 'men' "
               "WHERE CAST(needs AS TEXT) LIKE '%\"men\"%'")
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_placement_requests_target_group"), "target_group IN ('women', 'men')")


def downgrade() -> None:
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placement_requests_target_group"), type_="check")
        batch_op.drop_column("more_dangers")
        batch_op.drop_column("children_detail")
        batch_op.drop_column("target_group")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_locations_accepts_boys_up_to_age"), type_="check")
        batch_op.drop_constraint(op.f("ck_locations_target_group"), type_="check")
        batch_op.drop_column("accepts_boys_up_to_age")
        batch_op.drop_column("target_group")
