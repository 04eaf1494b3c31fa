"""The registry of system jobs, and the two ways to run them.

Schedules are data: per-patient due times live in database rows, and the jobs
declared here claim whatever is due. A dedicated ``flask engage scheduler``
process runs them in production; ``flask engage serve`` runs them in-process
beside the development server. Web workers never run them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from types import FrameType

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from engage import announce_start
from engage.config import ConfigurationError, listen_address
from engage.db import unit_of_work
from engage.health.startup import check_database_at_start
from engage.monitoring.jobs import JOB_BOOK_KEY, JobBook, record_job_run
from engage.monitoring.logs import job_run, log_job_run
from engage.monitoring.server import start_scheduler_http

log = logging.getLogger("engage.scheduler")


@dataclass(frozen=True)
class SystemJob:
    """A periodic job, called inside an app context; it opens its own units of work.

    ``every_seconds`` None: every SCHEDULER_TICK_SECONDS.
    """

    id: str
    run: Callable[[], object]
    every_seconds: float | None = None


def open_due_checkins() -> None:
    """Open the check-ins that schedules say are due, and start those that waited."""
    from engage.scheduling.jobs import dispatch_due_checkins

    dispatch_due_checkins()


def send_outbox() -> None:
    """Hand queued messages to Twilio (nothing leaves the machine without Twilio settings)."""
    from engage.messaging.sender import send_outbox as send

    send()


def send_reminders() -> None:
    """Remind once about a check-in nobody has answered."""
    from engage.scheduling.jobs import remind_unanswered

    remind_unanswered()


def notify_new_alerts() -> None:
    """Tell centers about new alerts through their webhook or e-mail, when configured."""
    from engage.alerts.notices import notify_new_alerts as notify

    told = notify()
    if told:
        log.info("announced %d new alert(s)", told)


def expire_stale_checkins() -> None:
    """Close check-ins whose answering window has passed (expired or missed)."""
    from engage.conversations.services import expire_stale_checkins as expire

    with unit_of_work():
        closed = expire()
    if closed:
        log.info("closed %d check-in(s) past their window", closed)


def send_ideas_digest() -> None:
    """Send last week's digest of the ideas backlog once, when a webhook or e-mail is set."""
    from engage.codesign.digest import digest_configured, send_weekly_digest

    if digest_configured():
        outcome = send_weekly_digest()
        if not outcome.startswith("already"):
            log.info("ideas digest: %s", outcome)


def purge_expired_data() -> None:
    """Apply the retention policy: old inbound texts emptied, expired sign-in records gone."""
    from engage.retention.services import purge_expired_data as purge
    from engage.retention.services import summary

    with unit_of_work():
        report = purge()
    if report.total:
        log.info("retention purge: %s", summary(report))


# Every periodic job of the service, with a stable id named after its function.
# Capabilities that need time-driven work add their job here.
SYSTEM_JOBS: tuple[SystemJob, ...] = (
    SystemJob(id="open_due_checkins", run=open_due_checkins),
    SystemJob(id="send_outbox", run=send_outbox),
    SystemJob(id="send_reminders", run=send_reminders, every_seconds=300),
    SystemJob(id="notify_new_alerts", run=notify_new_alerts),
    SystemJob(id="expire_stale_checkins", run=expire_stale_checkins, every_seconds=300),
    SystemJob(id="send_ideas_digest", run=send_ideas_digest, every_seconds=3600),
    SystemJob(id="purge_expired_data", run=purge_expired_data, every_seconds=3600),
)


def run_system_job(app: Flask, job: SystemJob) -> None:
    """Run one job in its own app context; log a failure and leave the next run to retry.

    Every line logged during the run carries the run's id, and the run ends with one
    ``job`` line (see engage/monitoring/logs.py).
    """
    with job_run():
        started = time.monotonic()
        outcome = "ok"
        with app.app_context():
            try:
                job.run()
            except Exception:
                outcome = "failed"
                log.exception("job %s failed", job.id)
        seconds = time.monotonic() - started
        record_job_run(job.id, seconds, outcome, app.extensions.get(JOB_BOOK_KEY))
        log_job_run(job.id, outcome, seconds)


def build_scheduler(app: Flask, jobs: Sequence[SystemJob] = SYSTEM_JOBS) -> BackgroundScheduler:
    """An APScheduler running ``jobs``; the app's job book learns what to expect of them."""
    scheduler = BackgroundScheduler(timezone=UTC)
    tick = float(app.config.get("SCHEDULER_TICK_SECONDS", 15))
    intervals = app.config.get("SCHEDULER_JOB_SECONDS") or {}
    unknown = sorted(set(intervals) - {job.id for job in jobs})
    if unknown:
        raise ConfigurationError(
            f"SCHEDULER_JOB_SECONDS names no system job: {', '.join(unknown)} "
            f"(the jobs are {', '.join(job.id for job in jobs)})"
        )
    book = JobBook()
    for job in jobs:
        every = intervals.get(job.id) or job.every_seconds or tick
        book.expect(job.id, every)
        scheduler.add_job(
            run_system_job,
            "interval",
            seconds=every,
            args=[app, job],
            id=job.id,
            name=job.id,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    app.extensions[JOB_BOOK_KEY] = book
    return scheduler


@click.command("scheduler")
@with_appcontext
@click.option(
    "--http",
    "http_address",
    metavar="HOST:PORT",
    help="Serve /metrics, /readyz and /healthz here (default: SCHEDULER_HTTP_ADDRESS; "
    "neither: no HTTP server).",
)
def scheduler_command(http_address: str | None) -> None:
    """Run the system jobs in this process until SIGTERM or Ctrl-C."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    check_database_at_start(app, need_current_schema=True)
    address = listen_address(http_address) if http_address else app.config["SCHEDULER_HTTP_ADDRESS"]
    announce_start(app)
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler stopping on %s", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler = build_scheduler(app)
    http_server = start_scheduler_http(app, address) if address else None
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in SYSTEM_JOBS) or "none")
    while not stop_requested.wait(timeout=1.0):
        pass
    # Let a running job finish its unit of work before the process exits.
    scheduler.shutdown(wait=True)
    if http_server is not None:
        http_server.shutdown()
    log.info("scheduler stopped")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the web app for development, with the system jobs in-process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    check_database_at_start(app, need_current_schema=True)
    announce_start(app)
    scheduler = build_scheduler(app)
    scheduler.start()
    log.info("in-process scheduler started; serving on http://%s:%s", host, port)
    try:
        # No reloader: it would start a second process with a second scheduler.
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        scheduler.shutdown(wait=True)
