"""The reviewers' backlog: who may read it, what they read, search, filters and sorting."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from engage.audit.models import AuditEvent
from engage.codesign.backlog import BacklogQuery, read_backlog, read_idea
from engage.codesign.models import IdeaStatus
from engage.codesign.workflow import add_tag, change_status, vote
from engage.db import db
from engage.errors import InvalidInput
from engage.network.models import StaffRole
from tests.codesign.conftest import NOON

S = IdeaStatus


def references(page):
    return [item.reference for item in page.items]


def test_clinicians_and_admins_do_not_review_unless_granted(send_idea, make_staff, family):
    send_idea()
    clinician = make_staff(StaffRole.CLINICIAN, centers=(family.center,))
    admin = make_staff(StaffRole.ADMIN)
    for user in (clinician, admin):
        with pytest.raises(Forbidden):
            read_backlog(user, BacklogQuery())
    clinician.reviews_ideas = True
    assert read_backlog(clinician, BacklogQuery()).total == 1


def test_only_reviewers_of_the_submitters_center_see_the_original_words(
    send_idea, make_staff, family, make_center
):
    idea = send_idea("Mateo would love lab results by text, call me at 617-555-0199")
    assert "Mateo" not in idea.redacted_text and "617-555-0199" not in idea.redacted_text
    elsewhere = make_staff(centers=(make_center(code="WEST"),))
    at_home = make_staff(centers=(family.center,))

    far = read_idea(elsewhere, idea.reference)
    near = read_idea(at_home, idea.reference)

    assert far.original_text is None and far.text == idea.redacted_text
    assert near.original_text == idea.text
    audited = db.session.scalars(
        sa.select(AuditEvent.staff_user_id).where(AuditEvent.action == "idea.original_viewed")
    ).all()
    assert audited == [at_home.id]
    # The list shows redacted words to everyone, and search cannot find a removed name.
    assert read_backlog(at_home, BacklogQuery()).items[0].text == idea.redacted_text
    assert read_backlog(at_home, BacklogQuery(q="Mateo")).total == 0
    assert read_backlog(at_home, BacklogQuery(q="lab results")).total == 1


def test_an_unknown_reference_is_not_found(reviewer):
    with pytest.raises(NotFound):
        read_idea(reviewer, "I-99999")
    with pytest.raises(NotFound):
        read_idea(reviewer, "not a reference")


def test_filters(send_idea, reviewer, family, make_family, make_center):
    west = make_family(make_center(code="WEST"), child="Ava Brooks", parent="Dana Brooks")
    old = send_idea(
        "Parking vouchers for infusion days",
        category="clinic_visits",
        now=NOON - timedelta(days=120),
    )
    recent = send_idea("A teen group chat", category="peer_support", now=NOON - timedelta(days=3))
    western = send_idea(
        "Spanish videos about colonoscopy prep",
        contact=west.parent_phone,
        now=NOON - timedelta(days=20),
    )
    add_tag(recent, "teens")
    change_status(old, S.UNDER_REVIEW, rationale="looking", by=reviewer, now=NOON)

    def found(**kw):
        return references(read_backlog(reviewer, BacklogQuery(**kw), now=NOON))

    assert found(statuses=(S.UNDER_REVIEW,)) == [old.reference]
    assert set(found(statuses=(S.NEW,))) == {recent.reference, western.reference}
    assert found(category="peer_support") == [recent.reference]
    assert found(center="west") == [western.reference]
    assert found(tag="teens") == [recent.reference]
    assert found(age="7d") == [recent.reference]
    assert found(age="30d") == [recent.reference, western.reference]
    assert found(age="over90d") == [old.reference]
    assert found(q="SPANISH prep") == [western.reference]
    assert found(q=western.reference) == [western.reference]
    assert found(q="teens") == [recent.reference]  # tags are searched too


def test_sorting_and_pages(send_idea, reviewer, make_staff):
    first = send_idea("first", now=NOON - timedelta(days=3))
    second = send_idea("second", now=NOON - timedelta(days=2))
    third = send_idea("third", now=NOON - timedelta(days=1))
    for voter in (make_staff(), make_staff()):
        vote(second, voter)
    vote(first, reviewer)
    change_status(first, S.DECLINED, rationale="no", by=reviewer)

    def order(**kw):
        return references(read_backlog(reviewer, BacklogQuery(**kw), now=NOON))

    assert order(sort="newest") == [third.reference, second.reference, first.reference]
    assert order(sort="votes") == [second.reference, first.reference, third.reference]
    # Oldest first, and only ideas still waiting for a decision.
    assert order(sort="oldest_undecided") == [second.reference, third.reference]
    page = read_backlog(reviewer, BacklogQuery(per_page=2, page=2), now=NOON)
    assert references(page) == [first.reference] and page.total == 3 and page.pages == 2
    assert read_backlog(reviewer, BacklogQuery(), now=NOON).items[1].votes == 2


def test_merged_ideas_leave_the_default_list(send_idea, reviewer):
    original, duplicate = send_idea("lab results by text"), send_idea("text lab results")
    change_status(duplicate, S.MERGED, rationale="same", by=reviewer, merge_into=original)
    assert references(read_backlog(reviewer, BacklogQuery())) == [original.reference]
    assert references(read_backlog(reviewer, BacklogQuery(statuses=(S.MERGED,)))) == [
        duplicate.reference
    ]
    detail = read_idea(reviewer, original.reference)
    assert detail.merged_from == [duplicate.reference] and detail.followers == 0
    assert read_idea(reviewer, duplicate.reference).merged_into == original.reference


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (BacklogQuery(sort="random"), "sort"),
        (BacklogQuery(age="1y"), "age"),
        (BacklogQuery(page=0), "page"),
        (BacklogQuery(per_page=1000), "per_page"),
        (BacklogQuery(category="parking"), "category"),
    ],
)
def test_bad_queries_are_refused_by_name(query, message, reviewer):
    with pytest.raises(InvalidInput) as refused:
        read_backlog(reviewer, query)
    assert refused.value.field == message


def test_similar_ideas_are_suggested_for_merging(send_idea, reviewer):
    idea = send_idea("Could the clinic text us lab results instead of waiting for the portal?")
    twin = send_idea("Please send lab results by text message, the portal is too slow")
    send_idea("More parking near the infusion center")
    detail = read_idea(reviewer, idea.reference)
    assert [s.reference for s in detail.similar][:1] == [twin.reference]
    assert all("parking" not in s.text for s in detail.similar)


def test_credit_and_contact_choices_show_as_the_family_chose(send_idea, reviewer, family):
    from engage.codesign.models import IdeaCredit

    anonymous = send_idea()
    credited = send_idea("Evening clinic hours", credit=IdeaCredit.FIRST_NAME, may_contact=True)
    assert read_idea(reviewer, anonymous.reference).submitter == "anonymous parent"
    detail = read_idea(reviewer, credited.reference)
    assert detail.submitter == "Lucia (parent)" and detail.may_contact is True
    from_child = send_idea(
        "Games in the waiting room", contact=family.child_phone, credit=IdeaCredit.FIRST_NAME
    )
    assert read_idea(reviewer, from_child.reference).submitter == "Mateo (patient)"
