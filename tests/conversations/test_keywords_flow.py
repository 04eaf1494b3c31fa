"""Keywords through the webhook: consent, help, pause, ideas, strangers."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.codesign.models import Idea
from engage.conversations.models import CheckIn, CheckInStatus
from engage.db import utcnow
from engage.errors import InvalidInput
from engage.messaging.models import Message, MessageStatus
from engage.people.models import ConsentState, Contact
from tests.conversations.conftest import CARMEN, LAURA, NOAH, STRANGER
from tests.twilio_helpers import replies


def contact(session, phone):
    session.expire_all()
    return session.scalar(sa.select(Contact).where(Contact.phone == phone))


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "CANCEL", "end", "quit", "OPTOUT",
     "revoke", "PARAR", "baja", "please stop texting me", "No more messages",
     "don't text me", "no mas mensajes"],
)  # fmt: skip
def test_opt_out_records_consent_cancels_check_ins_and_confirms_once(sms, start, session, text):
    checkin = start("E-1002")
    got = replies(sms(text, from_=NOAH))
    assert len(got) == 1
    assert "unsubscribed" in got[0] or "baja" in got[0]

    noah = contact(session, NOAH)
    assert noah.sms_consent is ConsentState.WITHDRAWN
    change = noah.consent_history[-1]
    assert (change.method.value, change.state.value) == ("keyword", "withdrawn")
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.CANCELLED
    queued = session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.contact_id == noah.id, Message.status == MessageStatus.QUEUED)
    )
    assert queued == 0
    # Nothing more is sent: an answer-looking text after STOP gets no reply.
    assert replies(sms("2", from_=NOAH)) == []


def test_stop_inside_a_symptom_sentence_is_an_answer(sms, start, session):
    start("E-1002")
    sms("2", from_=NOAH)
    got = replies(sms("it just won't stop, like an 8", from_=NOAH))
    assert got[0].startswith("Pain of 8 or more out of 10 is important.")
    assert got[1].startswith("In the last 24 hours, was there blood")
    assert contact(session, NOAH).sms_consent is ConsentState.GRANTED


def test_after_stop_no_check_in_goes_to_that_phone(sms, start, session):
    sms("STOP", from_=NOAH)
    # Noah's own phone is off limits; his mother, who may answer for him, gets it instead.
    checkin = start("E-1002")
    assert checkin.contact.phone == LAURA
    assert checkin.respondent_role.value == "proxy"
    noah = contact(session, NOAH)
    queued = session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.contact_id == noah.id, Message.status == MessageStatus.QUEUED)
    )
    assert queued == 0


def test_when_every_phone_opted_out_no_check_in_opens(sms, start, session):
    sms("STOP", from_=NOAH)
    sms("STOP", from_=LAURA)
    with pytest.raises(InvalidInput, match="has no phone that can answer ibd-symptoms"):
        start("E-1002")


@pytest.mark.parametrize("text", ["START", "unstop", "Yes"])
def test_opt_in_restores_consent(sms, demo, session, text):
    sms("STOP", from_=NOAH)
    got = replies(sms(text, from_=NOAH))
    assert got == ["You're signed up again for engage check-ins. Reply STOP at any time to end."]
    assert contact(session, NOAH).sms_consent is ConsentState.GRANTED
    methods = [c.state.value for c in contact(session, NOAH).consent_history]
    assert methods[-2:] == ["withdrawn", "granted"]


@pytest.mark.parametrize(
    ("opt_out_type", "expected"), [("STOP", "withdrawn"), ("START", "granted")]
)
def test_twilio_advanced_opt_out_type_is_honoured(sms, demo, session, opt_out_type, expected):
    if expected == "granted":
        sms("STOP", from_=NOAH)
    sms("arret", from_=NOAH, OptOutType=opt_out_type)
    assert contact(session, NOAH).sms_consent.value == expected


def test_opt_out_type_help(sms, demo):
    got = replies(sms("aide", from_=NOAH, OptOutType="HELP"))
    assert got[0].startswith("engage check-ins from Harbor Children's IBD Center.")


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (NOAH, "HELP", "engage check-ins from Harbor Children's IBD Center. Reply STOP to end, PAUSE 7 to pause a week, IDEA to share an idea. Questions? Call 617-555-0100."),
        (NOAH, "info", "engage check-ins from Harbor Children's IBD Center."),
        (NOAH, "AYUDA", "Mensajes de engage de Harbor Children's IBD Center."),
        (CARMEN, "help", "Mensajes de engage de Harbor Children's IBD Center."),
    ],
)  # fmt: skip
def test_help_says_who_is_texting_how_to_stop_and_the_center_phone(
    sms, demo, phone, text, expected
):
    [got] = replies(sms(text, from_=phone))
    assert got.startswith(expected)
    assert "STOP" in got


def test_a_spanish_speaker_typing_stop_is_answered_in_spanish(sms, demo):
    [got] = replies(sms("STOP", from_=CARMEN))
    assert got.startswith("Se dio de baja de los mensajes de engage")


def test_help_still_answers_after_opting_out(sms, demo):
    sms("STOP", from_=NOAH)
    assert replies(sms("HELP", from_=NOAH))[0].startswith("engage check-ins from")


def test_pause_stops_check_ins_for_that_many_days(sms, start, session):
    checkin = start("E-1002")
    [got] = replies(sms("PAUSE 7", from_=NOAH))
    assert got.startswith("Check-ins are paused until")
    noah = contact(session, NOAH)
    assert noah.paused_until - utcnow() > timedelta(days=6, hours=23)
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.CANCELLED
    with pytest.raises(InvalidInput, match="has paused check-ins until"):
        start("E-1002")
    assert replies(sms("resume", from_=NOAH))[0].startswith("Check-ins are on again")
    assert contact(session, NOAH).paused_until is None


@pytest.mark.parametrize("text", ["PAUSE 0", "pause 500"])
def test_pause_out_of_range_explains(sms, demo, session, text):
    assert replies(sms(text, from_=NOAH))[0].startswith("To pause, reply PAUSE and a number")
    assert contact(session, NOAH).paused_until is None


def test_idea_with_text_is_stored_and_acknowledged(sms, demo, session):
    [got] = replies(sms("IDEA: a reminder the night before clinic", from_=LAURA))
    idea = session.scalar(sa.select(Idea).order_by(Idea.id.desc()).limit(1))
    assert got == (
        f"Thank you! Your idea is saved as {idea.reference}. Who would it help? "
        "Reply in a few words, or SKIP."
    )
    assert idea.reference.startswith("I-") and idea.text == "a reminder the night before clinic"
    assert idea.caregiver_id == contact(session, LAURA).caregiver_id
    assert idea.center_id is not None


def test_idea_alone_then_the_idea(sms, start, session):
    start("E-1002")
    assert replies(sms("IDEA", from_=NOAH))[0].startswith("Please text your idea")
    got = replies(sms("Let teens pick the time of day for check-ins", from_=NOAH))
    assert got[0].startswith("Thank you! Your idea is saved as I-")
    assert (
        session.scalar(sa.select(Idea.text).order_by(Idea.id.desc()).limit(1))
        == "Let teens pick the time of day for check-ins"
    )
    for _ in range(3):  # who it helps, contact, credit
        got = replies(sms("SKIP", from_=NOAH))
    assert got[0].endswith("Back to your check-in:")
    # The check-in is still waiting for its answer.
    assert replies(sms("1", from_=NOAH))[0].startswith("In the last 24 hours, was there blood")


def test_an_unknown_number_gets_one_polite_reply_revealing_nothing(sms, demo, session):
    [first] = replies(sms("hi is this the clinic", from_=STRANGER))
    assert "does not recognise your phone" in first
    assert "Noah" not in first and "Harbor" not in first
    assert replies(sms("hello?", from_=STRANGER)) == []
    stored = session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.phone == STRANGER)
    )
    assert stored == 3  # two texts in, one reply out: nothing is lost


def test_nothing_open_reply(sms, demo):
    assert replies(sms("hello", from_=NOAH))[0].startswith(
        "Thanks for your message. There is no check-in open right now."
    )
