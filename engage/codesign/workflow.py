"""The network's review of an idea: status changes with reasons, votes, comments, tags.

Every status change needs a short rationale, is kept as history, and is relayed to
the submitter (and to the senders of merged duplicates) by SMS through the outbox.
Services flush, never commit: the caller's unit of work holds the change and its texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from engage.codesign.models import (
    Idea,
    IdeaComment,
    IdeaFollower,
    IdeaStatus,
    IdeaStatusChange,
    IdeaTag,
    IdeaVote,
)
from engage.codesign.relay import relay_status_change
from engage.codesign.services import checked_category
from engage.db import db, utcnow
from engage.errors import Conflict, InvalidInput
from engage.network.models import Center, StaffUser

MAX_RATIONALE_LENGTH = 1000
MAX_COMMENT_LENGTH = 2000
MAX_TAG_LENGTH = 40
TAG = re.compile(r"^[a-z0-9][a-z0-9 _\-]*$")

S = IdeaStatus
ALLOWED: dict[IdeaStatus, frozenset[IdeaStatus]] = {
    S.NEW: frozenset({S.UNDER_REVIEW, S.NOT_NOW, S.DECLINED, S.MERGED}),
    S.UNDER_REVIEW: frozenset({S.ACCEPTED, S.NOT_NOW, S.DECLINED, S.MERGED}),
    S.ACCEPTED: frozenset({S.TESTING, S.NOT_NOW, S.DECLINED}),
    S.TESTING: frozenset({S.ADOPTED, S.NOT_NOW, S.DECLINED}),
    S.NOT_NOW: frozenset({S.UNDER_REVIEW, S.MERGED}),
    S.ADOPTED: frozenset(),
    S.DECLINED: frozenset(),
    S.MERGED: frozenset(),
}
DECIDED = frozenset({S.ADOPTED, S.NOT_NOW, S.DECLINED, S.MERGED})
LABELS: dict[IdeaStatus, str] = {
    S.NEW: "new",
    S.UNDER_REVIEW: "under review",
    S.ACCEPTED: "accepted for testing",
    S.TESTING: "testing",
    S.ADOPTED: "adopted",
    S.NOT_NOW: "not now",
    S.DECLINED: "declined",
    S.MERGED: "merged",
}


def allowed_next(status: IdeaStatus) -> list[IdeaStatus]:
    return [s for s in IdeaStatus if s in ALLOWED[status]]


def change_status(
    idea: Idea,
    to: IdeaStatus,
    *,
    rationale: str,
    by: StaffUser,
    centers: Iterable[str] = (),
    merge_into: Idea | None = None,
    now: datetime | None = None,
) -> IdeaStatusChange:
    """Move an idea on, or refuse with the reason; the submitter hears of it by SMS."""
    now = now or utcnow()
    reason = checked_rationale(rationale)
    if to not in ALLOWED[idea.status]:
        raise Conflict("status", to.value, refusal(idea, to))
    testing_centers = checked_centers(centers) if to is S.TESTING else []
    if to is S.MERGED:
        if merge_into is None:
            raise InvalidInput("merge_into", None, "is needed: name the idea to merge into")
        check_merge(idea, merge_into)
    elif merge_into is not None:
        raise InvalidInput("merge_into", merge_into.reference, "is only for merging")
    change = IdeaStatusChange(
        idea=idea,
        from_status=idea.status,
        to_status=to,
        rationale=reason,
        changed_by_id=by.id,
        merged_into=merge_into,
        centers=[c.code for c in testing_centers] or None,
        changed_at=now,
    )
    db.session.add(change)
    idea.status, idea.status_changed_at = to, now
    if to is S.TESTING:
        idea.testing_centers = testing_centers
    if merge_into is not None:
        carry_over(idea, merge_into, by, reason, now)
    db.session.flush()
    change.relay = relay_status_change(idea, change, now)
    return change


def refusal(idea: Idea, to: IdeaStatus) -> str:
    here = LABELS[idea.status]
    if idea.status is S.MERGED and idea.merged_into is not None:
        return f"is not possible: {idea.reference} was merged into {idea.merged_into.reference}"
    if not ALLOWED[idea.status]:
        return f"is not possible: {idea.reference} is {here}, a final decision"
    if to is idea.status:
        return f"is not a change: {idea.reference} is already {here}"
    nexts = ", ".join(LABELS[s] for s in allowed_next(idea.status))
    return f"cannot follow {here}; from {here} an idea can go to: {nexts}"


def checked_rationale(rationale: str | None) -> str:
    reason = " ".join((rationale or "").split())
    if not reason:
        raise InvalidInput("rationale", rationale or "", "is empty: say briefly why")
    if len(reason) > MAX_RATIONALE_LENGTH:
        raise InvalidInput(
            "rationale",
            f"{len(reason)} characters",
            f"is longer than {MAX_RATIONALE_LENGTH}: the family reads it by SMS",
        )
    return reason


def checked_centers(codes: Iterable[str]) -> list[Center]:
    wanted = sorted({code.strip().upper() for code in codes if code and code.strip()})
    if not wanted:
        raise InvalidInput("centers", [], "is empty: name the centers that test the idea")
    found = db.session.scalars(sa.select(Center).where(Center.code.in_(wanted))).all()
    missing = sorted(set(wanted) - {c.code.upper() for c in found})
    if missing:
        raise InvalidInput("centers", missing, "are not center codes")
    return sorted(found, key=lambda c: c.code)


def check_merge(idea: Idea, into: Idea) -> None:
    if into.id == idea.id:
        raise Conflict("merge_into", into.reference, "is this idea: it cannot merge into itself")
    seen = {idea.id}
    target: Idea | None = into
    while target is not None and target.status is S.MERGED:
        if target.merged_into_id in seen or target.id in seen:
            raise Conflict("merge_into", into.reference, "would make a cycle of merges")
        seen.add(target.id)
        target = target.merged_into
    if into.status is S.MERGED:
        final = target.reference if target is not None else "another idea"
        raise Conflict(
            "merge_into", into.reference, f"was itself merged into {final}: merge into {final}"
        )


def carry_over(idea: Idea, into: Idea, by: StaffUser, rationale: str, now: datetime) -> None:
    """Votes, followers and tags go to the idea merged into; a note says where they came from."""
    idea.merged_into = into
    voters = {vote.staff_user_id for vote in into.votes}
    for vote in list(idea.votes):
        if vote.staff_user_id not in voters:
            carried = IdeaVote(staff_user_id=vote.staff_user_id, created_at=vote.created_at)
            into.votes.append(carried)
            voters.add(vote.staff_user_id)
    following = {f.contact_id for f in into.followers} | {into.contact_id}
    newcomers = [idea.contact_id, *(f.contact_id for f in idea.followers)]
    for contact_id in newcomers:
        if contact_id is not None and contact_id not in following:
            into.followers.append(IdeaFollower(contact_id=contact_id, created_at=now))
            following.add(contact_id)
    tags = {tag.tag for tag in into.tags}
    for tag in idea.tags:
        if tag.tag not in tags:
            into.tags.append(IdeaTag(tag=tag.tag))
            tags.add(tag.tag)
    into.comments.append(
        IdeaComment(
            staff_user_id=by.id,
            body=f"{idea.reference} was merged into this idea: {rationale}",
            created_at=now,
        )
    )


def vote(idea: Idea, by: StaffUser, now: datetime | None = None) -> IdeaVote:
    if idea.status is S.MERGED and idea.merged_into is not None:
        raise Conflict(
            "idea", idea.reference, f"was merged into {idea.merged_into.reference}: vote there"
        )
    if any(v.staff_user_id == by.id for v in idea.votes):
        raise Conflict("vote", idea.reference, "already has your vote: one vote per person")
    new_vote = IdeaVote(staff_user_id=by.id, created_at=now or utcnow())
    idea.votes.append(new_vote)
    db.session.flush()
    return new_vote


def withdraw_vote(idea: Idea, by: StaffUser) -> None:
    mine = next((v for v in idea.votes if v.staff_user_id == by.id), None)
    if mine is None:
        raise Conflict("vote", idea.reference, "has no vote of yours to withdraw")
    idea.votes.remove(mine)
    db.session.flush()


def add_comment(idea: Idea, by: StaffUser, body: str, now: datetime | None = None) -> IdeaComment:
    text = (body or "").strip()
    if not text:
        raise InvalidInput("body", body or "", "is empty: write a comment")
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            "body", f"{len(text)} characters", f"is longer than {MAX_COMMENT_LENGTH}"
        )
    comment = IdeaComment(staff_user_id=by.id, body=text, created_at=now or utcnow())
    idea.comments.append(comment)
    db.session.flush()
    return comment


def normalise_tag(tag: str) -> str:
    value = " ".join((tag or "").strip().lower().split())
    if not value:
        raise InvalidInput("tag", tag or "", "is empty")
    if len(value) > MAX_TAG_LENGTH or not TAG.match(value):
        raise InvalidInput(
            "tag",
            tag,
            f"must be letters, digits, spaces or dashes, at most {MAX_TAG_LENGTH} characters",
        )
    return value


def add_tag(idea: Idea, tag: str) -> str:
    """Tag an idea; tagging it twice with the same tag changes nothing."""
    value = normalise_tag(tag)
    if value not in {t.tag for t in idea.tags}:
        idea.tags.append(IdeaTag(tag=value))
        db.session.flush()
    return value


def remove_tag(idea: Idea, tag: str) -> None:
    value = normalise_tag(tag)
    existing = next((t for t in idea.tags if t.tag == value), None)
    if existing is None:
        raise InvalidInput("tag", tag, f"is not on {idea.reference}")
    idea.tags.remove(existing)
    db.session.flush()


def assign_reviewer(idea: Idea, reviewer: StaffUser | None) -> None:
    if reviewer is not None and not reviewer.may_review_ideas:
        raise InvalidInput("reviewer", reviewer.email, "does not review ideas")
    idea.assigned_reviewer = reviewer
    db.session.flush()


def set_category(idea: Idea, category: str | None) -> None:
    idea.category = checked_category(category)
    db.session.flush()
