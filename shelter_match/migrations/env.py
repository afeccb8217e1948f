"""Alembic environment: one history for SQLite and PostgreSQL.

The connection is passed in by shelter_match.migrate through `config.attributes`, so the
same code serves the CLI, the tests and `alembic` itself.
"""

from alembic import context

from shelter_match.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `shelter-match db upgrade`")
run_migrations_online()
