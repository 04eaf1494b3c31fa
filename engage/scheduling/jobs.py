"""The scheduler's jobs for check-ins: open what is due, remind, expire.

Each batch is one unit of work, so a scheduler killed mid-run loses at most an
uncommitted batch, which the next run claims again.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from engage.db import unit_of_work, utcnow
from engage.scheduling.dispatcher import (
    DispatchReport,
    open_due_checkins,
    start_waiting_checkins,
)
from engage.scheduling.reminders import send_reminders

log = logging.getLogger("engage.scheduling")

BATCH_SIZE = 500


def dispatch_due_checkins(
    batch_size: int = BATCH_SIZE, budget_seconds: float | None = None
) -> DispatchReport:
    """Open every due check-in, batch by batch, then start those that waited."""
    budget = budget_seconds if budget_seconds is not None else 4 * tick_seconds()
    deadline = time.monotonic() + budget
    report = DispatchReport()
    while time.monotonic() < deadline:
        with unit_of_work():
            batch = open_due_checkins(utcnow(), batch_size)
        report.add(batch)
        if batch.claimed < batch_size:
            break
    after = None
    while time.monotonic() < deadline:
        with unit_of_work():
            batch = start_waiting_checkins(utcnow(), batch_size, after)
        report.add(batch)
        if batch.claimed < batch_size:
            break
        after = batch.last_key
    if report.claimed:
        log.info(
            "dispatch: %d opened, %d waiting, %d missed, %d cancelled %s",
            report.opened,
            report.waiting,
            report.missed,
            report.cancelled,
            dict(report.by_reason),
        )
    return report


def remind_unanswered(batch_size: int = BATCH_SIZE) -> int:
    total = 0
    while True:
        with unit_of_work():
            sent = send_reminders(utcnow(), batch_size)
        total += sent
        if sent < batch_size:
            break
    if total:
        log.info("queued %d reminder(s)", total)
    return total


def tick_seconds() -> float:
    return float(current_app.config.get("SCHEDULER_TICK_SECONDS", 15))
