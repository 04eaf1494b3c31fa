"""Enrollments keep their next due time right when schedules, time zones and visits change."""

from __future__ import annotations

from datetime import UTC, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.conversations.models import CheckInStatus, CloseReason, RespondentRole
from engage.errors import InvalidInput
from engage.messaging.models import Message, MessageStatus
from engage.scheduling.models import EnrollmentStatus, ScheduleKind
from engage.scheduling.reminders import send_reminders
from engage.scheduling.schedules import Schedule
from engage.scheduling.services import (
    add_visit,
    cancel_visit,
    change_schedule,
    end_enrollment,
    enroll,
    move_visit,
    pause_enrollment,
    resume_enrollment,
)
from tests.scheduling.conftest import checkins_of, local, phone_of, queued_to

BEFORE_2_DAYS = 2 * 1440


def previsit(patient, now, minutes=BEFORE_2_DAYS):
    schedule = Schedule(
        kind=ScheduleKind.BEFORE_VISIT,
        time_zone=patient.effective_time_zone,
        minutes_before_visit=minutes,
    )
    return enroll(patient, "previsit", schedule, now=now)


def test_enrolling_twice_in_one_instrument_is_refused(teen, weekly):
    weekly(teen)
    with pytest.raises(InvalidInput, match="already has enrollment"):
        weekly(teen)


def test_the_respondent_is_chosen_by_the_instrument_and_age(teen, weekly):
    enrollment = weekly(teen)
    assert enrollment.contact == phone_of(teen)
    assert enrollment.respondent_role is RespondentRole.SELF


def test_a_phone_that_is_not_the_family_s_is_refused(teen, make_patient, session):
    from engage.people.services import add_contact

    stranger = add_contact(make_patient(), "+16175550177")
    schedule = Schedule(
        kind=ScheduleKind.RECURRING, time_zone="America/New_York", local_time=time(18, 0)
    )
    with pytest.raises(InvalidInput, match="neither"):
        enroll(teen, "ibd-symptoms", schedule, respondent=stranger)


def test_a_pre_visit_check_in_is_due_two_days_before_each_visit(teen, session):
    now = local(2026, 11, 29, 12, 0)
    first = add_visit(teen, local(2026, 12, 10, 10, 0), now=now)
    second = add_visit(teen, local(2026, 12, 24, 15, 0), now=now)
    enrollment = previsit(teen, now)
    assert enrollment.next_due_at == local(2026, 12, 8, 10, 0).astimezone(UTC)
    assert enrollment.next_visit_id == first.id
    assert second.id != first.id


def test_moving_a_visit_moves_its_check_in_and_cancelling_cancels_it(teen, session):
    now = local(2026, 11, 29, 12, 0)
    visit = add_visit(teen, local(2026, 12, 10, 10, 0), now=now)
    enrollment = previsit(teen, now)
    move_visit(visit, local(2026, 12, 17, 9, 30), now=now)
    assert enrollment.next_due_at == local(2026, 12, 15, 9, 30)
    cancel_visit(visit, now=now)
    assert enrollment.next_due_at is None


def test_a_visit_moved_after_its_check_in_was_waiting_gets_a_new_one(teen, session, dispatch):
    now = local(2026, 11, 29, 12, 0)
    visit = add_visit(teen, local(2026, 12, 3, 7, 0), now=now)
    previsit(teen, now)
    session.commit()
    dispatch(local(2026, 12, 1, 7, 0, 5))  # due at 07:00, inside quiet hours: it waits
    [waiting] = checkins_of(session, teen)
    assert waiting.status is CheckInStatus.DUE
    move_visit(visit, local(2026, 12, 8, 11, 0), now=local(2026, 12, 1, 7, 30))
    session.commit()
    session.refresh(waiting)
    assert waiting.status is CheckInStatus.CANCELLED
    assert waiting.close_reason == CloseReason.VISIT_MOVED
    dispatch(local(2026, 12, 6, 11, 0, 5))
    opened = [c for c in checkins_of(session, teen) if c.status is CheckInStatus.SENT]
    assert [c.visit_id for c in opened] == [visit.id]


def test_cancelling_a_visit_cancels_a_check_in_being_answered(teen, session, dispatch):
    now = local(2026, 11, 29, 12, 0)
    visit = add_visit(teen, local(2026, 12, 3, 12, 0), now=now)
    previsit(teen, now)
    session.commit()
    dispatch(local(2026, 12, 1, 12, 0, 5))
    [checkin] = checkins_of(session, teen)
    assert checkin.status is CheckInStatus.SENT
    cancel_visit(visit, now=local(2026, 12, 1, 13, 0))
    session.commit()
    session.refresh(checkin)
    assert checkin.status is CheckInStatus.CANCELLED
    assert checkin.close_reason == CloseReason.VISIT_CANCELLED
    assert queued_to(session, phone_of(teen)) == []  # its unsent messages withdrawn


def test_a_visit_added_at_short_notice_makes_its_check_in_due_now(teen, session):
    now = local(2026, 12, 1, 10, 0)
    enrollment = previsit(teen, now)
    assert enrollment.next_due_at is None
    add_visit(teen, local(2026, 12, 2, 9, 0), now=now)
    assert enrollment.next_due_at == now


def test_pause_resume_and_end(teen, weekly, dispatch, session):
    enrollment = weekly(teen)
    pause_enrollment(enrollment, now=local(2026, 11, 29, 13, 0))
    assert enrollment.status is EnrollmentStatus.PAUSED and enrollment.next_due_at is None
    session.commit()
    assert dispatch(local(2026, 12, 8, 18, 0)).claimed == 0
    resume_enrollment(enrollment, now=local(2026, 12, 9, 9, 0))
    # Nothing from the pause is sent late: the next Monday from now.
    assert enrollment.next_due_at == local(2026, 12, 14, 18, 0)
    end_enrollment(enrollment, now=local(2026, 12, 9, 9, 5))
    assert enrollment.status is EnrollmentStatus.ENDED and enrollment.next_due_at is None
    with pytest.raises(InvalidInput, match="has ended"):
        resume_enrollment(enrollment)


def test_a_new_time_zone_recomputes_the_next_due_time(teen, weekly, session):
    enrollment = weekly(teen)
    schedule = Schedule.from_enrollment(enrollment)
    moved = Schedule(**{**schedule.__dict__, "time_zone": "America/Los_Angeles"})
    change_schedule(enrollment, moved, now=local(2026, 11, 29, 12, 0))
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert enrollment.next_due_at == local(2026, 11, 30, 18, 0, zone=los_angeles)


def test_the_local_time_survives_the_fall_back_change(make_patient, weekly, dispatch, session):
    from engage.people.services import add_contact

    patient = make_patient()
    add_contact(patient, "+16175550142")
    enrollment = weekly(patient, days=("sun",), now=local(2026, 10, 24, 12, 0))
    assert enrollment.next_due_at == local(2026, 10, 25, 18, 0)
    dispatch(local(2026, 10, 25, 18, 0, 5))
    session.refresh(enrollment)
    # 2026-11-01: US clocks fall back; 18:00 local is now 23:00 UTC, not 22:00.
    assert enrollment.next_due_at == local(2026, 11, 1, 18, 0)
    assert enrollment.next_due_at.astimezone(UTC).hour == 23


# -- reminders --------------------------------------------------------------------------------
def reminders(session, contact):
    return list(
        session.scalars(
            sa.select(Message).where(
                Message.contact_id == contact.id,
                Message.purpose == "reminder",
                Message.status == MessageStatus.QUEUED,
            )
        )
    )


def test_one_reminder_after_four_hours_without_a_reply(teen, weekly, dispatch, session):
    weekly(teen, at=time(12, 0))
    dispatch(local(2026, 11, 30, 12, 0, 5))
    assert send_reminders(local(2026, 11, 30, 15, 59)) == 0
    assert send_reminders(local(2026, 11, 30, 16, 1)) == 1
    session.commit()
    sent = reminders(session, phone_of(teen))
    assert sent[0].body.startswith("Reminder: your check-in is still open.")
    # The question waiting for an answer follows, in the same SMS when it fits.
    assert len(sent) == 1 + ("\n" not in sent[0].body)
    [question] = [m for m in queued_to(session, phone_of(teen)) if m.purpose == "question"]
    assert sent[-1].body.endswith(question.body)
    assert send_reminders(local(2026, 11, 30, 17, 0)) == 0  # only one


def test_no_reminder_at_night_after_stop_or_once_answering_began(teen, weekly, dispatch, session):
    weekly(teen, at=time(18, 0))
    dispatch(local(2026, 11, 30, 18, 0, 5))
    assert send_reminders(local(2026, 11, 30, 22, 30)) == 0  # quiet hours
    [checkin] = checkins_of(session, teen)
    checkin.status = CheckInStatus.IN_PROGRESS
    session.commit()
    assert send_reminders(local(2026, 12, 1, 8, 30)) == 0  # the family is answering


def test_no_reminder_to_a_paused_phone(teen, weekly, dispatch, session):
    weekly(teen, at=time(12, 0))
    dispatch(local(2026, 11, 30, 12, 0, 5))
    phone_of(teen).paused_until = local(2026, 12, 7, 12, 0)
    session.commit()
    assert send_reminders(local(2026, 11, 30, 16, 30)) == 0
