"""System jobs run in an app context with their own units of work; the process stops cleanly."""

import logging
import signal
import time

import sqlalchemy as sa

from engage.db import db, unit_of_work
from engage.network.models import Network
from engage.scheduler import SYSTEM_JOBS, SystemJob, run_system_job
from tests.processes import development_environ, run_flask, start_flask


def test_job_ids_are_unique():
    ids = [job.id for job in SYSTEM_JOBS]
    assert len(ids) == len(set(ids))


def test_a_job_runs_in_an_app_context_and_commits(app, session):
    def add_network():
        with unit_of_work():
            db.session.add(Network(slug="from-a-job", name="Job"))

    run_system_job(app, SystemJob(id="add_network", run=add_network, every_seconds=60))
    assert session.scalar(sa.select(Network.name).where(Network.slug == "from-a-job")) == "Job"


def test_a_failing_job_rolls_back_and_is_logged(app, session, caplog):
    def add_then_fail():
        with unit_of_work():
            db.session.add(Network(slug="half-done", name="Half"))
            db.session.flush()
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="engage.scheduler"):
        run_system_job(app, SystemJob(id="add_then_fail", run=add_then_fail, every_seconds=60))
    assert session.scalar(sa.select(Network).where(Network.slug == "half-done")) is None
    assert "job add_then_fail failed" in caplog.text


def test_scheduler_process_stops_cleanly_on_sigterm(tmp_path):
    environ = development_environ(tmp_path / "scheduler.sqlite3")
    assert run_flask("db", "upgrade", environ=environ).returncode == 0
    process = start_flask("engage", "scheduler", environ=environ)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        started = False
        lines = []
        while time.monotonic() < deadline and not started:
            line = process.stdout.readline()
            lines.append(line)
            started = "scheduler started" in line
        assert started, "".join(lines)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "scheduler stopping on SIGTERM" in output
    assert "scheduler stopped" in output
    assert "Traceback" not in output


def test_the_expiry_job_closes_check_ins_past_their_window(app, session):
    from datetime import timedelta

    from engage.conversations.models import CheckIn, CheckInStatus
    from engage.conversations.services import open_checkin
    from engage.db import utcnow
    from engage.demo.seed import seed_demo
    from engage.instruments.services import get_instrument
    from engage.people.models import Patient

    seed_demo()
    noah = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
    checkin = open_checkin(noah, get_instrument("ibd-symptoms"), now=utcnow() - timedelta(days=2))
    session.commit()
    [job] = [job for job in SYSTEM_JOBS if job.id == "expire_stale_checkins"]
    run_system_job(app, job)
    session.expire_all()
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.MISSED
    assert session.get(CheckIn, checkin.id).close_reason == "no_answer"
