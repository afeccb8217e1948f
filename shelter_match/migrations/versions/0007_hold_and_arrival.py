"""hold and arrival: intake phone, a hold extended once, arrivals and no-shows

Revision ID: 0007
Revises: 0006
- `locations.intake_phone`: the location's 24/7 intake line (E.164), shown to a crisis
  worker on her holds and offers only.
- `holds.extended_at`: a hold may be extended once (policy.hold_extension_minutes).
- `placements.arrival_status` (`on_the_way`, `arrived`, `no_show`), with who marked it
  and when. Placements made before this revision are taken as `arrived`: nobody is on the
  way from before. A no-show reopens its request, which may then be placed again, so the
  unique `request_id` becomes unique among placements that are not no-shows.
- `unit_changes.cause` gains `extend` and `no_show`.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CAUSES = ("created", "manual", "hold", "release", "expire", "confirm", "discharge",
              "cancel")
NEW_CAUSES = (*OLD_CAUSES, "extend", "no_show")
NOT_NO_SHOW = sa.text("arrival_status != 'no_show'")


def _in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_phone", sa.String(length=16), nullable=True))
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extended_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrival_status", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("arrival_marked_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("arrival_marked_by", sa.String(length=36),
                                      nullable=True))
    op.execute("UPDATE placements SET arrival_status = 'arrived'")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.alter_column("arrival_status", existing_type=sa.String(length=10),
                              nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_placements_arrival_status"),
            _in_list("arrival_status", ("on_the_way", "arrived", "no_show")))
        batch_op.create_foreign_key(op.f("fk_placements_arrival_marked_by_users"), "users",
                                    ["arrival_marked_by"], ["id"])
        batch_op.drop_constraint(op.f("uq_placements_request_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_placements_request_id"), ["request_id"],
                              unique=False)
        batch_op.create_index("uq_placements_request_not_no_show", ["request_id"],
                              unique=True, postgresql_where=NOT_NO_SHOW,
                              sqlite_where=NOT_NO_SHOW)
    with op.batch_alter_table("unit_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_unit_changes_cause"), type_="check")
        batch_op.create_check_constraint(op.f("ck_unit_changes_cause"),
                                         _in_list("cause", NEW_CAUSES))


def downgrade() -> None:
    with op.batch_alter_table("unit_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_unit_changes_cause"), type_="check")
        batch_op.create_check_constraint(op.f("ck_unit_changes_cause"),
                                         _in_list("cause", OLD_CAUSES))
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index("uq_placements_request_not_no_show", postgresql_where=NOT_NO_SHOW,
                            sqlite_where=NOT_NO_SHOW)
        batch_op.drop_index(batch_op.f("ix_placements_request_id"))
        batch_op.create_unique_constraint(op.f("uq_placements_request_id"), ["request_id"])
        batch_op.drop_constraint(op.f("fk_placements_arrival_marked_by_users"),
                                 type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_placements_arrival_status"), type_="check")
        batch_op.drop_column("arrival_marked_by")
        batch_op.drop_column("arrival_marked_at")
        batch_op.drop_column("arrival_status")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("extended_at")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("intake_phone")
