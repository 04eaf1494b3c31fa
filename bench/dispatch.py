"""Benchmark: 100,000 enrollments due in the same minute, opened by the dispatcher.

Measures, in one run and on the same database server:
- engage's dispatcher (``open_due_checkins`` batches, one or more scheduler processes
  sharing the rows with SKIP LOCKED): time from the due moment until every check-in
  and its first messages are in the outbox; rows/s; peak RSS of each process;
  then checks that no due check-in was dropped and none written twice;
- the limit: a plain bulk INSERT of as many outbox-like rows (``dispatch_baselines``);
- the obvious alternative: APScheduler with one job per enrollment in its
  SQLAlchemyJobStore, with its default misfire grace and with a raised one.

    .venv/bin/python bench/dispatch.py --backend both --enrollments 100000

Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch_baselines import (  # noqa: E402
    apscheduler_one_job_per_enrollment,
    bulk_insert_rate,
    peak_rss_mib,
)

POSTGRES = os.environ.get("ENGAGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def daytime_zone(now: datetime) -> str:
    """A fixed-offset zone where it is early afternoon now: quiet hours stay on, and do not bite."""
    offset = (13 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT signs are inverted: Etc/GMT+5 is UTC-5.
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")


def create_database(backend: str, folder: str) -> tuple[str, Any]:
    if backend == "sqlite":
        path = Path(folder) / "dispatch.sqlite3"
        return f"sqlite:///{path}", None
    name = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        POSTGRES.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def environ_for(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENGAGE_ENV": "development",
        "DATABASE_URL": url,
        "CHECKINS_PER_DAY": "1",
        "PYTHONPATH": str(ROOT),
    }


def seed(url: str, enrollments: int, due: datetime) -> None:
    """Migrate, then write patients, phones and enrollments all due at ``due``, in bulk."""
    from flask_migrate import upgrade

    from engage import create_app
    from engage.db import db, table_of, unit_of_work
    from engage.network.models import Network
    from engage.network.services import add_center
    from engage.people.models import Contact, Patient
    from engage.scheduling.models import Enrollment

    app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
    zone = daytime_zone(due)
    local_time = due.astimezone(ZoneInfo(zone)).time().replace(second=0, microsecond=0)
    with app.app_context():
        upgrade()
        with unit_of_work():
            network = Network(slug="bench", name="Bench")
            db.session.add(network)
            center = add_center(network, code="BENCH", name="Bench", time_zone=zone)
            db.session.flush()
            connection = db.session.connection()
            now = datetime.now(UTC)
            connection.execute(
                sa.insert(table_of(Patient)),
                [
                    {
                        "center_id": center.id,
                        "mrn": f"B-{n}",
                        "given_name": "Pat",
                        "family_name": f"N{n}",
                        "date_of_birth": date(2010, 1, 1),
                        "diagnosis": "crohns_disease",
                        "preferred_language": "en",
                        "created_at": now,
                    }
                    for n in range(enrollments)
                ],
            )
            patient_ids = list(db.session.scalars(sa.select(Patient.id).order_by(Patient.id)))
            connection.execute(
                sa.insert(table_of(Contact)),
                [
                    {
                        "phone": f"+1617{n:07d}",
                        "patient_id": patient_id,
                        "sms_consent": "granted",
                        "created_at": now,
                    }
                    for n, patient_id in enumerate(patient_ids)
                ],
            )
            contact_ids = list(db.session.scalars(sa.select(Contact.id).order_by(Contact.id)))
            connection.execute(
                sa.insert(table_of(Enrollment)),
                [
                    {
                        "patient_id": patient_id,
                        "instrument_id": "ibd-symptoms",
                        "contact_id": contact_id,
                        "respondent_role": "self",
                        "status": "active",
                        "time_zone": zone,
                        "kind": "recurring",
                        "every_weeks": 1,
                        "local_time": local_time,
                        "next_due_at": due,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for patient_id, contact_id in zip(patient_ids, contact_ids, strict=True)
                ],
            )
        db.engine.dispose()


def dispatch_until_done(due: datetime) -> None:
    """One scheduler process's share: from ``due``, claim batches until nothing is due."""
    from engage import create_app
    from engage.db import unit_of_work, utcnow
    from engage.scheduling.dispatcher import open_due_checkins

    app = create_app()
    with app.app_context():
        while datetime.now(UTC) < due:  # started and warm before the due moment, like a scheduler
            time.sleep(0.01)
        started = time.perf_counter()
        claimed = 0
        while True:
            with unit_of_work():
                report = open_due_checkins(utcnow(), 500)
            claimed += report.claimed
            if report.claimed == 0:
                break
        seconds = time.perf_counter() - started
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    peak = peak_rss_mib()
    result = {"claimed": claimed, "seconds": seconds, "peak_rss_mib": peak, "done": time.time()}
    print(json.dumps(result))


def run_dispatchers(url: str, processes: int, due: datetime) -> dict[str, Any]:
    env = environ_for(url)
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", due.isoformat()],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for worker in workers:
        output, _ = worker.communicate()
        if worker.returncode != 0:
            raise RuntimeError(f"dispatcher process failed: {output}")
        results.append(json.loads(output.strip().splitlines()[-1]))
    # From the due moment until the last process found nothing more to open.
    return {"seconds": max(r["done"] for r in results) - due.timestamp(), "workers": results}


def set_due(url: str, due: datetime) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE enrollments SET next_due_at = :due"), {"due": due})
    engine.dispose()


def bulk_insert_equivalent(backend: str, enrollments: int) -> dict[str, Any]:
    """The limit for the rows this design writes: a check-in and two outbox messages per
    enrollment, into the real schema (its indexes and constraints), by plain bulk inserts.

    PostgreSQL: COPY, ids assigned by the client (the fastest a bulk loader can do);
    SQLite: executemany in one transaction.
    """
    with tempfile.TemporaryDirectory() as folder:
        url, drop = create_database(backend, folder)
        try:
            seed(url, enrollments, datetime.now(UTC) + timedelta(days=1))
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO instrument_versions (id, instrument_id, version, "
                        "content_hash, source, file_name, first_used_at) VALUES "
                        "(1, 'ibd-symptoms', '1', 'bench', '', 'bench.yaml', :now)"
                    ),
                    {"now": datetime.now(UTC)},
                )
                pairs = connection.execute(
                    sa.text("SELECT id, patient_id, contact_id FROM enrollments ORDER BY id")
                ).all()
            now = datetime.now(UTC)
            expires = now + timedelta(hours=24)
            state = json.dumps({"current": "pain", "tries": 0, "asked": ["pain"], "answers": {}})
            checkins = [
                (n, patient_id, 1, contact_id, "self", "en", "sent", now, now, expires,
                 enrollment_id, state, now)
                for n, (enrollment_id, patient_id, contact_id) in enumerate(pairs, 1)
            ]  # fmt: skip
            opening = (
                ("Time for your weekly check-in.", "intro"),
                ("In the last 24 hours, how was your belly pain?", "question"),
            )
            messages = [
                ("outbound", "queued", f"+1617{n:07d}", body, contact_id, n, purpose, 0, 0, now)
                for n, (_, _, contact_id) in enumerate(pairs, 1)
                for body, purpose in opening
            ]
            timings = {}
            methods = ["copy", "executemany"] if backend == "postgresql" else ["executemany"]
            for method in methods:
                with engine.begin() as connection:
                    connection.execute(sa.text("DELETE FROM messages"))
                    connection.execute(sa.text("DELETE FROM checkins"))
                started = time.perf_counter()
                with engine.begin() as connection:
                    raw = connection.connection.driver_connection
                    write_rows(raw, backend, method, checkins, messages)
                timings[method] = time.perf_counter() - started
            method = min(timings, key=timings.__getitem__)
            seconds = timings[method]
            engine.dispose()
        finally:
            if drop:
                drop()
    return {
        "method": method,
        **{f"{name}_seconds": value for name, value in timings.items()},
        "checkins": len(checkins),
        "messages": len(messages),
        "seconds": seconds,
        "rows_per_s": enrollments / seconds,
    }


CHECKIN_COLUMNS = (
    "id, patient_id, instrument_version_id, contact_id, respondent_role, language, "
    "status, due_at, opened_at, expires_at, enrollment_id, state, created_at"
)
MESSAGE_COLUMNS = (
    "direction, status, phone, body, contact_id, checkin_id, purpose, num_media, "
    "attempts, created_at"
)


def write_rows(raw: Any, backend: str, method: str, checkins: list, messages: list) -> None:
    """Plain bulk writes of check-in and message rows, as a bulk loader would do them."""
    if method == "copy":
        cursor = raw.cursor()
        with cursor.copy(f"COPY checkins ({CHECKIN_COLUMNS}) FROM STDIN") as copy:
            for row in checkins:
                copy.write_row(row)
        with cursor.copy(f"COPY messages ({MESSAGE_COLUMNS}) FROM STDIN") as copy:
            for row in messages:
                copy.write_row(row)
    elif backend == "postgresql":
        cursor = raw.cursor()
        marks = ", ".join(["%s"] * 13)
        cursor.executemany(f"INSERT INTO checkins ({CHECKIN_COLUMNS}) VALUES ({marks})", checkins)
        marks = ", ".join(["%s"] * 10)
        cursor.executemany(f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({marks})", messages)
    else:
        text = [(*r[:7], *(t.isoformat(" ") for t in r[7:10]), *r[10:12], r[12].isoformat(" "))
                for r in checkins]  # fmt: skip
        raw.executemany(
            f"INSERT INTO checkins ({CHECKIN_COLUMNS}) VALUES ({', '.join('?' * 13)})", text
        )
        raw.executemany(
            f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({', '.join('?' * 10)})",
            [(*r[:9], r[9].isoformat(" ")) for r in messages],
        )


def verify(url: str, enrollments: int, due: datetime) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:

        def count(sql: str, **values: Any) -> int:
            return int(connection.execute(sa.text(sql), values).scalar_one())

        checkins = count("SELECT count(*) FROM checkins")
        distinct = count("SELECT count(DISTINCT enrollment_id) FROM checkins")
        opened = count("SELECT count(*) FROM checkins WHERE status = 'sent'")
        messages = count("SELECT count(*) FROM messages WHERE status = 'queued'")
        per_checkin = count(
            "SELECT count(*) FROM (SELECT checkin_id FROM messages GROUP BY checkin_id "
            "HAVING count(*) <> 2) AS odd"
        )
        still_due = count("SELECT count(*) FROM enrollments WHERE next_due_at <= :due", due=due)
    engine.dispose()
    return {
        "checkins": checkins,
        "dropped": enrollments - distinct + still_due,
        "duplicated": checkins - distinct,
        "opened": opened,
        "messages": messages,
        "checkins_without_exactly_two_messages": per_checkin,
    }


def measure_ours(backend: str, enrollments: int, processes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url, drop = create_database(backend, folder)
        try:
            seed(url, enrollments, datetime.now(UTC) + timedelta(days=1))
            # Every enrollment falls due a few seconds from now, once the processes are up.
            due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
            set_due(url, due)
            run = run_dispatchers(url, processes, due)
            checks = verify(url, enrollments, due)
        finally:
            if drop:
                drop()
    return {
        "rows_per_s": enrollments / run["seconds"],
        "seconds": run["seconds"],
        "peak_rss_mib": max(w["peak_rss_mib"] for w in run["workers"]),
        "claimed_by_process": [w["claimed"] for w in run["workers"]],
        **checks,
    }


def scratch_url(backend: str, folder: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(folder) / 'baseline.sqlite3'}"
    return POSTGRES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--apscheduler-jobs", type=int, default=None)
    parser.add_argument("--worker", metavar="DUE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return dispatch_until_done(datetime.fromisoformat(args.worker))
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    jobs = args.apscheduler_jobs or args.enrollments
    print(f"# dispatch benchmark {date.today()} — {args.enrollments} enrollments due at once")
    for backend in backends:
        with tempfile.TemporaryDirectory() as folder:
            limit = bulk_insert_rate(scratch_url(backend, folder), args.enrollments)
        print(
            f"\n## {backend}\nbulk INSERT, one outbox-like table: {json.dumps(limit, default=str)}"
        )
        equivalent = bulk_insert_equivalent(backend, args.enrollments)
        print(f"bulk INSERT of the same rows (limit): {json.dumps(equivalent, default=str)}")
        ours = {}
        for processes in [1, 2] if backend == "postgresql" else [1]:
            ours[processes] = measure_ours(backend, args.enrollments, processes)
            print(f"engage, {processes} process(es): {json.dumps(ours[processes], default=str)}")
        with tempfile.TemporaryDirectory() as folder:
            default_grace = apscheduler_one_job_per_enrollment(scratch_url(backend, folder), jobs)
        print(f"APScheduler one job each, default grace: {json.dumps(default_grace, default=str)}")
        with tempfile.TemporaryDirectory() as folder:
            raised = apscheduler_one_job_per_enrollment(
                scratch_url(backend, folder), jobs, misfire_grace_time=3600
            )
        print(f"APScheduler one job each, grace 3600 s: {json.dumps(raised, default=str)}")
        best = max(ours.values(), key=lambda r: r["rows_per_s"])
        aps_rate = float(raised["jobs_per_s"]) or float("nan")
        print(
            f"ratios (best engage run): to the same rows bulk-inserted "
            f"{best['rows_per_s'] / equivalent['rows_per_s']:.2f}; to one table bulk-inserted "
            f"{best['rows_per_s'] / limit['rows_per_s']:.3f}; to APScheduler one job each "
            f"{best['rows_per_s'] / aps_rate:.1f}x"
        )


if __name__ == "__main__":
    main()
