"""The dispatcher: turn due schedule rows into check-ins and their first messages.

A batch claims due enrollments (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several scheduler processes on several hosts share the work and never claim the
same row; on SQLite the single process is the lock), writes one check-in per due
time (unique per enrollment and due time), advances each enrollment to its next
due time, and queues the opening messages in the outbox: all in the caller's one
transaction. A check-in that may not start yet (quiet hours, another check-in
open on the phone) waits as ``due``; ``start_waiting_checkins`` picks it up.

Everything is set-based: a few statements per batch, not per row, because a whole
network's weekly check-ins fall due in the same minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from engage.conversations import engine
from engage.conversations.models import (
    OPEN_STATUSES,
    CheckIn,
    CheckInStatus,
    CloseReason,
    RespondentRole,
)
from engage.conversations.replies import reply
from engage.conversations.services import expiry_window
from engage.db import db, insert_for, table_of
from engage.instruments.services import get_instrument, record_instrument_version
from engage.messaging.models import Direction, Message, MessageStatus
from engage.network.models import Center
from engage.people.models import Caregiver, CaregiverLink, ConsentState, Contact, Patient
from engage.scheduling import postgres
from engage.scheduling.models import Enrollment, EnrollmentStatus, ScheduleKind
from engage.scheduling.quiet_hours import quiet_until
from engage.scheduling.schedules import Schedule, next_due

ENROLLMENTS, CHECKINS, MESSAGES = table_of(Enrollment), table_of(CheckIn), table_of(Message)
CONTACTS, PATIENTS, CENTERS = table_of(Contact), table_of(Patient), table_of(Center)
CAREGIVERS, LINKS = table_of(Caregiver), table_of(CaregiverLink)
OWNER_PATIENTS = PATIENTS.alias("owner_patients")

WEEK = timedelta(days=7)
MAX_CATCH_UP = 100  # occurrences of one enrollment written by one batch


@dataclass
class DispatchReport:
    claimed: int = 0
    opened: int = 0
    waiting: int = 0
    missed: int = 0
    cancelled: int = 0
    by_reason: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_key: tuple[datetime, int] | None = None  # of a pass over waiting check-ins

    def add(self, other: DispatchReport) -> None:
        self.claimed += other.claimed
        self.opened += other.opened
        self.waiting += other.waiting
        self.missed += other.missed
        self.cancelled += other.cancelled
        for reason, count in other.by_reason.items():
            self.by_reason[reason] += count


@dataclass(frozen=True)
class Limits:
    """The settings a batch needs, read once from the app config."""

    grace: timedelta
    expiry: timedelta
    per_day: int
    per_week: int

    @classmethod
    def from_config(cls) -> Limits:
        config = current_app.config
        return cls(
            grace=timedelta(hours=float(config["DISPATCH_GRACE_HOURS"])),
            expiry=expiry_window(),
            per_day=int(config["CHECKINS_PER_DAY"]),
            per_week=int(config["CHECKINS_PER_WEEK"]),
        )


@dataclass
class Candidate:
    """One check-in about to be written or started, with what deciding it needs."""

    patient_id: int
    contact_id: int
    phone: str
    role: RespondentRole
    instrument_id: str
    due_at: datetime
    not_before: datetime | None
    time_zone: str
    quiet_start: time
    quiet_end: time
    consent: ConsentState
    paused_until: datetime | None
    unusable: bool
    language: str
    given_name: str
    caregiver_id: int | None
    active: bool = True
    enrollment_id: int | None = None
    visit_id: int | None = None
    checkin_id: int | None = None  # set for a waiting check-in
    # The decision.
    status: CheckInStatus = CheckInStatus.DUE
    reason: str | None = None


@dataclass(frozen=True)
class Opening:
    version_id: int
    state: dict[str, Any]
    messages: tuple[engine.Outgoing, ...]


# -- claiming due enrollments ----------------------------------------------------------------
ENROLLMENT_COLUMNS = (
    ENROLLMENTS.c.id,
    ENROLLMENTS.c.patient_id,
    ENROLLMENTS.c.instrument_id,
    ENROLLMENTS.c.contact_id,
    ENROLLMENTS.c.respondent_role,
    ENROLLMENTS.c.time_zone,
    ENROLLMENTS.c.kind,
    ENROLLMENTS.c.weekdays,
    ENROLLMENTS.c.every_weeks,
    ENROLLMENTS.c.local_time,
    ENROLLMENTS.c.starts_on,
    ENROLLMENTS.c.ends_on,
    ENROLLMENTS.c.minutes_before_visit,
    ENROLLMENTS.c.once_at,
    ENROLLMENTS.c.next_due_at,
    ENROLLMENTS.c.next_visit_id,
)

# What every candidate needs to know about its phone, its patient and the center.
PEOPLE_COLUMNS = (
    CONTACTS.c.phone,
    CONTACTS.c.sms_consent,
    CONTACTS.c.paused_until,
    CONTACTS.c.unusable_since,
    CONTACTS.c.caregiver_id,
    sa.func.coalesce(OWNER_PATIENTS.c.preferred_language, CAREGIVERS.c.preferred_language),
    PATIENTS.c.given_name,
    CENTERS.c.quiet_hours_start,
    CENTERS.c.quiet_hours_end,
)


def with_people(select: sa.Select[Any], contact_id: Any, patient_id: Any) -> sa.Select[Any]:
    return (
        select.join(CONTACTS, CONTACTS.c.id == contact_id)
        .outerjoin(OWNER_PATIENTS, OWNER_PATIENTS.c.id == CONTACTS.c.patient_id)
        .outerjoin(CAREGIVERS, CAREGIVERS.c.id == CONTACTS.c.caregiver_id)
        .join(PATIENTS, PATIENTS.c.id == patient_id)
        .join(CENTERS, CENTERS.c.id == PATIENTS.c.center_id)
    )


# The rows are locked by a query on their own table, walking the partial index in due
# order and stopping at the batch size; the details are joined to the claimed rows only.
# (Joined and sorted before the LIMIT, every batch would read all that is due.)
DUE_ENROLLMENTS = (
    sa.select(ENROLLMENTS.c.id)
    .where(
        ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE.value,
        ENROLLMENTS.c.next_due_at.is_not(None),
        ENROLLMENTS.c.next_due_at <= sa.bindparam("now"),
    )
    .order_by(ENROLLMENTS.c.next_due_at)
    .limit(sa.bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("due")
)

CLAIM_DUE_ENROLLMENTS = with_people(
    sa.select(*ENROLLMENT_COLUMNS, *PEOPLE_COLUMNS)
    .select_from(ENROLLMENTS)
    .join(DUE_ENROLLMENTS, DUE_ENROLLMENTS.c.id == ENROLLMENTS.c.id),
    ENROLLMENTS.c.contact_id,
    ENROLLMENTS.c.patient_id,
).order_by(ENROLLMENTS.c.next_due_at)


def open_due_checkins(now: datetime, batch_size: int = 500) -> DispatchReport:
    """Claim one batch of due enrollments and write their check-ins; the caller commits."""
    connection = db.session.connection()
    rows = connection.execute(CLAIM_DUE_ENROLLMENTS, {"now": now, "limit": batch_size}).all()
    report = DispatchReport(claimed=len(rows))
    if not rows:
        return report
    limits = Limits.from_config()
    candidates: list[Candidate] = []
    advances: list[dict[str, Any]] = []
    for row in rows:
        (enrollment_id, patient_id, instrument_id, contact_id, role, time_zone, kind) = row[:7]
        due_at, visit_id = row[14], row[15]
        # Every occurrence that has come due, so a scheduler that was down records
        # each one it missed (up to MAX_CATCH_UP per batch), not just the oldest.
        occurrences = [(due_at, visit_id)]
        following, following_visit = following_due(row, kind, due_at)
        while following is not None and following <= now and len(occurrences) < MAX_CATCH_UP:
            occurrences.append((following, following_visit))
            following, following_visit = following_due(row, kind, following)
        for occurrence, occurrence_visit in occurrences:
            candidates.append(
                candidate_of(
                    row[16:],
                    patient_id=patient_id,
                    contact_id=contact_id,
                    role=role,
                    instrument_id=instrument_id,
                    due_at=occurrence,
                    not_before=None,
                    time_zone=time_zone,
                    enrollment_id=enrollment_id,
                    visit_id=occurrence_visit,
                )
            )
        advances.append(
            {
                "enrollment": enrollment_id,
                "next_due_at": following,
                "next_visit_id": following_visit,
                "last_due_at": occurrences[-1][0],
            }
        )
    decide_all(candidates, now, limits)
    write_new_checkins(candidates, now, limits, report)
    if connection.dialect.name == "postgresql":
        postgres.advance_enrollments(driver(connection), advances, now)
    else:
        connection.execute(ADVANCE_ENROLLMENT, advances)
    return report


def following_due(
    row: Any, kind: ScheduleKind, due_at: datetime
) -> tuple[datetime | None, int | None]:
    """The enrollment's next due time after the one being opened."""
    if kind is ScheduleKind.BEFORE_VISIT:
        from engage.scheduling.services import next_visit_due

        return next_visit_due(
            row.id, row.patient_id, row.minutes_before_visit, row.time_zone, due_at
        )
    return next_due(schedule_of_row(row), due_at), None


@lru_cache(maxsize=4096)
def cached_schedule(*fields: Any) -> Schedule:
    return Schedule(*fields)


def schedule_of_row(row: Any) -> Schedule:
    weekdays = tuple(row.weekdays.split(",")) if row.weekdays else None
    return cached_schedule(
        row.kind,
        row.time_zone,
        weekdays,
        row.every_weeks,
        row.local_time,
        row.starts_on,
        row.ends_on,
        row.minutes_before_visit,
        row.once_at,
    )


ADVANCE_ENROLLMENT = (
    sa.update(ENROLLMENTS)
    .where(ENROLLMENTS.c.id == sa.bindparam("enrollment"))
    .values(
        next_due_at=sa.bindparam("next_due_at"),
        next_visit_id=sa.bindparam("next_visit_id"),
        last_due_at=sa.bindparam("last_due_at"),
    )
)


def candidate_of(people: Sequence[Any], **values: Any) -> Candidate:
    phone, consent, paused_until, unusable_since, caregiver_id, language, given_name = people[:7]
    start, end = people[7:]
    return Candidate(
        phone=phone,
        consent=consent,
        paused_until=paused_until,
        unusable=unusable_since is not None,
        caregiver_id=caregiver_id,
        language=language.value if language is not None else "en",
        given_name=given_name,
        quiet_start=start,
        quiet_end=end,
        **values,
    )


# -- starting check-ins that wait ------------------------------------------------------------
def claim_waiting(after: bool) -> sa.Select[Any]:
    """Lock a batch of waiting check-ins (after a keyset position), then join their details."""
    waiting = sa.select(CHECKINS.c.id).where(
        CHECKINS.c.status == CheckInStatus.DUE.value,
        sa.or_(CHECKINS.c.not_before.is_(None), CHECKINS.c.not_before <= sa.bindparam("now")),
    )
    if after:
        waiting = waiting.where(
            sa.tuple_(CHECKINS.c.due_at, CHECKINS.c.id)
            > sa.tuple_(sa.bindparam("after_due"), sa.bindparam("after_id"))
        )
    claimed = (
        waiting.order_by(CHECKINS.c.due_at, CHECKINS.c.id)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("waiting")
    )
    return with_people(
        sa.select(
            CHECKINS.c.id,
            CHECKINS.c.patient_id,
            CHECKINS.c.contact_id,
            CHECKINS.c.respondent_role,
            CHECKINS.c.due_at,
            CHECKINS.c.not_before,
            CHECKINS.c.enrollment_id,
            CHECKINS.c.visit_id,
            ENROLLMENTS.c.instrument_id,
            ENROLLMENTS.c.time_zone,
            ENROLLMENTS.c.status,
            *PEOPLE_COLUMNS,
        )
        .select_from(CHECKINS)
        .join(claimed, claimed.c.id == CHECKINS.c.id)
        .join(ENROLLMENTS, ENROLLMENTS.c.id == CHECKINS.c.enrollment_id),
        CHECKINS.c.contact_id,
        CHECKINS.c.patient_id,
    ).order_by(CHECKINS.c.due_at, CHECKINS.c.id)


CLAIM_WAITING = {False: claim_waiting(after=False), True: claim_waiting(after=True)}


def start_waiting_checkins(
    now: datetime, batch_size: int = 500, after: tuple[datetime, int] | None = None
) -> DispatchReport:
    """Start (or close) check-ins that waited for the morning or for another to end.

    ``after`` is where the previous batch of this pass ended: check-ins that must
    go on waiting are not claimed again in the same pass.
    """
    connection = db.session.connection()
    parameters: dict[str, Any] = {"now": now, "limit": batch_size}
    if after is not None:
        parameters.update(after_due=after[0], after_id=after[1])
    rows = connection.execute(CLAIM_WAITING[after is not None], parameters).all()
    report = DispatchReport(claimed=len(rows))
    if not rows:
        return report
    report.last_key = (rows[-1].due_at, rows[-1].id)
    limits = Limits.from_config()
    candidates = []
    for row in rows:
        (checkin_id, patient_id, contact_id, role, due_at, not_before) = row[:6]
        (enrollment_id, visit_id, instrument_id, time_zone, status) = row[6:11]
        candidate = candidate_of(
            row[11:],
            patient_id=patient_id,
            contact_id=contact_id,
            role=role,
            instrument_id=instrument_id,
            due_at=due_at,
            not_before=not_before,
            time_zone=time_zone,
            enrollment_id=enrollment_id,
            visit_id=visit_id,
            checkin_id=checkin_id,
            active=status is EnrollmentStatus.ACTIVE,
        )
        candidates.append(candidate)
    decide_all(candidates, now, limits)
    update_waiting_checkins(candidates, now, limits, report)
    return report


# -- deciding --------------------------------------------------------------------------------
def decide_all(candidates: list[Candidate], now: datetime, limits: Limits) -> None:
    """Decide every candidate: start now, wait, or close with a reason."""
    contact_ids = sorted({c.contact_id for c in candidates})
    lock_contacts(contact_ids)
    busy = busy_contacts(contact_ids)
    history = recent_openings(contact_ids, now)
    for candidate in sorted(candidates, key=lambda c: (c.due_at, c.enrollment_id or 0)):
        decide(candidate, now, limits, busy, history)
        if candidate.status is CheckInStatus.SENT:
            busy.add(candidate.contact_id)
            history[(candidate.contact_id, candidate.patient_id)].append(now)


def decide(
    candidate: Candidate,
    now: datetime,
    limits: Limits,
    busy: set[int],
    history: dict[tuple[int, int], list[datetime]],
) -> None:
    def close(status: CheckInStatus, reason: CloseReason) -> None:
        candidate.status, candidate.reason = status, reason.value

    if not candidate.active:
        return close(CheckInStatus.CANCELLED, CloseReason.ENROLLMENT_ENDED)
    if candidate.consent is ConsentState.WITHDRAWN:
        return close(CheckInStatus.CANCELLED, CloseReason.OPTED_OUT)
    if candidate.unusable:
        return close(CheckInStatus.CANCELLED, CloseReason.NUMBER_UNUSABLE)
    if candidate.paused_until is not None and candidate.paused_until > now:
        return close(CheckInStatus.CANCELLED, CloseReason.PAUSED)
    # Lateness counts from when it could first be sent: a night of quiet hours is not late.
    if now - (candidate.not_before or candidate.due_at) > limits.grace:
        return close(CheckInStatus.MISSED, CloseReason.LATE)
    morning = quiet_until(
        now, ZoneInfo(candidate.time_zone), candidate.quiet_start, candidate.quiet_end
    )
    if morning is not None:
        candidate.status, candidate.not_before = CheckInStatus.DUE, morning
        return None
    if candidate.contact_id in busy:
        candidate.status = CheckInStatus.DUE  # one phone, one open check-in
        return None
    opened = history[(candidate.contact_id, candidate.patient_id)]
    today = now.astimezone(ZoneInfo(candidate.time_zone)).date()
    if sum(1 for t in opened if t.astimezone(ZoneInfo(candidate.time_zone)).date() == today) >= (
        limits.per_day
    ):
        return close(CheckInStatus.MISSED, CloseReason.DAILY_CAP)
    if sum(1 for t in opened if t > now - WEEK) >= limits.per_week:
        return close(CheckInStatus.MISSED, CloseReason.WEEKLY_CAP)
    candidate.status = CheckInStatus.SENT
    return None


def lock_contacts(contact_ids: list[int]) -> None:
    """Lock the phones in id order: two dispatchers never both start a check-in on one phone.

    A webhook locks the same row while it answers a text, so a check-in never
    starts in the middle of a reply from that phone either.
    """
    if not contact_ids:
        return
    db.session.connection().execute(
        sa.select(CONTACTS.c.id)
        .where(CONTACTS.c.id.in_(contact_ids))
        .order_by(CONTACTS.c.id)
        .with_for_update()
    ).all()


def busy_contacts(contact_ids: list[int]) -> set[int]:
    """Phones with a check-in open now.

    One index probe per phone (a subquery in the select list is run per row): while
    a burst is being opened, the table's statistics lag behind, and a planner that
    believes few check-ins are open would otherwise scan all of them for every batch.
    """
    if not contact_ids:
        return set()
    open_one = (
        sa.select(CHECKINS.c.id)
        .where(
            CHECKINS.c.contact_id == CONTACTS.c.id,
            CHECKINS.c.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.connection().execute(
        sa.select(CONTACTS.c.id, open_one).where(CONTACTS.c.id.in_(contact_ids))
    )
    return {contact_id for contact_id, checkin_id in rows if checkin_id is not None}


def recent_openings(contact_ids: list[int], now: datetime) -> dict[tuple[int, int], list[datetime]]:
    """When each phone's scheduled check-ins for each patient were opened in the last week."""
    history: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    if not contact_ids:
        return history
    rows = db.session.connection().execute(
        sa.select(CHECKINS.c.contact_id, CHECKINS.c.patient_id, CHECKINS.c.opened_at).where(
            CHECKINS.c.contact_id.in_(contact_ids),
            CHECKINS.c.enrollment_id.is_not(None),
            CHECKINS.c.opened_at > now - WEEK,
        )
    )
    for contact_id, patient_id, opened_at in rows:
        history[(contact_id, patient_id)].append(opened_at)
    return history


# -- writing ---------------------------------------------------------------------------------
def write_new_checkins(
    candidates: list[Candidate], now: datetime, limits: Limits, report: DispatchReport
) -> None:
    openings = Openings()
    rows = []
    for candidate in candidates:
        rows.append(
            {
                **decided_values(candidate, openings.get(candidate), now, limits),
                "patient_id": candidate.patient_id,
                "contact_id": candidate.contact_id,
                "respondent_role": candidate.role,
                "due_at": candidate.due_at,
                "enrollment_id": candidate.enrollment_id,
                "visit_id": candidate.visit_id,
                "reminded_at": None,
                "created_at": now,
            }
        )
        count(report, candidate)
    connection = db.session.connection()
    inserted: Sequence[Any]
    if connection.dialect.name == "postgresql":
        inserted = postgres.insert_checkins(driver(connection), rows, now)
    else:
        insert = insert_for(connection)(CHECKINS).on_conflict_do_nothing(
            index_elements=["enrollment_id", "due_at"]
        )
        inserted = connection.execute(
            insert.returning(CHECKINS.c.id, CHECKINS.c.enrollment_id, CHECKINS.c.due_at), rows
        ).all()
    ids: dict[tuple[int | None, datetime], int] = {
        (enrollment_id, due_at): checkin_id for checkin_id, enrollment_id, due_at in inserted
    }
    for candidate in candidates:
        candidate.checkin_id = ids.get((candidate.enrollment_id, candidate.due_at))
    queue_openings(
        [c for c in candidates if c.status is CheckInStatus.SENT and c.checkin_id], now, openings
    )


UPDATE_WAITING = (
    sa.update(CHECKINS)
    .where(CHECKINS.c.id == sa.bindparam("checkin"))
    .values(
        status=sa.bindparam("status"),
        opened_at=sa.bindparam("opened_at"),
        expires_at=sa.bindparam("expires_at"),
        closed_at=sa.bindparam("closed_at"),
        not_before=sa.bindparam("not_before"),
        close_reason=sa.bindparam("close_reason"),
        instrument_version_id=sa.bindparam("instrument_version_id"),
        language=sa.bindparam("language"),
        state=sa.bindparam("state"),
    )
)


def update_waiting_checkins(
    candidates: list[Candidate], now: datetime, limits: Limits, report: DispatchReport
) -> None:
    openings = Openings()
    changes = []
    for candidate in candidates:
        values = decided_values(candidate, openings.get(candidate), now, limits)
        changes.append({**values, "checkin": candidate.checkin_id})
        count(report, candidate)
    db.session.connection().execute(UPDATE_WAITING, changes)
    queue_openings([c for c in candidates if c.status is CheckInStatus.SENT], now, openings)


def decided_values(
    candidate: Candidate, opening: Opening, now: datetime, limits: Limits
) -> dict[str, Any]:
    """The columns a decision sets. A check-in that waited starts with the instrument as
    it is now, in the phone's language now."""
    started = candidate.status is CheckInStatus.SENT
    closed = candidate.status in (CheckInStatus.MISSED, CheckInStatus.CANCELLED)
    return {
        "status": candidate.status,
        "opened_at": now if started else None,
        "expires_at": now + limits.expiry if started else None,
        "closed_at": now if closed else None,
        "not_before": candidate.not_before,
        "close_reason": candidate.reason,
        "instrument_version_id": opening.version_id,
        "language": candidate.language,
        "state": opening.state if started else {},
    }


def count(report: DispatchReport, candidate: Candidate) -> None:
    if candidate.status is CheckInStatus.SENT:
        report.opened += 1
    elif candidate.status is CheckInStatus.DUE:
        report.waiting += 1
    elif candidate.status is CheckInStatus.MISSED:
        report.missed += 1
    else:
        report.cancelled += 1
    if candidate.reason:
        report.by_reason[candidate.reason] += 1


class Openings:
    """Each instrument's opening step, computed once per language and role in a batch."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.steps: dict[tuple[str, str, bool], Opening] = {}

    def get(self, candidate: Candidate) -> Opening:
        proxy = candidate.role is RespondentRole.PROXY
        key = (candidate.instrument_id, candidate.language, proxy)
        opening = self.steps.get(key)
        if opening is None:
            instrument = get_instrument(candidate.instrument_id)
            if instrument.id not in self.versions:
                self.versions[instrument.id] = record_instrument_version(instrument).id
            step = engine.begin(instrument, candidate.language, proxy=proxy)
            opening = Opening(
                version_id=self.versions[instrument.id],
                state={**step.state.to_json(), "opening_sent": True},
                messages=step.messages,
            )
            self.steps[key] = opening
        return opening


def queue_openings(started: Iterable[Candidate], now: datetime, openings: Openings) -> None:
    """The first messages of each started check-in, in the outbox, in this transaction."""
    started = list(started)
    if not started:
        return
    several = caregivers_of_several(c.caregiver_id for c in started if c.caregiver_id)
    rows: list[dict[str, Any]] = []
    for candidate in started:
        messages = list(openings.get(candidate).messages)
        if candidate.caregiver_id in several:
            about = reply(candidate.language, "about", name=candidate.given_name)
            messages.insert(0, engine.Outgoing(about, "about"))
        rows.extend(
            outbox_row(
                candidate.phone, m.text, candidate.contact_id, candidate.checkin_id, m.purpose
            )
            for m in messages
        )
    queue_outbox_rows(rows, now)


def outbox_row(
    phone: str, body: str, contact_id: int, checkin_id: int | None, purpose: str
) -> dict[str, Any]:
    return {
        "direction": Direction.OUTBOUND,
        "status": MessageStatus.QUEUED,
        "phone": phone,
        "body": body,
        "contact_id": contact_id,
        "checkin_id": checkin_id,
        "purpose": purpose,
    }


def queue_outbox_rows(rows: list[dict[str, Any]], now: datetime) -> None:
    """Many outbox messages in one statement, in order, in the caller's transaction."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        postgres.insert_messages(driver(connection), rows, now)
    else:
        connection.execute(sa.insert(MESSAGES), [{**row, "created_at": now} for row in rows])


def driver(connection: sa.Connection) -> Any:
    """The psycopg connection under SQLAlchemy's, in the same transaction."""
    return connection.connection.driver_connection


def caregivers_of_several(caregiver_ids: Iterable[int]) -> set[int]:
    """Caregivers who answer for more than one child: their messages name the child."""
    ids = sorted(set(caregiver_ids))
    if not ids:
        return set()
    rows = db.session.connection().execute(
        sa.select(LINKS.c.caregiver_id)
        .where(LINKS.c.caregiver_id.in_(ids))
        .group_by(LINKS.c.caregiver_id)
        .having(sa.func.count() > 1)
    )
    return {row[0] for row in rows}
