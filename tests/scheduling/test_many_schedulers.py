"""Three scheduler processes share 5,000 due check-ins on PostgreSQL; one is killed mid-run.

Everything runs as it does in production: ``flask engage scheduler`` processes
(dispatcher and sender jobs) against one database, sending through the real
twilio library to a fake Twilio REST server on loopback. One process is killed
with SIGKILL while messages are being handed over, and a new one started.
Afterwards every check-in exists once, every message was handed over, and the
only messages the fake received twice are ones the killed process held at the
instant it died (resent after their lease: the documented at-least-once policy).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from bench.dispatch import seed
from tests.conftest import FAKE_TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.conftest import FAKE_TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.conftest import require_postgres
from tests.fake_twilio import logged_messages as received
from tests.processes import start_flask

CHECKINS = 5_000
MESSAGES = 2 * CHECKINS  # the intro and the first question


def scheduler_environ(database_url: str, twilio_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENGAGE_ENV": "production",
        "SECRET_KEY": "test-only-secret",
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "6" * 32,
        "TWILIO_API_URL": twilio_url,
        "PUBLIC_BASE_URL": "https://engage.test",
        "SCHEDULER_TICK_SECONDS": "1",
        "SEND_RATE_PER_SECOND": "5000",
        "SEND_LEASE_SECONDS": "5",
    }


def counts(connection: psycopg.Connection) -> dict[str, int]:
    rows = connection.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall()
    return {status: number for status, number in rows}


def test_three_schedulers_and_a_kill_lose_nothing_and_duplicate_only_what_was_in_flight(
    new_database, fake_twilio, tmp_path
):
    require_postgres()
    database_url = new_database("postgresql")
    twilio_url, log = fake_twilio
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    seed(database_url, CHECKINS, due)
    environ = scheduler_environ(database_url, twilio_url)
    processes = [start_flask("engage", "scheduler", environ=environ) for _ in range(3)]
    outputs: list[str] = []
    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            deadline = time.monotonic() + 120
            while len(received(log)) < MESSAGES // 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(received(log)) >= MESSAGES // 5, "the senders never got going"

            victim = processes[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            # What the killed process held at the instant it died.
            in_flight = {
                (phone, body)
                for phone, body, claimer in connection.execute(
                    "SELECT phone, body, claimed_by FROM messages WHERE status = 'submitting'"
                )
                if claimer.endswith(f":{victim.pid}")
            }
            processes.append(start_flask("engage", "scheduler", environ=environ))

            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if counts(connection).get("accepted", 0) == MESSAGES:
                    break
                time.sleep(0.25)
            final = counts(connection)
            checkins, enrollments = connection.execute(
                "SELECT count(*), count(DISTINCT enrollment_id) FROM checkins"
            ).fetchone()
            advanced = connection.execute(
                "SELECT count(*) FROM enrollments WHERE next_due_at > %s", (due,)
            ).fetchone()[0]
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                output, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            outputs.append(output or "")

    assert (checkins, enrollments, advanced) == (CHECKINS, CHECKINS, CHECKINS)
    assert final == {"accepted": MESSAGES}, final
    deliveries = Counter((m["to"], m["body"]) for m in received(log))
    assert len(deliveries) == MESSAGES  # every message reached Twilio
    twice = {key for key, number in deliveries.items() if number > 1}
    assert all(number <= 2 for number in deliveries.values())
    assert twice <= in_flight, f"resent without having been in flight: {twice - in_flight}"
    print(f"in flight at the kill: {len(in_flight)}; received twice: {len(twice)}")
    for output in outputs[1:]:
        assert "Traceback" not in output, output
