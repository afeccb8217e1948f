"""audit chain: link every audit event by hash, and guard the log against TRUNCATE

Revision ID: 0003
Revises: 0002
The chain (`audit_chain`, one link per event) lets `shelter-match audit verify` name the
first event that was altered, removed or inserted. Events already in the log are linked
here, in id order. Both tables refuse UPDATE and DELETE (triggers, both engines) and, on
PostgreSQL, TRUNCATE (a statement trigger: the row triggers do not see it). The service's
own role gets only SELECT and INSERT on them (`shelter-match db grant`).

Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_chain_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_chain_event_id")),
    )
    _link_existing_events()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD_FUNCTION)
        op.execute("CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE "
                   "ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        for table in ("audit_events", "audit_chain"):
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        # SQLite has no TRUNCATE: its DELETE without WHERE fires the row triggers.
        for statement in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_chain_no_{statement.lower()} BEFORE {statement} "
                "ON audit_chain BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END"
            )


def _link_existing_events() -> None:
    # The chain's own code, so that the links made here verify exactly like later ones.
    from shelter_match.services.audit import append_to_chain

    connection = op.get_bind()
    ids = list(connection.execute(sa.text("SELECT id FROM audit_events ORDER BY id")).scalars())
    append_to_chain(connection, ids)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_events", "audit_chain"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_append_only ON audit_chain")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_delete")
    op.drop_table("audit_chain")
