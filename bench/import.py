"""Benchmark: a 100,000-row roster imported into PostgreSQL, then imported again.

Measures, in one run and on the same database server:
- ``flask engage import`` as an administrator runs it (a new process: start-up, reading,
  checking, comparing and writing, commit), on a fresh migrated database: seconds and
  roster rows/s; then the same file again, which must change nothing (every table's row
  count is compared before and after);
- the limit: the very rows the import wrote (patients, caregivers, links, phones, consent
  history, visits, enrollments), copied out and loaded with COPY into another fresh
  migrated database (its indexes and constraints), nothing read or checked;
- the obvious other design: the ORM services row by row (``add_patient``, ``add_contact``,
  ``record_consent``, ``add_caregiver``, ``link_caregiver``, ``add_visit``, ``enroll``), on a
  sample of the rows, one commit at the end, extrapolated to the whole file.

The roster is generated, deterministic, in the shape of examples/rosters/east-epic.csv and
read with its mapping: families of one to three children with zero to two caregivers (a
caregiver's phone shared by siblings), ICD-10 codes, English and Spanish, an upcoming visit
with its id, one or two instruments each. Phones are NPA-555-XXXX numbers in 50 area codes:
valid to libphonenumber, and never texted (no Twilio here).

    .venv/bin/python bench/import.py [--rows 100000] [--rounds 3] [--orm-sample 5000]

PostgreSQL comes from ENGAGE_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("ENGAGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
MAPPING = ROOT / "examples" / "rosters" / "east-epic.yaml"
CENTER = "EAST"
TIME_ZONE = "America/New_York"
TABLES = (
    "patients",
    "caregivers",
    "caregiver_links",
    "contacts",
    "consent_changes",
    "visits",
    "enrollments",
)
AREA_CODES = (
    201, 202, 206, 212, 213, 214, 215, 216, 267, 281, 305, 310, 312, 313, 314, 323, 347,
    404, 412, 415, 469, 503, 504, 512, 602, 610, 612, 617, 646, 702, 704, 713, 718, 720,
    773, 786, 801, 804, 808, 813, 832, 857, 858, 901, 904, 917, 919, 929, 971, 978,
)  # fmt: skip
GIVEN = (
    "Ava", "Liam", "Sofía", "Noah", "Mia", "Mateo", "Emma", "Ethan", "Isabella", "Lucas",
    "Olivia", "Leo", "Amelia", "Elijah", "Camila", "James", "Harper", "Diego", "Aria", "Jacob",
)  # fmt: skip
ADULTS = (
    "Elena", "Luis", "Rosa", "Wei", "Lin", "Karen", "María", "Jorge", "Priya", "Sarah",
    "David", "Ana", "Michael", "Laura", "Carlos", "Jennifer", "Ahmed", "Fatima", "Tom", "Grace",
)  # fmt: skip
FAMILY = (
    "Martinez", "Chen", "Wilson", "García", "Patel", "Johnson", "Nguyen", "Brooks", "Kim",
    "Hernández", "Smith", "Okafor", "Rossi", "Cohen", "Silva", "Murphy", "Ali", "Novak",
)  # fmt: skip
CODES = ("K50.00", "K50.90", "K50.111", "K50.80", "K51.50", "K51.90", "K51.00", "K52.3")
HEADER = (
    "MRN,PAT_FIRST_NAME,PAT_LAST_NAME,BIRTH_DATE,DX_CODE,LANGUAGE,PAT_MOBILE,PAT_SMS_OPT_IN,"
    "CG1_FIRST_NAME,CG1_LAST_NAME,CG1_RELATION,CG1_MOBILE,CG1_SMS_OPT_IN,"
    "CG2_FIRST_NAME,CG2_LAST_NAME,CG2_RELATION,CG2_MOBILE,CG2_SMS_OPT_IN,"
    "PRO_PROGRAMS,NEXT_APPT_CSN,NEXT_APPT_DTTM"
).split(",")


# -- the roster ------------------------------------------------------------------------------
def phones() -> Iterator[str]:
    for area in AREA_CODES:
        for line in range(10_000):
            yield f"+1 {area}-555-{line:04d}"


def generate(path: Path, rows: int, seed: int = 2026) -> None:
    """A deterministic roster of ``rows`` patients in families."""
    rng = random.Random(seed)
    numbers = phones()
    today = date(2026, 11, 30)
    visit_day = date(2027, 1, 4)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        while written < rows:
            family = rng.choice(FAMILY)
            spanish = rng.random() < 0.15
            caregivers = []
            for relation in rng.choices((("MOTHER",), ("MOTHER", "FATHER"), ()), (5, 4, 1))[0]:
                consent = rng.choices(("Y", "", "N"), (90, 8, 2))[0]
                caregivers.append([rng.choice(ADULTS), family, relation, next(numbers), consent])
            children = rng.choices((1, 2, 3), (80, 15, 5))[0]
            for _ in range(min(children, rows - written)):
                written += 1
                born = today - timedelta(days=rng.randint(4 * 365, 20 * 365))
                age = (today - born).days // 365
                own = next(numbers) if age >= 12 or not caregivers else ""
                programs = rng.choices(("SYMPTOMS;PREVISIT", "SYMPTOMS", "PREVISIT"), (7, 2, 1))[0]
                visit = datetime.combine(
                    visit_day + timedelta(days=rng.randint(0, 180)),
                    datetime.min.time(),
                ) + timedelta(minutes=8 * 60 + 15 * rng.randint(0, 36))
                slots = [*caregivers, *([[""] * 5] * (2 - len(caregivers)))]
                writer.writerow(
                    [
                        f"B{written:07d}",
                        rng.choice(GIVEN),
                        family,
                        born.isoformat(),
                        rng.choice(CODES),
                        "es" if spanish else "en",
                        own,
                        "Y" if own else "",
                        *slots[0],
                        *slots[1],
                        programs,
                        str(7_000_000 + written),
                        visit.strftime("%Y-%m-%d %H:%M"),
                    ]
                )


# -- databases -------------------------------------------------------------------------------
def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://")


class Databases:
    """Fresh, migrated databases for one run; dropped at the end."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(sqlalchemy_url(POSTGRES), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, label: str) -> str:
        from flask_migrate import upgrade

        from engage import create_app
        from engage.db import db, unit_of_work
        from engage.network.models import Network
        from engage.network.services import add_center

        name = f"bench_import_{label}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        url = POSTGRES.rsplit("/", 1)[0] + "/" + name
        app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
        with app.app_context():
            upgrade()
            with unit_of_work():
                network = Network(slug="bench", name="Bench")
                db.session.add(network)
                add_center(network, code=CENTER, name="East", time_zone=TIME_ZONE)
            db.engine.dispose()
        return url

    def drop(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        found = {
            table: int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in TABLES
        }
    engine.dispose()
    return found


# -- engage ----------------------------------------------------------------------------------
def run_import(url: str, roster: Path) -> tuple[float, str]:
    """``flask engage import`` in its own process, timed from start to exit."""
    env = {**os.environ, "ENGAGE_ENV": "development", "DATABASE_URL": url}
    command = [
        str(ROOT / ".venv" / "bin" / "flask"),
        "--app",
        "engage",
        "engage",
        "import",
        str(roster),
        "--center",
        CENTER,
        "--mapping",
        str(MAPPING),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stdout}{done.stderr}")
    return seconds, done.stdout.strip()


# -- the limit: the same rows by COPY --------------------------------------------------------
def copy_limit(source: str, target: str) -> tuple[float, int]:
    """Load the rows the import wrote into a fresh schema with COPY; (seconds, rows)."""
    import psycopg

    tables: dict[str, tuple[list[str], bytes]] = {}
    with psycopg.connect(source) as connection:
        for table in TABLES:
            columns = [
                row[0]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
            ]
            buffer = io.BytesIO()
            with connection.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            tables[table] = (columns, buffer.getvalue())
    rows = 0
    with psycopg.connect(target) as connection:
        started = time.perf_counter()
        with connection.transaction():
            for table in TABLES:
                columns, data = tables[table]
                with connection.cursor().copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    copy.write(data)
                rows += data.count(b"\n")
        seconds = time.perf_counter() - started
    return seconds, rows


# -- the other design: the ORM services, row by row ------------------------------------------
def orm_row_by_row(url: str, roster: Path, sample: int) -> tuple[float, int]:
    """The services one row at a time on the first ``sample`` rows; (seconds, rows)."""
    from engage import create_app
    from engage.db import db, unit_of_work, utcnow
    from engage.errors import InvalidInput
    from engage.network.services import get_center
    from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
    from engage.people.models import ConsentMethod
    from engage.people.services import (
        add_caregiver,
        add_contact,
        add_patient,
        find_contact,
        link_caregiver,
        record_consent,
    )
    from engage.roster.mapping import load_mapping
    from engage.roster.reading import read_roster
    from engage.scheduling.services import add_visit, enroll

    part = roster.with_name("sample.csv")
    with roster.open(encoding="utf-8") as source, part.open("w", encoding="utf-8") as out:
        for n, line in enumerate(source):
            if n > sample:
                break
            out.write(line)
    app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
    mapping = load_mapping(MAPPING)
    with app.app_context():
        started = time.perf_counter()
        with unit_of_work():
            center = get_center(CENTER)
            now = utcnow()
            read = read_roster(part, mapping, time_zone=TIME_ZONE, today=now.date())

            def phone_for(owner: Any, number: str, consent: Any) -> None:
                contact = add_contact(owner, number)
                record_consent(
                    contact,
                    consent,
                    method=ConsentMethod.IMPORT,
                    consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
                )

            for row in read.rows:
                patient = add_patient(
                    center,
                    mrn=row.mrn,
                    given_name=row.given_name,
                    family_name=row.family_name,
                    date_of_birth=row.date_of_birth,
                    diagnosis=row.diagnosis,
                    preferred_language=row.language,
                )
                if row.phone:
                    phone_for(patient, row.phone, row.consent)
                for entry in row.caregivers:
                    known = find_contact(entry.phone) if entry.phone else None
                    if known is not None and known.caregiver is not None:
                        caregiver = known.caregiver
                    else:
                        caregiver = add_caregiver(
                            given_name=entry.given_name,
                            family_name=entry.family_name,
                            preferred_language=entry.language or row.language,
                        )
                        if entry.phone:
                            phone_for(caregiver, entry.phone, entry.consent)
                    link_caregiver(
                        caregiver,
                        patient,
                        relationship=entry.relationship,
                        may_answer_as_proxy=entry.may_answer_as_proxy,
                    )
                if row.visit_at is not None:
                    add_visit(patient, row.visit_at, external_ref=row.visit_ref, now=now)
                db.session.refresh(patient)
                for instrument_id in row.instruments:
                    try:
                        enroll(
                            patient,
                            instrument_id,
                            mapping.schedule_for(instrument_id, TIME_ZONE),
                            now=now,
                        )
                    except InvalidInput:
                        pass  # no phone may answer: the import notes it and goes on
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return seconds, len(read.rows)


def summary_lines(report: str) -> list[str]:
    """The report's counts and timings, without its per-row notes."""
    lines = report.splitlines()
    end = next((n for n, line in enumerate(lines) if line.startswith("notes")), len(lines))
    return [line.strip() for line in lines[:end]]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="Fresh databases for engage's runs.")
    parser.add_argument("--orm-sample", type=int, default=5_000)
    parser.add_argument("--keep-files", action="store_true", help="Keep the generated roster.")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    roster = folder / "roster.csv"
    started = time.perf_counter()
    generate(roster, options.rows)
    print(
        f"roster: {options.rows:,} rows, {roster.stat().st_size / 2**20:.1f} MiB, "
        f"generated in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    databases = Databases()
    firsts: list[float] = []
    agains: list[float] = []
    unchanged = True
    try:
        for round_ in range(1, options.rounds + 1):
            url = databases.create(f"engage{round_}")
            first, report = run_import(url, roster)
            written = counts(url)
            again, report_again = run_import(url, roster)
            after = counts(url)
            unchanged = unchanged and after == written and "0 created, 0 updated" in report_again
            firsts.append(first)
            agains.append(again)
            print(f"round {round_}: first import {first:.1f} s, again {again:.1f} s", flush=True)
            for line in summary_lines(report) + summary_lines(report_again):
                print(f"    {line}")
            if round_ < options.rounds:
                databases.drop()

        print("limit: the same rows by COPY into a fresh schema", flush=True)
        copy_seconds, copied = copy_limit(url, databases.create("copy"))

        print(f"ORM services row by row, {options.orm_sample:,}-row sample", flush=True)
        orm_seconds, orm_rows = orm_row_by_row(databases.create("orm"), roster, options.orm_sample)
        scaled = orm_seconds * options.rows / orm_rows
    finally:
        databases.drop()
        if not options.keep_files:
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()

    first, again = median(firsts), median(agains)
    rows = options.rows
    print()
    print(f"table rows written by each first import: {sum(written.values()):,} "
          f"({', '.join(f'{k} {v:,}' for k, v in written.items())})")  # fmt: skip
    print()
    print("| design | seconds | roster rows/s | note |")
    print("| --- | --- | --- | --- |")
    runs = ", ".join(f"{s:.1f}" for s in firsts)
    print(
        f"| engage import, new center | **{first:.1f}** | {rows / first:,.0f} | median of {runs} |"
    )
    runs = ", ".join(f"{s:.1f}" for s in agains)
    same = "every table's rows unchanged" if unchanged else "**ROWS CHANGED**"
    print(f"| engage, the same file again | {again:.1f} | {rows / again:,.0f} | {runs}; {same} |")
    print(f"| limit: COPY of the rows written | {copy_seconds:.1f} | {rows / copy_seconds:,.0f} "
          f"| {copied:,} table rows, nothing read or checked |")  # fmt: skip
    print(f"| ORM services row by row | {scaled:.0f} (extrapolated) | {rows / scaled:,.0f} "
          f"| {orm_rows:,} rows in {orm_seconds:.1f} s |")  # fmt: skip
    print()
    print(
        f"first import: {first:.1f} s for {rows:,} rows "
        f"(target < 60 s: {'met' if first < 60 else 'NOT met'}); "
        f"{copy_seconds / first:.2f} of the COPY limit's rate; "
        f"{scaled / first:.0f}x the ORM services row by row"
    )


if __name__ == "__main__":
    main()
