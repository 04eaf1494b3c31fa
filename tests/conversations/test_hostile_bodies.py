"""Whatever arrives, the answer is a sensible reply, never a 500."""

import pytest
import sqlalchemy as sa

from engage.messaging.models import Message
from tests.conversations.conftest import NOAH, STRANGER
from tests.twilio_helpers import replies

BODIES = [
    "",
    "   ",
    "x" * 1600,
    "😀🎉🙏",
    "\x00\x01\x07\x1b[31m\x7f",
    "'; DROP TABLE messages; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "]]></Message><Message>injected",
    "&amp; &lt; <b>bold</b>",
    "\u202e\u200b2\u200d",
    "２",
    "NaN",
    "-1",
    "9" * 400,
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_messy_bodies_in_a_check_in(sms, start, session, body):
    checkin = start("E-1002")
    response = sms(body, from_=NOAH)
    got = replies(response)
    assert got, "every reply in an open check-in gets an answer"
    assert all(0 < len(text) <= 1600 for text in got)
    kept = body.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    stored = session.scalar(
        sa.select(Message).where(Message.checkin_id == checkin.id, Message.body == kept)
    )
    assert stored is not None


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_messy_bodies_from_a_stranger(sms, demo, body):
    got = replies(sms(body, from_=STRANGER))
    assert len(got) <= 1


def test_twiml_escapes_what_it_echoes(sms, demo, session):
    response = sms("IDEA <b>bold</b> & ]]>", from_=NOAH)
    text = response.get_data(as_text=True)
    assert "<b>" not in text
    assert replies(response)[0].startswith("Thank you! Your idea is saved")


def test_an_invalid_from_number_is_stored_as_given(sms, session):
    got = replies(sms("hello", from_="not-a-number"))
    assert len(got) == 1
    assert session.scalar(sa.select(Message.phone).where(Message.body == "hello")) == "not-a-number"


def test_media_messages_are_stored_with_their_count(sms, demo, session):
    sms("", from_=NOAH, NumMedia="2", sid="SM-media")
    assert session.scalar(sa.select(Message.num_media).where(Message.twilio_sid == "SM-media")) == 2
