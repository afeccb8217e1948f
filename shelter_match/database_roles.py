"""Give the service's own PostgreSQL role what it needs and no more (`db grant`).

Two roles run a PostgreSQL installation: the owner, who runs the migrations and owns every
table, and the service role, which owns nothing. A role that owns a table can do anything
to it: disable its triggers, truncate it, drop it. So the service runs as a role that owns
nothing and is given, table by table, SELECT/INSERT/UPDATE/DELETE; on the audit log only
SELECT and INSERT, and on the migration history only SELECT. Run this as the owner after
every `db upgrade` (new tables need their grants); running it twice is harmless.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

from shelter_match.errors import ShelterMatchError, ValidationFailed

# Written once, never changed or removed, also not by the service.
APPEND_ONLY_TABLES = frozenset({"audit_events", "audit_chain"})
# Only migrations change these.
READ_ONLY_TABLES = frozenset({"alembic_version"})
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def runs_as_owner(engine: Engine) -> bool:
    """Return whether this PostgreSQL connection's role owns the audit log or is a superuser.

    Such a role can switch the log's guards off; the service should never run as one.
    """
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT r.rolsuper OR coalesce(t.tableowner = current_user, false) "
            "FROM pg_roles r LEFT JOIN pg_tables t ON t.tablename = 'audit_events' "
            "AND t.schemaname = current_schema() WHERE r.rolname = current_user"
        )).scalar())


def table_privileges(table: str) -> str:
    """Return the privileges the service role gets on `table`."""
    if table in APPEND_ONLY_TABLES:
        return "SELECT, INSERT"
    if table in READ_ONLY_TABLES:
        return "SELECT"
    return "SELECT, INSERT, UPDATE, DELETE"


def grant_service_role(engine: Engine, role: str) -> list[str]:
    """Grant `role` the service's privileges on this database; return the statements run."""
    if engine.dialect.name != "postgresql":
        raise ShelterMatchError("`db grant` is for PostgreSQL; SQLite has no roles")
    if not ROLE_NAME.match(role):
        raise ValidationFailed({"role": ["Must be a PostgreSQL role name: lower-case letters, "
                                         "digits and '_', starting with a letter or '_'."]})
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT rolsuper, rolbypassrls, current_user AS me, "
                 "pg_has_role(:role, current_user, 'MEMBER') AS inherits_owner "
                 "FROM pg_roles WHERE rolname = :role"),
            {"role": role},
        ).first()
        if found is None:
            raise ShelterMatchError(f"there is no database role {role!r}; create it first "
                                    "(see deploy/roles.sql)")
        if role == found.me:
            raise ShelterMatchError("run `db grant` as the owner of the tables, for the "
                                    "service's own role, not for yourself")
        if found.rolsuper or found.rolbypassrls or found.inherits_owner:
            raise ShelterMatchError(f"role {role!r} is a superuser or a member of the owner "
                                    f"{found.me!r}; the service role must be neither")
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        owned = connection.execute(
            text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = :schema AND pg_get_userbyid(c.relowner) = :role"),
            {"schema": schema, "role": role},
        ).scalar_one()
        if owned:
            raise ShelterMatchError(f"role {role!r} owns {owned} table(s) or sequence(s) here; "
                                    "the service role must own nothing")
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                 "ORDER BY tablename"), {"schema": schema}
        ).scalars().all()
        quote = connection.dialect.identifier_preparer.quote
        database = connection.execute(text("SELECT current_database()")).scalar_one()
        who, where = quote(role), quote(schema)
        statements = [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
            f"GRANT CONNECT ON DATABASE {quote(database)} TO {who}",
            f"GRANT USAGE ON SCHEMA {where} TO {who}",
            *(f"GRANT {table_privileges(table)} ON {where}.{quote(table)} TO {who}"
              for table in tables),
            # Ids of the log and history tables come from sequences.
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
        ]
        for statement in statements:
            connection.execute(text(statement))
    return statements
