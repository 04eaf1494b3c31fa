"""The declarative base, the database handle's shared types and time helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Predictable constraint names keep migrations reviewable and let SQLite's
# batch mode find constraints again when a table is rebuilt.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (the only kind we store)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on PostgreSQL and SQLite alike.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC and made aware again on the way out. A naive datetime is
    refused: its meaning depends on the machine that wrote it.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every model; its metadata is the one that migrations describe."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


def enum_column_type(enum_class: type, name: str) -> sa.Enum:
    """Store a Python enum by its value in a VARCHAR with a CHECK constraint.

    Values rather than member names, so the database reads like the domain; no
    native PostgreSQL enum types, so adding a value is a plain migration.
    """
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


# Models derive from Base directly; Flask-SQLAlchemy shares its metadata and
# manages engines and the request-scoped session.
db = SQLAlchemy(metadata=Base.metadata)


@contextmanager
def unit_of_work() -> Iterator[sa.orm.Session]:
    """Commit once when the block ends, roll back if it raises.

    The edges (a request that writes, a CLI command, a scheduled job) open one
    of these; services inside only add and flush.
    """
    session = db.session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def insert_for(connection: sa.Connection) -> Any:
    """The dialect's INSERT (with ON CONFLICT), for the two databases engage runs on."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def table_of(model: type[Base]) -> sa.Table:
    """A model's table, for Core statements on paths where ORM overhead matters."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


def import_models() -> None:
    """Import every model module, so the metadata describes the whole schema."""
    import engage.alerts.models  # noqa: F401
    import engage.audit.models  # noqa: F401
    import engage.auth.models  # noqa: F401
    import engage.codesign.models  # noqa: F401
    import engage.conversations.models  # noqa: F401
    import engage.instruments.models  # noqa: F401
    import engage.messaging.models  # noqa: F401
    import engage.mobile.models  # noqa: F401
    import engage.network.models  # noqa: F401
    import engage.people.models  # noqa: F401
    import engage.scheduling.models  # noqa: F401
    import engage.visits.models  # noqa: F401


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types into migrations as plain SQLAlchemy types."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_options() -> dict[str, Any]:
    """Options shared by migrations/env.py and the model-migration drift check."""
    return {
        "compare_type": True,
        "render_as_batch": True,
        "render_item": render_migration_item,
    }
