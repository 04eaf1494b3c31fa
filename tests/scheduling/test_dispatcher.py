"""The dispatcher opens each due check-in once, at the family's local time, never at night."""

from __future__ import annotations

from datetime import UTC, time, timedelta

import pytest

from engage.conversations.models import CheckInStatus, CloseReason
from engage.db import unit_of_work
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentMethod, ConsentState
from engage.people.services import add_contact, record_consent
from engage.scheduling.dispatcher import open_due_checkins
from tests.scheduling.conftest import checkins_of, local, phone_of, queued_to


def test_a_weekly_check_in_opens_at_local_time_with_its_first_messages_in_the_outbox(
    teen, weekly, dispatch, session
):
    enrollment = weekly(teen)
    assert enrollment.next_due_at == local(2026, 11, 30, 18, 0).astimezone(UTC)

    assert dispatch(local(2026, 11, 30, 17, 59)).claimed == 0
    report = dispatch(local(2026, 11, 30, 18, 0, 20))

    assert report.opened == 1
    [checkin] = checkins_of(session, teen)
    assert checkin.status is CheckInStatus.SENT
    assert checkin.due_at == local(2026, 11, 30, 18, 0)
    assert checkin.enrollment_id == enrollment.id
    assert checkin.expires_at == local(2026, 12, 1, 18, 0, 20)
    messages = queued_to(session, phone_of(teen))
    assert [m.purpose for m in messages] == ["intro", "question"]
    assert all(m.checkin_id == checkin.id for m in messages)
    session.refresh(enrollment)
    assert enrollment.next_due_at == local(2026, 12, 7, 18, 0)
    assert enrollment.last_due_at == local(2026, 11, 30, 18, 0)


def test_running_again_opens_nothing_twice(teen, weekly, dispatch, session):
    weekly(teen)
    dispatch(local(2026, 11, 30, 18, 1))
    again = dispatch(local(2026, 11, 30, 18, 2))
    assert again.opened == 0
    assert len(checkins_of(session, teen)) == 1
    assert len(queued_to(session, phone_of(teen))) == 2


def test_a_due_time_claimed_again_is_not_written_twice(teen, weekly, dispatch, session):
    """The unique (enrollment, due time) is the backstop if a schedule is ever rewound."""
    enrollment = weekly(teen)
    dispatch(local(2026, 11, 30, 18, 1))
    enrollment.next_due_at = local(2026, 11, 30, 18, 0)
    session.commit()
    dispatch(local(2026, 11, 30, 18, 2))
    assert len(checkins_of(session, teen)) == 1
    assert len(queued_to(session, phone_of(teen))) == 2


def test_a_check_in_due_at_night_waits_for_the_morning(teen, weekly, dispatch, session):
    weekly(teen, at=time(22, 30))
    report = dispatch(local(2026, 11, 30, 22, 30, 5))
    assert report.waiting == 1
    [checkin] = checkins_of(session, teen)
    assert checkin.status is CheckInStatus.DUE
    assert checkin.not_before == local(2026, 12, 1, 8, 0)
    assert queued_to(session, phone_of(teen)) == []

    assert dispatch(local(2026, 12, 1, 7, 59)).opened == 0
    assert dispatch(local(2026, 12, 1, 8, 0, 10)).opened == 1
    session.refresh(checkin)
    assert checkin.status is CheckInStatus.SENT
    assert len(queued_to(session, phone_of(teen))) == 2


def test_quiet_hours_are_the_centers(teen, weekly, dispatch, session):
    teen.center.quiet_hours_start = time(19, 0)
    session.flush()
    weekly(teen, at=time(19, 30))
    assert dispatch(local(2026, 11, 30, 19, 30, 5)).waiting == 1


@pytest.mark.parametrize(("late_hours", "opened"), [(5.9, 1), (6.1, 0)])
def test_after_an_outage_only_check_ins_inside_the_grace_window_are_sent(
    teen, weekly, dispatch, session, late_hours, opened
):
    weekly(teen, at=time(9, 0))
    report = dispatch(local(2026, 11, 30, 9, 0) + timedelta(hours=late_hours))
    assert report.opened == opened
    [checkin] = checkins_of(session, teen)
    if opened:
        assert checkin.status is CheckInStatus.SENT
    else:
        assert checkin.status is CheckInStatus.MISSED
        assert checkin.close_reason == CloseReason.LATE
        assert queued_to(session, phone_of(teen)) == []


def test_a_long_outage_records_each_missed_occurrence_and_sends_only_the_current_one(
    teen, weekly, dispatch, session
):
    weekly(teen, at=time(9, 0), days=None)  # daily
    report = dispatch(local(2026, 12, 3, 9, 30))
    statuses = [
        (c.due_at.astimezone(local(2026, 1, 1).tzinfo).day, c.status)
        for c in checkins_of(session, teen)
    ]
    assert statuses == [
        (30, CheckInStatus.MISSED),
        (1, CheckInStatus.MISSED),
        (2, CheckInStatus.MISSED),
        (3, CheckInStatus.SENT),
    ]
    assert report.opened == 1
    assert len(queued_to(session, phone_of(teen))) == 2


def test_one_phone_never_has_two_check_ins_open(teen, weekly, dispatch, session):
    weekly(teen, instrument_id="ibd-symptoms")
    weekly(teen, instrument_id="ibd-wellbeing")
    assert dispatch(local(2026, 11, 30, 18, 0, 5)).opened == 1
    first, second = sorted(checkins_of(session, teen), key=lambda c: c.status.value)
    assert {first.status, second.status} == {CheckInStatus.DUE, CheckInStatus.SENT}
    waiting = first if first.status is CheckInStatus.DUE else second
    sent = second if waiting is first else first

    assert dispatch(local(2026, 11, 30, 18, 30)).opened == 0
    sent.status = CheckInStatus.COMPLETED
    session.commit()
    # Completing it frees the phone; the daily cap (1) then stops the second one today.
    dispatch(local(2026, 11, 30, 18, 31))
    session.refresh(waiting)
    assert waiting.status is CheckInStatus.MISSED
    assert waiting.close_reason == CloseReason.DAILY_CAP


def test_a_check_in_waiting_for_another_starts_when_it_ends(teen, weekly, dispatch, session, app):
    app.config["CHECKINS_PER_DAY"] = 2
    try:
        weekly(teen, instrument_id="ibd-symptoms")
        weekly(teen, instrument_id="ibd-wellbeing")
        dispatch(local(2026, 11, 30, 18, 0, 5))
        sent = next(c for c in checkins_of(session, teen) if c.status is CheckInStatus.SENT)
        sent.status = CheckInStatus.COMPLETED
        session.commit()
        assert dispatch(local(2026, 11, 30, 18, 40)).opened == 1
    finally:
        app.config["CHECKINS_PER_DAY"] = 1


def test_a_check_in_that_waits_past_the_grace_window_is_missed(teen, weekly, dispatch, session):
    weekly(teen, instrument_id="ibd-symptoms")
    weekly(teen, instrument_id="ibd-wellbeing")
    dispatch(local(2026, 11, 30, 18, 0, 5))
    dispatch(local(2026, 12, 1, 0, 30))  # 6.5 hours later, the first still open
    waiting = next(c for c in checkins_of(session, teen) if c.status is not CheckInStatus.SENT)
    assert waiting.status is CheckInStatus.MISSED
    assert waiting.close_reason == CloseReason.LATE


def test_the_weekly_cap_stops_a_schedule_that_would_flood_a_family(
    teen, weekly, dispatch, session, app
):
    weekly(teen, at=time(9, 0), days=None)  # daily: more than 3 a week
    for day in range(30, 34):
        moment = local(2026, 11, 30, 9, 0, 5) + timedelta(days=day - 30)
        dispatch(moment)
        for checkin in checkins_of(session, teen):
            if checkin.status is CheckInStatus.SENT:
                checkin.status = CheckInStatus.COMPLETED
        session.commit()
    statuses = [c.status for c in checkins_of(session, teen)]
    assert statuses == [CheckInStatus.COMPLETED] * 3 + [CheckInStatus.MISSED]
    assert checkins_of(session, teen)[-1].close_reason == CloseReason.WEEKLY_CAP


@pytest.mark.parametrize("how", ["opted_out", "paused", "number_unusable"])
def test_nothing_is_sent_to_a_phone_that_opted_out_paused_or_cannot_take_sms(
    teen, weekly, dispatch, session, how
):
    weekly(teen)
    contact = phone_of(teen)
    if how == "opted_out":
        record_consent(
            contact,
            ConsentState.WITHDRAWN,
            method=ConsentMethod.KEYWORD,
            consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
        )
    elif how == "paused":
        contact.paused_until = local(2026, 12, 5, 12, 0)
    else:
        contact.unusable_since = local(2026, 11, 1, 12, 0)
    session.commit()
    report = dispatch(local(2026, 11, 30, 18, 0, 5))
    assert report.cancelled == 1
    [checkin] = checkins_of(session, teen)
    assert checkin.status is CheckInStatus.CANCELLED
    assert checkin.close_reason == how
    assert queued_to(session, contact) == []


def test_a_batch_claims_at_most_its_size(make_patient, weekly, session, app):
    for n in range(3):
        patient = make_patient()
        add_contact(patient, f"+1617555016{n}")
        weekly(patient, at=time(9, 0))
    with unit_of_work():
        report = open_due_checkins(local(2026, 11, 30, 9, 30), batch_size=2)
    assert report.claimed == 2
    with unit_of_work():
        assert open_due_checkins(local(2026, 11, 30, 9, 30), batch_size=2).claimed == 1


def test_the_job_pass_over_waiting_check_ins_moves_on_and_ends(make_patient, weekly, session, app):
    """Check-ins that must go on waiting are not claimed again in the same pass."""
    from datetime import time as clock

    from engage.db import utcnow
    from engage.scheduling.dispatcher import start_waiting_checkins
    from engage.scheduling.jobs import dispatch_due_checkins

    enrollments = []
    for n in range(3):
        patient = make_patient()
        patient.center.quiet_hours_start = patient.center.quiet_hours_end = clock(0, 0)
        add_contact(patient, f"+1617555017{n}")
        enrollments.append(weekly(patient, instrument_id="ibd-symptoms"))
        enrollments.append(weekly(patient, instrument_id="ibd-wellbeing"))
    for enrollment in enrollments:
        enrollment.next_due_at = utcnow() - timedelta(minutes=1)
    session.commit()

    report = dispatch_due_checkins(batch_size=2, budget_seconds=30)
    assert report.opened == 3  # one per phone; the second of each waits
    session.expire_all()
    with unit_of_work():
        first = start_waiting_checkins(utcnow(), batch_size=2)
    assert (first.claimed, first.waiting) == (2, 2)
    with unit_of_work():
        rest = start_waiting_checkins(utcnow(), batch_size=2, after=first.last_key)
    assert (rest.claimed, rest.waiting) == (1, 1)
