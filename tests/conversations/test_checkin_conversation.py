"""Whole check-ins by SMS through the signed webhook: messy replies, skip, back, completion."""

import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.conversations.models import Answer, CheckIn, CheckInScore, CheckInStatus
from engage.messaging.models import Direction, Message, MessageStatus
from tests.conversations.conftest import LAURA, NOAH, SOFIA
from tests.twilio_helpers import replies


def outbox(session, checkin):
    return list(
        session.scalars(
            sa.select(Message.body)
            .where(Message.checkin_id == checkin.id, Message.status == MessageStatus.QUEUED)
            .order_by(Message.id)
        )
    )


def answers_of(session, checkin):
    rows = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin.id)).all()
    return {a.item_id: (a.status.value, a.value) for a in rows}


def test_a_messy_english_check_in_from_start_to_finish(sms, start, session):
    checkin = start("E-1002")
    opening = outbox(session, checkin)
    assert opening[0].startswith("Time for your weekly check-in")
    assert opening[1].startswith("In the last 24 hours, how was your belly pain?")

    assert replies(sms(" 2 ", from_=NOAH))[0].startswith("How bad was the worst pain")
    assert replies(sms("about 7/10", from_=NOAH))[0].startswith(
        "In the last 24 hours, was there blood"
    )
    assert replies(sms("No blood!", from_=NOAH))[0].startswith("What were most of your poops like?")
    assert replies(sms("b", from_=NOAH))[0].startswith("How many times did you poop")
    assert replies(sms("5 or 6", from_=NOAH)) == ["Please send just one number, from 0 to 30."]
    assert replies(sms("six", from_=NOAH))[0].startswith("Did you have to get up at night")
    assert replies(sms("yep", from_=NOAH))[0].startswith("Did your belly keep you from")
    finished = replies(sms("Not at all", from_=NOAH))
    assert finished == [
        "Thank you! Your care team will see your answers before your next visit.",
        "Your symptoms this week: Mild.",
    ]

    session.expire_all()
    assert checkin.status is CheckInStatus.COMPLETED
    assert answers_of(session, checkin) == {
        "pain": ("answered", "ignorable"),
        "worst_pain": ("answered", 7),
        "bleeding": ("answered", "none"),
        "consistency": ("answered", "partly_formed"),
        "stools": ("answered", 6),
        "night": ("answered", True),
        "activity": ("answered", "none"),
    }
    score = session.scalar(sa.select(CheckInScore).where(CheckInScore.checkin_id == checkin.id))
    assert (score.score_id, score.value, score.band_id) == ("activity_index", 30, "mild")
    roles = {a.respondent_role.value for a in session.scalars(sa.select(Answer))}
    assert roles == {"self"}


def test_a_messy_spanish_check_in(sms, start, session):
    checkin = start("E-1003")
    assert outbox(session, checkin)[1].startswith("En las ultimas 24 horas, ¿como estuvo su dolor")
    steps = [
        ("3", "¿Que tan fuerte fue el peor dolor"),
        ("ocho", "En las ultimas 24 horas, ¿hubo sangre"),
        ("Poca, en casi todas", "¿Como fueron la mayoria de sus heces?"),
        ("Liquidas", "¿Cuantas veces hizo popo"),
        ("unas ７ veces", "¿Tuvo que levantarse en la noche"),
        ("sí", "¿Su barriga le impidio"),
    ]
    for text, expected in steps:
        got = replies(sms(text, from_=SOFIA))
        assert got[-1].startswith(expected), (text, got)
    finished = replies(sms("mucho", from_=SOFIA))
    # The safety message of the severe score comes first, then thanks and the band.
    assert finished[0].startswith("Sus respuestas indican un brote grave.")
    assert finished[1].startswith("¡Gracias!")
    assert finished[2] == "Sus sintomas esta semana: Grave."

    session.expire_all()
    flags = {a.red_flag_id for a in session.scalars(sa.select(Alert))}
    assert flags == {"severe_pain", "bleeding_with_frequent_stools", "severe_activity"}
    assert checkin.status is CheckInStatus.COMPLETED


def test_a_red_flag_sends_its_safety_message_at_once(sms, start, session):
    checkin = start("E-1002")
    sms("3", from_=NOAH)
    got = replies(sms("9", from_=NOAH))
    assert got[0].startswith("Pain of 8 or more out of 10 is important.")
    assert got[1].startswith("In the last 24 hours, was there blood")
    alert = session.scalar(sa.select(Alert).where(Alert.checkin_id == checkin.id))
    assert (alert.red_flag_id, alert.severity.value, alert.status.value) == (
        "severe_pain",
        "high",
        "open",
    )
    assert alert.safety_message == got[0]


def test_two_unreadable_replies_leave_the_item_unanswered(sms, start, session):
    checkin = start("E-1002")
    assert replies(sms("purple", from_=NOAH)) == [
        "Sorry, I didn't get that. Please reply with a number from 1 to 3."
    ]
    got = replies(sms("banana", from_=NOAH))
    assert got[0] == "OK, let's leave that one and go on."
    assert got[1].startswith("In the last 24 hours, was there blood")
    assert answers_of(session, checkin)["pain"] == ("unanswered", None)


def test_skip_and_back(sms, start, session):
    checkin = start("E-1002")
    assert replies(sms("SKIP", from_=NOAH))[0].startswith("In the last 24 hours, was there blood")
    assert replies(sms("1", from_=NOAH))[0].startswith("What were most of your poops like?")
    # BACK returns to the blood question and forgets its answer.
    assert replies(sms("back", from_=NOAH))[0].startswith("In the last 24 hours, was there blood")
    assert "bleeding" not in answers_of(session, checkin)
    assert replies(sms("2", from_=NOAH))[0].startswith("What were most of your poops like?")
    assert answers_of(session, checkin) == {
        "pain": ("skipped", None),
        "bleeding": ("answered", "little_some"),
    }


def test_a_parent_answers_as_proxy_and_the_answer_says_so(sms, start, session):
    checkin = start("E-1001")  # Mia, 6: her mother answers
    assert checkin.contact.phone == LAURA
    opening = outbox(session, checkin)
    assert opening[0] == "This check-in is about Mia."
    assert "your child's belly pain" in opening[2]
    sms("1", from_=LAURA)
    answer = session.scalar(sa.select(Answer).where(Answer.checkin_id == checkin.id))
    assert answer.respondent_role.value == "proxy"
    assert answer.contact_id == checkin.contact_id


def test_every_message_in_and_out_is_stored(sms, start, session):
    checkin = start("E-1002")
    sms("2", from_=NOAH, sid="SM-stored-1")
    inbound = session.scalar(sa.select(Message).where(Message.twilio_sid == "SM-stored-1"))
    assert (inbound.direction, inbound.body, inbound.checkin_id) == (
        Direction.INBOUND,
        "2",
        checkin.id,
    )
    [out] = session.scalars(sa.select(Message).where(Message.reply_to_id == inbound.id)).all()
    assert out.direction is Direction.OUTBOUND and out.status is MessageStatus.REPLIED
    assert out.body.startswith("How bad was the worst pain")
    assert out.contact_id == inbound.contact_id == checkin.contact_id


def test_the_same_message_sid_twice_changes_nothing_and_gets_the_same_reply(sms, start, session):
    checkin = start("E-1002")
    first = replies(sms("2", from_=NOAH, sid="SM-retry"))
    second = replies(sms("2", from_=NOAH, sid="SM-retry"))
    assert first == second
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.twilio_sid == "SM-retry")
        )
        == 1
    )
    session.expire_all()
    assert session.get(CheckIn, checkin.id).state["current"] == "worst_pain"
    assert len(answers_of(session, checkin)) == 1


def test_plain_answers_take_the_direct_path_on_postgresql(sms, start, session, monkeypatch):
    """On PostgreSQL a plain answer is one write statement; elsewhere the Core path stores it."""
    from engage.conversations import postgres

    calls = []
    real_write = postgres.write_answer

    def counting(*args, **kwargs):
        calls.append(kwargs["item_id"])
        return real_write(*args, **kwargs)

    monkeypatch.setattr(postgres, "write_answer", counting)
    checkin = start("E-1002")
    sms("2", from_=NOAH)
    sms("purple", from_=NOAH)  # a re-ask is plain too: the message and state are stored
    expected = ["pain", None] if session.get_bind().dialect.name == "postgresql" else []
    assert calls == expected
    assert answers_of(session, checkin) == {"pain": ("answered", "ignorable")}
    session.expire_all()
    assert session.get(CheckIn, checkin.id).state["tries"] == 1
    stored = session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.checkin_id == checkin.id)
    )
    assert stored == 2 + 2 + 2  # two queued opening messages, two texts in, two replies out
