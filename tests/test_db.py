from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from engage.db import Base, utcnow
from engage.network.models import Center, Network


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is UTC


def test_timestamps_come_back_aware_in_utc(session):
    # 09:30 in UTC-5 is 14:30 UTC; the database must hand back the same instant, in UTC.
    written = datetime(2026, 3, 8, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    network = Network(slug="tz", name="Time zones", created_at=written)
    session.add(network)
    session.flush()
    session.expire_all()

    read = session.scalar(sa.select(Network.created_at).where(Network.slug == "tz"))
    assert read == written
    assert read.tzinfo == UTC
    assert (read.hour, read.minute) == (14, 30)


def test_default_timestamps_are_distinct_calls(session):
    first = Network(slug="a", name="A")
    session.add(first)
    session.flush()
    second = Network(slug="b", name="B")
    session.add(second)
    session.flush()
    assert first.created_at <= second.created_at
    assert first.created_at.tzinfo == UTC


def test_naive_datetime_is_refused(session):
    session.add(Network(slug="naive", name="Naive", created_at=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime 2026-01-01T12:00:00 refused"):
        session.flush()
    session.rollback()


def test_every_table_uses_timezone_aware_timestamps():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.DateTime):
                pytest.fail(f"{table.name}.{column.name} is a naive DateTime column")
            if column.type.python_type is datetime:
                assert column.type.impl.timezone, f"{table.name}.{column.name}"


def test_foreign_keys_are_enforced(session):
    # SQLite only enforces them with PRAGMA foreign_keys, which the engine sets on connect.
    session.add(Center(network_id=999_999, code="ORPHAN", name="Orphan", time_zone="UTC"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
