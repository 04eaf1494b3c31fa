"""Benchmark the review pages on a network-sized PostgreSQL database.

Builds a scratch database the size of a learning network after two years: 50 centers,
10,000 patients (teens with their own phones), 104 weekly ``ibd-symptoms`` check-ins each
with their answers, scores and alerts, a visit every ~3 months with its pre-visit check-in,
the SMS of all those check-ins (about 15 million, outbound and inbound; ``--no-messages``
leaves them out), and one clinic day of 40 visits at one center. Then serves engage with
gunicorn (2 sync workers, production settings) and requests, one at a time and interleaved:

- the clinic-day page, ``GET /review/clinic-day?date=…``, as that center's clinician;
- one patient's summary page, ``GET /review/patients/<id>`` (two years of check-ins);
- the same two through the JSON API with a bearer token.

Prints min / median / p95 / max milliseconds of each (target: p95 ≤ 150 ms) as a markdown
table for ``bench/RESULTS.md``, then where the time goes in-process, statement by statement
(``--explain`` adds EXPLAIN ANALYZE of the slowest statements). The scratch database is
dropped at the end, also on failure or Ctrl-C.

    .venv/bin/python bench/review.py [--centers 50] [--patients-per-center 200] \
        [--weeks 104] [--requests 200] [--warmup 10] [--no-messages] [--explain [N]]

Needs PostgreSQL (ENGAGE_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres).
Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engage.instruments.model import Instrument, Item, ItemType, RedFlag  # noqa: E402
from engage.instruments.scoring import next_item, score_answers  # noqa: E402

POSTGRES = os.environ.get("ENGAGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SYMPTOMS, PREVISIT = "ibd-symptoms", "previsit"
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHECKIN_LOCAL_TIME = clock(18, 0)
VISIT_EVERY_DAYS = 91
PREVISIT_MINUTES = 3 * 24 * 60  # the pre-visit check-in goes out three days before
EXPIRY = timedelta(hours=24)
ALERTS_OPEN_FOR = timedelta(days=21)  # older alerts have been acknowledged
TARGET_P95_MS = 150.0
WORKERS = "2"

GIVEN = (
    "Ava Liam Sofia Noah Maya Ethan Zoe Lucas Chloe Mateo Isla Owen Lena Diego Nora Caleb Amara "
    "Kai Elena Jonah"
).split()
FAMILY = (
    "Garcia Smith Nguyen Johnson Martinez Brown Patel Lopez Kim Davis Rivera Wilson Chen Moore "
    "Okafor Taylor"
).split()
TEXTS = {
    "what_changed": {
        "en": ("More belly pain after dinner", "Poops looser this month", "Tired after school",
               "Better since the new dose", "Some blood twice last week", "Mouth sores again"),
        "es": ("Mas dolor despues de cenar", "Heces mas blandas este mes", "Muy cansado",
               "Mejor con la nueva dosis"),
    },
    "topics": {
        "en": ("School trip in the spring", "Whether I can stop the shots", "Sports and energy",
               "Food and weight", "Moving to the adult clinic"),
        "es": ("El viaje de la escuela", "Si puedo dejar las inyecciones", "Comida y peso"),
    },
    "questions": {
        "en": ("Can we space out the blood tests?", "Is the rash from the medicine?",
               "When is the next scope?", "Can I get a note for school?"),
        "es": ("¿Podemos espaciar los analisis?", "¿La erupcion es por la medicina?"),
    },
}  # fmt: skip
YES = {"en": "yes", "es": "si"}
NO = {"en": "no", "es": "no"}

# How the 40 pre-visit check-ins of the clinic day stand (a status, or none at all).
CLINIC_DAY_PREVISITS = (
    ["completed"] * 14 + ["in_progress"] * 6 + ["sent"] * 6 + ["expired"] * 3
    + ["missed"] * 4 + ["cancelled"] * 2 + ["due"] * 2 + ["none"] * 3
)  # fmt: skip


# -- the scratch database -------------------------------------------------------------------
def create_database() -> tuple[str, str]:
    name = f"bench_review_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Setup:
    """What the migrated, still empty database holds: the instrument versions."""

    instruments: dict[str, Instrument]
    version_ids: dict[str, int]
    password_hash: str


def migrate(url: str) -> Setup:
    """Migrate, and store the two instrument versions the check-ins are asked with."""
    from flask_migrate import upgrade

    from engage import create_app
    from engage.db import db, unit_of_work
    from engage.demo.seed import demo_password_hash
    from engage.instruments.services import get_instrument, record_instrument_version

    app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
    with app.app_context():
        upgrade()
        instruments = {i: get_instrument(i) for i in (SYMPTOMS, PREVISIT)}
        with unit_of_work():
            versions = {i: record_instrument_version(x) for i, x in instruments.items()}
            version_ids = {i: v.id for i, v in versions.items()}
        password_hash = demo_password_hash()
        db.engine.dispose()
    return Setup(instruments, version_ids, password_hash)


# -- answers: drawn from a severity, scored by engage's own engine ---------------------------
@dataclass(frozen=True)
class Pattern:
    """One way a check-in was answered, scored once and reused by many check-ins."""

    rows: tuple[tuple[str, str, dict[str, tuple[str | None, str]]], ...]  # item, status, by lang
    state: dict[str, Any]
    state_json: str  # the same, encoded once for the many check-ins that reuse it
    score: tuple[str, int | None, float | None, str | None, int] | None
    flags: tuple[RedFlag, ...]


def answer_for(item: Item, severity: float, rng: random.Random) -> dict[str, tuple[Any, str]]:
    """A plausible answer to one item for someone this unwell (0 well, 1 very unwell):
    the stored value and the text that was replied, in each language."""
    if item.type is ItemType.CHOICE:
        last = len(item.options) - 1
        index = min(last, max(0, round(severity * last + rng.gauss(0, 0.3))))
        value: Any = item.options[index].code
        return {lang: (value, str(index + 1)) for lang in ("en", "es")}
    if item.type is ItemType.YES_NO:
        value = rng.random() < severity * 0.9
        return {lang: (value, (YES if value else NO)[lang]) for lang in ("en", "es")}
    if item.type is ItemType.TEXT:
        pools = TEXTS.get(item.id, {"en": ("Nothing new",), "es": ("Nada nuevo",)})
        return {lang: (text, text) for lang in ("en", "es") for text in [rng.choice(pools[lang])]}
    low = item.minimum if item.minimum is not None else 0
    high = item.maximum if item.maximum is not None else 10
    # Stool counts climb faster than a 0-10 pain scale.
    spread = 12 if item.type is ItemType.INTEGER else high - low - 2
    number = min(high, max(low, round(low + 1 + severity * spread + rng.gauss(0, 1))))
    return {lang: (number, str(number)) for lang in ("en", "es")}


def build_pattern(
    instrument: Instrument, severity: float, rng: random.Random, pass_rate: float
) -> Pattern:
    """Walk the instrument as the engine asks it (skip logic included), then score it."""
    answers: dict[str, Any] = {}
    passed: set[str] = set()
    asked: list[str] = []
    rows: list[tuple[str, str, dict[str, tuple[str | None, str]]]] = []
    while (item := next_item(instrument, answers, frozenset(passed))) is not None:
        asked.append(item.id)
        roll = rng.random()
        text_item = item.type is ItemType.TEXT
        if roll < pass_rate or (text_item and roll < 0.45):
            status, raw = (
                ("skipped", "SKIP")
                if roll < pass_rate * 0.8 or text_item
                else ("unanswered", "idk")
            )
            passed.add(item.id)
            rows.append((item.id, status, {lang: (None, raw) for lang in ("en", "es")}))
            continue
        given = answer_for(item, severity, rng)
        answers[item.id] = given["en"][0]
        rows.append(
            (item.id, "answered", {lang: (json.dumps(v), raw) for lang, (v, raw) in given.items()})
        )
    outcome = score_answers(instrument, answers)
    score = None
    if instrument.scores:
        result = outcome.scores[instrument.scores[0].id]
        band = result.band.id if result.band else None
        score = (result.score.id, result.raw, result.value, band, result.answered)
    state = {
        "current": None,
        "tries": 0,
        "asked": asked,
        "answers": answers,
        "passed": sorted(passed),
        "flagged": sorted(flag.id for flag in outcome.red_flags),
        "opening_sent": True,
    }
    return Pattern(tuple(rows), state, json.dumps(state), score, outcome.red_flags)


def pattern_pools(instrument: Instrument, rng: random.Random, buckets: int = 10) -> list[list]:
    """Several hundred scored patterns for each tenth of the severity range."""
    return [
        [
            build_pattern(instrument, (b + rng.random()) / buckets, rng, pass_rate=0.005)
            for _ in range(300)
        ]
        for b in range(buckets)
    ]


# -- generation -------------------------------------------------------------------------------
CHECKIN_COLUMNS = (
    "id", "patient_id", "instrument_version_id", "contact_id", "respondent_role", "language",
    "status", "due_at", "opened_at", "expires_at", "closed_at", "enrollment_id", "visit_id",
    "not_before", "reminded_at", "close_reason", "state", "created_at",
)  # fmt: skip
ANSWER_COLUMNS = (
    "checkin_id", "item_id", "status", "value", "raw_text", "contact_id", "respondent_role",
    "answered_at",
)  # fmt: skip
SCORE_COLUMNS = ("checkin_id", "score_id", "raw", "value", "band_id", "answered")
ALERT_COLUMNS = (
    "patient_id", "checkin_id", "red_flag_id", "severity", "status", "safety_message",
    "created_at", "acknowledged_at", "acknowledged_by_id", "acknowledgement_note",
)  # fmt: skip


@dataclass
class PatientRow:
    id: int
    center: int  # index into Generator.centers
    language: str
    weekday: int
    adherence: float
    usual_severity: float


@dataclass
class Dataset:
    clinic_center_id: int
    clinic_center_code: str
    clinic_zone: str
    clinician_email: str
    clinician_id: int
    day: date
    day_patient_ids: list[int]
    summary_patient_id: int
    summary_mrn: str
    counts: Counter[str] = field(default_factory=Counter)


class Generator:
    """Writes the network's two years with COPY, one pass, one connection per big table."""

    def __init__(self, args: argparse.Namespace, setup: Setup, now: datetime) -> None:
        self.args = args
        self.setup = setup
        self.now = now
        self.rng = random.Random(args.seed)
        self.symptom_pools = pattern_pools(setup.instruments[SYMPTOMS], self.rng)
        self.previsit_pool = [
            build_pattern(setup.instruments[PREVISIT], self.rng.random() * 0.7, self.rng, 0.02)
            for _ in range(400)
        ]
        self.centers = [
            (n + 1, f"C{n + 1:02d}", ZONES[n % len(ZONES)]) for n in range(args.centers)
        ]
        self.counts: Counter[str] = Counter()
        self.next_checkin_id = 1
        self.next_visit_id = 1
        self.out: dict[str, Any] = {}  # the open COPY of each big table

    # Small tables go in from lists; the big ones are streamed.
    def run(self, url: str, day: date | None) -> Dataset:
        args, rng, now = self.args, self.rng, self.now
        center_id, center_code, zone_name = self.centers[0]
        zone = ZoneInfo(zone_name)
        day = day or (now.astimezone(zone).date() + timedelta(days=1))
        patients: list[PatientRow] = []
        for c in range(len(self.centers)):
            for _ in range(args.patients_per_center):
                patients.append(
                    PatientRow(
                        id=len(patients) + 1,
                        center=c,
                        language="es" if rng.random() < 0.12 else "en",
                        weekday=rng.randrange(7),
                        adherence=rng.choice((0.98, 0.96, 0.94, 0.92, 0.9, 0.87, 0.8, 0.7)),
                        usual_severity=min(0.9, rng.betavariate(1.1, 9)),
                    )
                )
        at_clinic = [p for p in patients if p.center == 0]
        day_patients = rng.sample(at_clinic, min(len(CLINIC_DAY_PREVISITS), len(at_clinic)))
        previsit_states = dict(
            zip((p.id for p in day_patients), CLINIC_DAY_PREVISITS, strict=False)
        )

        connections = {
            name: psycopg.connect(url)
            for name in ("small", "visits", "checkins", "answers", "scores", "alerts")
        }
        try:
            for connection in connections.values():
                # Rows are consistent by construction: skip the per-row foreign-key triggers,
                # as a restore does. Indexes and CHECK constraints stay on.
                connection.execute("SET session_replication_role = replica")
                connection.execute("SET synchronous_commit = off")
            self.write_small_tables(connections["small"], patients)
            visits = self.write_visits(connections["visits"], patients, day, previsit_states)
            self.write_checkins(connections, patients, visits, previsit_states)
            self.write_enrollments(connections["small"], patients, visits)
            for connection in connections.values():
                connection.commit()
            with connections["small"].cursor() as cursor:
                for table in ("networks", "centers", "staff_users", "patients", "contacts",
                              "enrollments", "visits", "checkins"):  # fmt: skip
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            connections["small"].commit()
        finally:
            for connection in connections.values():
                connection.close()

        summary = next(p for p in day_patients if previsit_states[p.id] == "completed")
        return Dataset(
            clinic_center_id=center_id,
            clinic_center_code=center_code,
            clinic_zone=zone_name,
            clinician_email=self.clinician_email(0),
            clinician_id=1,
            day=day,
            day_patient_ids=[p.id for p in day_patients],
            summary_patient_id=summary.id,
            summary_mrn=self.mrn(summary),
            counts=self.counts,
        )

    def clinician_email(self, center: int) -> str:
        return f"clinician.{self.centers[center][1].lower()}@bench.example.org"

    def mrn(self, patient: PatientRow) -> str:
        return f"{self.centers[patient.center][1]}-{patient.id:06d}"

    def phone(self, patient: PatientRow) -> str:
        return f"+1{201 + patient.center}555{patient.id % 10000:04d}"

    def write_small_tables(
        self, connection: psycopg.Connection, patients: list[PatientRow]
    ) -> None:
        rng, now = self.rng, self.now
        started = now - timedelta(weeks=self.args.weeks + 2)
        cursor = connection.cursor()
        cursor.execute(
            "INSERT INTO networks (id, slug, name, created_at) VALUES (1, 'bench', 'Bench', %s)",
            (started,),
        )
        with cursor.copy(
            "COPY centers (id, network_id, code, name, time_zone, family_phone, "
            "quiet_hours_start, quiet_hours_end, created_at) FROM STDIN"
        ) as copy:
            for cid, code, zone in self.centers:
                copy.write_row((cid, 1, code, f"Bench Center {code}", zone,
                                f"+1{200 + cid}5550100", clock(21), clock(8), started))  # fmt: skip
        with cursor.copy(
            "COPY staff_users (id, email, full_name, role, is_active, password_hash, created_at) "
            "FROM STDIN"
        ) as copy:
            for n, (_, code, _) in enumerate(self.centers):
                copy.write_row((n + 1, self.clinician_email(n), f"Dr. Bench {code}", "clinician",
                                True, self.setup.password_hash, started))  # fmt: skip
        with cursor.copy("COPY center_memberships (staff_user_id, center_id) FROM STDIN") as copy:
            for n, (cid, _, _) in enumerate(self.centers):
                copy.write_row((n + 1, cid))
        today = now.date()
        with cursor.copy(
            "COPY patients (id, center_id, mrn, given_name, family_name, date_of_birth, "
            "diagnosis, preferred_language, time_zone, created_at, updated_at) FROM STDIN"
        ) as copy:
            for p in patients:
                # Teens and young adults: they answer for themselves, on their own phones.
                born = today - timedelta(days=rng.randrange(13 * 365, 20 * 365))
                diagnosis = rng.choices(
                    ("crohns_disease", "ulcerative_colitis", "ibd_unclassified"), (55, 35, 10)
                )[0]
                copy.write_row((p.id, self.centers[p.center][0], self.mrn(p), rng.choice(GIVEN),
                                rng.choice(FAMILY), born, diagnosis, p.language, None, started,
                                started))  # fmt: skip
        with cursor.copy(
            "COPY contacts (id, phone, patient_id, sms_consent, unreachable_failures, created_at) "
            "FROM STDIN"
        ) as copy:
            for p in patients:
                copy.write_row((p.id, self.phone(p), p.id, "granted", 0, started))
        with cursor.copy(
            "COPY consent_changes (contact_id, state, method, consent_text_version, changed_at, "
            "note) FROM STDIN"
        ) as copy:
            for p in patients:
                copy.write_row((p.id, "granted", "import", "2026-11", started, "bench import"))
        self.counts.update(centers=len(self.centers), patients=len(patients))

    def write_visits(
        self,
        connection: psycopg.Connection,
        patients: list[PatientRow],
        day: date,
        previsit_states: dict[int, str],
    ) -> dict[int, list[tuple[int, datetime, str]]]:
        """A visit every ~3 months for two years, the next one booked, and the clinic day."""
        rng, now = self.rng, self.now
        first = now - timedelta(weeks=self.args.weeks)
        visits: dict[int, list[tuple[int, datetime, str]]] = defaultdict(list)
        day_slots = {pid: n for n, pid in enumerate(previsit_states)}
        with connection.cursor().copy(
            "COPY visits (id, patient_id, center_id, starts_at, clinician_id, status, "
            "external_ref, created_at) FROM STDIN"
        ) as copy:
            for p in patients:
                cid, _, zone_name = self.centers[p.center]
                zone = ZoneInfo(zone_name)
                today = now.astimezone(zone).date()
                on_clinic_day = p.id in day_slots
                # Counted back from the clinic day for its patients, from a random phase else.
                anchor = day if on_clinic_day else today + timedelta(days=rng.randrange(1, 92))
                local_days = []
                k = 0 if not on_clinic_day else 1
                while (when := anchor - timedelta(days=VISIT_EVERY_DAYS * k)) > first.date():
                    local_days.append(when)
                    k += 1
                for local_day in reversed(local_days):
                    if p.center == 0 and local_day == day and not on_clinic_day:
                        local_day += timedelta(days=1)  # the clinic day holds only its 40
                    slot = rng.randrange(34)
                    starts = datetime.combine(
                        local_day, clock(8 + slot // 4, 15 * (slot % 4)), zone
                    ).astimezone(UTC)
                    past = starts < now
                    status = (
                        ("cancelled" if rng.random() < 0.04 else "completed")
                        if past
                        else ("scheduled")
                    )
                    visits[p.id].append((self.visit_row(copy, p, cid, starts, status), starts,
                                         status))  # fmt: skip
                if on_clinic_day:
                    n = day_slots[p.id]
                    starts = datetime.combine(
                        day, clock(8 + n * 12 // 60, n * 12 % 60), zone
                    ).astimezone(UTC)
                    visits[p.id].append(
                        (self.visit_row(copy, p, cid, starts, "scheduled"), starts, "scheduled")
                    )
        return visits

    def visit_row(self, copy: Any, p: PatientRow, cid: int, starts: datetime, status: str) -> int:
        visit_id = self.next_visit_id
        self.next_visit_id += 1
        booked = min(starts - timedelta(days=self.rng.randrange(20, 80)), self.now)
        copy.write_row((visit_id, p.id, cid, starts, p.center + 1, status, f"V{visit_id}", booked))
        self.counts["visits"] += 1
        return visit_id

    def write_checkins(
        self,
        connections: dict[str, psycopg.Connection],
        patients: list[PatientRow],
        visits: dict[int, list[tuple[int, datetime, str]]],
        previsit_states: dict[int, str],
    ) -> None:
        def copy_into(name: str, table: str, columns: tuple[str, ...]) -> Any:
            return (
                connections[name].cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
            )

        with (
            copy_into("checkins", "checkins", CHECKIN_COLUMNS) as checkins,
            copy_into("answers", "answers", ANSWER_COLUMNS) as answers,
            copy_into("scores", "checkin_scores", SCORE_COLUMNS) as scores,
            copy_into("alerts", "alerts", ALERT_COLUMNS) as alerts,
        ):
            self.out = {"checkins": checkins, "answers": answers, "scores": scores,
                        "alerts": alerts}  # fmt: skip
            for p in patients:
                self.weekly_checkins(p)
                self.previsit_checkins(p, visits[p.id], previsit_states.get(p.id))

    def weekly_checkins(self, p: PatientRow) -> None:
        """104 weekly check-ins at 18:00 on the patient's weekday, the last one two days ago."""
        rng, now = self.rng, self.now
        zone = ZoneInfo(self.centers[p.center][2])
        today = now.astimezone(zone).date()
        last = today - timedelta(days=2 + (today.weekday() - p.weekday) % 7)
        severity = p.usual_severity
        version = self.setup.version_ids[SYMPTOMS]
        pools = self.symptom_pools
        for week in range(self.args.weeks - 1, -1, -1):
            local_day = last - timedelta(weeks=week)
            due = datetime.combine(local_day, CHECKIN_LOCAL_TIME, zone).astimezone(UTC)
            # Weeks follow each other: flares come and go around the patient's usual level.
            severity = 0.8 * severity + 0.2 * p.usual_severity + rng.gauss(0, 0.05)
            if rng.random() < 0.01:
                severity += 0.35  # a flare
            severity = min(0.99, max(0.0, severity))
            pattern = rng.choice(pools[min(len(pools) - 1, int(severity * len(pools)))])
            roll = rng.random()
            if roll < p.adherence:
                status = "completed"
            elif roll < p.adherence + (1 - p.adherence) * 0.35:
                status = "expired"
            else:
                status = "missed"
            self.checkin(p, version, pattern, status, due, due, enrollment=2 * p.id - 1)

    def previsit_checkins(
        self, p: PatientRow, visits: list[tuple[int, datetime, str]], clinic_day: str | None
    ) -> None:
        """One three days before each visit held; the clinic day's in the state it was given."""
        rng, now = self.rng, self.now
        version = self.setup.version_ids[PREVISIT]
        for n, (visit_id, starts, status) in enumerate(visits):
            if status == "cancelled":
                continue
            due = starts - timedelta(minutes=PREVISIT_MINUTES)
            pattern = rng.choice(self.previsit_pool)
            if clinic_day is not None and n == len(visits) - 1:
                if clinic_day == "none":
                    continue
                state = clinic_day
                if state in ("in_progress", "sent"):
                    opened: datetime | None = now - timedelta(hours=rng.uniform(1, 20))
                elif state == "due":
                    opened = None
                else:
                    opened = now - timedelta(hours=rng.uniform(30, 60))
                due = opened or now - timedelta(hours=1)
            elif due > now:
                continue  # not sent yet: the enrollment's next due time
            else:
                roll = rng.random()
                state = "completed" if roll < 0.72 else "expired" if roll < 0.82 else "missed"
                if due > now - EXPIRY:
                    state = "completed" if roll < 0.5 else "in_progress"
                opened = due
            self.checkin(p, version, pattern, state, due, opened, enrollment=2 * p.id,
                         visit_id=visit_id)  # fmt: skip

    def checkin(
        self,
        p: PatientRow,
        version: int,
        pattern: Pattern,
        status: str,
        due: datetime,
        opened: datetime | None,
        *,
        enrollment: int,
        visit_id: int | None = None,
    ) -> None:
        rng, out = self.rng, self.out
        checkin_id = self.next_checkin_id
        self.next_checkin_id += 1
        expires = opened + EXPIRY if opened else None
        closed: datetime | None = None
        reminded = close_reason = not_before = None
        rows = pattern.rows
        state = pattern.state_json
        if status == "completed":
            assert opened is not None
            closed = opened + timedelta(minutes=rng.uniform(2, 240))
        elif status in ("expired", "in_progress", "sent", "missed"):
            keep = 0 if status in ("sent", "missed") else rng.randrange(1, len(rows))
            rows = rows[:keep]
            asked = [row[0] for row in pattern.rows[: keep + 1]]
            answered = {i: v for i, v in pattern.state["answers"].items() if i in asked[:keep]}
            state = json.dumps(
                {"current": asked[-1], "tries": 0, "asked": asked, "answers": answered,
                 "passed": [r[0] for r in rows if r[1] != "answered"], "flagged": [],
                 "opening_sent": True}
            )  # fmt: skip
            if status in ("expired", "missed"):
                assert expires is not None
                closed, close_reason = expires, "no_answer"
                reminded = opened + timedelta(hours=4) if opened else None
        elif status == "cancelled":
            rows, state = (), '{"opening_sent": true}'
            closed, close_reason = opened or due, "visit_moved"
        else:  # due: waiting for quiet hours to end
            rows, state = (), '{"opening_sent": false}'
            not_before = self.now + timedelta(hours=10)
        lang = p.language
        out["checkins"].write_row(
            (checkin_id, p.id, version, p.id, "self", lang, status, due, opened, expires, closed,
             enrollment, visit_id, not_before, reminded, close_reason, state,
             due - timedelta(minutes=1))
        )  # fmt: skip
        self.counts["checkins"] += 1
        self.counts[f"checkins {status}"] += 1
        if not rows:
            return
        assert opened is not None
        step = ((closed or self.now) - opened) / (len(rows) + 1)
        for n, (item_id, answer_status, by_language) in enumerate(rows, 1):
            value, raw = by_language[lang]
            out["answers"].write_row(
                (checkin_id, item_id, answer_status, value, raw, p.id, "self", opened + step * n)
            )
        self.counts["answers"] += len(rows)
        if status != "completed":
            return
        if pattern.score is not None:
            out["scores"].write_row((checkin_id, *pattern.score))
            self.counts["scores"] += 1
        for flag in pattern.flags:
            assert closed is not None
            acknowledged = closed < self.now - ALERTS_OPEN_FOR
            out["alerts"].write_row(
                (p.id, checkin_id, flag.id, flag.severity.value,
                 "acknowledged" if acknowledged else "open", flag.message[lang], closed,
                 closed + timedelta(hours=rng.uniform(1, 48)) if acknowledged else None,
                 p.center + 1 if acknowledged else None,
                 "Called the family; plan agreed" if acknowledged else None)
            )  # fmt: skip
            self.counts["alerts"] += 1

    def write_enrollments(
        self,
        connection: psycopg.Connection,
        patients: list[PatientRow],
        visits: dict[int, list[tuple[int, datetime, str]]],
    ) -> None:
        """The weekly schedule and the before-visit schedule of every patient."""
        now = self.now
        with connection.cursor().copy(
            "COPY enrollments (id, patient_id, instrument_id, contact_id, respondent_role, "
            "status, time_zone, kind, weekdays, every_weeks, local_time, starts_on, "
            "minutes_before_visit, next_due_at, next_visit_id, last_due_at, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for p in patients:
                zone_name = self.centers[p.center][2]
                zone = ZoneInfo(zone_name)
                today = now.astimezone(zone).date()
                last = today - timedelta(days=2 + (today.weekday() - p.weekday) % 7)
                first = last - timedelta(weeks=self.args.weeks - 1)
                last_due = datetime.combine(last, CHECKIN_LOCAL_TIME, zone).astimezone(UTC)
                next_due = datetime.combine(
                    last + timedelta(weeks=1), CHECKIN_LOCAL_TIME, zone
                ).astimezone(UTC)
                created = datetime.combine(first, clock(9), zone).astimezone(UTC)
                weekday = WEEKDAYS[first.weekday()]
                copy.write_row((2 * p.id - 1, p.id, SYMPTOMS, p.id, "self", "active", zone_name,
                                "recurring", weekday, 1, CHECKIN_LOCAL_TIME, first, None,
                                next_due, None, last_due, created, last_due))  # fmt: skip
                upcoming = [
                    (vid, starts)
                    for vid, starts, status in visits[p.id]
                    if status == "scheduled" and starts - timedelta(minutes=PREVISIT_MINUTES) > now
                ]
                next_visit = upcoming[0] if upcoming else None
                copy.write_row((2 * p.id, p.id, PREVISIT, p.id, "self", "active", zone_name,
                                "before_visit", None, 1, None, None, PREVISIT_MINUTES,
                                next_visit[1] - timedelta(minutes=PREVISIT_MINUTES)
                                if next_visit else None,
                                next_visit[0] if next_visit else None, None, created,
                                created))  # fmt: skip
        self.counts["enrollments"] += 2 * len(patients)


# Every SMS of those check-ins, written by the server from the rows above: the outbound
# intro, each question asked, the closing or a reminder; one inbound reply per answer. Twilio
# SIDs are counted, not random, so the unique index fills in order (a read benchmark).
OUTBOUND = """
INSERT INTO messages (direction, status, phone, service_phone, body, twilio_sid, contact_id,
    checkin_id, purpose, num_media, error_code, error_message, attempts, sent_at,
    status_changed_at, created_at)
SELECT 'outbound', CASE WHEN s.lost THEN 'undelivered' ELSE 'delivered' END, ct.phone,
    '+18005550100', t.body, 'SM' || lpad(to_hex(ch.id), 28, '0') || lpad(to_hex(s.n), 4, '0'),
    ch.contact_id, ch.id, s.purpose, 0, CASE WHEN s.lost THEN '30003' END,
    CASE WHEN s.lost THEN 'Unreachable destination handset' END, 1, s.at,
    s.at + interval '4 seconds', s.at
FROM checkins ch
JOIN contacts ct ON ct.id = ch.contact_id
CROSS JOIN LATERAL (
    SELECT n, purpose, key, at, random() < 0.01 AS lost FROM (
        SELECT 0 AS n, 'intro' AS purpose, 'intro' AS key, ch.opened_at AS at
        UNION ALL
        SELECT q.n, 'question', q.item, ch.opened_at + q.n * interval '90 seconds'
        FROM json_array_elements_text(ch.state -> 'asked') WITH ORDINALITY AS q(item, n)
        UNION ALL
        SELECT 1000, 'closing', 'closing', ch.closed_at WHERE ch.status = 'completed'
        UNION ALL
        SELECT 1001, 'reminder', 'reminder', ch.reminded_at WHERE ch.reminded_at IS NOT NULL
    ) steps
) s
JOIN bench_texts t ON t.version_id = ch.instrument_version_id AND t.language = ch.language
    AND t.key = s.key
WHERE ch.opened_at IS NOT NULL
ORDER BY ch.id, s.n
"""
INBOUND = """
INSERT INTO messages (direction, status, phone, service_phone, body, twilio_sid, contact_id,
    checkin_id, num_media, attempts, created_at)
SELECT 'inbound', 'received', ct.phone, '+18005550100', a.raw_text,
    'SMf' || lpad(to_hex(a.id), 31, '0'), a.contact_id, a.checkin_id, 0, 0, a.answered_at
FROM answers a JOIN contacts ct ON ct.id = a.contact_id
ORDER BY a.id
"""


def write_messages(url: str, setup: Setup) -> int:
    """The SMS behind the check-ins, in bulk on the server; their number."""
    from engage.conversations.replies import REPLIES

    with psycopg.connect(url) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET synchronous_commit = off")
        connection.execute("SET work_mem = '256MB'")  # the ORDER BY sorts in memory
        connection.execute("SELECT setseed(0.5)")
        connection.execute(
            "CREATE TEMPORARY TABLE bench_texts (version_id int, language text, key text, "
            "body text)"
        )
        with connection.cursor().copy("COPY bench_texts FROM STDIN") as copy:
            for instrument_id, instrument in setup.instruments.items():
                version = setup.version_ids[instrument_id]
                for lang in ("en", "es"):
                    texts = {
                        "intro": (instrument.intro or {}).get(lang, ""),
                        "closing": (instrument.closing or {}).get(lang, ""),
                        "reminder": REPLIES[lang]["reminder"],
                        **{item.id: item.text[lang] for item in instrument.items},
                    }
                    for key, body in texts.items():
                        copy.write_row((version, lang, key, body))
        written = connection.execute(OUTBOUND).rowcount
        written += connection.execute(INBOUND).rowcount
        connection.execute(
            "INSERT INTO message_status_events (message_id, status, error_code, received_at) "
            "SELECT id, status, error_code, status_changed_at FROM messages "
            "WHERE status = 'undelivered'"
        )
    return written


def vacuum_analyze(url: str) -> None:
    """What autovacuum would have done by now to insert-only tables (PostgreSQL ≥ 13):
    statistics for the planner, and the visibility map for index-only scans."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def table_sizes(url: str) -> list[tuple[str, int, str]]:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) "
            "FROM pg_stat_user_tables WHERE n_live_tup > 0 "
            "ORDER BY pg_total_relation_size(relid) DESC LIMIT 8"
        ).fetchall()


# -- the server and its client ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(url: str) -> Iterator[int]:
    """gunicorn wsgi:app with production settings on a free loopback port."""
    port = free_port()
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TWILIO_") and key != "PUBLIC_BASE_URL"
    }
    environ.update(
        DATABASE_URL=url,
        ENGAGE_ENV="production",
        SECRET_KEY="bench-review-secret",
        PYTHONPATH=str(ROOT),
    )
    command = [
        sys.executable, "-m", "gunicorn", "--workers", WORKERS, "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", "wsgi:app",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=environ)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start on port {port}") from None
                time.sleep(0.2)
        yield port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Reply:
    status: int
    body: bytes
    headers: http.client.HTTPMessage
    ms: float


class Client:
    """One caller at a time, a new connection per request (sync workers close them)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None
    ) -> Reply:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        # The session cookie is marked Secure in production: keep it by hand over loopback.
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return Reply(response.status, data, response.headers, ms)

    def sign_in(self, email: str, password: str) -> None:
        form = self.request("GET", "/sign-in")
        found = re.search(rb'name="csrf_token" value="([^"]+)"', form.body)
        if form.status != 200 or not found:
            raise SystemExit(f"sign-in form: HTTP {form.status}, no CSRF token")
        body = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": found.group(1).decode()}
        )
        reply = self.request(
            "POST", "/sign-in", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if reply.status != 302:
            raise SystemExit(f"sign-in as {email}: HTTP {reply.status}")


def issue_token(url: str, email: str) -> str:
    from engage import create_app
    from engage.auth.services import issue_api_token
    from engage.db import db, unit_of_work
    from engage.network.models import StaffUser

    app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
    with app.app_context():
        with unit_of_work():
            user = db.session.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one()
            token = issue_api_token(user, "bench review")
        db.engine.dispose()
    return token


@dataclass
class Endpoint:
    label: str
    path: str
    headers: dict[str, str]
    check: Any  # Reply -> problem text or None
    times: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


def endpoints(data: Dataset, token: str, weeks: int) -> list[Endpoint]:
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    day, pid, mrn = data.day.isoformat(), data.summary_patient_id, data.summary_mrn.encode()
    visits = len(data.day_patient_ids)

    def html_day(reply: Reply) -> str | None:
        return None if mrn in reply.body else "the clinic day does not list the patient"

    def html_patient(reply: Reply) -> str | None:
        return None if mrn in reply.body else "the summary does not name the patient"

    def api_day(reply: Reply) -> str | None:
        served = json.loads(reply.body)["visits"]
        if len(served) != visits:
            return f"{len(served)} visits, expected {visits}"
        previsits = Counter(v["previsit"] for v in served)
        changes = Counter(v["change"] or "unknown" for v in served)
        alerted = sum(1 for v in served if v["open_alerts"])
        print(
            f"clinic day as served: pre-visit {dict(previsits)}; change {dict(changes)}; "
            f"{alerted} patients with open alerts",
            flush=True,
        )
        return None

    def api_patient(reply: Reply) -> str | None:
        summary = json.loads(reply.body)
        points = sum(len(s["points"]) for s in summary["series"])
        # Every weekly check-in is a point: completed with its score, missed or expired without.
        return None if points >= weeks else f"{points} chart points, expected {weeks} or more"

    return [
        Endpoint("clinic day, HTML page", f"/review/clinic-day?date={day}", {}, html_day),
        Endpoint("patient summary, HTML page", f"/review/patients/{pid}", {}, html_patient),
        Endpoint("clinic day, JSON API", f"/api/v1/review/clinic-day?date={day}", bearer, api_day),
        Endpoint(
            "patient summary, JSON API", f"/api/v1/review/patients/{pid}", bearer, api_patient
        ),
    ]


def measure(client: Client, targets: list[Endpoint], requests: int, warmup: int) -> None:
    """Warm up, then request each in turn, so all four see the same machine."""
    for n in range(warmup + requests):
        for target in targets:
            reply = client.request("GET", target.path, headers=target.headers)
            if reply.status != 200:
                raise SystemExit(f"{target.path}: HTTP {reply.status}: {reply.body[:300]!r}")
            if n == 0 and (problem := target.check(reply)):
                raise SystemExit(f"{target.path}: {problem}")
            if n >= warmup:
                target.times.append(reply.ms)
                target.sizes.append(len(reply.body))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# -- where the time goes, in-process ----------------------------------------------------------
def shorten(text: str, width: int) -> str:
    flat = re.sub(r"\s+", " ", text)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass
class Statement:
    sql: str
    parameters: Any
    times: list[float] = field(default_factory=list)


def profile(url: str, data: Dataset, repeats: int, explain: int) -> None:
    """Time the two domain functions in-process and each statement they run."""
    from engage import create_app
    from engage.db import db
    from engage.review.summaries import clinic_day, patient_summary

    app = create_app({"DATABASE_URL": url, "ENGAGE_ENV": "development"})
    with app.app_context():
        engine = db.engine
        current: dict[str, Statement] = {}

        def before(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            conn.info["bench_started"] = time.perf_counter()

        def after(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            elapsed = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
            key = re.sub(r"\s+", " ", sql)
            current.setdefault(key, Statement(sql, parameters)).times.append(elapsed)

        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        calls = {
            "clinic_day": lambda: clinic_day([data.clinic_center_id], data.day),
            "patient_summary": lambda: patient_summary(data.summary_patient_id),
        }
        for name, call in calls.items():
            call()  # warm: instrument cache, connection
            db.session.rollback()
            current.clear()
            totals = []
            for _ in range(repeats):
                started = time.perf_counter()
                call()
                totals.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            statements = sorted(
                current.values(), key=lambda s: statistics.median(s.times), reverse=True
            )
            sql_ms = sum(statistics.median(s.times) * len(s.times) / repeats for s in statements)
            print(
                f"\n{name}: median {statistics.median(totals):.1f} ms in-process over {repeats} "
                f"calls, of which {sql_ms:.1f} ms in {len(statements)} distinct statements"
            )
            for s in statements[:5]:
                per_call = len(s.times) / repeats
                print(
                    f"  {statistics.median(s.times):7.2f} ms x{per_call:g}  {shorten(s.sql, 110)}"
                )
            for s in statements[:explain]:
                raw = engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + s.sql, s.parameters)
                    # Long IN lists and CASE expressions would fill the screen: cut lines short.
                    plan = "\n".join(f"    {shorten(row[0], 240)}" for row in cursor.fetchall())
                finally:
                    raw.close()
                print(f"\n  EXPLAIN (ANALYZE, BUFFERS) of: {shorten(s.sql, 600)}\n{plan}")
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
        db.engine.dispose()


# -- the run ----------------------------------------------------------------------------------
def report(args: argparse.Namespace, data: Dataset, targets: list[Endpoint], build: dict) -> None:
    counts = data.counts
    command = " ".join(["bench/review.py", *sys.argv[1:]])
    print("\n## Review pages: clinic day and patient summary on a network-sized database\n")
    print(f"Command: `.venv/bin/python {command}`")
    print(
        f"(gunicorn, {WORKERS} sync workers, ENGAGE_ENV=production, on loopback; one client, "
        f"one request at a time, the four requests in turn, {args.requests} each after "
        f"{args.warmup} warm-up rounds; PostgreSQL on {sa.make_url(POSTGRES).host}.)\n"
    )
    print(f"### {datetime.now():%Y-%m-%d %H:%M} — at {revision()}\n")
    completed = counts["checkins completed"]
    print(
        f"Data: {counts['centers']} centers, {counts['patients']:,} patients, "
        f"{counts['checkins']:,} check-ins ({completed:,} completed), {counts['answers']:,} "
        f"answers, {counts['scores']:,} scores, {counts['alerts']:,} alerts, "
        f"{counts['visits']:,} visits, {counts['messages']:,} SMS; generated in "
        f"{sum(build.values()):.0f} s (migrations {build['migrate']:.0f} s, COPY "
        f"{build['generate']:.0f} s, SMS by INSERT … SELECT {build['messages']:.0f} s, "
        f"VACUUM ANALYZE {build['vacuum']:.0f} s)."
    )
    print(
        f"Clinic day {data.day} at {data.clinic_center_code} ({data.clinic_zone}): "
        f"{len(data.day_patient_ids)} visits; summary of patient {data.summary_patient_id} "
        f"({args.weeks} weekly check-ins and the pre-visit ones).\n"
    )
    print("| request | min ms | median ms | p95 ms | max ms | body | p95 ≤ 150 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for t in targets:
        p95 = percentile(t.times, 0.95)
        verdict = "met" if p95 <= TARGET_P95_MS else "**not met**"
        print(
            f"| {t.label} | {min(t.times):.1f} | {statistics.median(t.times):.1f} | {p95:.1f} "
            f"| {max(t.times):.1f} | {statistics.median(t.sizes) / 1024:.0f} KiB | {verdict} |"
        )


def revision() -> str:
    """The commit measured, and whether engage/ had changes not yet committed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "engage"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "an unknown commit"
    dirty = " with uncommitted changes in engage/" if changed else ""
    return f"{commit or 'an unknown commit'}{dirty}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centers", type=int, default=50)
    parser.add_argument("--patients-per-center", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=104, help="weekly check-ins per patient")
    parser.add_argument("--day", type=date.fromisoformat, help="clinic day (default: tomorrow)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile-calls", type=int, default=20)
    parser.add_argument(
        "--explain", type=int, nargs="?", const=2, default=0, metavar="N",
        help="EXPLAIN ANALYZE the N slowest statements of each page (default 2)",
    )  # fmt: skip
    parser.add_argument(
        "--no-messages", dest="messages", action="store_false",
        help="leave out the SMS rows (outbound and inbound) of the check-ins",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.patients_per_center < len(CLINIC_DAY_PREVISITS):
        parser.error(f"--patients-per-center must be at least {len(CLINIC_DAY_PREVISITS)}")

    name, url = create_database()
    print(f"scratch database {name}", flush=True)
    try:
        build: dict[str, float] = {}
        started = time.perf_counter()
        setup = migrate(url)
        build["migrate"] = time.perf_counter() - started
        started = time.perf_counter()
        data = Generator(args, setup, datetime.now(UTC)).run(url, args.day)
        build["generate"] = time.perf_counter() - started
        print(f"generated in {build['generate']:.1f} s: {dict(data.counts)}", flush=True)
        build["messages"] = 0.0
        if args.messages:
            started = time.perf_counter()
            data.counts["messages"] = write_messages(url, setup)
            build["messages"] = time.perf_counter() - started
            print(f"{data.counts['messages']:,} messages in {build['messages']:.1f} s", flush=True)
        started = time.perf_counter()
        vacuum_analyze(url)
        build["vacuum"] = time.perf_counter() - started
        print(f"VACUUM ANALYZE in {build['vacuum']:.1f} s", flush=True)
        for table, rows, size in table_sizes(url):
            print(f"  {table}: {rows:,} rows, {size}")

        from engage.demo.seed import DEMO_STAFF_PASSWORD

        token = issue_token(url, data.clinician_email)
        targets = endpoints(data, token, args.weeks)
        with serve(url) as port:
            client = Client(port)
            client.sign_in(data.clinician_email, DEMO_STAFF_PASSWORD)
            print(f"measuring on port {port} ...", flush=True)
            measure(client, targets, args.requests, args.warmup)
        report(args, data, targets, build)
        profile(url, data, args.profile_calls, args.explain)
    finally:
        drop_database(name)
        print(f"\ndropped {name}")


if __name__ == "__main__":
    main()
