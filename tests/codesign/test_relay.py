"""Each decision reaches the family by SMS through the outbox, in their language, when allowed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engage.codesign.models import IdeaChannel, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import change_status
from engage.db import db
from engage.messaging.models import Message, MessageStatus
from engage.messaging.sender import claim_batch
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentMethod, ConsentState, Language
from engage.people.services import record_consent
from tests.codesign.conftest import NOON

S = IdeaStatus


def outbox(contact=None):
    query = sa.select(Message).where(Message.purpose == "idea_update").order_by(Message.id)
    if contact is not None:
        query = query.where(Message.contact_id == contact.id)
    return db.session.scalars(query).all()


def test_a_decision_is_texted_with_its_reason(send_idea, reviewer, family):
    idea = send_idea()
    change_status(idea, S.UNDER_REVIEW, rationale="Three families asked for this.", by=reviewer)
    [message] = outbox()
    assert message.status is MessageStatus.QUEUED
    assert message.phone == family.parent_phone.phone
    assert message.body == (
        f"Update on your idea {idea.reference}: the network team is now reviewing it. "
        "Why: Three families asked for this."
    )
    assert idea.history[-1].relay == "texted 1 phone"


def test_every_status_has_words_in_both_languages(send_idea, reviewer, family, make_family):
    spanish = make_family(
        family.center, child="Sofia Reyes", parent="Carmen Reyes", language=Language.SPANISH
    )
    english_idea = send_idea()
    spanish_idea = send_idea("Recordatorios en español", contact=spanish.parent_phone)
    for idea in (english_idea, spanish_idea):
        for status, centers in (
            (S.UNDER_REVIEW, ()),
            (S.ACCEPTED, ()),
            (S.TESTING, ("EAST",)),
            (S.ADOPTED, ()),
        ):
            change_status(idea, status, rationale="motivo", by=reviewer, centers=centers)
    english = [m.body for m in outbox(family.parent_phone)]
    spanish_texts = [m.body for m in outbox(spanish.parent_phone)]
    assert (
        english[2]
        == f"Your idea {english_idea.reference} is now being tried at 1 care center. Why: motivo"
    )
    assert (
        spanish_texts[2]
        == f"Su idea {spanish_idea.reference} se esta probando en 1 centro de cuidado. Por que: motivo"
    )
    assert "adopting" in english[3] and "adoptar" in spanish_texts[3]
    assert all(len(body) <= 320 for body in english + spanish_texts)


def test_an_opted_out_submitter_receives_nothing(send_idea, reviewer, family):
    idea = send_idea()
    record_consent(
        family.parent_phone,
        ConsentState.WITHDRAWN,
        method=ConsentMethod.KEYWORD,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
    )
    change = change_status(idea, S.DECLINED, rationale="Not possible this year.", by=reviewer)
    assert outbox() == []
    assert change.relay == "not texted: opted out"
    assert idea.status is S.DECLINED  # the decision stands; only the text is held back


def test_an_unusable_number_and_an_app_idea_without_phone(send_idea, reviewer, family):
    family.parent_phone.unusable_since = NOON
    idea = send_idea()
    assert change_status(idea, S.NOT_NOW, rationale="later", by=reviewer).relay == (
        "not texted: number unusable"
    )
    phoneless = submit_idea("An idea from a kiosk", contact=None, channel=IdeaChannel.APP)
    change = change_status(phoneless, S.UNDER_REVIEW, rationale="looking", by=reviewer)
    assert change.relay == "not texted: no phone to text (submitted without one)"
    assert outbox() == []


def test_a_paused_phone_gets_the_news_when_the_pause_ends(send_idea, reviewer, family):
    family.parent_phone.paused_until = NOON + timedelta(days=7)
    idea = send_idea()
    change_status(idea, S.UNDER_REVIEW, rationale="looking", by=reviewer, now=NOON)
    [message] = outbox()
    assert message.next_attempt_at == NOON + timedelta(days=7)
    # The sender, running during the pause, neither sends nor cancels it.
    batch = claim_batch(NOON + timedelta(days=1), limit=10, cap=10, claimer="test")
    assert batch.claimed == [] and batch.cancelled == 0
    db.session.refresh(message)
    assert message.status is MessageStatus.QUEUED
    # ... and after the pause, at a daytime hour, it goes.
    batch = claim_batch(NOON + timedelta(days=7, minutes=1), limit=10, cap=10, claimer="test")
    assert [c.id for c in batch.claimed] == [message.id]


def test_the_sender_holds_news_through_the_night(send_idea, reviewer, family):
    idea = send_idea()
    night = NOON + timedelta(hours=10)  # 03:00 in Boston
    change_status(idea, S.UNDER_REVIEW, rationale="looking", by=reviewer, now=night)
    batch = claim_batch(night, limit=10, cap=10, claimer="test")
    assert batch.claimed == [] and batch.deferred == 1
    [message] = outbox()
    assert message.next_attempt_at.astimezone(family.center.zone).hour == 8


def test_senders_of_merged_duplicates_hear_later_decisions(
    send_idea, reviewer, family, make_family
):
    other = make_family(family.center, child="Ava Brooks", parent="Dana Brooks")
    original = send_idea("Text us lab results")
    duplicate = send_idea("Lab results by SMS please", contact=other.parent_phone)
    change_status(duplicate, S.MERGED, rationale="Same idea.", by=reviewer, merge_into=original)
    [merged] = outbox(other.parent_phone)
    assert merged.body.startswith(
        f"Your idea {duplicate.reference} is like idea {original.reference}"
    )
    change = change_status(original, S.UNDER_REVIEW, rationale="looking", by=reviewer)
    assert change.relay == "texted 2 phones"
    assert len(outbox(family.parent_phone)) == 1 and len(outbox(other.parent_phone)) == 2
