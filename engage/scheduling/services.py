"""Enrolling patients in instruments, and keeping each enrollment's next due time right.

Services flush, never commit. Every change that can move a schedule (a new
enrollment, a changed schedule or time zone, a visit added, moved or cancelled)
ends by recomputing ``next_due_at``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from engage.conversations.models import (
    OPEN_STATUSES,
    CheckIn,
    CheckInStatus,
    CloseReason,
    RespondentRole,
)
from engage.conversations.services import choose_respondent, close_checkin
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.instruments.model import Instrument, RespondentMode
from engage.instruments.services import get_instrument
from engage.people.models import ConsentState, Contact, Patient
from engage.scheduling.models import Enrollment, EnrollmentStatus, ScheduleKind
from engage.scheduling.schedules import Schedule, due_before_visit, next_due
from engage.visits.models import Visit, VisitStatus


def find_instrument(instrument_id: str) -> Instrument:
    try:
        return get_instrument(instrument_id)
    except KeyError:
        raise InvalidInput("instrument", instrument_id, "is not a loaded instrument") from None


def enroll(
    patient: Patient,
    instrument_id: str,
    schedule: Schedule,
    *,
    respondent: Contact | None = None,
    now: datetime | None = None,
) -> Enrollment:
    """Enroll a patient; without a respondent, the instrument and the patient's age choose."""
    now = now or utcnow()
    instrument = find_instrument(instrument_id)
    schedule.check()
    already = db.session.scalar(
        sa.select(Enrollment.id).where(
            Enrollment.patient_id == patient.id,
            Enrollment.instrument_id == instrument.id,
            Enrollment.status != EnrollmentStatus.ENDED,
        )
    )
    if already is not None:
        raise InvalidInput(
            "instrument",
            instrument.id,
            f"already has enrollment {already} for {patient.mrn}: change or end that one",
        )
    if respondent is None:
        respondent, role = choose_respondent(
            patient, instrument, now.astimezone(patient.zone).date()
        )
    else:
        role = respondent_role(patient, instrument, respondent)
    enrollment = Enrollment(
        patient=patient,
        instrument_id=instrument.id,
        contact=respondent,
        respondent_role=role,
        status=EnrollmentStatus.ACTIVE,
        time_zone=schedule.time_zone,
        created_at=now,
        updated_at=now,
    )
    apply_schedule(enrollment, schedule)
    db.session.add(enrollment)
    db.session.flush()
    recompute_next_due(enrollment, now, catch_up=True)
    return enrollment


def respondent_role(patient: Patient, instrument: Instrument, contact: Contact) -> RespondentRole:
    """The role a phone answers in for this patient, or why it may not answer."""
    if contact.sms_consent is ConsentState.WITHDRAWN:
        raise InvalidInput("respondent", contact.phone, "has withdrawn SMS consent")
    mode = instrument.respondent.mode
    if contact.patient_id == patient.id:
        if mode is RespondentMode.PROXY:
            raise InvalidInput(
                "respondent", contact.phone, f"is the patient's own: {instrument.id} asks a parent"
            )
        return RespondentRole.SELF
    linked = contact.caregiver is not None and any(
        link.patient_id == patient.id and link.may_answer_as_proxy
        for link in contact.caregiver.patient_links
    )
    if not linked:
        raise InvalidInput(
            "respondent",
            contact.phone,
            f"is neither {patient.mrn}'s phone nor a caregiver's who may answer for them",
        )
    if mode is RespondentMode.SELF:
        raise InvalidInput(
            "respondent", contact.phone, f"is a caregiver's: {instrument.id} asks the patient"
        )
    return RespondentRole.PROXY


def apply_schedule(enrollment: Enrollment, schedule: Schedule) -> None:
    enrollment.kind = schedule.kind
    enrollment.time_zone = schedule.time_zone
    enrollment.weekdays = ",".join(schedule.weekdays) if schedule.weekdays else None
    enrollment.every_weeks = schedule.every_weeks
    enrollment.local_time = schedule.local_time
    enrollment.starts_on = schedule.starts_on
    enrollment.ends_on = schedule.ends_on
    enrollment.minutes_before_visit = schedule.minutes_before_visit
    enrollment.once_at = schedule.once_at


def change_schedule(
    enrollment: Enrollment, schedule: Schedule, *, now: datetime | None = None
) -> Enrollment:
    """A new schedule or time zone: the next due time is computed again from now."""
    now = now or utcnow()
    schedule.check()
    apply_schedule(enrollment, schedule)
    enrollment.updated_at = now
    cancel_waiting(enrollment, CloseReason.ENROLLMENT_ENDED, now)
    recompute_next_due(enrollment, now, catch_up=True)
    return enrollment


def pause_enrollment(enrollment: Enrollment, *, now: datetime | None = None) -> Enrollment:
    now = now or utcnow()
    refuse_if_ended(enrollment)
    enrollment.status = EnrollmentStatus.PAUSED
    enrollment.next_due_at = None
    enrollment.updated_at = now
    return enrollment


def resume_enrollment(enrollment: Enrollment, *, now: datetime | None = None) -> Enrollment:
    """Start again from now: occurrences that fell in the pause are not sent late."""
    now = now or utcnow()
    refuse_if_ended(enrollment)
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.updated_at = now
    recompute_next_due(enrollment, now, catch_up=True)
    return enrollment


def end_enrollment(enrollment: Enrollment, *, now: datetime | None = None) -> Enrollment:
    """No more check-ins; one already open may still be answered."""
    now = now or utcnow()
    enrollment.status = EnrollmentStatus.ENDED
    enrollment.next_due_at = None
    enrollment.next_visit_id = None
    enrollment.updated_at = now
    cancel_waiting(enrollment, CloseReason.ENROLLMENT_ENDED, now)
    return enrollment


def refuse_if_ended(enrollment: Enrollment) -> None:
    if enrollment.status is EnrollmentStatus.ENDED:
        raise InvalidInput("enrollment", str(enrollment.id), "has ended: enroll the patient again")


def cancel_waiting(enrollment: Enrollment, reason: CloseReason, now: datetime) -> None:
    """Close the enrollment's check-ins that were due but not yet sent."""
    cancel_checkins(
        sa.and_(CheckIn.enrollment_id == enrollment.id, CheckIn.status == CheckInStatus.DUE),
        reason,
        now,
    )


def cancel_checkins(which: sa.ColumnElement[bool], reason: CloseReason, now: datetime) -> None:
    for checkin in db.session.scalars(sa.select(CheckIn).where(which)):
        close_checkin(checkin, CheckInStatus.CANCELLED, now, reason)


def schedule_of(enrollment: Enrollment) -> Schedule:
    return Schedule.from_enrollment(enrollment)


def recompute_next_due(enrollment: Enrollment, now: datetime, *, catch_up: bool = False) -> None:
    """Store the enrollment's next due time after ``now`` (or after its last one).

    ``catch_up``: a staff change (a visit added at short notice, a new schedule)
    makes a pre-visit check-in whose time has already passed due at once, while
    the visit is still ahead.
    """
    if enrollment.status is not EnrollmentStatus.ACTIVE:
        enrollment.next_due_at = None
        return
    if enrollment.kind is ScheduleKind.BEFORE_VISIT:
        assert enrollment.minutes_before_visit is not None
        enrollment.next_due_at, enrollment.next_visit_id = next_visit_due(
            enrollment.id,
            enrollment.patient_id,
            enrollment.minutes_before_visit,
            enrollment.time_zone,
            now,
            catch_up=catch_up,
        )
        return
    after = now
    if enrollment.last_due_at is not None and enrollment.last_due_at > after:
        after = enrollment.last_due_at
    enrollment.next_due_at = next_due(schedule_of(enrollment), after)


def next_visit_due(
    enrollment_id: int,
    patient_id: int,
    minutes_before: int,
    time_zone: str,
    after: datetime,
    *,
    catch_up: bool = False,
) -> tuple[datetime | None, int | None]:
    """The pre-visit due time of the next visit that has no check-in of this enrollment yet."""
    served = (
        sa.select(CheckIn.visit_id)
        .where(
            CheckIn.enrollment_id == enrollment_id,
            CheckIn.visit_id.is_not(None),
            CheckIn.status != CheckInStatus.CANCELLED,
        )
        .scalar_subquery()
    )
    visits = db.session.execute(
        sa.select(Visit.id, Visit.starts_at)
        .where(
            Visit.patient_id == patient_id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at > after,
            Visit.id.not_in(served),
        )
        .order_by(Visit.starts_at)
    ).all()
    for visit_id, starts_at in visits:
        due = due_before_visit(starts_at, minutes_before, time_zone)
        if due > after:
            return due, visit_id
        if catch_up:
            return after, visit_id
    return None, None


# -- visits ----------------------------------------------------------------------------------
def reschedule_before_visit(patient_id: int, now: datetime) -> None:
    """Recompute every pre-visit enrollment of a patient after its visits changed."""
    enrollments = db.session.scalars(
        sa.select(Enrollment).where(
            Enrollment.patient_id == patient_id,
            Enrollment.kind == ScheduleKind.BEFORE_VISIT,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )
    for enrollment in enrollments:
        recompute_next_due(enrollment, now, catch_up=True)


def add_visit(
    patient: Patient,
    starts_at: datetime,
    *,
    external_ref: str | None = None,
    now: datetime | None = None,
) -> Visit:
    now = now or utcnow()
    visit = Visit(
        patient=patient, center_id=patient.center_id, starts_at=starts_at, external_ref=external_ref
    )
    db.session.add(visit)
    db.session.flush()
    reschedule_before_visit(patient.id, now)
    return visit


def move_visit(visit: Visit, starts_at: datetime, *, now: datetime | None = None) -> Visit:
    """Move a visit; pre-visit check-ins not yet sent move with it."""
    now = now or utcnow()
    if visit.status is not VisitStatus.SCHEDULED:
        raise InvalidInput("visit", str(visit.id), f"is {visit.status.value}, not scheduled")
    visit.starts_at = starts_at
    close_visit_checkins(visit, now, CloseReason.VISIT_MOVED, include_open=False)
    reschedule_before_visit(visit.patient_id, now)
    return visit


def cancel_visit(visit: Visit, *, now: datetime | None = None) -> Visit:
    """Cancel a visit and every check-in that prepared it, even one being answered."""
    now = now or utcnow()
    visit.status = VisitStatus.CANCELLED
    close_visit_checkins(visit, now, CloseReason.VISIT_CANCELLED, include_open=True)
    reschedule_before_visit(visit.patient_id, now)
    return visit


def close_visit_checkins(
    visit: Visit, now: datetime, reason: CloseReason, *, include_open: bool
) -> None:
    statuses = [CheckInStatus.DUE, *(OPEN_STATUSES if include_open else ())]
    cancel_checkins(
        sa.and_(CheckIn.visit_id == visit.id, CheckIn.status.in_(statuses)), reason, now
    )


def with_time_zone(schedule: Schedule, time_zone: str | None) -> Schedule:
    return schedule if time_zone is None else replace(schedule, time_zone=time_zone)
