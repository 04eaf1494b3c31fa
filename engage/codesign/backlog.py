"""What a network reviewer reads: the backlog with search, filters and sorting, and one idea.

Reviewers read redacted text. The family's own words are shown only to reviewers who
are members of the submitter's center, and each such view is audited. Search looks
at the redacted text only, so no one can find an idea by a name that was removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from engage.audit.services import record_event
from engage.codesign.models import (
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaTag,
    IdeaVote,
)
from engage.codesign.services import checked_category, find_idea, reference_number
from engage.codesign.similarity import similar_ideas
from engage.codesign.workflow import DECIDED, LABELS, allowed_next
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.network.models import Center, StaffUser

SORTS = {
    "votes": "most votes",
    "newest": "newest",
    "oldest_undecided": "oldest waiting for a decision",
}
# How long ago an idea came in: "within a week", ..., or "more than 90 days".
AGES = {
    "7d": ("submitted in the last 7 days", timedelta(days=7), False),
    "30d": ("submitted in the last 30 days", timedelta(days=30), False),
    "90d": ("submitted in the last 90 days", timedelta(days=90), False),
    "over90d": ("waiting more than 90 days", timedelta(days=90), True),
}
MAX_PER_PAGE = 100


def require_reviewer(user: StaffUser | None) -> StaffUser:
    """Ideas are for network reviewers (and staff who also review): everyone else is refused."""
    if user is None or not user.may_review_ideas:
        raise Forbidden("Reviewing ideas is for network reviewers.")
    return user


def shows_original(user: StaffUser, idea: Idea) -> bool:
    return idea.center_id is not None and idea.center_id in {c.id for c in user.centers}


@dataclass(frozen=True)
class BacklogQuery:
    q: str | None = None
    statuses: tuple[IdeaStatus, ...] = ()
    category: str | None = None
    center: str | None = None  # a center code
    tag: str | None = None
    age: str | None = None  # a key of AGES
    sort: str = "newest"
    page: int = 1
    per_page: int = 25

    def checked(self) -> BacklogQuery:
        if self.sort not in SORTS:
            raise InvalidInput("sort", self.sort, f"is not one of {', '.join(SORTS)}")
        if self.age is not None and self.age not in AGES:
            raise InvalidInput("age", self.age, f"is not one of {', '.join(AGES)}")
        if self.page < 1:
            raise InvalidInput("page", self.page, "must be 1 or more")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput("per_page", self.per_page, f"must be from 1 to {MAX_PER_PAGE}")
        checked_category(self.category)
        return self


@dataclass(frozen=True)
class BacklogItem:
    reference: str
    status: IdeaStatus
    status_label: str
    text: str  # redacted
    who_it_helps: str | None  # redacted
    category: str | None
    center_code: str | None
    center_name: str | None
    submitter_role: str
    channel: str
    votes: int
    comments: int
    tags: list[str]
    assigned_reviewer: str | None
    created_at: datetime
    status_changed_at: datetime


@dataclass(frozen=True)
class BacklogPage:
    items: list[BacklogItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def read_backlog(
    viewer: StaffUser, query: BacklogQuery, now: datetime | None = None
) -> BacklogPage:
    require_reviewer(viewer)
    query = query.checked()
    now = now or utcnow()
    votes = (
        sa.select(sa.func.count(IdeaVote.id))
        .where(IdeaVote.idea_id == Idea.id)
        .correlate(Idea)
        .scalar_subquery()
    )
    comments = (
        sa.select(sa.func.count(IdeaComment.id))
        .where(IdeaComment.idea_id == Idea.id)
        .correlate(Idea)
        .scalar_subquery()
    )
    conditions: list[sa.ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(Idea.status.in_(query.statuses))
    else:
        conditions.append(Idea.status != IdeaStatus.MERGED)  # duplicates live on in their target
    if query.sort == "oldest_undecided":
        conditions.append(Idea.status.not_in(DECIDED))
    if query.category:
        conditions.append(Idea.category == checked_category(query.category))
    if query.center:
        conditions.append(
            Idea.center_id.in_(
                sa.select(Center.id).where(sa.func.upper(Center.code) == query.center.upper())
            )
        )
    if query.tag:
        conditions.append(
            Idea.id.in_(sa.select(IdeaTag.idea_id).where(IdeaTag.tag == query.tag.strip().lower()))
        )
    if query.age:
        _, span, older = AGES[query.age]
        cutoff = now - span
        conditions.append(Idea.created_at < cutoff if older else Idea.created_at >= cutoff)
    if query.q and query.q.strip():
        conditions.append(search_condition(query.q))

    total = db.session.scalar(sa.select(sa.func.count(Idea.id)).where(*conditions)) or 0
    order: list[sa.ColumnElement[Any]]
    if query.sort == "votes":
        order = [votes.desc(), Idea.created_at.desc(), Idea.id.desc()]
    elif query.sort == "oldest_undecided":
        order = [Idea.created_at.asc(), Idea.id.asc()]
    else:
        order = [Idea.created_at.desc(), Idea.id.desc()]
    rows = db.session.execute(
        sa.select(Idea, votes, comments, Center)
        .outerjoin(Center, Center.id == Idea.center_id)
        .where(*conditions)
        .order_by(*order)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    ideas = [row[0] for row in rows]
    tags = tags_of([idea.id for idea in ideas])
    reviewers = reviewer_names([i.assigned_reviewer_id for i in ideas if i.assigned_reviewer_id])
    items = [
        BacklogItem(
            reference=idea.reference or "",
            status=idea.status,
            status_label=LABELS[idea.status],
            text=idea.redacted_text,
            who_it_helps=idea.who_it_helps_redacted,
            category=idea.category,
            center_code=center.code if center else None,
            center_name=center.name if center else None,
            submitter_role=idea.submitter_role,
            channel=idea.channel.value,
            votes=vote_count,
            comments=comment_count,
            tags=tags.get(idea.id, []),
            assigned_reviewer=reviewers.get(idea.assigned_reviewer_id or 0),
            created_at=idea.created_at,
            status_changed_at=idea.status_changed_at,
        )
        for idea, vote_count, comment_count, center in rows
    ]
    return BacklogPage(items=items, total=total, page=query.page, per_page=query.per_page)


def search_condition(text: str) -> sa.ColumnElement[bool]:
    """Every word must appear in the redacted text, who it helps, or the tags; or a reference."""
    idea_id = reference_number(text)
    words = [w for w in text.lower().split() if w]
    per_word = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        per_word.append(
            sa.or_(
                sa.func.lower(Idea.redacted_text).like(pattern, escape="\\"),
                sa.func.lower(sa.func.coalesce(Idea.who_it_helps_redacted, "")).like(
                    pattern, escape="\\"
                ),
                Idea.id.in_(
                    sa.select(IdeaTag.idea_id).where(IdeaTag.tag.like(pattern, escape="\\"))
                ),
            )
        )
    matched = sa.and_(*per_word)
    return sa.or_(Idea.id == idea_id, matched) if idea_id is not None else matched


def tags_of(idea_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if idea_ids:
        rows = db.session.execute(
            sa.select(IdeaTag.idea_id, IdeaTag.tag)
            .where(IdeaTag.idea_id.in_(idea_ids))
            .order_by(IdeaTag.tag)
        )
        for idea_id, tag in rows:
            found.setdefault(idea_id, []).append(tag)
    return found


def reviewer_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(StaffUser.id, StaffUser.full_name).where(StaffUser.id.in_(ids))
    )
    return {user_id: name for user_id, name in rows}


# -- one idea -----------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    from_status: IdeaStatus
    to_status: IdeaStatus
    label: str
    rationale: str
    by: str | None
    at: datetime
    centers: list[str]
    merged_into: str | None
    relay: str | None


@dataclass(frozen=True)
class CommentEntry:
    by: str | None
    body: str
    at: datetime


@dataclass(frozen=True)
class SimilarIdea:
    reference: str
    text: str
    status_label: str
    score: float


@dataclass(frozen=True)
class IdeaDetail:
    idea: Idea
    reference: str
    status: IdeaStatus
    status_label: str
    text: str  # redacted
    who_it_helps: str | None  # redacted
    original_text: str | None  # only for reviewers of the submitter's center
    original_who_it_helps: str | None
    submitter: str  # "Maria (parent)" when credited, else "anonymous parent"
    submitter_role: str
    may_contact: bool | None
    center_code: str | None
    center_name: str | None
    category: str | None
    channel: str
    created_at: datetime
    votes: int
    voted: bool
    tags: list[str]
    assigned_reviewer: str | None
    testing_centers: list[str]
    merged_into: str | None
    merged_from: list[str]
    followers: int
    history: list[HistoryEntry]
    comments: list[CommentEntry]
    next_statuses: list[IdeaStatus]
    similar: list[SimilarIdea] = field(default_factory=list)


def reviewable_idea(viewer: StaffUser, reference: str) -> Idea:
    require_reviewer(viewer)
    idea = find_idea(reference)
    if idea is None:
        raise NotFound(f"No idea {reference}.")
    return idea


def read_idea(viewer: StaffUser, reference: str, *, with_similar: bool = True) -> IdeaDetail:
    """One idea for a reviewer; showing the family's own words is audited."""
    idea = reviewable_idea(viewer, reference)
    original = shows_original(viewer, idea)
    if original:
        record_event(viewer, "idea.original_viewed", patient_id=idea.patient_id, detail=reference)
    credited = idea.credit.value == "first_name" and idea.submitter_first_name
    role = idea.submitter_role
    merged_from = db.session.scalars(
        sa.select(Idea.reference).where(Idea.merged_into_id == idea.id).order_by(Idea.id)
    ).all()
    return IdeaDetail(
        idea=idea,
        reference=idea.reference or "",
        status=idea.status,
        status_label=LABELS[idea.status],
        text=idea.redacted_text,
        who_it_helps=idea.who_it_helps_redacted,
        original_text=idea.text if original else None,
        original_who_it_helps=idea.who_it_helps if original else None,
        submitter=f"{idea.submitter_first_name} ({role})" if credited else f"anonymous {role}",
        submitter_role=role,
        may_contact=idea.may_contact,
        center_code=idea.center.code if idea.center else None,
        center_name=idea.center.name if idea.center else None,
        category=idea.category,
        channel=idea.channel.value,
        created_at=idea.created_at,
        votes=len(idea.votes),
        voted=any(v.staff_user_id == viewer.id for v in idea.votes),
        tags=[t.tag for t in idea.tags],
        assigned_reviewer=idea.assigned_reviewer.full_name if idea.assigned_reviewer else None,
        testing_centers=[c.code for c in idea.testing_centers],
        merged_into=idea.merged_into.reference if idea.merged_into else None,
        merged_from=[r for r in merged_from if r],
        followers=len(idea.followers),
        history=[
            HistoryEntry(
                from_status=change.from_status,
                to_status=change.to_status,
                label=LABELS[change.to_status],
                rationale=change.rationale,
                by=change.changed_by.full_name if change.changed_by else None,
                at=change.changed_at,
                centers=list(change.centers or []),
                merged_into=change.merged_into.reference if change.merged_into else None,
                relay=change.relay,
            )
            for change in idea.history
        ],
        comments=[
            CommentEntry(
                by=c.staff_user.full_name if c.staff_user else None, body=c.body, at=c.created_at
            )
            for c in idea.comments
        ],
        next_statuses=allowed_next(idea.status),
        similar=suggest_similar(idea) if with_similar else [],
    )


def suggest_similar(idea: Idea, limit: int = 5) -> list[SimilarIdea]:
    """Ideas that may be the same one, to merge: only ideas that are not merged already."""
    rows = db.session.execute(
        sa.select(Idea.id, Idea.reference, Idea.redacted_text, Idea.status).where(
            Idea.id != idea.id, Idea.status != IdeaStatus.MERGED
        )
    ).all()
    by_id = {row[0]: row for row in rows}
    found = similar_ideas(idea.redacted_text, [(row[0], row[2]) for row in rows], limit=limit)
    return [
        SimilarIdea(
            reference=by_id[s.idea_id][1] or "",
            text=by_id[s.idea_id][2],
            status_label=LABELS[by_id[s.idea_id][3]],
            score=round(s.score, 1),
        )
        for s in found
    ]


def idea_reviewers() -> list[StaffUser]:
    """Staff who may be assigned an idea."""
    users = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.is_active).order_by(StaffUser.full_name)
    ).all()
    return [user for user in users if user.may_review_ideas]
