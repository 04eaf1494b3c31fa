"""The co-design story on the demo: a parent texts an idea, a reviewer finds it, merges a
duplicate, moves it through review, and the parent hears each decision in the local outbox."""

from __future__ import annotations

import sqlalchemy as sa

from engage.codesign.backlog import BacklogQuery, read_backlog, read_idea
from engage.codesign.models import IdeaStatus
from engage.codesign.services import find_idea
from engage.codesign.workflow import change_status
from engage.db import db
from engage.demo.seed import seed_demo
from engage.messaging.models import Message, MessageStatus
from engage.network.services import find_staff_user
from tests.twilio_helpers import replies

LAURA = "+16175550101"  # Mia's and Noah's mother
S = IdeaStatus


def news_for(phone):
    return db.session.scalars(
        sa.select(Message.body)
        .where(Message.phone == phone, Message.purpose == "idea_update")
        .order_by(Message.id)
    ).all()


def test_a_parents_idea_goes_through_review_and_each_decision_reaches_her(session, sms):
    seed_demo()
    answer = replies(
        sms("IDEA Text the lab results instead of the portal, Mia waits days", from_=LAURA)
    )
    reference = answer[0].split("saved as ")[1].split(".")[0]
    sms("Kids waiting on lab results", from_=LAURA)
    sms("yes", from_=LAURA)
    assert replies(sms("NAME", from_=LAURA)) == [
        f"Thanks! We'll text you what becomes of {reference}."
    ]

    reviewer = find_staff_user("jordan.lee@network.example.org")
    found = read_backlog(reviewer, BacklogQuery(q="lab results", sort="newest"))
    assert found.items[0].reference == reference
    assert "Mia" not in found.items[0].text  # the network reads no child's name
    detail = read_idea(reviewer, reference)
    assert detail.submitter == "Laura (parent)" and detail.may_contact is True
    # The demo backlog already holds the same idea from the same family: merge into it.
    [twin] = [s for s in detail.similar if "portal" in s.text][:1]
    new_idea, older = find_idea(reference), find_idea(twin.reference)
    change_status(
        new_idea,
        S.MERGED,
        rationale="You sent this before; we joined them.",
        by=reviewer,
        merge_into=older,
    )
    change_status(older, S.ACCEPTED, rationale="Two centers want to try it.", by=reviewer)
    sms("PAUSE 7", from_=LAURA)  # a pause holds the news, it does not drop it
    change_status(older, S.TESTING, rationale="Starting in January.", by=reviewer, centers=["EAST"])

    news = news_for(LAURA)
    assert news == [
        f"Your idea {reference} is like idea {twin.reference} already in the list, so they are now "
        f"one. We'll text you what becomes of {twin.reference}. Why: You sent this before; we joined them.",
        f"Good news: your idea {twin.reference} was chosen to be tried out. Why: Two centers want to try it.",
        f"Your idea {twin.reference} is now being tried at 1 care center. Why: Starting in January.",
    ]
    statuses = db.session.scalars(
        sa.select(Message.status).where(Message.purpose == "idea_update", Message.phone == LAURA)
    ).all()
    assert set(statuses) == {MessageStatus.QUEUED}
