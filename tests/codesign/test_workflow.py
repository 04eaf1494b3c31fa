"""Every allowed and every refused status change, votes, comments, tags, merging."""

from __future__ import annotations

import pytest

from engage.codesign.models import IdeaChannel, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import (
    ALLOWED,
    add_comment,
    add_tag,
    assign_reviewer,
    change_status,
    remove_tag,
    vote,
    withdraw_vote,
)
from engage.errors import Conflict, InvalidInput
from engage.network.models import StaffRole

S = IdeaStatus
# The shortest way to bring a new idea to each status.
PATHS = {
    S.NEW: [],
    S.UNDER_REVIEW: [S.UNDER_REVIEW],
    S.ACCEPTED: [S.UNDER_REVIEW, S.ACCEPTED],
    S.TESTING: [S.UNDER_REVIEW, S.ACCEPTED, S.TESTING],
    S.ADOPTED: [S.UNDER_REVIEW, S.ACCEPTED, S.TESTING, S.ADOPTED],
    S.NOT_NOW: [S.NOT_NOW],
    S.DECLINED: [S.DECLINED],
    S.MERGED: [S.MERGED],
}
ALLOWED_PAIRS = [(a, b) for a in S for b in S if b in ALLOWED[a]]
REFUSED_PAIRS = [(a, b) for a in S for b in S if b not in ALLOWED[a]]


@pytest.fixture
def move(reviewer, send_idea, family):
    target = None

    def go(idea, to, **kw):
        nonlocal target
        if to is S.MERGED and "merge_into" not in kw:
            target = target or send_idea("Another idea to merge into")
            kw["merge_into"] = target
        if to is S.TESTING and "centers" not in kw:
            kw["centers"] = [family.center.code]
        return change_status(idea, to, rationale=f"moving to {to.value}", by=reviewer, **kw)

    return go


def test_the_table_names_every_status_and_final_ones_lead_nowhere():
    assert set(ALLOWED) == set(S)
    assert ALLOWED[S.ADOPTED] == ALLOWED[S.DECLINED] == ALLOWED[S.MERGED] == frozenset()
    assert set(PATHS) == set(S)


@pytest.mark.parametrize(("start", "to"), ALLOWED_PAIRS, ids=lambda s: s.value)
def test_allowed_change_is_made_and_kept_as_history(start, to, send_idea, move, reviewer):
    idea = send_idea()
    for step in PATHS[start]:
        move(idea, step)
    change = move(idea, to)
    assert idea.status is to
    assert [c.to_status for c in idea.history] == [*PATHS[start], to]
    assert change.from_status is start
    assert change.rationale == f"moving to {to.value}"
    assert change.changed_by_id == reviewer.id
    assert change.relay == "texted 1 phone"


@pytest.mark.parametrize(("start", "to"), REFUSED_PAIRS, ids=lambda s: s.value)
def test_refused_change_names_the_reason_and_changes_nothing(start, to, send_idea, move):
    idea = send_idea()
    for step in PATHS[start]:
        move(idea, step)
    with pytest.raises(Conflict) as refused:
        move(idea, to)
    assert refused.value.field == "status"
    assert idea.reference in refused.value.reason or "cannot follow" in refused.value.reason
    assert idea.status is start
    assert len(idea.history) == len(PATHS[start])


def test_rationale_is_required_and_short_enough_for_a_text(send_idea, reviewer):
    idea = send_idea()
    for rationale in ("", "   "):
        with pytest.raises(InvalidInput, match="rationale.*empty"):
            change_status(idea, S.UNDER_REVIEW, rationale=rationale, by=reviewer)
    with pytest.raises(InvalidInput, match="longer than 1000"):
        change_status(idea, S.UNDER_REVIEW, rationale="why " * 300, by=reviewer)
    assert idea.status is S.NEW and idea.history == []


def test_testing_names_its_centers(send_idea, reviewer, family, make_center):
    west = make_center(code="WEST")
    idea = send_idea()
    change_status(idea, S.UNDER_REVIEW, rationale="worth a look", by=reviewer)
    change_status(idea, S.ACCEPTED, rationale="families asked for it", by=reviewer)
    with pytest.raises(InvalidInput, match="centers.*empty"):
        change_status(idea, S.TESTING, rationale="PDSA", by=reviewer)
    with pytest.raises(InvalidInput, match="NOWHERE.*not center codes"):
        change_status(idea, S.TESTING, rationale="PDSA", by=reviewer, centers=["NOWHERE"])
    change = change_status(idea, S.TESTING, rationale="PDSA", by=reviewer, centers=["west", "EAST"])
    assert change.centers == ["EAST", "WEST"]
    assert [c.code for c in idea.testing_centers] == ["EAST", "WEST"]
    assert west in idea.testing_centers


def test_merge_carries_votes_followers_and_tags(
    send_idea, reviewer, make_staff, family, make_family
):
    other = make_family(family.center, child="Ava Brooks", parent="Dana Brooks")
    original = send_idea("Text us lab results")
    duplicate = send_idea("Send lab results by SMS", contact=other.parent_phone)
    both, only_duplicate = make_staff(), make_staff()
    vote(original, both)
    vote(duplicate, both)
    vote(duplicate, only_duplicate)
    add_tag(duplicate, "Lab results")
    add_tag(original, "portal")

    change = change_status(
        duplicate, S.MERGED, rationale="the same idea", by=reviewer, merge_into=original
    )

    assert duplicate.status is S.MERGED and duplicate.merged_into is original
    assert sorted(v.staff_user_id for v in original.votes) == sorted([both.id, only_duplicate.id])
    assert [f.contact_id for f in original.followers] == [other.parent_phone.id]
    assert sorted(t.tag for t in original.tags) == ["lab results", "portal"]
    assert f"{duplicate.reference} was merged into this idea" in original.comments[-1].body
    assert change.merged_into is original
    assert change.relay == "texted 1 phone"


def test_merge_refuses_itself_a_merged_target_and_a_cycle(send_idea, reviewer):
    a, b, c = send_idea("one"), send_idea("two"), send_idea("three")
    with pytest.raises(Conflict, match="cannot merge into itself"):
        change_status(a, S.MERGED, rationale="same", by=reviewer, merge_into=a)
    with pytest.raises(InvalidInput, match="merge_into.*needed"):
        change_status(a, S.MERGED, rationale="same", by=reviewer)
    change_status(a, S.MERGED, rationale="same", by=reviewer, merge_into=b)
    # b into a would close a loop: a already lives on in b.
    with pytest.raises(Conflict, match="cycle"):
        change_status(b, S.MERGED, rationale="same", by=reviewer, merge_into=a)
    with pytest.raises(Conflict, match=f"merged into {b.reference}: merge into {b.reference}"):
        change_status(c, S.MERGED, rationale="same", by=reviewer, merge_into=a)
    with pytest.raises(Conflict, match=f"was merged into {b.reference}"):
        change_status(a, S.UNDER_REVIEW, rationale="again", by=reviewer)
    assert b.status is S.NEW and c.status is S.NEW


def test_one_vote_per_person(send_idea, reviewer, make_staff, move):
    idea = send_idea()
    vote(idea, reviewer)
    with pytest.raises(Conflict, match="already has your vote"):
        vote(idea, reviewer)
    vote(idea, make_staff())
    assert len(idea.votes) == 2
    withdraw_vote(idea, reviewer)
    with pytest.raises(Conflict, match="no vote of yours"):
        withdraw_vote(idea, reviewer)
    assert len(idea.votes) == 1
    move(idea, S.MERGED)
    with pytest.raises(Conflict, match="vote there"):
        vote(idea, reviewer)


def test_comments_and_tags_are_checked(send_idea, reviewer):
    idea = send_idea()
    with pytest.raises(InvalidInput, match="empty"):
        add_comment(idea, reviewer, "  ")
    with pytest.raises(InvalidInput, match="longer than 2000"):
        add_comment(idea, reviewer, "x" * 2001)
    add_comment(idea, reviewer, "  Families at two centers asked for this.  ")
    assert idea.comments[0].body == "Families at two centers asked for this."
    assert add_tag(idea, "  Lab   Results ") == "lab results"
    add_tag(idea, "lab results")
    assert [t.tag for t in idea.tags] == ["lab results"]
    with pytest.raises(InvalidInput, match="letters, digits"):
        add_tag(idea, "<script>")
    with pytest.raises(InvalidInput, match="is not on"):
        remove_tag(idea, "portal")
    remove_tag(idea, "Lab Results")
    assert idea.tags == []


def test_only_reviewers_are_assigned(send_idea, make_staff, family):
    idea = send_idea()
    clinician = make_staff(StaffRole.CLINICIAN, centers=(family.center,))
    with pytest.raises(InvalidInput, match="does not review ideas"):
        assign_reviewer(idea, clinician)
    clinician.reviews_ideas = True
    assign_reviewer(idea, clinician)
    assert idea.assigned_reviewer is clinician
    assign_reviewer(idea, None)
    assert idea.assigned_reviewer is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 5000, "5,000 characters.*longer than 2,000"),
    ],
)
def test_an_empty_or_huge_idea_is_refused(text, message, family):
    with pytest.raises(InvalidInput, match=message):
        submit_idea(text, contact=family.parent_phone, channel=IdeaChannel.APP)


def test_an_unknown_category_is_refused(family):
    with pytest.raises(InvalidInput, match="category.*not one of"):
        submit_idea(
            "More parking", contact=family.parent_phone, channel=IdeaChannel.APP, category="parking"
        )
    idea = submit_idea(
        "More parking",
        contact=family.parent_phone,
        channel=IdeaChannel.APP,
        category="Clinic visits",
    )
    assert idea.category == "clinic_visits"
    assert idea.center_id == family.center.id
    assert idea.reference == f"I-{1000 + idea.id}"
