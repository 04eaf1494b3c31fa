"""A scheduler process serves its own /metrics, /readyz and /healthz, and says when jobs lag."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

from engage.monitoring.jobs import JOB_BOOK_KEY, JobBook
from tests.processes import development_environ, run_flask, start_flask


def test_job_book_reports_jobs_that_have_not_finished_within_three_intervals():
    book = JobBook(started=1000.0)
    book.expect("send_outbox", 15)
    book.expect("send_ideas_digest", 3600)
    assert book.late_jobs(now=1000.0 + 3 * 15 + 59) == []
    late = book.late_jobs(now=1000.0 + 3 * 15 + 61)
    assert late == ["send_outbox last finished 106s ago"]
    book.finished("send_outbox")
    assert book.late_jobs() == []


def test_readyz_of_a_process_with_a_scheduler_names_the_late_jobs(app, client):
    book = JobBook(started=time.monotonic() - 1000)
    book.expect("send_outbox", 15)
    app.extensions[JOB_BOOK_KEY] = book
    try:
        late = client.get("/readyz")
        assert late.status_code == 503
        assert late.get_json()["checks"]["scheduler"].startswith("jobs are late: send_outbox")
        book.finished("send_outbox")  # a failed run too: the scheduler runs
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.get_json()["checks"]["scheduler"] == "ok"
    finally:
        app.extensions.pop(JOB_BOOK_KEY)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_scheduler_process_serves_metrics_and_readiness(tmp_path):
    environ = {**development_environ(tmp_path / "s.sqlite3"), "SCHEDULER_TICK_SECONDS": "1"}
    assert run_flask("db", "upgrade", environ=environ).returncode == 0
    process = start_flask("engage", "scheduler", "--http", "127.0.0.1:0", environ=environ)
    try:
        assert process.stdout is not None
        base, lines = None, []
        deadline = time.monotonic() + 30
        while base is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            base = found.group(1) if found else None
        assert base, "".join(lines)

        status, body = get(base + "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        deadline = time.monotonic() + 20
        ran = False
        while not ran and time.monotonic() < deadline:
            status, text = get(base + "/metrics")
            assert status == 200, text
            ran = 'engage_job_runs_total{job="send_outbox",outcome="ok"}' in text
            time.sleep(0.3)
        assert ran, text
        assert "engage_job_duration_seconds_bucket" in text
        assert "engage_outbox_depth" in text  # the database's figures too
        status, body = get(base + "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["scheduler"] == "ok"
        assert get(base + "/other")[0] == 404
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_a_scheduler_address_in_use_stops_start_up_with_one_line(tmp_path):
    import socket

    environ = development_environ(tmp_path / "s.sqlite3")
    assert run_flask("db", "upgrade", environ=environ).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_flask("engage", "scheduler", "--http", f"127.0.0.1:{port}", environ=environ)
    assert result.returncode != 0
    assert f"SCHEDULER_HTTP_ADDRESS 127.0.0.1:{port} cannot be used" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert isinstance(result, subprocess.CompletedProcess)
