"""What the system jobs of this process did: runs, durations, and when each last finished.

Kept per process: a scheduler's ``/metrics`` and ``/readyz`` speak for that process only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram

# Where a process that runs a scheduler keeps its JobBook (app.extensions).
JOB_BOOK_KEY = "engage.job_book"

JOB_RUNS = Counter(
    "engage_job_runs_total",
    "System job runs in this process, by job and outcome (ok or failed).",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "engage_job_duration_seconds",
    "How long each system job run took in this process.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
JOB_LAST_FINISHED = Gauge(
    "engage_job_last_finished_timestamp_seconds",
    "Unix time at which each system job last finished in this process (ok or failed).",
    ["job"],
    multiprocess_mode="max",
)


@dataclass
class JobRecord:
    every_seconds: float
    last_finished: float | None = None  # time.monotonic()


@dataclass
class JobBook:
    """The jobs a scheduler in this process runs, and when each last finished."""

    started: float = field(default_factory=time.monotonic)
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expect(self, job_id: str, every_seconds: float) -> None:
        with self.lock:
            self.jobs[job_id] = JobRecord(every_seconds)

    def finished(self, job_id: str) -> None:
        """A run ended, ok or failed: either way the scheduler is running its jobs."""
        with self.lock:
            record = self.jobs.get(job_id)
            if record is not None:
                record.last_finished = time.monotonic()

    def late_jobs(self, now: float | None = None) -> list[str]:
        """Jobs that have not finished a run within three of their intervals (plus a minute),
        counted from their last run or, before the first, from the scheduler's start."""
        now = time.monotonic() if now is None else now
        late = []
        with self.lock:
            for job_id, record in sorted(self.jobs.items()):
                since = record.last_finished if record.last_finished is not None else self.started
                if now - since > 3 * record.every_seconds + 60:
                    late.append(f"{job_id} last finished {now - since:.0f}s ago")
        return late


def record_job_run(job_id: str, seconds: float, outcome: str, book: JobBook | None) -> None:
    """Count one finished run of a system job (``outcome`` is "ok" or "failed")."""
    JOB_RUNS.labels(job=job_id, outcome=outcome).inc()
    JOB_DURATION.labels(job=job_id).observe(seconds)
    JOB_LAST_FINISHED.labels(job=job_id).set(time.time())
    if book is not None:
        book.finished(job_id)
