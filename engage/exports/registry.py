"""The network registry export, de-identified by HIPAA Safe Harbor (45 CFR 164.514(b)(2)).

Every center's patients, check-ins, coded answers, scores, alerts and ideas, as NDJSON or
CSV, with a data dictionary and a manifest. What identifies a person is left out or
replaced:

- patients are a pseudonym, HMAC-SHA256(REGISTRY_PSEUDONYM_KEY, "patient:CENTER:MRN"),
  stable across exports made with the same key; check-ins, alerts and ideas are keyed
  HMACs of their database ids. The key is never written.
- no names, MRNs, phone numbers, e-mails, addresses, staff, message SIDs or free text
  (free-text answers, idea text, rationales, notes and message bodies are not read at all).
- dates: ``year`` (the default, Safe Harbor as written): one calendar element per patient,
  the year of their index date, and every event as whole days since that index date;
  or ``shifted``: dates moved by a per-patient offset of 1 to 180 days either way,
  derived from the key, so that intervals and weekdays are kept.
- ages of 90 and over are "90+", and those patients' birth years are withheld.
- centers keep their codes: a care site, not where a family lives.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.audit.services import record_event
from engage.codesign.models import IDEA_CATEGORIES, Idea, IdeaStatusChange, IdeaVote
from engage.conversations.models import (
    Answer,
    AnswerStatus,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    CloseReason,
)
from engage.db import db, utcnow
from engage.exports.output import CsvWriter, NdjsonWriter, chunked_rows, open_private
from engage.instruments.model import Instrument, Item, ItemType
from engage.instruments.models import InstrumentVersion
from engage.instruments.services import instrument_of
from engage.network.models import Center, Network
from engage.people.models import Patient

DATE_MODES = ("year", "shifted")
FORMATS = ("ndjson", "csv")
PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no collision to expect among millions of patients
MAX_SHIFT_DAYS = 180
OLDEST_AGE = 90  # Safe Harbor: ages over 89 are one group
OLDEST_AGE_LABEL = "90+"

KEPT = "kept as stored: a code, count or measure that identifies no one"
PATIENT_PSEUDONYM = (
    "HMAC-SHA256 of 'patient:' + center code + ':' + MRN under REGISTRY_PSEUDONYM_KEY, first "
    f"{PSEUDONYM_HEX_DIGITS} hex digits; stable across exports made with the same key"
)
DAYS = (
    "whole days since the patient's index date, in the patient's time zone; the calendar "
    "date itself is not exported"
)
SHIFTED = (
    "the local date moved by the patient's own offset (1 to 180 days, earlier or later, the "
    "same for every date of that patient, derived from the key)"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str
    deidentification: str = KEPT
    dates: str | None = None  # only in this date mode ("year" or "shifted")


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    def columns_for(self, dates: str) -> list[Column]:
        return [column for column in self.columns if column.dates in (None, dates)]


def ref_column(name: str, what: str) -> Column:
    return Column(
        name,
        "string",
        f"the {what}, to join tables within this export",
        f"HMAC-SHA256 of the {what}'s database id under the key, first "
        f"{PSEUDONYM_HEX_DIGITS} hex digits; the database id is not exported",
    )


PATIENT_COLUMN = Column("patient_pseudonym", "string", "the patient", PATIENT_PSEUDONYM)
CHECKIN_REF = ref_column("checkin_ref", "check-in")

PATIENTS = Table(
    "patients",
    "One row per patient of every center in the network.",
    (
        PATIENT_COLUMN,
        Column(
            "center",
            "code",
            "the care center's code",
            "kept: a care site, not the family's address (no geography smaller than a state "
            "is exported)",
        ),
        Column("diagnosis", "code", "crohns_disease, ulcerative_colitis or ibd_unclassified"),
        Column("preferred_language", "code", "en or es"),
        Column(
            "birth_year",
            "integer",
            "year of birth",
            f"the year only; empty for patients aged {OLDEST_AGE} or over at export",
        ),
        Column(
            "age_at_index",
            "string",
            "age in whole years on the index date",
            f"'{OLDEST_AGE_LABEL}' for {OLDEST_AGE} and over",
        ),
        Column(
            "index_year",
            "integer",
            "year of the patient's index date: the earlier of their first check-in's due date "
            "and their entry in engage",
            "the only calendar element exported for a patient; every event is counted in "
            "days from the index date",
            dates="year",
        ),
        Column(
            "index_date", "date", "the patient's index date (see index_year)", SHIFTED, "shifted"
        ),
    ),
)

CHECKINS = Table(
    "checkins",
    "One row per check-in (a questionnaire sent to a patient or their parent).",
    (
        CHECKIN_REF,
        PATIENT_COLUMN,
        Column("instrument", "code", "the questionnaire's id, e.g. ibd-symptoms"),
        Column("instrument_version", "string", "the questionnaire's version"),
        Column("status", "code", "due, sent, in_progress, completed, expired, missed or cancelled"),
        Column("close_reason", "code", "why it closed unanswered or was not sent, when known"),
        Column("respondent", "code", "self (the patient) or proxy (a parent or caregiver)"),
        Column("language", "code", "en or es"),
        Column("due_day", "integer", "when it was due", DAYS),
        Column("due_date", "date", "when it was due", SHIFTED, "shifted"),
        Column("answered_items", "integer", "how many items were answered"),
        Column(
            "minutes_to_complete",
            "integer",
            "minutes from the first message to the last answer, for completed check-ins",
            "an interval; no time of day is exported",
        ),
    ),
)

ANSWERS = Table(
    "answers",
    "One row per coded answer. Answers to free-text items are left out entirely.",
    (
        CHECKIN_REF,
        PATIENT_COLUMN,
        Column("instrument", "code", "the questionnaire's id"),
        Column("item", "code", "the item's id within the questionnaire"),
        Column("item_type", "code", "choice, yes_no, integer or scale"),
        Column(
            "status",
            "code",
            "answered, skipped (the respondent replied SKIP) or unanswered (two unclear replies)",
        ),
        Column(
            "value",
            "code, integer or boolean",
            "the answer: an option code (choice), true/false (yes_no), a number (integer, scale)",
            "coded values only; the respondent's own words are never exported",
        ),
        Column("respondent", "code", "self or proxy: who gave this answer"),
    ),
)

SCORES = Table(
    "scores",
    "One row per score of a check-in, as computed when it was completed.",
    (
        CHECKIN_REF,
        PATIENT_COLUMN,
        Column("instrument", "code", "the questionnaire's id"),
        Column("score", "code", "the score's id within the questionnaire"),
        Column("raw", "integer", "sum of item points"),
        Column("value", "number", "the reported value (the raw sum or its standard score)"),
        Column("band", "code", "the interpretation band, e.g. remission, mild, moderate, severe"),
        Column("items_answered", "integer", "how many of the score's items were answered"),
    ),
)

ALERTS = Table(
    "alerts",
    "One row per red-flag alert raised for the care team.",
    (
        ref_column("alert_ref", "alert"),
        PATIENT_COLUMN,
        CHECKIN_REF,
        Column("red_flag", "code", "the questionnaire's red-flag rule that fired"),
        Column("severity", "code", "moderate, high or urgent"),
        Column("status", "code", "open or acknowledged"),
        Column("raised_day", "integer", "when it was raised", DAYS),
        Column("raised_date", "date", "when it was raised", SHIFTED, "shifted"),
        Column(
            "hours_to_acknowledge",
            "number",
            "hours from raising to acknowledgement, one decimal",
            "an interval; who acknowledged it and their note are not exported",
        ),
    ),
)

IDEAS = Table(
    "ideas",
    "One row per improvement idea sent in by a family. Status and dates only: the idea's "
    "words, who sent it and the reviewers' discussion are not exported, and ideas are not "
    "linked to patients.",
    (
        ref_column("idea_ref", "idea"),
        Column("center", "code", "the submitter's care center"),
        Column("channel", "code", "sms, app or checkin"),
        Column("category", "code", "the category a reviewer filed it under"),
        Column("status", "code", "the idea's current status"),
        Column("submitted_by", "code", "patient, parent or unknown"),
        Column(
            "submitted_year",
            "integer",
            "year it was sent in",
            "the year only, in both date modes",
        ),
        Column(
            "days_to_current_status",
            "integer",
            "whole days from submission to its latest status change",
            "an interval",
        ),
        ref_column("merged_into_ref", "idea it was merged into"),
        Column("votes", "integer", "votes from network staff and parent partners"),
    ),
)

IDEA_STATUS_CHANGES = Table(
    "idea_status_changes",
    "One row per step of an idea's review. Reviewers, rationales and relays are not exported.",
    (
        ref_column("idea_ref", "idea"),
        Column("from_status", "code", "status before"),
        Column("to_status", "code", "status after"),
        Column(
            "days_after_submission",
            "integer",
            "whole days from the idea's submission to this change",
            "an interval",
        ),
    ),
)

TABLES = (PATIENTS, CHECKINS, ANSWERS, SCORES, ALERTS, IDEAS, IDEA_STATUS_CHANGES)

DATE_NOTES = {
    "year": (
        "Dates are reduced to the year, as Safe Harbor requires. Each patient has one index "
        "date (the earlier of their first check-in's due date and their entry in engage); "
        "only its year is exported, and every event is counted in whole days from it. "
        "Intervals between a patient's events are exact to the day; no calendar date is "
        "exported."
    ),
    "shifted": (
        "Dates are shifted: every date of a patient is moved by the same offset of 1 to 180 "
        "days, earlier or later, derived from the key, so intervals between a patient's "
        "events are exact to the day. Shifted dates are not Safe Harbor as written (which "
        "keeps only the year); use this mode only under an expert determination "
        "(45 CFR 164.514(b)(1)) or a data use agreement for a limited data set. Times of day "
        "are never exported."
    ),
}
NOTES = (
    "De-identified by HIPAA Safe Harbor (45 CFR 164.514(b)(2)): names, MRNs, phone numbers, "
    "e-mail addresses, addresses, free text, staff and message ids are not exported.",
    "Patients are pseudonyms (keyed HMAC-SHA256); the key is not exported, so pseudonyms "
    "cannot be traced back without it. The same key gives the same pseudonyms in every "
    "export; manifest.json's pseudonym_key_id says which key was used.",
    f"Ages of {OLDEST_AGE} and over are '{OLDEST_AGE_LABEL}', and those patients' birth years "
    "are withheld.",
    "Centers keep their codes: a center is a care site, not where a family lives.",
)


class Pseudonyms:
    """Keyed HMACs: patient pseudonyms, record references and date offsets."""

    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")

    def digest(self, message: str) -> bytes:
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).digest()

    def patient(self, center_code: str, mrn: str) -> str:
        return self.digest(f"patient:{center_code}:{mrn}").hex()[:PSEUDONYM_HEX_DIGITS]

    def record(self, kind: str, record_id: int | None) -> str | None:
        if record_id is None:
            return None
        return self.digest(f"{kind}:{record_id}").hex()[:PSEUDONYM_HEX_DIGITS]

    def date_shift(self, center_code: str, mrn: str) -> timedelta:
        """1 to 180 days, earlier or later; never 0, so no true date is ever written."""
        number = int.from_bytes(self.digest(f"date-shift:{center_code}:{mrn}")[:8], "big")
        step = number % (2 * MAX_SHIFT_DAYS)
        days = step - MAX_SHIFT_DAYS if step < MAX_SHIFT_DAYS else step - MAX_SHIFT_DAYS + 1
        return timedelta(days=days)

    def key_id(self) -> str:
        """Names the key without revealing it: exports with the same id share pseudonyms."""
        return self.digest("key-id").hex()[:8]


@dataclass(frozen=True)
class PatientFacts:
    """What the export needs of a patient, held for every patient while it runs."""

    pseudonym: str
    center: str
    diagnosis: str
    language: str
    zone: ZoneInfo
    date_of_birth: date
    shift: timedelta
    index_day: date

    def day(self, moment: datetime) -> int:
        return (moment.astimezone(self.zone).date() - self.index_day).days

    def shifted(self, moment: datetime) -> str:
        return (moment.astimezone(self.zone).date() + self.shift).isoformat()


def export_registry(
    folder: Path,
    *,
    key: str,
    file_format: str,
    dates: str,
    exported_by: str,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write the registry into ``folder``; return rows per file; record the export.

    The audit event joins the caller's transaction.
    """
    if file_format not in FORMATS:
        raise ValueError(f"format {file_format!r} is not one of {', '.join(FORMATS)}")
    if dates not in DATE_MODES:
        raise ValueError(f"dates {dates!r} is not one of {', '.join(DATE_MODES)}")
    now = now or utcnow()
    pseudonyms = Pseudonyms(key)
    patients = load_patients(pseudonyms)
    instruments = StoredInstruments()
    sources: dict[str, Iterable[dict[str, Any]]] = {
        "patients": patient_rows(patients, now),
        "checkins": checkin_rows(patients, pseudonyms, instruments),
        "answers": answer_rows(patients, pseudonyms, instruments),
        "scores": score_rows(patients, pseudonyms, instruments),
        "alerts": alert_rows(patients, pseudonyms),
        "ideas": idea_rows(pseudonyms),
        "idea_status_changes": idea_change_rows(pseudonyms),
    }
    counts: dict[str, int] = {}
    for table in TABLES:
        name = f"{table.name}.{file_format}"
        counts[name] = write_table(
            folder / name, table.columns_for(dates), sources[table.name], file_format
        )
    write_dictionary(folder, file_format, dates)
    write_manifest(
        folder, counts, file_format=file_format, dates=dates, pseudonyms=pseudonyms, now=now
    )
    summary = ", ".join(f"{name} {rows}" for name, rows in counts.items())
    record_event(
        None,
        "export.registry",
        detail=f"by {exported_by}: {file_format}, dates {dates}; {summary}",
        at=now,
    )
    return counts


def write_table(
    path: Path, columns: list[Column], records: Iterable[dict[str, Any]], file_format: str
) -> int:
    """Write only the declared columns: a field not in the dictionary is never exported."""
    names = [column.name for column in columns]
    writer = NdjsonWriter(path) if file_format == "ndjson" else CsvWriter(path, names)
    try:
        for record in records:
            writer.write({name: record[name] for name in names})
    finally:
        writer.close()
    return writer.rows


# -- patients -----------------------------------------------------------------------------
def load_patients(pseudonyms: Pseudonyms) -> dict[int, PatientFacts]:
    """Every patient's pseudonym, offset and index date, by database id (never exported)."""
    first_due = (
        sa.select(CheckIn.patient_id, sa.func.min(CheckIn.due_at).label("first_due"))
        .group_by(CheckIn.patient_id)
        .subquery()
    )
    statement = (
        sa.select(
            Patient.id,
            Patient.mrn,
            Center.code,
            Patient.diagnosis,
            Patient.preferred_language,
            sa.func.coalesce(Patient.time_zone, Center.time_zone),
            Patient.date_of_birth,
            Patient.created_at,
            first_due.c.first_due,
        )
        .join(Center, Center.id == Patient.center_id)
        .outerjoin(first_due, first_due.c.patient_id == Patient.id)
    )
    zones: dict[str, ZoneInfo] = {}
    patients: dict[int, PatientFacts] = {}
    for chunk in chunked_rows(statement):
        for row in chunk:
            (patient_id, mrn, center, diagnosis, language, zone_name, born, created, first) = row
            zone = zones.setdefault(zone_name, ZoneInfo(zone_name))
            index = created if first is None else min(created, as_utc(first))
            patients[patient_id] = PatientFacts(
                pseudonym=pseudonyms.patient(center, mrn),
                center=center,
                diagnosis=str(diagnosis),
                language=str(language),
                zone=zone,
                date_of_birth=born,
                shift=pseudonyms.date_shift(center, mrn),
                index_day=index.astimezone(zone).date(),
            )
    return patients


def as_utc(moment: datetime | str) -> datetime:
    """An aggregate's timestamp: SQLite may hand back text, PostgreSQL an aware datetime."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def age_label(born: date, on: date) -> str:
    years = on.year - born.year - (0 if (on.month, on.day) >= (born.month, born.day) else 1)
    return OLDEST_AGE_LABEL if years >= OLDEST_AGE else str(years)


def patient_rows(patients: dict[int, PatientFacts], now: datetime) -> Iterator[dict[str, Any]]:
    # By pseudonym: the order of database ids (who was entered when) stays behind.
    for facts in sorted(patients.values(), key=lambda facts: facts.pseudonym):
        today = now.astimezone(facts.zone).date()
        oldest = age_label(facts.date_of_birth, today) == OLDEST_AGE_LABEL
        yield {
            "patient_pseudonym": facts.pseudonym,
            "center": facts.center,
            "diagnosis": facts.diagnosis,
            "preferred_language": facts.language,
            "birth_year": None if oldest else facts.date_of_birth.year,
            "age_at_index": age_label(facts.date_of_birth, facts.index_day),
            "index_year": facts.index_day.year,
            "index_date": (facts.index_day + facts.shift).isoformat(),
        }


# -- check-ins, answers, scores -------------------------------------------------------------
class StoredInstruments:
    """Each stored instrument version, parsed once: item types decide what is coded."""

    def __init__(self) -> None:
        self._by_version: dict[int, Instrument] = {}

    def get(self, version_id: int) -> Instrument:
        if version_id not in self._by_version:
            row = db.session.get(InstrumentVersion, version_id)
            assert row is not None  # a foreign key: the row exists
            self._by_version[version_id] = instrument_of(row)
        return self._by_version[version_id]


CLOSE_REASONS = frozenset(reason.value for reason in CloseReason)


def checkin_rows(
    patients: dict[int, PatientFacts],
    pseudonyms: Pseudonyms,
    instruments: StoredInstruments,
) -> Iterator[dict[str, Any]]:
    answered = (
        sa.select(sa.func.count())
        .where(Answer.checkin_id == CheckIn.id, Answer.status == AnswerStatus.ANSWERED)
        .scalar_subquery()
    )
    statement = sa.select(
        CheckIn.id,
        CheckIn.patient_id,
        CheckIn.instrument_version_id,
        CheckIn.status,
        CheckIn.close_reason,
        CheckIn.respondent_role,
        CheckIn.language,
        CheckIn.due_at,
        CheckIn.opened_at,
        CheckIn.closed_at,
        answered,
    )
    for chunk in chunked_rows(statement):
        for row in chunk:
            (checkin_id, patient_id, version_id, status, reason, role, language) = row[:7]
            (due_at, opened_at, closed_at, answered_items) = row[7:]
            facts = patients.get(patient_id)
            if facts is None:
                continue
            instrument = instruments.get(version_id)
            minutes = None
            if status is CheckInStatus.COMPLETED and opened_at and closed_at:
                minutes = round((closed_at - opened_at).total_seconds() / 60)
            yield {
                "checkin_ref": pseudonyms.record("checkin", checkin_id),
                "patient_pseudonym": facts.pseudonym,
                "instrument": instrument.id,
                "instrument_version": instrument.version,
                "status": status.value,
                "close_reason": reason if reason in CLOSE_REASONS else None,
                "respondent": role.value,
                "language": language.value,
                "due_day": facts.day(due_at),
                "due_date": facts.shifted(due_at),
                "answered_items": answered_items,
                "minutes_to_complete": minutes,
            }


MISSING = object()


def coded_value(item: Item, value: Any) -> Any:
    """The answer if it is a code of this item, MISSING for free text and anything odd."""
    if item.type is ItemType.CHOICE:
        return value if isinstance(value, str) and item.option(value) is not None else MISSING
    if item.type is ItemType.YES_NO:
        return value if isinstance(value, bool) else MISSING
    if item.type in (ItemType.INTEGER, ItemType.SCALE):
        return value if isinstance(value, int) and not isinstance(value, bool) else MISSING
    return MISSING


def answer_rows(
    patients: dict[int, PatientFacts], pseudonyms: Pseudonyms, instruments: StoredInstruments
) -> Iterator[dict[str, Any]]:
    # raw_text, the respondent's own words, is not even read.
    statement = sa.select(
        Answer.id,
        Answer.checkin_id,
        Answer.item_id,
        Answer.status,
        Answer.value,
        Answer.respondent_role,
        CheckIn.patient_id,
        CheckIn.instrument_version_id,
    ).join(CheckIn, CheckIn.id == Answer.checkin_id)
    for chunk in chunked_rows(statement):
        for _, checkin_id, item_id, status, value, role, patient_id, version_id in chunk:
            facts = patients.get(patient_id)
            instrument = instruments.get(version_id)
            try:
                item = instrument.item(item_id)
            except KeyError:
                continue
            if facts is None or item.type is ItemType.TEXT:
                continue
            coded = coded_value(item, value) if status is AnswerStatus.ANSWERED else None
            yield {
                "checkin_ref": pseudonyms.record("checkin", checkin_id),
                "patient_pseudonym": facts.pseudonym,
                "instrument": instrument.id,
                "item": item.id,
                "item_type": item.type.value,
                "status": status.value,
                "value": None if coded is MISSING else coded,
                "respondent": role.value,
            }


def score_rows(
    patients: dict[int, PatientFacts], pseudonyms: Pseudonyms, instruments: StoredInstruments
) -> Iterator[dict[str, Any]]:
    statement = sa.select(
        CheckInScore.id,
        CheckInScore.checkin_id,
        CheckInScore.score_id,
        CheckInScore.raw,
        CheckInScore.value,
        CheckInScore.band_id,
        CheckInScore.answered,
        CheckIn.patient_id,
        CheckIn.instrument_version_id,
    ).join(CheckIn, CheckIn.id == CheckInScore.checkin_id)
    for chunk in chunked_rows(statement):
        for _, checkin_id, score_id, raw, value, band, answered, patient_id, version_id in chunk:
            facts = patients.get(patient_id)
            if facts is None:
                continue
            yield {
                "checkin_ref": pseudonyms.record("checkin", checkin_id),
                "patient_pseudonym": facts.pseudonym,
                "instrument": instruments.get(version_id).id,
                "score": score_id,
                "raw": raw,
                "value": value,
                "band": band,
                "items_answered": answered,
            }


# -- alerts and ideas -----------------------------------------------------------------------
def alert_rows(
    patients: dict[int, PatientFacts], pseudonyms: Pseudonyms
) -> Iterator[dict[str, Any]]:
    # Not read: the safety message sent, who acknowledged, their note, notice errors.
    statement = sa.select(
        Alert.id,
        Alert.patient_id,
        Alert.checkin_id,
        Alert.red_flag_id,
        Alert.severity,
        Alert.status,
        Alert.created_at,
        Alert.acknowledged_at,
    )
    for chunk in chunked_rows(statement):
        for alert_id, patient_id, checkin_id, flag, severity, status, raised, acked in chunk:
            facts = patients.get(patient_id)
            if facts is None:
                continue
            hours = None
            if acked is not None:
                hours = round((acked - raised).total_seconds() / 3600, 1)
            yield {
                "alert_ref": pseudonyms.record("alert", alert_id),
                "patient_pseudonym": facts.pseudonym,
                "checkin_ref": pseudonyms.record("checkin", checkin_id),
                "red_flag": flag,
                "severity": severity.value,
                "status": status.value,
                "raised_day": facts.day(raised),
                "raised_date": facts.shifted(raised),
                "hours_to_acknowledge": hours,
            }


def idea_rows(pseudonyms: Pseudonyms) -> Iterator[dict[str, Any]]:
    # Not read: the text and its redaction, who it helps, the submitter, tags, comments.
    votes = sa.select(sa.func.count()).where(IdeaVote.idea_id == Idea.id).scalar_subquery()
    statement = sa.select(
        Idea.id,
        Center.code,
        Idea.channel,
        Idea.category,
        Idea.status,
        Idea.patient_id.is_not(None),
        Idea.caregiver_id.is_not(None),
        Idea.created_at,
        Idea.status_changed_at,
        Idea.merged_into_id,
        votes,
    ).outerjoin(Center, Center.id == Idea.center_id)
    for chunk in chunked_rows(statement):
        for row in chunk:
            (idea_id, center, channel, category, status, by_patient, by_parent) = row[:7]
            (created, changed, merged_into, vote_count) = row[7:]
            submitted_by = "patient" if by_patient else "parent" if by_parent else "unknown"
            yield {
                "idea_ref": pseudonyms.record("idea", idea_id),
                "center": center,
                "channel": channel.value,
                "category": category if category in IDEA_CATEGORIES else None,
                "status": status.value,
                "submitted_by": submitted_by,
                "submitted_year": created.year,
                "days_to_current_status": (changed - created).days,
                "merged_into_ref": pseudonyms.record("idea", merged_into),
                "votes": vote_count,
            }


def idea_change_rows(pseudonyms: Pseudonyms) -> Iterator[dict[str, Any]]:
    statement = sa.select(
        IdeaStatusChange.id,
        IdeaStatusChange.idea_id,
        IdeaStatusChange.from_status,
        IdeaStatusChange.to_status,
        IdeaStatusChange.changed_at,
        Idea.created_at,
    ).join(Idea, Idea.id == IdeaStatusChange.idea_id)
    for chunk in chunked_rows(statement):
        for _, idea_id, from_status, to_status, changed, created in chunk:
            yield {
                "idea_ref": pseudonyms.record("idea", idea_id),
                "from_status": from_status.value,
                "to_status": to_status.value,
                "days_after_submission": (changed - created).days,
            }


# -- data dictionary and manifest ---------------------------------------------------------
def dictionary(file_format: str, dates: str) -> dict[str, Any]:
    return {
        "dates": dates,
        "date_handling": DATE_NOTES[dates],
        "notes": list(NOTES),
        "files": [
            {
                "file": f"{table.name}.{file_format}",
                "description": table.description,
                "columns": [
                    {
                        "name": column.name,
                        "type": column.type,
                        "meaning": column.meaning,
                        "de_identification": column.deidentification,
                    }
                    for column in table.columns_for(dates)
                ],
            }
            for table in TABLES
        ],
    }


def write_dictionary(folder: Path, file_format: str, dates: str) -> None:
    """data_dictionary.json (with the notes) and data_dictionary.csv (a row per column)."""
    described = dictionary(file_format, dates)
    with open_private(folder / "data_dictionary.json") as handle:
        json.dump(described, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    with open_private(folder / "data_dictionary.csv") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "column", "type", "meaning", "de_identification"])
        for file in described["files"]:
            for column in file["columns"]:
                writer.writerow(
                    [
                        file["file"],
                        column["name"],
                        column["type"],
                        column["meaning"],
                        column["de_identification"],
                    ]
                )


def write_manifest(
    folder: Path,
    counts: dict[str, int],
    *,
    file_format: str,
    dates: str,
    pseudonyms: Pseudonyms,
    now: datetime,
) -> None:
    networks = list(db.session.scalars(sa.select(Network.slug).order_by(Network.slug)))
    manifest = {
        "export": "registry",
        "de_identification": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)"
        + (" with shifted dates (see data_dictionary.json)" if dates == "shifted" else ""),
        "exported_on": now.date().isoformat(),
        "engage_version": engage_version(),
        "networks": networks,
        "format": file_format,
        "dates": dates,
        "pseudonym_key_id": pseudonyms.key_id(),
        "files": [{"file": name, "rows": rows} for name, rows in counts.items()],
        "data_dictionary": ["data_dictionary.json", "data_dictionary.csv"],
    }
    with open_private(folder / "manifest.json") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def engage_version() -> str:
    try:
        return metadata.version("engage")
    except metadata.PackageNotFoundError:
        return "unknown"
