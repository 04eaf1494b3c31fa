"""Late replies after a check-in closes, and one phone answering for two children."""

from datetime import timedelta

import sqlalchemy as sa

from engage.conversations.models import Answer, CheckIn, CheckInStatus
from engage.conversations.services import expire_stale_checkins
from engage.db import utcnow
from engage.messaging.models import Message
from tests.conversations.conftest import LAURA, NOAH
from tests.twilio_helpers import replies


def test_a_reply_after_the_window_is_stored_answered_and_attached_to_nothing(sms, start, session):
    checkin = start("E-1002", now=utcnow() - timedelta(hours=25))
    got = replies(sms("2", from_=NOAH, sid="SM-late"))
    assert got == ["This check-in has closed, so this reply was not added to it. Thank you!"]
    session.expire_all()
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.MISSED
    late = session.scalar(sa.select(Message).where(Message.twilio_sid == "SM-late"))
    assert late.checkin_id is None and late.body == "2"
    assert session.scalar(sa.select(Answer)) is None


def test_partly_answered_check_ins_expire_rather_than_go_missing(sms, start, session, app):
    checkin = start("E-1002")
    sms("2", from_=NOAH)
    later = utcnow() + timedelta(hours=25)
    assert expire_stale_checkins(later) == 1
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.EXPIRED


def test_the_expiry_window_is_configurable(start, app):
    app.config["CHECKIN_EXPIRY_HOURS"] = 2
    try:
        checkin = start("E-1002")
        assert checkin.expires_at - checkin.opened_at == timedelta(hours=2)
    finally:
        app.config["CHECKIN_EXPIRY_HOURS"] = 24


def test_a_second_child_waits_until_the_first_check_in_ends(sms, start, session):
    mia = start("E-1001")  # Mia, 6: Laura answers
    noah = start("E-1002", "ibd-wellbeing")  # Noah has his own phone: not Laura's
    assert noah.contact.phone == NOAH
    assert mia.contact.phone == LAURA


def test_one_phone_two_children_never_mixes_them_up(sms, start, session, patient):
    # Noah's own phone has opted out, so his mother answers for both children.
    sms("STOP", from_=NOAH)
    mia = start("E-1001")
    noah = start("E-1002")
    assert noah.contact.phone == LAURA and noah.state["opening_sent"] is False
    queued_for_noah = session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.checkin_id == noah.id)
    )
    assert queued_for_noah == 0  # his questions wait until Mia's check-in is done

    for text in ["1", "1", "1", "0", "no"]:
        sms(text, from_=LAURA)
    got = replies(sms("1", from_=LAURA))  # Mia's last item
    assert got[0].startswith("Thank you!")
    assert "Now a check-in about Noah." in got
    assert any("your child's belly pain" in text for text in got)

    sms("2", from_=LAURA)  # Noah's first answer
    session.expire_all()
    mia_answers = session.scalar(
        sa.select(sa.func.count()).select_from(Answer).where(Answer.checkin_id == mia.id)
    )
    noah_answers = session.scalars(sa.select(Answer).where(Answer.checkin_id == noah.id)).all()
    assert mia_answers == 6
    assert [(a.item_id, a.value, a.respondent_role.value) for a in noah_answers] == [
        ("pain", "ignorable", "proxy")
    ]
    assert session.get(CheckIn, mia.id).status is CheckInStatus.COMPLETED


def test_two_open_check_ins_on_one_phone_ask_which_child(sms, start, session):
    sms("STOP", from_=NOAH)
    mia = start("E-1001")
    noah = start("E-1002")
    # Both opening messages went out (e.g. sent by the app): now a text is ambiguous.
    noah.state = {**noah.state, "opening_sent": True}
    session.commit()

    assert replies(sms("2", from_=LAURA)) == [
        "Which child is this about? Reply 1 for Mia, 2 for Noah"
    ]
    assert session.scalar(sa.select(Answer)) is None  # nothing attributed yet
    got = replies(sms("Noah", from_=LAURA))
    assert got[0].startswith("How bad was your child's worst pain")
    [answer] = session.scalars(sa.select(Answer)).all()
    assert (answer.checkin_id, answer.item_id, answer.value) == (noah.id, "pain", "ignorable")
    # Later texts stay with the chosen child until that check-in ends.
    sms("3", from_=LAURA)
    assert {a.checkin_id for a in session.scalars(sa.select(Answer))} == {noah.id}
    assert mia.status is CheckInStatus.SENT


def test_an_unclear_child_choice_is_asked_again(sms, start, session):
    sms("STOP", from_=NOAH)
    start("E-1001")
    noah = start("E-1002")
    noah.state = {**noah.state, "opening_sent": True}
    session.commit()
    sms("2", from_=LAURA)
    assert replies(sms("the older one", from_=LAURA)) == [
        "Which child is this about? Reply 1 for Mia, 2 for Noah"
    ]
