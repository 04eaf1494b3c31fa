"""The clinic day and the patient summary, from check-ins answered by SMS."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.alerts.services import acknowledge_alert
from engage.conversations.models import (
    AnswerStatus,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    RespondentRole,
)
from engage.conversations.services import (
    InboundSms,
    close_checkin,
    handle_inbound,
    open_checkin,
)
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.instruments.model import Severity
from engage.instruments.services import get_instrument, record_instrument_version
from engage.messaging.models import Message, MessageStatus
from engage.messaging.sender import record_delivery_status
from engage.network.models import StaffUser
from engage.people.models import ConsentMethod, ConsentState, Contact, Language
from engage.people.services import add_contact
from engage.review.summaries import (
    Change,
    PatientNotFound,
    PrevisitState,
    clinic_day,
    patient_summary,
    plain_answer,
)
from engage.scheduling.services import cancel_visit
from engage.visits.models import Visit
from tests.review.conftest import (
    DAY,
    LOS_ANGELES,
    MILD,
    MODERATE,
    NEW_YORK,
    REMISSION,
    SEVERE,
    at,
)

NOAH, SOFIA, LAURA = "+16175550102", "+16175550103", "+16175550101"
PREVISIT_ANSWERS = [
    "yes",
    "Belly hurts after lunch most days",
    "2",
    "Can I go to summer camp?",
    "Is the new medicine safe with ibuprofen?",
]


def by_mrn(visits):
    return {v.mrn: v for v in visits}


def series_of(summary, instrument_id="ibd-symptoms", score_id="activity_index"):
    return next(
        s for s in summary.series if (s.instrument_id, s.score_id) == (instrument_id, score_id)
    )


def latest_of(summary, instrument_id):
    return next(c for c in summary.latest_checkins if c.instrument_id == instrument_id)


def staff(session, email):
    return session.scalar(sa.select(StaffUser).where(StaffUser.email == email))


# -- clinic day -----------------------------------------------------------------------------
def test_a_clinic_day_is_the_local_day_of_each_center(patient, center, visit):
    east, west = center("EAST"), center("WEST")
    # The demo already books Ethan (10:00) and Ava (11:15) at WEST on this day.
    visit(patient("E-1002"), at(DAY, 8))  # Noah, 08:00 in New York
    visit(patient("W-2003"), at(DAY, 23, 30, LOS_ANGELES))  # 06:30 UTC the next day
    visit(patient("E-1003"), at(DAY - timedelta(days=1), 22, 30))  # 02:30 UTC on DAY
    cancel_visit(visit(patient("E-1001"), at(DAY, 11)))

    day = clinic_day([east.id, west.id], DAY)

    assert [(v.mrn, v.local_start.strftime("%H:%M"), v.center_code) for v in day] == [
        ("E-1002", "08:00", "EAST"),
        ("W-2001", "10:00", "WEST"),
        ("W-2002", "11:15", "WEST"),
        ("W-2003", "23:30", "WEST"),
    ]
    assert [v.starts_at for v in day] == sorted(v.starts_at for v in day)
    assert day[-1].starts_at.date() == DAY + timedelta(days=1)  # in UTC
    noah = day[0]
    assert (noah.patient_name, noah.age, noah.local_start.tzinfo) == ("Noah Thompson", 13, NEW_YORK)
    assert {v.mrn: v.age for v in day} == {"E-1002": 13, "W-2001": 7, "W-2002": 15, "W-2003": 19}
    assert all(v.previsit is PrevisitState.NONE and v.latest_score is None for v in day)
    assert all((v.open_alerts, v.highest_open_severity, v.change) == (0, None, None) for v in day)

    # Sofia's 22:30 visit is on the evening before, where the clinic is.
    before = clinic_day([east.id], DAY - timedelta(days=1))
    assert [(v.mrn, v.local_start.strftime("%H:%M")) for v in before] == [
        ("E-1001", "09:00"),
        ("E-1002", "09:30"),
        ("E-1003", "22:30"),
    ]
    # Read in New York time, WEST's 23:30 visit falls on the next day.
    in_new_york = clinic_day([west.id], DAY, time_zone="America/New_York")
    assert [(v.mrn, v.local_start.strftime("%H:%M")) for v in in_new_york] == [
        ("W-2001", "13:00"),
        ("W-2002", "14:15"),
    ]
    assert clinic_day([], DAY) == []
    with pytest.raises(InvalidInput):
        clinic_day([east.id], DAY, time_zone="Mars/Olympus")


def test_the_state_of_each_visits_pre_visit_check_in(patient, center, visit, answer, session):
    visits = {
        "E-1001": visit(patient("E-1001"), at(DAY, 9)),
        "E-1002": visit(patient("E-1002"), at(DAY, 9, 30)),
        "E-1003": visit(patient("E-1003"), at(DAY, 10)),
        "W-2003": visit(patient("W-2003"), at(DAY, 15, 0, LOS_ANGELES)),
    }
    ethan_visit, ava_visit = (
        next(v for v in patient(mrn).visits if v.starts_at.astimezone(LOS_ANGELES).date() == DAY)
        for mrn in ("W-2001", "W-2002")
    )
    two_days_before = DAY - timedelta(days=2)
    noah = answer(
        patient("E-1002"), "previsit", PREVISIT_ANSWERS, when=at(two_days_before, 9),
        visit=visits["E-1002"],
    )  # fmt: skip
    answer(patient("W-2002"), "previsit", ["no", "2"], when=at(two_days_before, 10),
           visit=ava_visit, close=True)  # fmt: skip
    answer(patient("E-1003"), "previsit", ["no"], when=at(DAY - timedelta(days=1), 11),
           visit=visits["E-1003"])  # fmt: skip
    answer(patient("W-2001"), "previsit", [], when=at(two_days_before, 12), visit=ethan_visit,
           close=True)  # fmt: skip
    answer(patient("E-1001"), "previsit", [], when=at(DAY - timedelta(days=1), 13),
           visit=visits["E-1001"])  # fmt: skip
    # Daniel's was cancelled before anyone saw it.
    daniel = answer(patient("W-2003"), "previsit", [], when=at(two_days_before, 14),
                    visit=visits["W-2003"])  # fmt: skip
    close_checkin(daniel, CheckInStatus.CANCELLED, at(two_days_before, 15))
    session.commit()

    statuses = {c.patient.mrn: c.status for c in session.scalars(sa.select(CheckIn)) if c.visit_id}
    assert statuses == {
        "E-1002": CheckInStatus.COMPLETED,
        "W-2002": CheckInStatus.EXPIRED,
        "E-1003": CheckInStatus.IN_PROGRESS,
        "W-2001": CheckInStatus.MISSED,
        "E-1001": CheckInStatus.SENT,
        "W-2003": CheckInStatus.CANCELLED,
    }
    day = by_mrn(clinic_day([center("EAST").id, center("WEST").id], DAY))
    assert {mrn: v.previsit for mrn, v in day.items()} == {
        "E-1002": PrevisitState.COMPLETED,
        "W-2002": PrevisitState.PARTIAL,  # expired with answers
        "E-1003": PrevisitState.PARTIAL,  # still being answered
        "W-2001": PrevisitState.NOT_RETURNED,  # missed
        "E-1001": PrevisitState.NOT_RETURNED,  # sent, nothing back yet
        "W-2003": PrevisitState.NONE,  # only a cancelled one
    }
    assert day["E-1002"].previsit_checkin_id == noah.id
    assert day["W-2003"].previsit_checkin_id is None


def test_change_since_the_previous_visit_is_judged_by_band(patient, center, visit, answer):
    noah, mia = patient("E-1002"), patient("E-1001")
    ava, ethan, daniel = patient("W-2002"), patient("W-2001"), patient("W-2003")
    for someone in (noah, mia):  # the demo books them the day before: not this story
        cancel_visit(someone.visits[0])
    visit(noah, at(DAY, 9))
    visit(mia, at(DAY, 9, 30))
    visit(daniel, at(DAY, 15, 0, LOS_ANGELES))
    previous = DAY - timedelta(days=28)
    for someone in (noah, ava, ethan, daniel):
        visit(someone, at(previous, 12))
    weeks_before = DAY - timedelta(days=35)

    answer(noah, "ibd-symptoms", MODERATE, when=at(weeks_before, 18))
    answer(noah, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=14), 18))
    answer(noah, "ibd-symptoms", REMISSION, when=at(DAY - timedelta(days=2), 18))
    answer(noah, "ibd-symptoms", SEVERE, when=at(DAY + timedelta(days=1), 18))  # after the day
    answer(ava, "ibd-symptoms", REMISSION, when=at(weeks_before, 18))
    answer(ava, "ibd-symptoms", SEVERE, when=at(DAY - timedelta(days=3), 18))
    answer(ethan, "ibd-symptoms", MILD, when=at(weeks_before, 18))
    answer(ethan, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=3), 18))
    answer(daniel, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=3), 18))
    answer(mia, "ibd-symptoms", MODERATE, when=at(weeks_before, 18))
    answer(mia, "ibd-symptoms", REMISSION, when=at(DAY - timedelta(days=2), 18))

    day = by_mrn(clinic_day([center("EAST").id, center("WEST").id], DAY))

    assert {mrn: v.change for mrn, v in day.items()} == {
        "E-1002": Change.BETTER,  # moderate before the last visit, remission now
        "W-2002": Change.WORSE,  # remission, then severe
        "W-2001": Change.SAME,  # mild both times (15 and 15)
        "W-2003": None,  # nothing answered before the previous visit
        "E-1001": None,  # no previous visit
    }
    latest, before = day["E-1002"].latest_score, day["E-1002"].score_before_previous_visit
    assert (latest.value, latest.band_id, latest.band_label) == (0, "remission", "Remission")
    assert (before.value, before.band_id, before.band_label) == (45, "moderate", "Moderate")
    assert day["E-1002"].previous_visit_at == at(previous, 12)
    assert day["E-1001"].previous_visit_at is None
    assert (day["W-2003"].latest_score.band_id, day["W-2003"].score_before_previous_visit) == (
        "mild",
        None,
    )
    spanish = by_mrn(clinic_day([center("WEST").id], DAY, language="es"))
    assert spanish["W-2002"].latest_score.band_label == "Grave"


def test_open_alerts_are_counted_with_their_highest_severity(
    patient, center, visit, answer, session
):
    ava, ethan, noah = patient("W-2002"), patient("W-2001"), patient("E-1002")
    visit(noah, at(DAY, 9))
    answer(ava, "ibd-symptoms", SEVERE, when=at(DAY - timedelta(days=3), 18))
    answer(ethan, "ibd-symptoms", MODERATE, when=at(DAY - timedelta(days=3), 18))
    three_plus_missed_doses = ["no", "3", "SKIP", "SKIP"]
    answer(noah, "previsit", three_plus_missed_doses, when=at(DAY - timedelta(days=2), 9))

    centers = [center("EAST").id, center("WEST").id]
    day = by_mrn(clinic_day(centers, DAY))
    assert (day["W-2002"].open_alerts, day["W-2002"].highest_open_severity) == (2, Severity.URGENT)
    assert (day["W-2001"].open_alerts, day["W-2001"].highest_open_severity) == (0, None)
    assert (day["E-1002"].open_alerts, day["E-1002"].highest_open_severity) == (
        1,
        Severity.MODERATE,
    )

    urgent = session.scalar(sa.select(Alert).where(Alert.severity == Severity.URGENT))
    acknowledge_alert(urgent, staff(session, "sam.chen@west.example.org"), "Called the family")
    session.commit()
    day = by_mrn(clinic_day(centers, DAY))
    assert (day["W-2002"].open_alerts, day["W-2002"].highest_open_severity) == (1, Severity.HIGH)


def test_clinic_day_statements_do_not_grow_with_the_number_of_visits(
    make_center, make_patient, session
):
    """Rows written directly: fifteen patients, each with two scores, two alerts and a
    completed pre-visit check-in; three of them come on one day, twelve on another."""
    clinic = make_center(time_zone="America/Chicago")
    symptoms = record_instrument_version(get_instrument("ibd-symptoms"))
    previsit = record_instrument_version(get_instrument("previsit"))
    small_day, big_day = DAY, DAY + timedelta(days=7)
    for n in range(15):
        someone = make_patient(clinic)
        phone = add_contact(someone, f"+1312555{n:04d}")
        day = small_day if n < 3 else big_day
        session.add(a_visit(someone, at(day - timedelta(days=28), 10)))
        today = a_visit(someone, at(day, 8 + n % 8))
        session.add(today)
        session.flush()
        for days_before, value, band in ((35, 40, "moderate"), (2, 20, "mild")):
            checkin = a_completed_checkin(
                someone, phone, symptoms, at(day, 18) - timedelta(days=days_before)
            )
            session.add(CheckInScore(checkin_id=checkin.id, score_id="activity_index", raw=value,
                                     value=value, band_id=band, answered=6))  # fmt: skip
            session.add(Alert(patient_id=someone.id, checkin_id=checkin.id, red_flag_id="severe_pain",
                              severity=Severity.HIGH, safety_message=""))  # fmt: skip
        a_completed_checkin(someone, phone, previsit, at(day, 9) - timedelta(days=2), today)
    session.commit()
    clinic_day([clinic.id], small_day)  # instrument versions are parsed once per process

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    connection = session.connection()
    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        small = clinic_day([clinic.id], small_day)
        small_count = len(statements)
        big = clinic_day([clinic.id], big_day)
        big_count = len(statements) - small_count
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)

    assert (len(small), len(big)) == (3, 12)
    assert all(
        (v.previsit, v.change, v.open_alerts) == (PrevisitState.COMPLETED, Change.BETTER, 2)
        for v in small + big
    )
    # Centers, visits with their patients, instrument versions, pre-visit check-ins,
    # previous visits, scores, alerts: the same seven however many visits.
    assert small_count == big_count == 7, statements


def a_visit(patient, starts_at):
    return Visit(patient_id=patient.id, center_id=patient.center_id, starts_at=starts_at)


def a_completed_checkin(patient, phone, version, opened, visit=None):
    checkin = CheckIn(
        patient_id=patient.id,
        instrument_version_id=version.id,
        contact_id=phone.id,
        respondent_role=RespondentRole.SELF,
        language=Language.ENGLISH,
        status=CheckInStatus.COMPLETED,
        due_at=opened,
        opened_at=opened,
        closed_at=opened + timedelta(minutes=5),
        visit_id=visit.id if visit else None,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin


# -- patient summary ------------------------------------------------------------------------
def test_series_are_in_time_order_with_missed_and_expired_points(patient, answer):
    noah = patient("E-1002")
    answer(noah, "ibd-symptoms", MODERATE, when=at(DAY - timedelta(days=28), 18))
    answer(noah, "ibd-symptoms", [], when=at(DAY - timedelta(days=21), 18), close=True)
    answer(noah, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=14), 18))
    answer(noah, "ibd-symptoms", ["1", "1"], when=at(DAY - timedelta(days=7), 18), close=True)
    answer(noah, "ibd-symptoms", REMISSION, when=at(DAY - timedelta(days=2), 18))

    summary = patient_summary(noah.id, now=at(DAY, 7))

    series = series_of(summary)
    assert [(p.status.value, p.value, p.band_id) for p in series.points] == [
        ("completed", 45, "moderate"),
        ("missed", None, None),
        ("completed", 15, "mild"),
        ("expired", None, None),
        ("completed", 0, "remission"),
    ]
    assert [p.at for p in series.points] == sorted(p.at for p in series.points)
    assert series.points[0].at == at(DAY - timedelta(days=28), 18)
    assert [(b.id, b.label, b.minimum, b.maximum) for b in series.bands] == [
        ("remission", "Remission", 0, 9),
        ("mild", "Mild", 10, 34),
        ("moderate", "Moderate", 35, 64),
        ("severe", "Severe", 65, 85),
    ]
    assert (series.label, series.instrument_title) == (
        "Symptom activity (PUCAI points)",
        "Weekly IBD symptoms",
    )
    assert [(m.status.value, m.local_date) for m in summary.missed] == [
        ("expired", DAY - timedelta(days=7)),
        ("missed", DAY - timedelta(days=21)),
    ]
    assert {s.instrument_id for s in summary.series} == {"ibd-symptoms"}  # previsit has no score

    recent = patient_summary(noah.id, since=DAY - timedelta(days=15), now=at(DAY, 7))
    assert [p.value for p in series_of(recent).points] == [15, None, 0]
    assert [m.status.value for m in recent.missed] == ["expired"]


def test_answers_read_back_in_plain_english_and_spanish(patient, answer):
    noah = patient("E-1002")
    checkin = answer(noah, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=2), 18))

    english = latest_of(patient_summary(noah.id, now=at(DAY, 7)), "ibd-symptoms")
    assert english.checkin_id == checkin.id
    assert [(a.item_id, a.answer) for a in english.answers] == [
        ("pain", "Some pain, easy to ignore"),
        ("worst_pain", "3 out of 10"),
        ("bleeding", "No blood"),
        ("consistency", "Soft, partly formed"),
        ("stools", "4"),
        ("night", "No"),
        ("activity", "Not at all"),
    ]
    assert english.answers[0].question == "In the last 24 hours, how was your belly pain?"
    assert [(s.score_id, s.value, s.band_label) for s in english.scores] == [
        ("activity_index", 15, "Mild")
    ]

    spanish = latest_of(patient_summary(noah.id, language="es", now=at(DAY, 7)), "ibd-symptoms")
    assert [a.answer for a in spanish.answers] == [
        "Algo de dolor, facil de ignorar",
        "3 de 10",
        "Nada de sangre",
        "Blandas, poco formadas",
        "4",
        "No",
        "Para nada",
    ]
    assert (
        spanish.answers[0].question == "En las ultimas 24 horas, ¿como estuvo su dolor de barriga?"
    )
    assert (spanish.instrument_title, spanish.scores[0].band_label) == (
        "Síntomas de EII de la semana",
        "Leve",
    )


def test_a_spanish_check_in_answered_through_the_webhook(patient, sms, session):
    sofia = patient("E-1003")
    open_checkin(sofia, get_instrument("ibd-symptoms"))
    session.commit()
    for text in ["1", "1", "formadas", "dos", "no", "para nada"]:
        sms(text, from_=SOFIA)

    latest = latest_of(patient_summary(sofia.id, language="es"), "ibd-symptoms")
    assert latest.status is CheckInStatus.COMPLETED
    assert (latest.respondent_role, latest.respondent_name) == (
        RespondentRole.SELF,
        "Sofia Martinez",
    )
    assert [a.answer for a in latest.answers] == [
        "Sin dolor",
        "Nada de sangre",
        "Formadas",
        "2",
        "No",
        "Para nada",
    ]
    assert latest.scores[0].band_label == "Remision"


def test_a_parent_answering_as_proxy_is_told_apart_from_a_teen_answering_for_himself(
    patient, answer
):
    mia, noah = patient("E-1001"), patient("E-1002")
    answer(mia, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=2), 18))
    answer(noah, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=2), 19))

    for_mia = patient_summary(mia.id, now=at(DAY, 7))
    by_laura = latest_of(for_mia, "ibd-symptoms")
    assert (by_laura.respondent_role, by_laura.respondent_name) == (
        RespondentRole.PROXY,
        "Laura Thompson",
    )
    first = by_laura.answers[0]
    assert (first.respondent_role, first.respondent_name) == (
        RespondentRole.PROXY,
        "Laura Thompson",
    )
    assert first.question == "In the last 24 hours, how was your child's belly pain?"
    assert series_of(for_mia).points[0].respondent_role is RespondentRole.PROXY

    by_noah = latest_of(patient_summary(noah.id, now=at(DAY, 7)), "ibd-symptoms")
    assert (by_noah.respondent_role, by_noah.respondent_name) == (
        RespondentRole.SELF,
        "Noah Thompson",
    )
    assert by_noah.answers[0].question == "In the last 24 hours, how was your belly pain?"


def test_the_familys_words_from_the_latest_pre_visit_check_in(patient, answer):
    noah = patient("E-1002")
    earlier = answer(noah, "previsit", PREVISIT_ANSWERS, when=at(DAY - timedelta(days=9), 9))
    latest = answer(
        noah, "previsit", ["no", "1", "Can I stop the pills?"],
        when=at(DAY - timedelta(days=2), 9), close=True,
    )  # fmt: skip

    summary = patient_summary(noah.id, now=at(DAY, 7))
    assert (summary.previsit.checkin_id, summary.previsit.status) == (
        latest.id,
        CheckInStatus.EXPIRED,
    )
    assert [(c.item_id, c.text) for c in summary.previsit.comments] == [
        ("topics", "Can I stop the pills?")
    ]
    # The latest completed one is still read back whole.
    completed = latest_of(summary, "previsit")
    assert completed.checkin_id == earlier.id
    assert [(a.item_id, a.answer) for a in completed.answers] == [
        ("changes", "Yes"),
        ("what_changed", "Belly hurts after lunch most days"),
        ("missed_doses", "One or two"),
        ("topics", "Can I go to summer camp?"),
        ("questions", "Is the new medicine safe with ibuprofen?"),
    ]

    answer(noah, "previsit", PREVISIT_ANSWERS, when=at(DAY - timedelta(days=1), 9))
    spanish = patient_summary(noah.id, language="es", now=at(DAY, 7)).previsit
    assert [(c.question, c.text) for c in spanish.comments] == [
        ("¿Que ha cambiado? Responda con un mensaje corto o SKIP", PREVISIT_ANSWERS[1]),
        (
            "¿Que es lo que mas le gustaria hablar en la cita? Responda con su mensaje o SKIP",
            PREVISIT_ANSWERS[3],
        ),
        (
            "¿Tiene preguntas para su equipo de cuidado? Responda con sus preguntas o SKIP",
            PREVISIT_ANSWERS[4],
        ),
    ]
    assert all(c.respondent_role is RespondentRole.SELF for c in spanish.comments)


def test_phones_with_consent_history_pause_and_unusable_numbers(patient, session):
    noah, mia = patient("E-1002"), patient("E-1001")
    # After the demo's consent, which is recorded at the real time of the test run.
    stop, start, pause = (utcnow() + timedelta(hours=hours) for hours in (1, 2, 3))
    for text, when in (("STOP", stop), ("START", start), ("PAUSE 7", pause)):
        handle_inbound(InboundSms(f"SM-{text.replace(' ', '')}", NOAH, text), now=when)
    laura = session.scalar(sa.select(Contact).where(Contact.phone == LAURA))
    laura.unusable_since = at(DAY - timedelta(days=3), 9)
    laura.unusable_reason = "landline (30006)"
    laura.unreachable_failures = 2
    session.commit()

    phone, parent = patient_summary(noah.id).phones
    assert (parent.phone, parent.owner) == (LAURA, "caregiver")  # his mother's phone is listed too
    assert (phone.phone, phone.owner, phone.owner_name) == (NOAH, "patient", "Noah Thompson")
    assert [(c.state, c.method, c.changed_at) for c in phone.consent_history][1:] == [
        (ConsentState.WITHDRAWN, ConsentMethod.KEYWORD, stop),
        (ConsentState.GRANTED, ConsentMethod.KEYWORD, start),
    ]
    first = phone.consent_history[0]
    assert (first.state, first.method, first.recorded_by_name) == (
        ConsentState.GRANTED,
        ConsentMethod.STAFF,
        "Dr. Ana Rivera",
    )
    assert (phone.consent, phone.paused_until) == (ConsentState.GRANTED, pause + timedelta(days=7))

    [parent] = patient_summary(mia.id).phones
    assert (parent.phone, parent.owner, parent.owner_name, parent.relationship) == (
        LAURA,
        "caregiver",
        "Laura Thompson",
        "parent",
    )
    assert parent.may_answer_as_proxy
    assert (parent.unusable_reason, parent.unreachable_failures) == ("landline (30006)", 2)


def test_alerts_enrollments_visits_and_delivery_problems(patient, visit, answer, session):
    ava = patient("W-2002")
    visit(ava, at(DAY - timedelta(days=28), 12))
    checkin = answer(ava, "ibd-symptoms", SEVERE, when=at(DAY - timedelta(days=3), 18))
    sam = staff(session, "sam.chen@west.example.org")
    urgent = session.scalar(sa.select(Alert).where(Alert.severity == Severity.URGENT))
    acknowledge_alert(urgent, sam, "Called; seen tomorrow", now=at(DAY - timedelta(days=2), 9))
    opening = session.scalar(
        sa.select(Message).where(Message.checkin_id == checkin.id).order_by(Message.id).limit(1)
    )
    opening.twilio_sid, opening.status = "SM-opening-ava", MessageStatus.SENT
    session.flush()
    record_delivery_status(
        "SM-opening-ava", "undelivered", "30003", now=at(DAY - timedelta(days=3), 18)
    )
    session.commit()

    summary = patient_summary(ava.id, now=at(DAY, 7))

    assert sorted((a.red_flag_id, a.severity, a.status.value) for a in summary.alerts) == [
        ("bleeding_with_frequent_stools", Severity.URGENT, "acknowledged"),
        ("severe_activity", Severity.HIGH, "open"),
    ]
    handled = next(a for a in summary.alerts if a.alert_id == urgent.id)
    assert (
        handled.acknowledged_by_name,
        handled.acknowledged_at,
        handled.acknowledgement_note,
    ) == (
        "Dr. Sam Chen",
        at(DAY - timedelta(days=2), 9),
        "Called; seen tomorrow",
    )
    assert handled.instrument_id == "ibd-symptoms"
    assert [(e.instrument_id, e.schedule, e.status.value) for e in summary.enrollments] == [
        ("ibd-symptoms", "Mon at 18:00 (America/Los_Angeles)", "active"),
        ("previsit", "2 days before each visit", "active"),
    ]
    assert [v.local_start.strftime("%m-%d %H:%M") for v in summary.upcoming_visits] == [
        "05-06 11:15"
    ]
    assert [v.local_start.strftime("%m-%d %H:%M") for v in summary.recent_visits] == ["04-08 09:00"]
    assert summary.upcoming_visits[0].clinician_name == "Dr. Sam Chen"
    [problem] = summary.delivery_problems
    assert (problem.message_id, problem.status, problem.error_code) == (
        opening.id,
        MessageStatus.UNDELIVERED,
        "30003",
    )
    assert summary.patient.name == "Ava Johnson"
    assert (summary.patient.mrn, summary.patient.age, summary.patient.center_code) == (
        "W-2002",
        15,
        "WEST",
    )
    assert summary.patient.time_zone == "America/Los_Angeles"

    # Acknowledged alerts before ``since`` are left out; an open one never is.
    later = patient_summary(ava.id, since=DAY, now=at(DAY, 7))
    assert [a.red_flag_id for a in later.alerts] == ["severe_activity"]
    assert later.delivery_problems == ()


def test_plain_answers_for_skips_unreadable_replies_and_scale_anchors(app):
    symptoms = get_instrument("ibd-symptoms")
    worst, stools = symptoms.item("worst_pain"), symptoms.item("stools")
    assert plain_answer(worst, AnswerStatus.ANSWERED, 10, "en") == "10 out of 10 (worst pain ever)"
    assert plain_answer(worst, AnswerStatus.ANSWERED, 0, "es") == "0 de 10 (sin dolor)"
    assert plain_answer(stools, AnswerStatus.SKIPPED, None, "en") == "Skipped"
    assert plain_answer(stools, AnswerStatus.UNANSWERED, None, "es").startswith("No se entendió")


def test_an_unknown_patient_or_language_is_refused(patient):
    with pytest.raises(PatientNotFound):
        patient_summary(999_999)
    with pytest.raises(InvalidInput):
        patient_summary(patient("E-1002").id, language="fr")


def test_summary_dates_are_local_to_the_patient(patient, answer):
    noah = patient("E-1002")
    # 23:30 in New York is already the next day in UTC.
    answer(noah, "ibd-symptoms", [], when=at(DAY, 23, 30), close=True)
    [missed] = patient_summary(noah.id, now=at(DAY + timedelta(days=2), 7)).missed
    assert missed.local_date == DAY
    assert missed.at.astimezone(NEW_YORK).date() == DAY
    assert isinstance(missed.local_date, date)


def test_a_completed_check_in_without_a_score_leaves_the_last_score_shown(
    patient, center, visit, answer, session
):
    noah = patient("E-1002")
    visit(noah, at(DAY, 9))
    scored = answer(noah, "ibd-symptoms", MILD, when=at(DAY - timedelta(days=7), 18))
    skipped = answer(noah, "ibd-symptoms", ["SKIP"] * 6, when=at(DAY - timedelta(days=2), 18))
    session.refresh(skipped)
    assert skipped.status is CheckInStatus.COMPLETED
    assert (
        session.scalar(sa.select(CheckInScore.value).where(CheckInScore.checkin_id == skipped.id))
        is None
    )

    [noah_today] = clinic_day([center("EAST").id], DAY)
    assert (noah_today.latest_score.checkin_id, noah_today.latest_score.band_id) == (
        scored.id,
        "mild",
    )
