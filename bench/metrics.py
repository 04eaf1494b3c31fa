"""Benchmark: what one scrape of /metrics costs on a network-sized database.

The database figures (messages by status, failures by code, check-ins by status, the
outbox, open alerts) are computed when Prometheus scrapes; each web and scheduler host
does so at most every 10 seconds. Measured in one run, on the database bench/review.py
builds (about 15 million SMS and a million check-ins by default):

- ``read_database_figures()``: the queries behind a scrape, in-process;
- a whole ``GET /metrics`` through the Flask test client, the cache emptied each time;
- the floor: ``SELECT count(*) FROM messages``, the cheapest "how many messages".

    .venv/bin/python bench/metrics.py [--centers 50 --patients-per-center 200 --weeks 104]

Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review import (  # noqa: E402
    Generator,
    create_database,
    drop_database,
    migrate,
    table_sizes,
    vacuum_analyze,
    write_messages,
)

TOKEN = "bench-metrics-token-0123456789"


def timed(run: Callable[[], object], rounds: int) -> list[float]:
    run()  # warm caches and plans
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"min {ordered[0]:8.1f}  median {statistics.median(ordered):8.1f}  "
        f"p95 {p95:8.1f}  max {ordered[-1]:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centers", type=int, default=50)
    parser.add_argument("--patients-per-center", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # What bench/review.py's generator reads besides the sizes.
    args.day, args.messages = None, True

    name, url = create_database()
    print(f"scratch database {name}", flush=True)
    try:
        setup = migrate(url)
        started = time.perf_counter()
        data = Generator(args, setup, datetime.now(UTC)).run(url, None)
        data.counts["messages"] = write_messages(url, setup)
        vacuum_analyze(url)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        for table, rows, size in table_sizes(url):
            if table in ("messages", "checkins", "alerts"):
                print(f"  {table}: {rows:,} rows, {size}")

        from engage import create_app
        from engage.db import db
        from engage.monitoring.metrics import FIGURES_KEY, read_database_figures

        app = create_app(
            {
                "ENGAGE_ENV": "production",
                "SECRET_KEY": "bench",
                "SMS_TRANSPORT": "outbox",
                "DATABASE_URL": url,
                "METRICS_TOKEN": TOKEN,
            }
        )
        client = app.test_client()

        def scrape() -> None:
            app.extensions.pop(FIGURES_KEY, None)
            response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 200, response.status_code

        with app.app_context():

            def figures() -> None:
                read_database_figures()
                db.session.rollback()

            def floor() -> None:
                db.session.execute(sa.text("SELECT count(*) FROM messages")).scalar()
                db.session.rollback()

            results = {
                "SELECT count(*) FROM messages (floor)": timed(floor, args.rounds),
                "read_database_figures()": timed(figures, args.rounds),
            }
        results["GET /metrics, cache emptied"] = timed(scrape, args.rounds)
        floor_median = statistics.median(results["SELECT count(*) FROM messages (floor)"])
        print(f"\n{args.rounds} rounds each, one after another:")
        for label, samples in results.items():
            ratio = statistics.median(samples) / floor_median
            print(f"  {label:40} {describe(samples)}  ({ratio:.2f}× the floor)")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(name)
        print(f"\ndropped {name}")


if __name__ == "__main__":
    main()
