"""The declarative base and the column types every model shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Dialect, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so that one Alembic history produces the same names on SQLite and
# PostgreSQL and later migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Store an aware datetime as UTC; always read back an aware UTC datetime.

    SQLite has no time zones, so the value is stored naive in UTC there; PostgreSQL gets
    `timestamp with time zone`. Naive input is refused: an unknown zone is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect
                             ) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value  # PostgreSQL sessions speak UTC (db.create_database_engine)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StringList(TypeDecorator[list[str]]):
    """A JSON array of strings, always read back as a list (never None)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> list[str]:
        return list(value or [])

    def process_result_value(self, value: list[str] | None, dialect: Dialect) -> list[str]:
        return list(value or [])


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


def id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def in_list_check(column: str, values: tuple[str, ...]) -> str:
    """Return the SQL of a CHECK that `column` is one of `values`."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"
