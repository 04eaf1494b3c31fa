"""Baselines for the dispatch benchmark: the insert limit, and one APScheduler job per enrollment.

The benchmark asks how fast engage turns 100,000 enrollments due in the same minute into
queued outbox rows. Two figures frame the answer:

* ``bulk_insert_rate``: the limit. The fastest plain way to put that many outbox-shaped
  rows into the database (PostgreSQL: COPY and psycopg's pipelined ``executemany``, both
  printed, the faster taken; SQLite: ``executemany`` in one transaction).
* ``apscheduler_one_job_per_enrollment``: the obvious other design. APScheduler 3.11 with
  a SQLAlchemy job store holding one DateTrigger job per enrollment, all due at one moment,
  each job inserting one outbox row. Run with APScheduler's default misfire grace (1 s)
  and with a raised one.

Each function creates its own scratch database (PostgreSQL) or file (SQLite) and drops it.

    .venv/bin/python bench/dispatch_baselines.py [--backend postgresql|sqlite|both]
        [--rows 100000] [--jobs 100000] [--workers 10] [--raised-grace 3600]

At 100,000 jobs each APScheduler run takes three to five minutes on a 2-core machine
(its job store adds about 1,000 jobs/s on PostgreSQL, one transaction per job, and removes
each again as it is submitted), so the whole command takes about 20 minutes for both
backends; ``--jobs 20000`` keeps it to a few.

PostgreSQL comes from ENGAGE_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); SQLite files go to a temporary directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

log = logging.getLogger("bench.dispatch_baselines")

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
APSCHEDULER_DEFAULT_GRACE = 1  # seconds: APScheduler 3's misfire_grace_time when none is given
BODY = "Hi, it's time for this week's check-in. How was today, 0 (bad) to 10 (great)?"

metadata = sa.MetaData()
# Shaped like an outbox row of engage's messages table, without its other columns and indexes.
outbox = sa.Table(
    "bench_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.Integer),
    sa.Column("checkin_id", sa.Integer),
    sa.Column("purpose", sa.String(32)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
OUTBOX_COLUMNS = ("phone", "body", "status", "contact_id", "checkin_id", "purpose", "created_at")

# The engine each scheduled job inserts through, by scratch URL: jobs are pickled into
# the job store, so they carry the URL, not the engine.
_outbox_engines: dict[str, sa.Engine] = {}


def outbox_row(n: int, created_at: Any) -> tuple[Any, ...]:
    return (f"+1617{n:07d}", BODY, "queued", n, n, "checkin", created_at)


# Scratch databases ---------------------------------------------------------------------


def backend_of(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def libpq_url(url: str | sa.URL) -> str:
    """The URL psycopg itself accepts (no +driver)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database beside the one ``url`` names; yields its SQLAlchemy URL.

    PostgreSQL: ``CREATE DATABASE bench_<random>`` on that server, dropped afterwards.
    SQLite: ``bench_<random>.sqlite3`` in the directory of the given path (the file the
    URL names is never touched), removed afterwards.
    """
    parsed = sa.make_url(url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    if parsed.get_backend_name() == "postgresql":
        with psycopg.connect(libpq_url(parsed), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield parsed.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            with psycopg.connect(libpq_url(parsed), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif parsed.get_backend_name() == "sqlite":
        given = parsed.database
        folder = (
            Path(given).parent if given and given != ":memory:" else Path(tempfile.gettempdir())
        )
        path = folder / f"{name}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: {url}")


def make_engine(url: str, pool_size: int = 5) -> sa.Engine:
    """An engine set up as engage's: SQLite in WAL mode and waiting for the write lock."""
    if backend_of(url) != "sqlite":
        return sa.create_engine(url, pool_size=pool_size, max_overflow=0)
    engine = sa.create_engine(
        url, pool_size=pool_size, max_overflow=0, connect_args={"timeout": 15}
    )

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    return engine


# Memory ----------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Start the process's peak RSS (VmHWM) again from now; False where Linux does not allow."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024


def rss_mib() -> float:
    return (_status_kib("VmRSS") or 0) / 1024


# Baseline 1: the insert limit ------------------------------------------------------------


def bulk_insert_rate(url: str, rows: int = 100_000) -> dict[str, Any]:
    """Rows per second of the fastest plain insert of ``rows`` outbox rows, in one transaction.

    Returns backend, rows, method (the faster), seconds, rows_per_s, and per method
    ``<method>_seconds`` and ``<method>_rows_per_s`` (PostgreSQL: copy and executemany;
    SQLite: executemany). Row values are built before the clock starts; the commit is timed.
    """
    with scratch_database(url) as scratch:
        engine = make_engine(scratch)
        metadata.create_all(engine)
        engine.dispose()
        if backend_of(scratch) == "postgresql":
            timings = _postgres_inserts(scratch, rows)
        else:
            timings = _sqlite_inserts(scratch, rows)
    method = min(timings, key=lambda name: timings[name])
    result: dict[str, Any] = {
        "backend": backend_of(url),
        "rows": rows,
        "method": method,
        "seconds": timings[method],
        "rows_per_s": rows / timings[method],
    }
    for name, seconds in timings.items():
        result[f"{name}_seconds"] = seconds
        result[f"{name}_rows_per_s"] = rows / seconds
    return result


def _postgres_inserts(url: str, rows: int) -> dict[str, float]:
    now = datetime.now(UTC)
    values = [outbox_row(n, now) for n in range(rows)]
    columns = ", ".join(OUTBOX_COLUMNS)
    timings = {}
    with psycopg.connect(libpq_url(url)) as connection:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY bench_outbox ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        connection.commit()
        timings["copy"] = time.perf_counter() - started
        _check_count(connection, rows)

        connection.execute("TRUNCATE bench_outbox")
        connection.commit()
        placeholders = ", ".join(["%s"] * len(OUTBOX_COLUMNS))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # psycopg 3 sends these in pipeline mode: one round trip, not one per row.
            cursor.executemany(
                f"INSERT INTO bench_outbox ({columns}) VALUES ({placeholders})", values
            )
        connection.commit()
        timings["executemany"] = time.perf_counter() - started
        _check_count(connection, rows)
    return timings


def _sqlite_inserts(url: str, rows: int) -> dict[str, float]:
    import sqlite3

    now = datetime.now(UTC).isoformat(sep=" ")
    values = [outbox_row(n, now) for n in range(rows)]
    columns = ", ".join(OUTBOX_COLUMNS)
    placeholders = ", ".join(["?"] * len(OUTBOX_COLUMNS))
    connection = sqlite3.connect(sa.make_url(url).database or "", timeout=15)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        started = time.perf_counter()
        with connection:  # one transaction, committed on exit
            connection.executemany(
                f"INSERT INTO bench_outbox ({columns}) VALUES ({placeholders})", values
            )
        seconds = time.perf_counter() - started
        _check_count(connection, rows)
    finally:
        connection.close()
    return {"executemany": seconds}


def _check_count(connection: Any, rows: int) -> None:
    (count,) = connection.execute("SELECT count(*) FROM bench_outbox").fetchone()
    if count != rows:
        raise RuntimeError(f"expected {rows} rows in bench_outbox, found {count}")


# Baseline 2: one APScheduler job per enrollment ------------------------------------------


def insert_outbox_row(url: str, enrollment: int) -> None:
    """The job: queue one enrollment's first message, in its own transaction."""
    with _outbox_engines[url].begin() as connection:
        connection.execute(
            outbox.insert(),
            dict(zip(OUTBOX_COLUMNS, outbox_row(enrollment, datetime.now(UTC)), strict=True)),
        )


class Tally:
    """Counts job outcomes as the executor reports them, from its worker threads."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.executed = self.missed = self.errors = 0
        self.first_executed_at: float | None = None
        self.last_executed_at: float | None = None
        self.last_event_at: float | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, event: JobExecutionEvent) -> None:
        now = time.time()
        with self._lock:
            if event.code == EVENT_JOB_EXECUTED:
                self.executed += 1
                self.first_executed_at = self.first_executed_at or now
                self.last_executed_at = now
            elif event.code == EVENT_JOB_MISSED:
                self.missed += 1
            else:
                self.errors += 1
            self.last_event_at = now
            if self.executed + self.missed + self.errors >= self.expected:
                self.done.set()


def apscheduler_one_job_per_enrollment(
    url: str,
    jobs: int = 100_000,
    misfire_grace_time: int | None = None,
    *,
    workers: int = 10,
    idle_seconds: float = 30.0,
) -> dict[str, Any]:
    """One DateTrigger job per enrollment in a SQLAlchemy job store, all due at one moment.

    ``misfire_grace_time=None`` leaves APScheduler's default (1 s). ``workers`` is the
    thread pool executor's size (APScheduler's default, 10). The due moment is set just
    after the estimated end of adding, with the scheduler paused meanwhile; the clock runs
    from the due moment until every job has been executed, missed or has failed, or
    nothing has happened for ``idle_seconds``.

    Returns backend, jobs, workers, misfire_grace_time, add_seconds, add_per_s,
    due_after_add_s (negative: adding overran the due moment), first_run_after_due_s,
    executed, missed, errors, unresolved, seconds (due to the last executed job),
    jobs_per_s (executed / seconds), resolved_seconds (due to the last outcome),
    outbox_rows, rss_start_mib, peak_rss_mib, peak_rss_is_per_run.
    """
    grace = APSCHEDULER_DEFAULT_GRACE if misfire_grace_time is None else misfire_grace_time
    apscheduler_log = logging.getLogger("apscheduler")
    saved_level = apscheduler_log.level
    # A missed job logs a warning each: 100,000 lines would swamp the figures.
    apscheduler_log.setLevel(logging.ERROR)
    with scratch_database(url) as scratch:
        store_engine = make_engine(scratch)
        outbox_engine = make_engine(scratch, pool_size=workers)
        metadata.create_all(outbox_engine)
        _outbox_engines[scratch] = outbox_engine
        per_run = reset_peak_rss()
        rss_start = rss_mib()
        tally = Tally(jobs)
        scheduler = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": SQLAlchemyJobStore(engine=store_engine)},
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"misfire_grace_time": grace},
        )
        scheduler.add_listener(tally, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        # Paused, the scheduler stores jobs without looking for due ones after every add.
        scheduler.start(paused=True)
        try:
            due = _due_after_adding(scheduler, store_engine, scratch, jobs)
            trigger = DateTrigger(run_date=due)
            log.info("adding %d jobs, due at %s", jobs, due.time().isoformat("seconds"))
            started = time.perf_counter()
            for n in range(jobs):
                scheduler.add_job(
                    insert_outbox_row, trigger, args=(scratch, n), id=f"enrollment-{n}"
                )
                if n and n % 20_000 == 0:
                    log.info("  %d added (%.0f/s)", n, n / (time.perf_counter() - started))
            add_seconds = time.perf_counter() - started
            due_after_add = due.timestamp() - time.time()
            scheduler.resume()
            while not tally.done.wait(1.0):
                quiet_since = max(due.timestamp(), tally.last_event_at or 0)
                if time.time() - quiet_since > idle_seconds:
                    log.warning("no job outcome for %.0f s: giving up waiting", idle_seconds)
                    break
            peak = peak_rss_mib()
        finally:
            # Waiting on an interrupted run would mean running every queued job first.
            scheduler.shutdown(wait=tally.done.is_set())
            _outbox_engines.pop(scratch, None)
            with outbox_engine.connect() as connection:
                outbox_rows = connection.execute(sa.select(sa.func.count()).select_from(outbox))
                outbox_rows = outbox_rows.scalar_one()
            outbox_engine.dispose()
            store_engine.dispose()
            apscheduler_log.setLevel(saved_level)

    due_ts = due.timestamp()
    seconds = (tally.last_executed_at - due_ts) if tally.last_executed_at else float("nan")
    return {
        "backend": backend_of(url),
        "jobs": jobs,
        "workers": workers,
        "misfire_grace_time": grace,
        "add_seconds": add_seconds,
        "add_per_s": jobs / add_seconds,
        "due_after_add_s": due_after_add,
        "first_run_after_due_s": (
            tally.first_executed_at - due_ts if tally.first_executed_at else float("nan")
        ),
        "executed": tally.executed,
        "missed": tally.missed,
        "errors": tally.errors,
        "unresolved": jobs - tally.executed - tally.missed - tally.errors,
        "seconds": seconds,
        "jobs_per_s": tally.executed / seconds if tally.executed else 0.0,
        "resolved_seconds": (tally.last_event_at - due_ts) if tally.last_event_at else float("nan"),
        "outbox_rows": outbox_rows,
        "rss_start_mib": rss_start,
        "peak_rss_mib": peak,
        "peak_rss_is_per_run": per_run,
    }


def _due_after_adding(
    scheduler: BackgroundScheduler, engine: sa.Engine, scratch: str, jobs: int
) -> datetime:
    """A due moment shortly after adding ``jobs`` will have finished, from a timed sample."""
    sample = min(jobs, 500)
    scheduler.add_jobstore(
        SQLAlchemyJobStore(engine=engine, tablename="bench_calibration"), "calibration"
    )
    never = DateTrigger(run_date=datetime(2100, 1, 1, tzinfo=UTC))
    started = time.perf_counter()
    for n in range(sample):
        scheduler.add_job(
            insert_outbox_row, never, args=(scratch, n), id=f"sample-{n}", jobstore="calibration"
        )
    per_job = (time.perf_counter() - started) / sample
    scheduler.remove_jobstore("calibration", shutdown=False)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bench_calibration")
    # Margin for a job store that slows as it grows; a late due moment is reported, not hidden.
    return datetime.now(UTC) + timedelta(seconds=jobs * per_job * 1.25 + 3)


# Command line ----------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 0) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| backend | baseline | n | add s | add/s | due→last s | rows/s "
        "| executed | missed | errors | peak RSS MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        if "rows" in r:
            for method in ("copy", "executemany"):
                if f"{method}_seconds" not in r:
                    continue
                limit = " (limit)" if method == r["method"] else ""
                print(
                    f"| {r['backend']} | bulk {method}{limit} | {_fmt(r['rows'])} | | "
                    f"| {_fmt(r[f'{method}_seconds'], 2)} | {_fmt(r[f'{method}_rows_per_s'])} "
                    "| | | | |"
                )
        else:
            label = f"APScheduler, grace {r['misfire_grace_time']} s, {r['workers']} threads"
            print(
                f"| {r['backend']} | {label} | {_fmt(r['jobs'])} | {_fmt(r['add_seconds'], 1)} "
                f"| {_fmt(r['add_per_s'])} | {_fmt(r['seconds'], 2)} | {_fmt(r['jobs_per_s'])} "
                f"| {_fmt(r['executed'])} | {_fmt(r['missed'])} | {_fmt(r['errors'])} "
                f"| {_fmt(r['peak_rss_mib'])} |"
            )
    print()
    for r in results:
        if "jobs" in r:
            print(
                f"{r['backend']}, grace {r['misfire_grace_time']} s: first job ran "
                f"{_fmt(r['first_run_after_due_s'], 2)} s after due, all outcomes in "
                f"{_fmt(r['resolved_seconds'], 2)} s, due moment {_fmt(r['due_after_add_s'], 1)} s "
                f"after adding ended, {_fmt(r['unresolved'])} unresolved, "
                f"{_fmt(r['outbox_rows'])} outbox rows, RSS at start {_fmt(r['rss_start_mib'])} MiB"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the insert limit")
    parser.add_argument("--jobs", type=int, default=100_000, help="APScheduler jobs, 0 to skip")
    parser.add_argument("--workers", type=int, default=10, help="APScheduler thread pool size")
    parser.add_argument("--raised-grace", type=int, default=3600, help="seconds")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    urls = {
        "postgresql": os.environ.get("ENGAGE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        "sqlite": f"sqlite:///{Path(tempfile.gettempdir()) / 'engage-bench.sqlite3'}",
    }
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    results = []
    for backend in backends:
        log.info("%s: bulk insert of %d rows", backend, args.rows)
        results.append(bulk_insert_rate(urls[backend], args.rows))
        if args.jobs:
            for grace in (None, args.raised_grace):
                log.info("%s: APScheduler, %d jobs, grace %s", backend, args.jobs, grace)
                results.append(
                    apscheduler_one_job_per_enrollment(
                        urls[backend],
                        args.jobs,
                        grace,
                        workers=args.workers,
                        idle_seconds=args.idle_seconds,
                    )
                )
    print_table(results)


if __name__ == "__main__":
    main()
