"""The declarative base, the database handle's shared types and time helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


class ClockShift:
    """Seconds added to this process's clock, read from a file that another process may rewrite.

    For rehearsals and tests of several processes (CLOCK_OFFSET_FILE): every process that
    names the same file sees the same simulated time. Re-read whenever the file changes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: tuple[int, int] | None = None
        self.seconds = 0.0

    def offset(self) -> timedelta:
        try:
            status = os.stat(self.path)
        except OSError:
            return timedelta(seconds=self.seconds)
        if (status.st_mtime_ns, status.st_size) != self.seen:
            try:
                text = Path(self.path).read_text().strip()
                self.seconds = float(text) if text else 0.0
                self.seen = (status.st_mtime_ns, status.st_size)
            except (OSError, ValueError):
                pass  # mid-write: keep the last offset and look again next time
        return timedelta(seconds=self.seconds)


_clock_shift: ClockShift | None = None


def shift_clock(path: str | None) -> None:
    """Make utcnow() follow the offset in ``path`` (None: the real clock)."""
    global _clock_shift
    _clock_shift = ClockShift(path) if path else None


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (the only kind we store)."""
    now = datetime.now(UTC)
    return now if _clock_shift is None else now + _clock_shift.offset()


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
