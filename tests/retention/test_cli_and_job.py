"""``flask engage purge [--dry-run]`` and the hourly job run the same policy at the real time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.db import utcnow
from engage.demo.history import seed_history
from engage.messaging.models import Direction, Message
from engage.retention.services import AUDIT_ACTION
from engage.scheduler import SYSTEM_JOBS, run_system_job


@pytest.fixture
def texts_long_ago(demo, session) -> int:
    """Eight answered weeks ending 200 days ago; the number of inbound texts."""
    seed_history(now=utcnow() - timedelta(days=200))
    session.commit()
    return len(inbound_bodies(session))


def inbound_bodies(session) -> list[str]:
    return list(
        session.scalars(
            sa.select(Message.body)
            .where(Message.direction == Direction.INBOUND)
            .order_by(Message.id)
        )
    )


def purge_events(session) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION)))


def counted(output: str, verb: str, label: str) -> int:
    match = re.search(rf"^{verb} +(\d+) {re.escape(label)} \(", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


def test_a_dry_run_prints_what_would_go_then_the_purge_does_it(runner, texts_long_ago, session):
    before = inbound_bodies(session)
    dry = runner.invoke(args=["engage", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert counted(dry.output, "would purge", "inbound message bodies") == texts_long_ago
    cutoff = (utcnow() - timedelta(days=90)).strftime("%Y-%m-%d")
    assert f"inbound message bodies (received before {cutoff} " in dry.output
    assert "dry run: nothing was changed" in dry.output
    session.expire_all()
    assert inbound_bodies(session) == before and all(before)
    assert purge_events(session) == []

    real = runner.invoke(args=["engage", "purge"])
    assert real.exit_code == 0, real.output
    assert counted(real.output, "purged", "inbound message bodies") == texts_long_ago
    assert counted(real.output, "purged", "raw texts of answers") == counted(
        dry.output, "would purge", "raw texts of answers"
    )
    session.expire_all()
    assert set(inbound_bodies(session)) == {""}
    [event] = purge_events(session)
    assert "(flask engage purge): inbound_bodies " in event.detail

    again = runner.invoke(args=["engage", "purge"])
    assert again.exit_code == 0, again.output
    assert "nothing to purge" in again.output
    assert counted(again.output, "purged", "inbound message bodies") == 0


def test_the_scheduler_purges_every_hour(app, texts_long_ago, session):
    [job] = [job for job in SYSTEM_JOBS if job.id == "purge_expired_data"]
    assert job.every_seconds == 3600
    run_system_job(app, job)
    session.expire_all()
    assert set(inbound_bodies(session)) == {""}
    [event] = purge_events(session)
    assert event.detail.startswith("by scheduler: ")
