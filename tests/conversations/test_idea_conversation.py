"""IDEA by SMS through the signed webhook: the idea, then who it helps, contact and credit."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.codesign.models import Idea, IdeaChannel, IdeaCredit
from engage.conversations.models import (
    Answer,
    CheckIn,
    CheckInStatus,
    ContactConversation,
    PendingQuestion,
)
from engage.db import utcnow
from engage.messaging.models import Direction, Message
from engage.people.models import ConsentState, Contact
from tests.conversations.conftest import CARMEN, LAURA, NOAH, SOFIA
from tests.twilio_helpers import replies

WHO = "Who would it help? Reply in a few words, or SKIP."
CONTACT = "May someone from the network contact you about your idea? Reply YES or NO."
CONTACT_AGAIN = (
    "Sorry, I didn't get that. May someone from the network contact you about your idea? "
    "Reply YES or NO."
)
LAURA_CREDIT = "Should we credit the idea to Laura, or keep it anonymous? Reply NAME or ANON."
LAURA_CREDIT_AGAIN = (
    "Sorry, I didn't get that. Reply NAME to credit the idea to Laura, "
    "or ANON to keep it anonymous."
)
PAIN_QUESTION = "In the last 24 hours, how was your belly pain?"
BLOOD_QUESTION = "In the last 24 hours, was there blood"


def contact(session, phone):
    return session.scalar(sa.select(Contact).where(Contact.phone == phone))


def latest_idea(session):
    session.expire_all()
    return session.scalar(sa.select(Idea).order_by(Idea.id.desc()).limit(1))


def idea_count(session):
    """Ideas sent in this test: the demo's own backlog was sent days before."""
    recent = utcnow() - timedelta(days=1)
    return session.scalar(
        sa.select(sa.func.count()).select_from(Idea).where(Idea.created_at > recent)
    )


def pending_of(session, phone):
    session.expire_all()
    state = session.get(ContactConversation, contact(session, phone).id)
    return (state.pending, state.idea_id)


def start_idea(sms, session, phone=LAURA, text="IDEA: a reminder the night before clinic"):
    """Send the idea; the first follow-up question comes back with its reference."""
    [got] = replies(sms(text, from_=phone))
    return latest_idea(session), got


# -- the whole conversation -------------------------------------------------------------------
def test_the_whole_english_idea_conversation(sms, demo, session):
    idea, got = start_idea(sms, session)
    assert got == f"Thank you! Your idea is saved as {idea.reference}. {WHO}"
    assert idea.text == "a reminder the night before clinic"
    assert idea.channel is IdeaChannel.SMS
    assert pending_of(session, LAURA) == (PendingQuestion.IDEA_WHO, idea.id)

    assert replies(sms("Parents of newly diagnosed kids", from_=LAURA)) == [CONTACT]
    assert pending_of(session, LAURA) == (PendingQuestion.IDEA_CONTACT, idea.id)
    assert replies(sms("yes", from_=LAURA)) == [LAURA_CREDIT]
    assert pending_of(session, LAURA) == (PendingQuestion.IDEA_CREDIT, idea.id)
    assert replies(sms("NAME", from_=LAURA)) == [
        f"Thanks! We'll text you what becomes of {idea.reference}."
    ]

    idea = latest_idea(session)
    assert idea.who_it_helps == "Parents of newly diagnosed kids"
    assert idea.who_it_helps_redacted == "Parents of newly diagnosed kids"
    assert idea.may_contact is True
    assert idea.credit is IdeaCredit.FIRST_NAME
    assert pending_of(session, LAURA) == (PendingQuestion.NONE, None)
    assert idea_count(session) == 1
    # Afterwards a text is read as usual again.
    assert replies(sms("hello", from_=LAURA))[0].startswith("Thanks for your message.")


def test_the_whole_spanish_idea_conversation(sms, demo, session):
    idea, got = start_idea(sms, session, CARMEN, "IDEA: recordatorios para las medicinas")
    assert got == (
        f"¡Gracias! Su idea quedo guardada como {idea.reference}. ¿A quien ayudaria? "
        "Responda en pocas palabras, o SKIP."
    )
    assert replies(sms("a los padres nuevos", from_=CARMEN)) == [
        "¿Podria alguien de la red contactarle sobre su idea? Responda SI o NO."
    ]
    assert replies(sms("Sí, claro", from_=CARMEN)) == [
        "¿Damos credito por la idea a Carmen, o la dejamos anonima? Responda NOMBRE o ANON."
    ]
    assert replies(sms("anónimo", from_=CARMEN)) == [
        f"¡Gracias! Le avisaremos que pasa con {idea.reference}."
    ]
    idea = latest_idea(session)
    assert (idea.who_it_helps, idea.may_contact, idea.credit) == (
        "a los padres nuevos",
        True,
        IdeaCredit.ANONYMOUS,
    )


def test_spanish_re_asks(sms, demo, session):
    start_idea(sms, session, CARMEN, "IDEA: mas citas por video")
    sms("SKIP", from_=CARMEN)
    assert replies(sms("quizas", from_=CARMEN)) == [
        "Perdon, no entendi. ¿Podria alguien de la red contactarle sobre su idea? Responda SI o NO."
    ]
    sms("no", from_=CARMEN)
    assert replies(sms("depende", from_=CARMEN)) == [
        "Perdon, no entendi. Responda NOMBRE para dar credito a Carmen, "
        "o ANON para dejar la idea anonima."
    ]


def test_a_spanish_skip_word_answers_in_spanish(sms, demo, session):
    start_idea(sms, session, LAURA)
    assert replies(sms("omitir", from_=LAURA)) == [
        "¿Podria alguien de la red contactarle sobre su idea? Responda SI o NO."
    ]


@pytest.mark.parametrize("skip", ["SKIP", "skip", "pass", "Skip please"])
def test_skip_at_every_question(sms, demo, session, skip):
    idea, _ = start_idea(sms, session)
    assert replies(sms(skip, from_=LAURA)) == [CONTACT]
    assert replies(sms(skip, from_=LAURA)) == [LAURA_CREDIT]
    assert replies(sms(skip, from_=LAURA)) == [
        f"Thanks! We'll text you what becomes of {idea.reference}."
    ]
    idea = latest_idea(session)
    assert (idea.who_it_helps, idea.may_contact, idea.credit) == (None, None, IdeaCredit.ANONYMOUS)
    assert pending_of(session, LAURA) == (PendingQuestion.NONE, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", True), ("Yep!", True), ("Y", True), ("sí", True), ("si claro", True),
     ("of course", True), ("no", False), ("Nope", False), ("nah", False), ("N", False),
     ("no gracias", False)],
)  # fmt: skip
def test_yes_and_no_in_english_and_spanish(sms, demo, session, text, value):
    start_idea(sms, session)
    sms("SKIP", from_=LAURA)
    assert replies(sms(text, from_=LAURA)) == [LAURA_CREDIT]
    assert latest_idea(session).may_contact is value


@pytest.mark.parametrize(
    ("text", "credit"),
    [("NAME", IdeaCredit.FIRST_NAME), ("nombre", IdeaCredit.FIRST_NAME),
     ("1", IdeaCredit.FIRST_NAME), ("Laura", IdeaCredit.FIRST_NAME),
     ("first name", IdeaCredit.FIRST_NAME), ("my name please", IdeaCredit.FIRST_NAME),
     ("anon", IdeaCredit.ANONYMOUS), ("Anonymous", IdeaCredit.ANONYMOUS),
     ("anónimo", IdeaCredit.ANONYMOUS), ("anonimo", IdeaCredit.ANONYMOUS),
     ("2", IdeaCredit.ANONYMOUS), ("no", IdeaCredit.ANONYMOUS)],
)  # fmt: skip
def test_credit_by_name_or_anonymous(sms, demo, session, text, credit):
    idea, _ = start_idea(sms, session)
    sms("SKIP", from_=LAURA)
    sms("SKIP", from_=LAURA)
    [done] = replies(sms(text, from_=LAURA))
    assert done.endswith(f"what becomes of {idea.reference}.")
    assert latest_idea(session).credit is credit


def test_an_unreadable_answer_is_asked_once_more_then_left(sms, demo, session):
    idea, _ = start_idea(sms, session)
    sms("SKIP", from_=LAURA)
    assert replies(sms("maybe", from_=LAURA)) == [CONTACT_AGAIN]
    assert replies(sms("purple", from_=LAURA)) == [LAURA_CREDIT]  # moves on
    assert replies(sms("whatever you think", from_=LAURA)) == [LAURA_CREDIT_AGAIN]
    assert replies(sms("hmm", from_=LAURA)) == [
        f"Thanks! We'll text you what becomes of {idea.reference}."
    ]
    idea = latest_idea(session)
    assert (idea.may_contact, idea.credit) == (None, IdeaCredit.ANONYMOUS)


def test_a_good_answer_after_the_re_ask_counts(sms, demo, session):
    start_idea(sms, session)
    sms("SKIP", from_=LAURA)
    assert replies(sms("not sure", from_=LAURA)) == [CONTACT_AGAIN]
    assert replies(sms("yes please", from_=LAURA)) == [LAURA_CREDIT]
    assert replies(sms("dunno", from_=LAURA)) == [LAURA_CREDIT_AGAIN]
    assert replies(sms("Laura please", from_=LAURA))[0].startswith("Thanks!")
    idea = latest_idea(session)
    assert (idea.may_contact, idea.credit) == (True, IdeaCredit.FIRST_NAME)


# -- keywords in the middle -------------------------------------------------------------------
def test_stop_in_the_middle_withdraws_consent_and_ends_the_questions(sms, demo, session):
    start_idea(sms, session)
    sms("kids who are new to IBD", from_=LAURA)
    [got] = replies(sms("STOP", from_=LAURA))
    assert "unsubscribed" in got
    session.expire_all()
    assert contact(session, LAURA).sms_consent is ConsentState.WITHDRAWN
    assert pending_of(session, LAURA) == (PendingQuestion.NONE, None)
    assert replies(sms("no", from_=LAURA)) == []  # nothing more is sent
    idea = latest_idea(session)
    assert (idea.who_it_helps, idea.may_contact) == ("kids who are new to IBD", None)


@pytest.mark.parametrize(
    ("keyword", "reply_start"),
    [("HELP", "engage check-ins from"), ("PAUSE 7", "Check-ins are paused until"),
     ("RESUME", "Check-ins are on again")],
)  # fmt: skip
def test_other_keywords_are_keywords_and_end_the_questions(
    sms, demo, session, keyword, reply_start
):
    start_idea(sms, session)
    assert replies(sms(keyword, from_=LAURA))[0].startswith(reply_start)
    assert pending_of(session, LAURA) == (PendingQuestion.NONE, None)
    assert latest_idea(session).who_it_helps is None


def test_a_new_idea_in_the_middle_starts_over(sms, demo, session):
    first, _ = start_idea(sms, session)
    sms("teens", from_=LAURA)
    second, got = start_idea(sms, session, text="IDEA: school nurse training")
    assert second.id != first.id
    assert got == f"Thank you! Your idea is saved as {second.reference}. {WHO}"
    assert pending_of(session, LAURA) == (PendingQuestion.IDEA_WHO, second.id)
    sms("nurses", from_=LAURA)
    sms("no", from_=LAURA)
    sms("anon", from_=LAURA)
    session.expire_all()
    first, second = session.get(Idea, first.id), session.get(Idea, second.id)
    assert (first.who_it_helps, first.may_contact) == ("teens", None)
    assert (second.who_it_helps, second.may_contact) == ("nurses", False)


def test_idea_alone_then_the_text_then_the_questions(sms, demo, session):
    assert replies(sms("IDEA", from_=LAURA))[0].startswith("Please text your idea")
    [got] = replies(sms("Evening check-ins", from_=LAURA))
    idea = latest_idea(session)
    assert got == f"Thank you! Your idea is saved as {idea.reference}. {WHO}"
    assert idea.text == "Evening check-ins"


# -- with a check-in open ---------------------------------------------------------------------
def test_the_questions_come_first_then_the_check_in_goes_on(sms, start, session):
    checkin = start("E-1002")
    assert replies(sms("1", from_=NOAH))[0].startswith(BLOOD_QUESTION)  # the pain answer

    idea, _ = start_idea(sms, session, NOAH, "IDEA: let teens pick the time of check-ins")
    assert replies(sms("teens", from_=NOAH)) == [CONTACT]
    assert replies(sms("no", from_=NOAH)) == [
        "Should we credit the idea to Noah, or keep it anonymous? Reply NAME or ANON."
    ]
    done, question = replies(sms("2", from_=NOAH))  # "2" is ANON here, not an answer
    assert (
        done == f"Thanks! We'll text you what becomes of {idea.reference}. Back to your check-in:"
    )
    assert question.startswith(BLOOD_QUESTION)

    session.expire_all()
    answered = session.scalars(sa.select(Answer.item_id).where(Answer.checkin_id == checkin.id))
    assert list(answered) == ["pain"]  # nothing of the idea's answers reached the check-in
    idea = latest_idea(session)
    assert (idea.who_it_helps, idea.may_contact, idea.credit) == (
        "teens",
        False,
        IdeaCredit.ANONYMOUS,
    )

    # The next text answers the check-in again.
    assert replies(sms("no blood", from_=NOAH))[0].startswith("What were most of your poops like?")
    session.expire_all()
    assert (
        session.scalar(
            sa.select(Answer.value).where(
                Answer.checkin_id == checkin.id, Answer.item_id == "bleeding"
            )
        )
        == "none"
    )
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.IN_PROGRESS


def test_the_first_question_again_when_nothing_was_answered_yet(sms, start, session):
    start("E-1002")
    start_idea(sms, session, NOAH, "IDEA: shorter check-ins")
    for _ in range(3):
        got = replies(sms("skip", from_=NOAH))
    assert got[0].endswith("Back to your check-in:")
    assert got[1].startswith(PAIN_QUESTION)
    outbound = session.scalars(
        sa.select(Message.checkin_id)
        .where(Message.direction == Direction.OUTBOUND, Message.body == got[1])
        .order_by(Message.id.desc())
        .limit(1)
    )
    assert outbound.one() is not None  # the repeated question belongs to the check-in


def test_back_to_the_check_in_in_spanish(sms, start, session):
    start("E-1003")  # Sofia answers in Spanish
    idea, _ = start_idea(sms, session, SOFIA, "IDEA: mas tiempo en las citas")
    sms("SKIP", from_=SOFIA)
    sms("SKIP", from_=SOFIA)
    done, question = replies(sms("SKIP", from_=SOFIA))
    assert done == f"¡Gracias! Le avisaremos que pasa con {idea.reference}. Volvamos a su control:"
    assert question.startswith("En las ultimas 24 horas")


# -- what is stored ---------------------------------------------------------------------------
def test_names_of_the_family_are_redacted_for_the_network(sms, demo, session):
    idea, _ = start_idea(sms, session, LAURA, "IDEA: Mia would love a reminder before clinic")
    sms("kids like Mia and Noah", from_=LAURA)
    idea = latest_idea(session)
    assert idea.text == "Mia would love a reminder before clinic"
    assert "[name]" in idea.redacted_text and "Mia" not in idea.redacted_text
    assert idea.who_it_helps == "kids like Mia and Noah"
    assert idea.who_it_helps_redacted == "kids like [name] and [name]"


HOSTILE = [
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("'; DROP TABLE ideas; --", "'; DROP TABLE ideas; --"),
    ("😀🎉🙏", "😀🎉🙏"),
    ("]]></Message><Message>injected", "]]></Message><Message>injected"),
    ("\x00\x01\x07", None),
    ("", None),
    ("  line one\n\nline two  ", "line one line two"),
]


@pytest.mark.parametrize(("body", "stored"), HOSTILE, ids=range(len(HOSTILE)))
def test_messy_answers_are_stored_sensibly(sms, demo, session, body, stored):
    start_idea(sms, session)
    assert replies(sms(body, from_=LAURA)) == [CONTACT]
    assert latest_idea(session).who_it_helps == stored
    # The same bodies to the yes/no and credit questions are asked again, never a 500.
    assert replies(sms(body, from_=LAURA)) == [CONTACT_AGAIN]
    assert replies(sms(body, from_=LAURA)) == [LAURA_CREDIT]
    assert replies(sms(body, from_=LAURA)) == [LAURA_CREDIT_AGAIN]
    assert replies(sms(body, from_=LAURA))[0].startswith("Thanks!")


def test_a_1600_character_answer_is_cut_at_a_word(sms, demo, session):
    long = "parents of children who " + "really " * 300
    long = long[:1600]
    start_idea(sms, session)
    assert replies(sms(long, from_=LAURA)) == [CONTACT]
    who = latest_idea(session).who_it_helps
    assert len(who) <= 500 and who.endswith("really…")
    assert long.startswith(who[:-1])
    # The whole text stays in the stored message.
    assert session.scalar(sa.select(Message.id).where(Message.body == long)) is not None


def test_a_1600_character_word_is_cut_too(sms, demo, session):
    start_idea(sms, session)
    assert replies(sms("x" * 1600, from_=LAURA)) == [CONTACT]
    assert latest_idea(session).who_it_helps == "x" * 499 + "…"


# -- the closing idea question of ibd-wellbeing -----------------------------------------------
WELLBEING_CHOICES = ["1", "1", "1", "1", "1", "1"]


def test_the_closing_question_of_wellbeing_makes_an_idea(sms, start, session):
    checkin = start("E-1002", "ibd-wellbeing")
    for text in WELLBEING_CHOICES:
        sms(text, from_=NOAH)
    assert replies(sms("SKIP", from_=NOAH))[0].startswith("Anything we could do better?")
    got = replies(sms("A teen support group would help, ask Noah", from_=NOAH, sid="SM-improve"))

    idea = latest_idea(session)
    assert got == [
        "Thank you! Your care team will see your answers before your next visit.",
        f"Your idea is saved as {idea.reference}.",
    ]
    inbound = session.scalar(sa.select(Message).where(Message.twilio_sid == "SM-improve"))
    assert idea.channel is IdeaChannel.CHECKIN
    assert (idea.checkin_id, idea.message_id) == (checkin.id, inbound.id)
    assert idea.contact_id == contact(session, NOAH).id
    assert idea.text == "A teen support group would help, ask Noah"
    assert idea.redacted_text == "A teen support group would help, ask [name]"
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.COMPLETED
    answer = session.scalar(
        sa.select(Answer).where(Answer.checkin_id == checkin.id, Answer.item_id == "improve")
    )
    assert (answer.status.value, answer.value) == (
        "answered",
        "A teen support group would help, ask Noah",
    )
    # No follow-up questions after a check-in's idea: the next text is read as usual.
    assert pending_of(session, NOAH) == (PendingQuestion.NONE, None)


def test_the_closing_question_in_spanish(sms, start, session):
    start("E-1003", "ibd-wellbeing")
    for text in WELLBEING_CHOICES:
        sms(text, from_=SOFIA)
    sms("SKIP", from_=SOFIA)
    got = replies(sms("Mas citas por la tarde", from_=SOFIA))
    idea = latest_idea(session)
    assert got[-1] == f"Su idea quedo guardada como {idea.reference}."
    assert idea.channel is IdeaChannel.CHECKIN


@pytest.mark.parametrize("skip", ["SKIP", "saltar"])
def test_skipping_the_closing_question_makes_no_idea(sms, start, session, skip):
    checkin = start("E-1002", "ibd-wellbeing")
    for text in [*WELLBEING_CHOICES, "Nothing else, thanks"]:
        sms(text, from_=NOAH)
    got = replies(sms(skip, from_=NOAH))
    assert got == ["Thank you! Your care team will see your answers before your next visit."]
    assert idea_count(session) == 0
    session.expire_all()
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.COMPLETED
    assert (
        session.scalar(
            sa.select(Answer.status).where(
                Answer.checkin_id == checkin.id, Answer.item_id == "improve"
            )
        ).value
        == "skipped"
    )


@pytest.mark.parametrize(
    ("phone", "opening", "words"),
    [(LAURA, "Thank you! That idea is too long", "5,000 characters"),
     (CARMEN, "¡Gracias! Esa idea es demasiado larga", "5,000 caracteres")],
)  # fmt: skip
def test_an_idea_too_long_to_review_is_refused_kindly_and_the_next_text_is_the_idea(
    sms, demo, session, phone, opening, words
):
    before = idea_count(session)
    [reply] = replies(sms("IDEA " + "x" * 5000, from_=phone))
    assert reply.startswith(opening) and words in reply
    assert idea_count(session) == before
    assert pending_of(session, phone) == (PendingQuestion.IDEA_TEXT, None)
    [saved] = replies(sms("Evening clinic hours", from_=phone))
    assert latest_idea(session).text == "Evening clinic hours"
    assert latest_idea(session).reference in saved
