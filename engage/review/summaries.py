"""What a clinician reads before visits: the clinic day, and one patient's summary.

Pure domain functions for the review pages and the JSON API: they read, never
write, and return frozen dataclasses that templates render and schemas dump.

``clinic_day`` runs a fixed handful of statements however many visits the day
has (scores, alerts and pre-visit check-ins are loaded for every patient of the
day at once); ``patient_summary`` is about one patient and reads freely.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from engage.alerts.models import Alert, AlertStatus
from engage.conversations.models import (
    Answer,
    AnswerStatus,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    RespondentRole,
)
from engage.conversations.services import instrument_by_hash
from engage.db import db, table_of, utcnow
from engage.errors import InvalidInput
from engage.instruments.model import Band, Instrument, Item, ItemType, Score, Severity
from engage.instruments.models import InstrumentVersion
from engage.instruments.services import current_library
from engage.messaging.history import DeliveryRecord, delivery_history
from engage.messaging.models import MessageStatus
from engage.network.models import Center, StaffUser
from engage.people.models import (
    CaregiverLink,
    ConsentChange,
    ConsentMethod,
    ConsentState,
    Contact,
    Diagnosis,
    Patient,
)
from engage.scheduling.models import Enrollment, EnrollmentStatus
from engage.scheduling.schedules import Schedule, describe
from engage.timezones import check_time_zone
from engage.visits.models import Visit, VisitStatus

SYMPTOMS = "ibd-symptoms"  # its first score is the symptom score of the clinic day
PREVISIT = "previsit"
LANGUAGES = ("en", "es")

CHECKINS, SCORES, ANSWERS = table_of(CheckIn), table_of(CheckInScore), table_of(Answer)
VERSIONS, VISITS, ALERTS = table_of(InstrumentVersion), table_of(Visit), table_of(Alert)
PATIENTS = table_of(Patient)

SEVERITY_ORDER = (Severity.MODERATE, Severity.HIGH, Severity.URGENT)
# Visits that happen (or happened): a cancelled one is neither on the day nor "previous".
HELD = (VisitStatus.SCHEDULED, VisitStatus.COMPLETED)
# Check-ins that were asked and closed: they are points of a chart, with or without a value.
CHARTED = (CheckInStatus.COMPLETED, CheckInStatus.EXPIRED, CheckInStatus.MISSED)
UNANSWERED = (CheckInStatus.EXPIRED, CheckInStatus.MISSED)
DELIVERY_PROBLEMS = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
DELIVERY_LOOKBACK = 200  # outbound messages looked at for delivery problems
RECENT_VISITS = 5

WORDS = {
    "en": {
        "yes": "Yes",
        "no": "No",
        "skipped": "Skipped",
        "unanswered": "Not understood (asked twice)",
        "out_of": "{value} out of {maximum}",
    },
    "es": {
        "yes": "Sí",
        "no": "No",
        "skipped": "Omitida",
        "unanswered": "No se entendió (se preguntó dos veces)",
        "out_of": "{value} de {maximum}",
    },
}


class PatientNotFound(LookupError):
    """No patient has this id."""


class PrevisitState(enum.StrEnum):
    COMPLETED = "completed"
    PARTIAL = "partial"  # some answers: still being answered, or closed half-way
    NOT_RETURNED = "not_returned"  # nothing answered: missed, or waiting, or open and silent
    NONE = "none"  # no pre-visit check-in for this visit


class Change(enum.StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"


# -- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreReading:
    """One completed check-in's score, with its band in the check-in's own instrument version."""

    checkin_id: int
    at: datetime  # when the check-in was opened (the question's date), UTC
    value: float | None
    band_id: str | None
    band_label: str | None


@dataclass(frozen=True)
class ClinicVisit:
    visit_id: int
    starts_at: datetime  # UTC
    local_start: datetime  # in the center's time zone (or the one asked for)
    status: VisitStatus
    center_id: int
    center_code: str
    patient_id: int
    patient_name: str
    mrn: str
    age: int  # on the clinic day
    previsit: PrevisitState
    previsit_checkin_id: int | None
    latest_score: ScoreReading | None
    previous_visit_at: datetime | None
    # The latest score before the previous visit: what ``change`` compares against.
    score_before_previous_visit: ScoreReading | None
    change: Change | None
    open_alerts: int
    highest_open_severity: Severity | None


@dataclass(frozen=True)
class PatientHeader:
    patient_id: int
    name: str
    given_name: str
    family_name: str
    mrn: str
    date_of_birth: date
    age: int
    diagnosis: Diagnosis
    preferred_language: str
    center_id: int
    center_code: str
    center_name: str
    time_zone: str  # the patient's own, else the center's


@dataclass(frozen=True)
class BandRange:
    id: str
    label: str
    minimum: float
    maximum: float


@dataclass(frozen=True)
class SeriesPoint:
    """A check-in on a chart; missed and expired ones have no value."""

    checkin_id: int
    at: datetime  # opened (or due, when never opened), UTC
    status: CheckInStatus
    value: float | None
    band_id: str | None
    respondent_role: RespondentRole


@dataclass(frozen=True)
class ScoreSeries:
    instrument_id: str
    instrument_title: str
    score_id: str
    label: str
    minimum: float
    maximum: float
    bands: tuple[BandRange, ...]
    points: tuple[SeriesPoint, ...]  # oldest first


@dataclass(frozen=True)
class AnswerLine:
    item_id: str
    question: str  # as the respondent was asked it (the parent's wording for a proxy)
    answer: str  # in plain words: the option's label, "Yes", "7 out of 10", the text
    status: AnswerStatus
    value: Any
    respondent_role: RespondentRole
    respondent_name: str | None
    answered_at: datetime


@dataclass(frozen=True)
class ScoreLine:
    score_id: str
    label: str
    value: float | None
    band_id: str | None
    band_label: str | None


@dataclass(frozen=True)
class CheckInAnswers:
    """The latest completed check-in of one instrument, read back in plain words."""

    checkin_id: int
    instrument_id: str
    instrument_title: str
    instrument_version: str
    status: CheckInStatus
    opened_at: datetime | None
    closed_at: datetime | None
    respondent_role: RespondentRole
    respondent_name: str | None
    answers: tuple[AnswerLine, ...]  # in the instrument's order; items not asked are absent
    scores: tuple[ScoreLine, ...]


@dataclass(frozen=True)
class FamilyComment:
    item_id: str
    question: str
    text: str
    respondent_role: RespondentRole
    respondent_name: str | None
    answered_at: datetime


@dataclass(frozen=True)
class PrevisitComments:
    """The free-text answers of the latest pre-visit check-in that got any answer."""

    checkin_id: int
    visit_id: int | None
    status: CheckInStatus
    opened_at: datetime | None
    comments: tuple[FamilyComment, ...]


@dataclass(frozen=True)
class MissedCheckIn:
    checkin_id: int
    instrument_id: str
    instrument_title: str
    status: CheckInStatus  # missed (nothing answered) or expired (partly answered)
    at: datetime
    local_date: date
    close_reason: str | None


@dataclass(frozen=True)
class AlertRecord:
    alert_id: int
    checkin_id: int
    instrument_id: str
    red_flag_id: str
    severity: Severity
    status: AlertStatus
    safety_message: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    acknowledged_by_name: str | None
    acknowledgement_note: str | None  # what was done about it


@dataclass(frozen=True)
class EnrollmentLine:
    enrollment_id: int
    instrument_id: str
    instrument_title: str
    schedule: str
    status: EnrollmentStatus
    next_due_at: datetime | None
    respondent_phone: str
    respondent_role: RespondentRole


@dataclass(frozen=True)
class VisitLine:
    visit_id: int
    starts_at: datetime
    local_start: datetime
    status: VisitStatus
    center_code: str
    clinician_name: str | None


@dataclass(frozen=True)
class ConsentRecord:
    state: ConsentState
    method: ConsentMethod
    changed_at: datetime
    consent_text_version: str
    recorded_by_name: str | None
    note: str | None


@dataclass(frozen=True)
class PhoneLine:
    contact_id: int
    phone: str
    owner: str  # "patient" or "caregiver"
    owner_name: str
    relationship: str | None  # the caregiver's, to this patient
    may_answer_as_proxy: bool
    consent: ConsentState
    consent_history: tuple[ConsentRecord, ...]  # oldest first
    paused_until: datetime | None
    unusable_since: datetime | None
    unusable_reason: str | None
    unreachable_failures: int


@dataclass(frozen=True)
class PatientSummary:
    patient: PatientHeader
    as_of: datetime
    since: date | None
    language: str
    series: tuple[ScoreSeries, ...]
    latest_checkins: tuple[CheckInAnswers, ...]
    previsit: PrevisitComments | None
    missed: tuple[MissedCheckIn, ...]  # newest first
    alerts: tuple[AlertRecord, ...]  # newest first
    enrollments: tuple[EnrollmentLine, ...]
    upcoming_visits: tuple[VisitLine, ...]  # soonest first
    recent_visits: tuple[VisitLine, ...]  # latest first
    phones: tuple[PhoneLine, ...]
    delivery_problems: tuple[DeliveryRecord, ...]  # newest first


# -- the clinic day -----------------------------------------------------------------------
@dataclass(frozen=True)
class _DayVisit:
    visit_id: int
    starts_at: datetime
    status: VisitStatus
    center: Center
    patient: Patient
    zone: ZoneInfo
    day_start: datetime
    day_end: datetime


def clinic_day(
    center_ids: Sequence[int],
    day: date,
    *,
    time_zone: str | None = None,
    language: str = "en",
) -> list[ClinicVisit]:
    """The visits of one local day at these centers, in time order, with what to look at first.

    ``day`` is read in each center's time zone, or in ``time_zone`` for all of
    them when it is given (local start times are then shown in it too).
    """
    check_language(language)
    if time_zone is not None:
        check_time_zone(time_zone)
    if not center_ids:
        return []
    centers = {
        c.id: c for c in db.session.scalars(sa.select(Center).where(Center.id.in_(center_ids)))
    }
    zones = {cid: ZoneInfo(time_zone or c.time_zone) for cid, c in centers.items()}
    bounds = {cid: day_bounds(day, zone) for cid, zone in zones.items()}
    if not bounds:
        return []
    rows = db.session.execute(
        sa.select(Visit.id, Visit.starts_at, Visit.status, Visit.center_id, Patient)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(
            Visit.status.in_(HELD),
            sa.or_(
                *(
                    sa.and_(Visit.center_id == cid, Visit.starts_at >= lo, Visit.starts_at < hi)
                    for cid, (lo, hi) in bounds.items()
                )
            ),
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    visits = [
        _DayVisit(
            visit_id,
            starts_at,
            status,
            centers[center_id],
            patient,
            zones[center_id],
            *bounds[center_id],
        )
        for visit_id, starts_at, status, center_id, patient in rows
    ]
    if not visits:
        return []

    patient_ids = sorted({v.patient.id for v in visits})
    versions = version_ids_of((SYMPTOMS, PREVISIT))
    previsits = previsit_states([v.visit_id for v in visits], versions[PREVISIT])
    # A patient's day is the one of the center their visit is at; two visits of one
    # patient on one day share the same previous visit.
    day_of = {v.patient.id: (v.day_start, v.day_end) for v in visits}
    score_id = symptom_score_id()
    scored_versions = versions[SYMPTOMS] if score_id else []
    history = symptom_history(day_of, scored_versions, score_id or "", language)
    alerts = open_alert_tallies(patient_ids)

    result = []
    for visit in visits:
        pid = visit.patient.id
        state, previsit_id = previsits.get(visit.visit_id, (PrevisitState.NONE, None))
        count, highest = alerts.get(pid, (0, None))
        now_reading, then_reading = history.latest.get(pid), history.before_previous.get(pid)
        result.append(
            ClinicVisit(
                visit_id=visit.visit_id,
                starts_at=visit.starts_at,
                local_start=visit.starts_at.astimezone(visit.zone),
                status=visit.status,
                center_id=visit.center.id,
                center_code=visit.center.code,
                patient_id=pid,
                patient_name=visit.patient.display_name,
                mrn=visit.patient.mrn,
                age=visit.patient.age_on(day),
                previsit=state,
                previsit_checkin_id=previsit_id,
                latest_score=now_reading[0] if now_reading else None,
                previous_visit_at=history.previous_visit_at.get(pid),
                score_before_previous_visit=then_reading[0] if then_reading else None,
                change=change_between(then_reading, now_reading),
                open_alerts=count,
                highest_open_severity=highest,
            )
        )
    return result


def symptom_score_id() -> str | None:
    """The symptom instrument's first score, as loaded; None when it is not loaded."""
    instrument = current_library().instruments.get(SYMPTOMS)
    return instrument.scores[0].id if instrument is not None and instrument.scores else None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where a local date starts and the next one starts."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start, end


def version_ids_of(instrument_ids: Iterable[str]) -> dict[str, list[int]]:
    """Every stored version of these instruments; check-ins are filtered on these ids."""
    found: dict[str, list[int]] = {i: [] for i in instrument_ids}
    rows = db.session.execute(
        sa.select(VERSIONS.c.instrument_id, VERSIONS.c.id).where(
            VERSIONS.c.instrument_id.in_(list(found))
        )
    )
    for instrument_id, version_id in rows:
        found[instrument_id].append(version_id)
    return found


def previsit_states(
    visit_ids: list[int], version_ids: list[int]
) -> dict[int, tuple[PrevisitState, int]]:
    """Each visit's pre-visit check-in state, from its latest one that was not cancelled.

    A cancelled one (the visit moved, the phone opted out or paused) was never
    answered and is not counted: with nothing else the state is ``none``.
    """
    if not version_ids:
        return {}
    answered = (
        sa.exists()
        .where(ANSWERS.c.checkin_id == CHECKINS.c.id, ANSWERS.c.status == AnswerStatus.ANSWERED)
        .label("answered")
    )
    rows = db.session.execute(
        sa.select(CHECKINS.c.visit_id, CHECKINS.c.id, CHECKINS.c.status, answered)
        .where(
            CHECKINS.c.visit_id.in_(visit_ids),
            CHECKINS.c.instrument_version_id.in_(version_ids),
            CHECKINS.c.status != CheckInStatus.CANCELLED,
        )
        .order_by(CHECKINS.c.due_at, CHECKINS.c.id)
    )
    states: dict[int, tuple[PrevisitState, int]] = {}
    for visit_id, checkin_id, status, has_answers in rows:
        states[visit_id] = (previsit_state(CheckInStatus(status), bool(has_answers)), checkin_id)
    return states


def previsit_state(status: CheckInStatus, has_answers: bool) -> PrevisitState:
    if status is CheckInStatus.COMPLETED:
        return PrevisitState.COMPLETED
    if status is CheckInStatus.CANCELLED:
        return PrevisitState.NONE
    return PrevisitState.PARTIAL if has_answers else PrevisitState.NOT_RETURNED


@dataclass(frozen=True)
class SymptomHistory:
    previous_visit_at: dict[int, datetime]
    latest: dict[int, Reading]  # the latest score before the end of the patient's day
    before_previous: dict[int, Reading]  # the latest score before the previous visit


def symptom_history(
    days: Mapping[int, tuple[datetime, datetime]],
    version_ids: list[int],
    score_id: str,
    language: str,
) -> SymptomHistory:
    """Each patient's previous visit, latest score and latest score before that visit.

    One statement finds the visit and the two check-ins for every patient at once:
    each is a correlated "newest first, LIMIT 1" probe down an index on
    (patient_id, starts_at or opened_at), so the work grows with the number of
    patients of the day, not with how many check-ins each has ever answered. A
    second statement reads those check-ins' scores.
    """
    people = (
        sa.select(
            PATIENTS.c.id.label("patient_id"),
            sa.select(sa.func.max(VISITS.c.starts_at))
            .where(
                VISITS.c.patient_id == PATIENTS.c.id,
                VISITS.c.status.in_(HELD),
                VISITS.c.starts_at < per_patient(PATIENTS.c.id, {p: d[0] for p, d in days.items()}),
            )
            .scalar_subquery()
            .label("previous_visit_at"),
        )
        .where(PATIENTS.c.id.in_(list(days)))
        .subquery()
    )
    if not version_ids:
        visits = db.session.execute(sa.select(people.c.patient_id, people.c.previous_visit_at))
        return SymptomHistory({pid: at for pid, at in visits if at is not None}, {}, {})

    def latest_before(cut: Any) -> Any:
        scored = sa.exists().where(
            SCORES.c.checkin_id == CHECKINS.c.id,
            SCORES.c.score_id == score_id,
            SCORES.c.value.is_not(None),
        )
        return (
            sa.select(CHECKINS.c.id)
            .where(
                CHECKINS.c.patient_id == people.c.patient_id,
                CHECKINS.c.opened_at < cut,
                CHECKINS.c.status == CheckInStatus.COMPLETED,
                CHECKINS.c.instrument_version_id.in_(version_ids),
                scored,
            )
            .order_by(CHECKINS.c.opened_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    day_end = per_patient(people.c.patient_id, {p: d[1] for p, d in days.items()})
    rows: list[Any] = list(
        db.session.execute(
            sa.select(
                people.c.patient_id,
                people.c.previous_visit_at,
                latest_before(day_end),
                latest_before(people.c.previous_visit_at),
            )
        )
    )
    found = [checkin_id for row in rows for checkin_id in row[2:] if checkin_id is not None]
    readings = score_readings(found, score_id, language)
    return SymptomHistory(
        previous_visit_at={row[0]: row[1] for row in rows if row[1] is not None},
        latest={row[0]: readings[row[2]] for row in rows if row[2] in readings},
        before_previous={row[0]: readings[row[3]] for row in rows if row[3] in readings},
    )


def per_patient(patient_id: Any, moments: Mapping[int, datetime]) -> Any:
    """A CASE giving each patient's own moment in one statement (NULL for the others)."""
    if not moments:
        return sa.null()
    moment_type = CHECKINS.c.opened_at.type
    return sa.case(
        {pid: sa.literal(moment, moment_type) for pid, moment in moments.items()},
        value=patient_id,
    )


Reading = tuple[ScoreReading, tuple[Band, ...]]  # with the bands of its instrument version


def score_readings(checkin_ids: list[int], score_id: str, language: str) -> dict[int, Reading]:
    """These check-ins' scores, labelled in the instrument version each was answered with."""
    if not checkin_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            CHECKINS.c.id,
            CHECKINS.c.opened_at,
            CHECKINS.c.instrument_version_id,
            VERSIONS.c.content_hash,
            SCORES.c.value,
            SCORES.c.band_id,
        )
        .join(SCORES, SCORES.c.checkin_id == CHECKINS.c.id)
        .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
        .where(CHECKINS.c.id.in_(set(checkin_ids)), SCORES.c.score_id == score_id)
    )
    readings: dict[int, Reading] = {}
    for checkin_id, opened_at, version_id, content_hash, value, band_id in rows:
        score = find_score(instrument_by_hash(content_hash, version_id), score_id)
        bands = score.bands if score else ()
        band = next((b for b in bands if b.id == band_id), None)
        reading = ScoreReading(
            checkin_id=checkin_id,
            at=opened_at,
            value=value,
            band_id=band_id,
            band_label=text_in(band.label, language) if band else None,
        )
        readings[checkin_id] = (reading, bands)
    return readings


def change_between(before: Reading | None, after: Reading | None) -> Change | None:
    """Better, worse or the same, judged by band, in the band order of the newer reading.

    Bands are listed from the lowest values up, and on the symptom score more
    points mean more disease activity: a later band is worse, an earlier one
    better. A move within one band is "same". Unknown when either reading, or
    its band, is missing.
    """
    if before is None or after is None:
        return None
    order = [band.id for band in after[1]]
    was, now = before[0].band_id, after[0].band_id
    if was not in order or now not in order:
        return None
    step = order.index(now) - order.index(was)
    return Change.SAME if step == 0 else Change.WORSE if step > 0 else Change.BETTER


def open_alert_tallies(patient_ids: list[int]) -> dict[int, tuple[int, Severity]]:
    """How many open alerts each patient has, and the highest severity among them."""
    rows = db.session.execute(
        sa.select(ALERTS.c.patient_id, ALERTS.c.severity, sa.func.count())
        .where(ALERTS.c.patient_id.in_(patient_ids), ALERTS.c.status == AlertStatus.OPEN)
        .group_by(ALERTS.c.patient_id, ALERTS.c.severity)
    )
    tallies: dict[int, tuple[int, Severity]] = {}
    for patient_id, severity, count in rows:
        total, highest = tallies.get(patient_id, (0, severity))
        tallies[patient_id] = (total + count, max(highest, severity, key=SEVERITY_ORDER.index))
    return tallies


# -- one patient --------------------------------------------------------------------------
def patient_summary(
    patient_id: int,
    *,
    since: date | None = None,
    language: str = "en",
    now: datetime | None = None,
) -> PatientSummary:
    """Everything the pre-visit summary shows about one patient.

    ``since`` (a date in the patient's time zone) limits the charts, missed
    check-ins, acknowledged alerts, recent visits and delivery problems; open
    alerts, the latest answers and the latest pre-visit comments are always shown.
    """
    check_language(language)
    now = now or utcnow()
    patient = db.session.scalar(
        sa.select(Patient).options(joinedload(Patient.center)).where(Patient.id == patient_id)
    )
    if patient is None:
        raise PatientNotFound(patient_id)
    zone = patient.zone
    start = datetime.combine(since, time(0), zone) if since is not None else None

    phones = phone_lines(patient)
    names = {p.contact_id: p.owner_name for p in phones}
    charted = charted_checkins(patient.id, start)
    latest = latest_checkins(patient.id)
    answers = answers_of([c.id for c in latest])
    respondents = {c.contact_id for c in latest} | {
        row.contact_id for rows in answers.values() for row in rows if row.contact_id
    }
    names.update(contact_names(respondents - set(names)))
    latest_scores = scores_of([c.id for c in latest])

    return PatientSummary(
        patient=header_of(patient, now.astimezone(zone).date()),
        as_of=now,
        since=since,
        language=language,
        series=score_series(charted, language),
        latest_checkins=tuple(
            read_back(c, answers[c.id], latest_scores[c.id], names, language)
            for c in latest
            if c.status is CheckInStatus.COMPLETED
        ),
        previsit=previsit_comments(latest, answers, names, language),
        missed=tuple(
            MissedCheckIn(
                checkin_id=c.id,
                instrument_id=c.instrument.id,
                instrument_title=text_in(c.instrument.title, language),
                status=c.status,
                at=c.at,
                local_date=c.at.astimezone(zone).date(),
                close_reason=c.close_reason,
            )
            for c in reversed(charted)
            if c.status in UNANSWERED
        ),
        alerts=alert_records(patient.id, start),
        enrollments=enrollment_lines(patient.id, language),
        upcoming_visits=visit_lines(patient.id, zone, now, upcoming=True),
        recent_visits=visit_lines(patient.id, zone, now, upcoming=False, start=start),
        phones=tuple(phones),
        delivery_problems=tuple(
            record
            for record in delivery_history(patient.id, limit=DELIVERY_LOOKBACK)
            if record.status in DELIVERY_PROBLEMS
            and (start is None or (record.status_changed_at or record.created_at) >= start)
        ),
    )


def header_of(patient: Patient, today: date) -> PatientHeader:
    return PatientHeader(
        patient_id=patient.id,
        name=patient.display_name,
        given_name=patient.given_name,
        family_name=patient.family_name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
        age=patient.age_on(today),
        diagnosis=patient.diagnosis,
        preferred_language=patient.preferred_language.value,
        center_id=patient.center.id,
        center_code=patient.center.code,
        center_name=patient.center.name,
        time_zone=patient.effective_time_zone,
    )


ScoreValue = tuple[float | None, str | None]  # value, band id
ScoreValues = dict[str, ScoreValue]  # by score id


@dataclass(frozen=True)
class _CheckIn:
    """A check-in row with the exact instrument version it was asked with."""

    id: int
    instrument: Instrument
    status: CheckInStatus
    at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    visit_id: int | None
    contact_id: int
    respondent_role: RespondentRole
    scores: ScoreValues


CHECKIN_COLUMNS = (
    CHECKINS.c.id,
    CHECKINS.c.status,
    sa.func.coalesce(CHECKINS.c.opened_at, CHECKINS.c.due_at).label("at"),
    CHECKINS.c.opened_at,
    CHECKINS.c.closed_at,
    CHECKINS.c.close_reason,
    CHECKINS.c.visit_id,
    CHECKINS.c.contact_id,
    CHECKINS.c.respondent_role,
    CHECKINS.c.instrument_version_id,
    VERSIONS.c.content_hash,
)


def checkin_of(row: Any, scores: ScoreValues) -> _CheckIn:
    return _CheckIn(
        id=row.id,
        instrument=instrument_by_hash(row.content_hash, row.instrument_version_id),
        status=CheckInStatus(row.status),
        at=row.at,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        visit_id=row.visit_id,
        contact_id=row.contact_id,
        respondent_role=RespondentRole(row.respondent_role),
        scores=scores,
    )


def charted_checkins(patient_id: int, start: datetime | None) -> list[_CheckIn]:
    """Completed, expired and missed check-ins (since ``start``), oldest first, with scores."""
    at = sa.func.coalesce(CHECKINS.c.opened_at, CHECKINS.c.due_at)
    query = (
        sa.select(*CHECKIN_COLUMNS, SCORES.c.score_id, SCORES.c.value, SCORES.c.band_id)
        .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
        .outerjoin(SCORES, SCORES.c.checkin_id == CHECKINS.c.id)
        .where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.status.in_(CHARTED))
        .order_by(at, CHECKINS.c.id)
    )
    if start is not None:
        query = query.where(at >= start)
    rows: dict[int, Any] = {}
    scores: defaultdict[int, ScoreValues] = defaultdict(dict)
    for row in db.session.execute(query):
        rows.setdefault(row.id, row)
        if row.score_id is not None:
            scores[row.id][row.score_id] = (row.value, row.band_id)
    return [checkin_of(row, scores[checkin_id]) for checkin_id, row in rows.items()]


def score_series(checkins: list[_CheckIn], language: str) -> tuple[ScoreSeries, ...]:
    """One series per instrument score, drawn with the bands of its newest version."""
    by_instrument: dict[str, list[_CheckIn]] = defaultdict(list)
    for checkin in checkins:
        by_instrument[checkin.instrument.id].append(checkin)
    series = []
    for instrument_id in sorted(by_instrument):
        group = by_instrument[instrument_id]
        newest = group[-1].instrument
        score_ids = list(dict.fromkeys(s.id for c in reversed(group) for s in c.instrument.scores))
        for score_id in score_ids:
            score = find_score(newest, score_id) or next(
                s for c in reversed(group) if (s := find_score(c.instrument, score_id))
            )
            points = tuple(
                SeriesPoint(
                    checkin_id=c.id,
                    at=c.at,
                    status=c.status,
                    value=c.scores.get(score_id, (None, None))[0],
                    band_id=c.scores.get(score_id, (None, None))[1],
                    respondent_role=c.respondent_role,
                )
                for c in group
                if c.status in UNANSWERED or score_id in c.scores
            )
            series.append(
                ScoreSeries(
                    instrument_id=instrument_id,
                    instrument_title=text_in(newest.title, language),
                    score_id=score_id,
                    label=text_in(score.label, language),
                    minimum=score.minimum,
                    maximum=score.maximum,
                    bands=tuple(
                        BandRange(b.id, text_in(b.label, language), b.minimum, b.maximum)
                        for b in score.bands
                    ),
                    points=points,
                )
            )
    return tuple(series)


def latest_checkins(patient_id: int) -> list[_CheckIn]:
    """The latest completed check-in of each instrument, and the latest pre-visit one that
    got any answer (it may be that same completed one), in one statement."""
    at = sa.func.coalesce(CHECKINS.c.opened_at, CHECKINS.c.due_at)
    completed = sa.case((CHECKINS.c.status == CheckInStatus.COMPLETED, 1), else_=0)
    newest_first = (at.desc(), CHECKINS.c.id.desc())
    ranked = (
        sa.select(
            *CHECKIN_COLUMNS,
            VERSIONS.c.instrument_id,
            completed.label("completed"),
            sa.func.row_number()
            .over(partition_by=(VERSIONS.c.instrument_id, completed), order_by=newest_first)
            .label("rank_completed"),
            sa.func.row_number()
            .over(partition_by=VERSIONS.c.instrument_id, order_by=newest_first)
            .label("rank"),
        )
        .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
        .where(
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.status.in_(
                (CheckInStatus.COMPLETED, CheckInStatus.IN_PROGRESS, CheckInStatus.EXPIRED)
            ),
        )
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked)
        .where(
            sa.or_(
                sa.and_(ranked.c.completed == 1, ranked.c.rank_completed == 1),
                sa.and_(ranked.c.instrument_id == PREVISIT, ranked.c.rank == 1),
            )
        )
        .order_by(ranked.c.instrument_id, ranked.c.at)
    )
    return [checkin_of(row, {}) for row in rows]


def answers_of(checkin_ids: list[int]) -> defaultdict[int, list[Any]]:
    found: defaultdict[int, list[Any]] = defaultdict(list)
    if checkin_ids:
        rows = db.session.execute(
            sa.select(
                ANSWERS.c.checkin_id,
                ANSWERS.c.item_id,
                ANSWERS.c.status,
                ANSWERS.c.value,
                ANSWERS.c.contact_id,
                ANSWERS.c.respondent_role,
                ANSWERS.c.answered_at,
            ).where(ANSWERS.c.checkin_id.in_(checkin_ids))
        )
        for row in rows:
            found[row.checkin_id].append(row)
    return found


def scores_of(checkin_ids: list[int]) -> defaultdict[int, ScoreValues]:
    found: defaultdict[int, ScoreValues] = defaultdict(dict)
    if checkin_ids:
        rows = db.session.execute(
            sa.select(
                SCORES.c.checkin_id, SCORES.c.score_id, SCORES.c.value, SCORES.c.band_id
            ).where(SCORES.c.checkin_id.in_(checkin_ids))
        )
        for checkin_id, score_id, value, band_id in rows:
            found[checkin_id][score_id] = (value, band_id)
    return found


def read_back(
    checkin: _CheckIn,
    answers: list[Any],
    scores: ScoreValues,
    names: Mapping[int, str],
    language: str,
) -> CheckInAnswers:
    """A check-in's answers and scores in plain words, in the instrument's item order."""
    instrument = checkin.instrument
    lines = answer_lines(instrument, answers, names, language)
    score_lines = []
    for score in instrument.scores:
        if score.id not in scores:
            continue
        value, band_id = scores[score.id]
        band = next((b for b in score.bands if b.id == band_id), None)
        score_lines.append(
            ScoreLine(
                score_id=score.id,
                label=text_in(score.label, language),
                value=value,
                band_id=band_id,
                band_label=text_in(band.label, language) if band else None,
            )
        )
    return CheckInAnswers(
        checkin_id=checkin.id,
        instrument_id=instrument.id,
        instrument_title=text_in(instrument.title, language),
        instrument_version=instrument.version,
        status=checkin.status,
        opened_at=checkin.opened_at,
        closed_at=checkin.closed_at,
        respondent_role=checkin.respondent_role,
        respondent_name=names.get(checkin.contact_id),
        answers=tuple(lines),
        scores=tuple(score_lines),
    )


def answer_lines(
    instrument: Instrument, answers: list[Any], names: Mapping[int, str], language: str
) -> list[AnswerLine]:
    by_item = {row.item_id: row for row in answers}
    lines = []
    for item in instrument.items:
        row = by_item.get(item.id)
        if row is None:
            continue
        role = RespondentRole(row.respondent_role)
        status = AnswerStatus(row.status)
        lines.append(
            AnswerLine(
                item_id=item.id,
                question=question_text(item, role, language),
                answer=plain_answer(item, status, row.value, language),
                status=status,
                value=row.value,
                respondent_role=role,
                respondent_name=names.get(row.contact_id) if row.contact_id else None,
                answered_at=row.answered_at,
            )
        )
    return lines


def question_text(item: Item, role: RespondentRole, language: str) -> str:
    wording = item.proxy_text if role is RespondentRole.PROXY and item.proxy_text else item.text
    return text_in(wording, language)


def plain_answer(item: Item, status: AnswerStatus, value: Any, language: str) -> str:
    """An answer as a clinician reads it: the option's label, Yes or No, a number, the text."""
    words = WORDS[language]
    if status is AnswerStatus.SKIPPED:
        return words["skipped"]
    if status is AnswerStatus.UNANSWERED or value is None:
        return words["unanswered"]
    if item.type is ItemType.CHOICE:
        option = item.option(str(value))
        return text_in(option.label, language) if option else str(value)
    if item.type is ItemType.YES_NO:
        return words["yes"] if value else words["no"]
    if item.type is ItemType.SCALE:
        text = str(value)
        if item.maximum is not None:
            text = words["out_of"].format(value=value, maximum=item.maximum)
        anchors = (item.anchors or {}).get(language) or (item.anchors or {}).get("en") or {}
        if isinstance(value, int) and value in anchors:
            text += f" ({anchors[value]})"
        return text
    return str(value)


def previsit_comments(
    latest: list[_CheckIn],
    answers: Mapping[int, list[Any]],
    names: Mapping[int, str],
    language: str,
) -> PrevisitComments | None:
    """The free-text answers of the latest pre-visit check-in that was (partly) answered."""
    previsits = [c for c in latest if c.instrument.id == PREVISIT]
    if not previsits:
        return None
    checkin = max(previsits, key=lambda c: (c.at, c.id))
    comments = tuple(
        FamilyComment(
            item_id=line.item_id,
            question=line.question,
            text=line.answer,
            respondent_role=line.respondent_role,
            respondent_name=line.respondent_name,
            answered_at=line.answered_at,
        )
        for line in answer_lines(checkin.instrument, answers[checkin.id], names, language)
        if checkin.instrument.item(line.item_id).type is ItemType.TEXT
        and line.status is AnswerStatus.ANSWERED
    )
    return PrevisitComments(
        checkin_id=checkin.id,
        visit_id=checkin.visit_id,
        status=checkin.status,
        opened_at=checkin.opened_at,
        comments=comments,
    )


def alert_records(patient_id: int, start: datetime | None) -> tuple[AlertRecord, ...]:
    """Alerts raised since ``start`` and every alert still open, newest first."""
    query = (
        sa.select(Alert, VERSIONS.c.instrument_id, StaffUser.full_name)
        .join(CHECKINS, CHECKINS.c.id == Alert.checkin_id)
        .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
        .outerjoin(StaffUser, StaffUser.id == Alert.acknowledged_by_id)
        .where(Alert.patient_id == patient_id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
    )
    if start is not None:
        query = query.where(sa.or_(Alert.created_at >= start, Alert.status == AlertStatus.OPEN))
    return tuple(
        AlertRecord(
            alert_id=alert.id,
            checkin_id=alert.checkin_id,
            instrument_id=instrument_id,
            red_flag_id=alert.red_flag_id,
            severity=alert.severity,
            status=alert.status,
            safety_message=alert.safety_message,
            created_at=alert.created_at,
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by_id=alert.acknowledged_by_id,
            acknowledged_by_name=staff_name,
            acknowledgement_note=alert.acknowledgement_note,
        )
        for alert, instrument_id, staff_name in db.session.execute(query)
    )


def enrollment_lines(patient_id: int, language: str) -> tuple[EnrollmentLine, ...]:
    enrollments = db.session.scalars(
        sa.select(Enrollment)
        .options(joinedload(Enrollment.contact))
        .where(Enrollment.patient_id == patient_id)
        .order_by(Enrollment.instrument_id, Enrollment.id)
    )
    library = current_library().instruments
    return tuple(
        EnrollmentLine(
            enrollment_id=e.id,
            instrument_id=e.instrument_id,
            instrument_title=(
                text_in(library[e.instrument_id].title, language)
                if e.instrument_id in library
                else e.instrument_id
            ),
            schedule=describe(Schedule.from_enrollment(e)),
            status=e.status,
            next_due_at=e.next_due_at,
            respondent_phone=e.contact.phone,
            respondent_role=e.respondent_role,
        )
        for e in enrollments
    )


def visit_lines(
    patient_id: int,
    zone: ZoneInfo,
    now: datetime,
    *,
    upcoming: bool,
    start: datetime | None = None,
) -> tuple[VisitLine, ...]:
    """Scheduled visits from now on, soonest first; or the latest visits before now."""
    query = (
        sa.select(Visit)
        .options(joinedload(Visit.center), joinedload(Visit.clinician))
        .where(Visit.patient_id == patient_id)
    )
    if upcoming:
        query = query.where(Visit.starts_at >= now, Visit.status == VisitStatus.SCHEDULED).order_by(
            Visit.starts_at, Visit.id
        )
    else:
        query = query.where(Visit.starts_at < now).order_by(Visit.starts_at.desc(), Visit.id.desc())
        query = query.limit(RECENT_VISITS)
        if start is not None:
            query = query.where(Visit.starts_at >= start)
    return tuple(
        VisitLine(
            visit_id=v.id,
            starts_at=v.starts_at,
            local_start=v.starts_at.astimezone(zone),
            status=v.status,
            center_code=v.center.code,
            clinician_name=v.clinician.full_name if v.clinician else None,
        )
        for v in db.session.scalars(query)
    )


def phone_lines(patient: Patient) -> list[PhoneLine]:
    """The patient's own phones, then the phones of the caregivers linked to the patient."""
    history = selectinload(Contact.consent_history).joinedload(ConsentChange.recorded_by)
    own = db.session.scalars(
        sa.select(Contact)
        .options(history)
        .where(Contact.patient_id == patient.id)
        .order_by(Contact.id)
    )
    lines = [phone_line(c, "patient", patient.display_name, None, False) for c in own]
    links = db.session.execute(
        sa.select(CaregiverLink, Contact)
        .join(Contact, Contact.caregiver_id == CaregiverLink.caregiver_id)
        .options(joinedload(CaregiverLink.caregiver), history)
        .where(CaregiverLink.patient_id == patient.id)
        .order_by(CaregiverLink.id, Contact.id)
    )
    for link, contact in links:
        lines.append(
            phone_line(
                contact,
                "caregiver",
                link.caregiver.display_name,
                link.relationship_to_patient.value,
                link.may_answer_as_proxy,
            )
        )
    return lines


def phone_line(
    contact: Contact, owner: str, name: str, relationship: str | None, proxy: bool
) -> PhoneLine:
    return PhoneLine(
        contact_id=contact.id,
        phone=contact.phone,
        owner=owner,
        owner_name=name,
        relationship=relationship,
        may_answer_as_proxy=proxy,
        consent=contact.sms_consent,
        consent_history=tuple(
            ConsentRecord(
                state=change.state,
                method=change.method,
                changed_at=change.changed_at,
                consent_text_version=change.consent_text_version,
                recorded_by_name=change.recorded_by.full_name if change.recorded_by else None,
                note=change.note,
            )
            for change in contact.consent_history
        ),
        paused_until=contact.paused_until,
        unusable_since=contact.unusable_since,
        unusable_reason=contact.unusable_reason,
        unreachable_failures=contact.unreachable_failures,
    )


def contact_names(contact_ids: set[int]) -> dict[int, str]:
    """Owners' names of phones that are no longer the patient's or a linked caregiver's."""
    if not contact_ids:
        return {}
    contacts = db.session.scalars(
        sa.select(Contact)
        .options(joinedload(Contact.patient), joinedload(Contact.caregiver))
        .where(Contact.id.in_(contact_ids))
    )
    return {c.id: c.owner_name for c in contacts}


# -- helpers ------------------------------------------------------------------------------
def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("language", language, f"is not one of {', '.join(LANGUAGES)}")


def text_in(texts: Mapping[str, str] | None, language: str) -> str:
    """A text in the language asked for, else in English."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()))


def find_score(instrument: Instrument, score_id: str) -> Score | None:
    return next((s for s in instrument.scores if s.id == score_id), None)
