"""``/api/v1/ideas/…``: the co-design backlog for network reviewers, as JSON.

The same rules as the domain: reviewers only (network reviewers, and clinicians or
administrators granted ``reviews_ideas``), redacted words for everyone, the family's own
words only for reviewers of the submitter's center, and every such view audited.

Refusals are problem details (engage/api/problems.py): a body or query that fails its
schema, or input the domain refuses, is 422 ``invalid-input`` with ``errors`` by field; a
change the idea's current state refuses (an illegal transition, a second vote) is 409
``conflict``, also with ``errors``; then 401 ``unauthorized``, 403 ``forbidden``, 404
``not-found``. Lists (the backlog, the lead users) come a page at a time.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from engage.api import api_staff, problems
from engage.api.pagination import PageQuerySchema, offset_of, page_of, page_schema
from engage.codesign.backlog import (
    AGES,
    SORTS,
    BacklogQuery,
    CommentEntry,
    read_backlog,
    read_idea,
    require_reviewer,
    reviewable_idea,
)
from engage.codesign.leads import rank_lead_users_page
from engage.codesign.models import IDEA_CATEGORIES, IdeaStatus
from engage.codesign.services import find_idea
from engage.codesign.workflow import (
    MAX_COMMENT_LENGTH,
    MAX_RATIONALE_LENGTH,
    MAX_TAG_LENGTH,
    add_comment,
    add_tag,
    assign_reviewer,
    change_status,
    remove_tag,
    set_category,
    vote,
    withdraw_vote,
)
from engage.db import unit_of_work
from engage.errors import InvalidInput
from engage.fields import Choice
from engage.network.models import StaffUser
from engage.network.services import find_staff_user

blp = Blueprint(
    "ideas_api",
    __name__,
    url_prefix="/api/v1/ideas",
    description="The co-design backlog: ideas from patients and parents, and their review.",
)

CATEGORIES_TEXT = ", ".join(IDEA_CATEGORIES)
ORIGINAL_WORDS = (
    "the family's own words: null unless the caller is a member of the submitter's center; "
    "each view is audited"
)


# -- schemas ----------------------------------------------------------------------------------
class BodySchema(Schema):
    """A request body: a field the API does not know is refused, not ignored."""

    class Meta:
        unknown = RAISE


class BacklogQuerySchema(PageQuerySchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "words of the redacted text, who it helps or a tag; or I-1042"},
    )
    status = fields.List(
        Choice(IdeaStatus),
        load_default=list,
        metadata={"description": "repeat for several; default: every status but merged"},
    )
    category = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": f"one of {CATEGORIES_TEXT}"},
    )
    center = fields.String(
        load_default=None, validate=validate.Length(max=16), metadata={"description": "a code"}
    )
    tag = fields.String(load_default=None, validate=validate.Length(max=MAX_TAG_LENGTH))
    age = fields.String(load_default=None, validate=validate.OneOf(list(AGES)))
    sort = fields.String(load_default="newest", validate=validate.OneOf(list(SORTS)))


class BacklogItemSchema(Schema):
    reference = fields.String()
    status = Choice(IdeaStatus)
    status_label = fields.String()
    text = fields.String(metadata={"description": "redacted"})
    who_it_helps = fields.String(allow_none=True, metadata={"description": "redacted"})
    category = fields.String(allow_none=True)
    center_code = fields.String(allow_none=True)
    center_name = fields.String(allow_none=True)
    submitter_role = fields.String(metadata={"description": "patient or parent"})
    channel = fields.String(metadata={"description": "sms, app or checkin"})
    votes = fields.Integer()
    comments = fields.Integer()
    tags = fields.List(fields.String())
    assigned_reviewer = fields.String(allow_none=True)
    created_at = fields.DateTime()
    status_changed_at = fields.DateTime()


BacklogPageSchema = page_schema(BacklogItemSchema, "BacklogPage")


class HistoryEntrySchema(Schema):
    from_status = Choice(IdeaStatus)
    to_status = Choice(IdeaStatus)
    label = fields.String()
    rationale = fields.String()
    by = fields.String(allow_none=True)
    at = fields.DateTime()
    centers = fields.List(fields.String())
    merged_into = fields.String(allow_none=True)
    relay = fields.String(allow_none=True, metadata={"description": "what was texted, or why not"})


class CommentEntrySchema(Schema):
    by = fields.String(allow_none=True)
    body = fields.String()
    at = fields.DateTime()


class SimilarIdeaSchema(Schema):
    reference = fields.String()
    text = fields.String()
    status_label = fields.String()
    score = fields.Float()


class IdeaDetailSchema(Schema):
    reference = fields.String()
    status = Choice(IdeaStatus)
    status_label = fields.String()
    text = fields.String(metadata={"description": "redacted"})
    who_it_helps = fields.String(allow_none=True, metadata={"description": "redacted"})
    original_text = fields.String(allow_none=True, metadata={"description": ORIGINAL_WORDS})
    original_who_it_helps = fields.String(allow_none=True)
    submitter = fields.String(metadata={"description": '"Maria (parent)" or "anonymous parent"'})
    submitter_role = fields.String()
    may_contact = fields.Boolean(allow_none=True)
    center_code = fields.String(allow_none=True)
    center_name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    channel = fields.String()
    created_at = fields.DateTime()
    votes = fields.Integer()
    voted = fields.Boolean(metadata={"description": "whether the caller voted for it"})
    tags = fields.List(fields.String())
    assigned_reviewer = fields.String(allow_none=True)
    testing_centers = fields.List(fields.String())
    merged_into = fields.String(allow_none=True)
    merged_from = fields.List(fields.String())
    followers = fields.Integer()
    history = fields.List(fields.Nested(HistoryEntrySchema))
    comments = fields.List(fields.Nested(CommentEntrySchema))
    next_statuses = fields.List(Choice(IdeaStatus))
    similar = fields.List(fields.Nested(SimilarIdeaSchema))


class StatusChangeSchema(BodySchema):
    status = Choice(IdeaStatus, required=True)
    rationale = fields.String(
        required=True,
        validate=validate.Length(max=MAX_RATIONALE_LENGTH),
        metadata={"description": "why, in a sentence: the family reads it by SMS"},
    )
    centers = fields.List(
        fields.String(validate=validate.Length(max=16)),
        load_default=list,
        metadata={"description": "center codes, for testing"},
    )
    merge_into = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=16),
        metadata={"description": "a reference such as I-1042, for merged"},
    )


class VotesSchema(Schema):
    reference = fields.String()
    votes = fields.Integer()
    voted = fields.Boolean()


class NewCommentSchema(BodySchema):
    body = fields.String(required=True, validate=validate.Length(max=MAX_COMMENT_LENGTH))


class NewTagSchema(BodySchema):
    tag = fields.String(required=True, validate=validate.Length(max=MAX_TAG_LENGTH))


class TagsSchema(Schema):
    reference = fields.String()
    tags = fields.List(fields.String())


class AssigneeSchema(BodySchema):
    email = fields.Email(
        required=True,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "a staff user who reviews ideas; null to unassign"},
    )


class AssignedSchema(Schema):
    reference = fields.String()
    email = fields.String(allow_none=True)
    assigned_reviewer = fields.String(allow_none=True)


class CategorySchema(BodySchema):
    category = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": f"one of {CATEGORIES_TEXT}; null to clear"},
    )


class CategorizedSchema(Schema):
    reference = fields.String()
    category = fields.String(allow_none=True)


class LeadUserSchema(Schema):
    rank = fields.Integer()
    first_name = fields.String()
    role = fields.String(metadata={"description": "patient or parent"})
    center = fields.String(allow_none=True)
    ideas_submitted = fields.Integer()
    ideas_adopted = fields.Integer()
    checkins_completed = fields.Integer()
    votes_received = fields.Integer()
    may_contact = fields.Boolean()
    score = fields.Integer()


LeadUserPageSchema = page_schema(LeadUserSchema, "LeadUserPage")


# -- the caller and refusals ------------------------------------------------------------------
@blp.before_request
def authenticate() -> None:
    """Every route: a staff user's token or session (401) who reviews ideas (403).

    Before the arguments are read, so a stranger learns nothing from a 422.
    """
    require_reviewer(api_staff())


def caller() -> StaffUser:
    return require_reviewer(g.get("staff"))


def refusals(*statuses: int) -> Any:
    """Document the problems a route answers besides 401, 404 and 422 (documented for all)."""
    return problems(blp, *statuses)


# -- routes -----------------------------------------------------------------------------------
# /lead-users first: a static path, never read as an idea's reference.
@blp.route("/lead-users")
class LeadUsers(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, LeadUserPageSchema)
    @refusals(401, 403, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """The most engaged patients and parents: first name, role and center only.

        A page at a time, best first; ``rank`` counts from the top of the whole list.
        """
        caller()
        page, per_page = query["page"], query["per_page"]
        with unit_of_work():
            leads, total = rank_lead_users_page(per_page, offset_of(page, per_page))
        return page_of(leads, total, page, per_page)


@blp.route("")
class Backlog(MethodView):
    @blp.arguments(BacklogQuerySchema, location="query")
    @blp.response(200, BacklogPageSchema)
    @refusals(401, 403, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """The backlog, searched, filtered, sorted and a page at a time; redacted words only."""
        user = caller()
        wanted = BacklogQuery(
            q=query["q"],
            statuses=tuple(query["status"]),
            category=query["category"],
            center=query["center"],
            tag=query["tag"],
            age=query["age"],
            sort=query["sort"],
            page=query["page"],
            per_page=query["per_page"],
        )
        with unit_of_work():
            page = read_backlog(user, wanted)
        return page


@blp.route("/<reference>")
class IdeaView(MethodView):
    @blp.response(200, IdeaDetailSchema)
    @refusals(401, 403, 404)
    def get(self, reference: str) -> Any:
        """One idea with its history, comments, possible duplicates and next statuses."""
        user = caller()
        with unit_of_work():
            detail = read_idea(user, reference)
        return detail


@blp.route("/<reference>/status")
class Status(MethodView):
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, IdeaDetailSchema)
    @refusals(401, 403, 404, 409, 422)
    def post(self, body: dict[str, Any], reference: str) -> Any:
        """Move the idea on, with a reason the family is texted; answers the updated idea.

        409 when the idea's status does not allow the change, or a merge would go into the
        idea itself or make a cycle; 422 for an empty rationale, testing without centers,
        or a ``merge_into`` that names no idea.
        """
        user = caller()
        with unit_of_work():
            idea = reviewable_idea(user, reference)
            target = None
            if body["merge_into"] is not None:
                target = find_idea(body["merge_into"])
                if target is None:
                    raise InvalidInput("merge_into", body["merge_into"], "is not an idea")
            change_status(
                idea,
                body["status"],
                rationale=body["rationale"],
                by=user,
                centers=body["centers"],
                merge_into=target,
            )
            detail = read_idea(user, reference)
        return detail


@blp.route("/<reference>/votes")
class Votes(MethodView):
    @blp.response(201, VotesSchema)
    @refusals(401, 403, 404, 409)
    def post(self, reference: str) -> Any:
        """Vote for the idea: one vote per person (409 for a second, or on a merged idea)."""
        user = caller()
        with unit_of_work():
            idea = reviewable_idea(user, reference)
            vote(idea, user)
            votes = {"reference": idea.reference, "votes": len(idea.votes), "voted": True}
        return votes

    @blp.response(204)
    @refusals(401, 403, 404, 409)
    def delete(self, reference: str) -> None:
        """Withdraw the caller's vote (409 when there is none)."""
        user = caller()
        with unit_of_work():
            withdraw_vote(reviewable_idea(user, reference), user)


@blp.route("/<reference>/comments")
class Comments(MethodView):
    @blp.arguments(NewCommentSchema)
    @blp.response(201, CommentEntrySchema)
    @refusals(401, 403, 404, 422)
    def post(self, body: dict[str, Any], reference: str) -> Any:
        """Comment on the idea, for the other reviewers."""
        user = caller()
        with unit_of_work():
            comment = add_comment(reviewable_idea(user, reference), user, body["body"])
            entry = CommentEntry(by=user.full_name, body=comment.body, at=comment.created_at)
        return entry


@blp.route("/<reference>/tags")
class Tags(MethodView):
    @blp.arguments(NewTagSchema)
    @blp.response(200, TagsSchema)
    @refusals(401, 403, 404, 422)
    def post(self, body: dict[str, Any], reference: str) -> Any:
        """Tag the idea (again is no change); answers its tags."""
        user = caller()
        with unit_of_work():
            idea = reviewable_idea(user, reference)
            add_tag(idea, body["tag"])
            tags = {"reference": idea.reference, "tags": sorted(t.tag for t in idea.tags)}
        return tags


@blp.route("/<reference>/tags/<tag>")
class Tag(MethodView):
    @blp.response(204)
    @refusals(401, 403, 404, 422)
    def delete(self, reference: str, tag: str) -> None:
        """Take a tag off the idea (422 when the idea does not have it)."""
        user = caller()
        with unit_of_work():
            remove_tag(reviewable_idea(user, reference), tag)


@blp.route("/<reference>/assignee")
class Assignee(MethodView):
    @blp.arguments(AssigneeSchema)
    @blp.response(200, AssignedSchema)
    @refusals(401, 403, 404, 422)
    def put(self, body: dict[str, Any], reference: str) -> Any:
        """Assign a reviewer by e-mail, or no one (422 for someone who does not review ideas)."""
        user = caller()
        email: str | None = body["email"]
        with unit_of_work():
            idea = reviewable_idea(user, reference)
            reviewer = find_staff_user(email) if email is not None else None
            if email is not None and reviewer is None:
                raise InvalidInput("email", email, "is not a staff user's e-mail")
            try:
                assign_reviewer(idea, reviewer)
            except InvalidInput as problem:  # the domain names the person; the body, the e-mail
                raise InvalidInput("email", email, problem.reason) from problem
            assigned = {
                "reference": idea.reference,
                "email": reviewer.email if reviewer else None,
                "assigned_reviewer": reviewer.full_name if reviewer else None,
            }
        return assigned


@blp.route("/<reference>/category")
class Category(MethodView):
    @blp.arguments(CategorySchema)
    @blp.response(200, CategorizedSchema)
    @refusals(401, 403, 404, 422)
    def put(self, body: dict[str, Any], reference: str) -> Any:
        """File the idea under a category, or none."""
        user = caller()
        with unit_of_work():
            idea = reviewable_idea(user, reference)
            set_category(idea, body["category"])
            categorized = {"reference": idea.reference, "category": idea.category}
        return categorized
