"""The network reviewers' pages for the ideas backlog. Thin: read the form, call, render.

Every change is one unit of work that the domain may refuse (an illegal status change,
a second vote): then nothing is kept, and the reviewer is sent back with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engage.auth.web import current_staff, staff_required
from engage.codesign.backlog import (
    AGES,
    SORTS,
    BacklogPage,
    BacklogQuery,
    idea_reviewers,
    read_backlog,
    read_idea,
    require_reviewer,
    reviewable_idea,
)
from engage.codesign.leads import WEIGHTS, rank_lead_users
from engage.codesign.models import IDEA_CATEGORIES, Idea, IdeaStatus
from engage.codesign.services import find_idea
from engage.codesign.workflow import (
    LABELS,
    add_comment,
    add_tag,
    assign_reviewer,
    change_status,
    remove_tag,
    set_category,
    vote,
    withdraw_vote,
)
from engage.db import db, unit_of_work, utcnow
from engage.errors import InvalidInput
from engage.network.models import Center, StaffUser

bp = Blueprint("ideas", __name__, url_prefix="/ideas")

FILTERS = ("q", "status", "category", "center", "tag", "age", "sort", "per_page")


@bp.app_template_filter("time_ago")
def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Say "3 days ago" for the recent past, and the date beyond a month."""
    if moment is None:
        return ""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds >= 31 * 86_400:
        return moment.strftime("%d %b %Y")
    count, unit = next(
        (seconds // size, unit)
        for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60))
        if seconds >= size
    )
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def reviewer() -> StaffUser:
    """The signed-in reviewer; staff who do not review ideas get 403."""
    return require_reviewer(current_staff())


def all_centers() -> list[Center]:
    return list(db.session.scalars(sa.select(Center).order_by(Center.code)))


# -- the backlog ----------------------------------------------------------------------------
@bp.get("")
@staff_required()
def backlog() -> tuple[str, int]:
    user = reviewer()
    problem: str | None = None
    found: BacklogPage | None = None
    with unit_of_work():
        try:
            found = read_backlog(user, backlog_query(request.args))
        except InvalidInput as refused:
            problem = str(refused)
        page = render_template(
            "ideas/list.html",
            found=found,
            problem=problem,
            args=request.args,
            chosen_statuses=request.args.getlist("status"),
            filters={key: request.args.getlist(key) for key in FILTERS if key in request.args},
            statuses=list(IdeaStatus),
            labels=LABELS,
            categories=IDEA_CATEGORIES,
            centers=all_centers(),
            ages=AGES,
            sorts=SORTS,
        )
    return page, 400 if problem else 200


def backlog_query(args: MultiDict[str, str]) -> BacklogQuery:
    """The backlog's search and filters from the query string; the domain checks the rest."""
    return BacklogQuery(
        q=args.get("q", "").strip() or None,
        statuses=tuple(status_of(value) for value in args.getlist("status") if value),
        category=args.get("category") or None,
        center=args.get("center") or None,
        tag=args.get("tag", "").strip() or None,
        age=args.get("age") or None,
        sort=args.get("sort") or "newest",
        page=whole_number(args.get("page") or "1", "page"),
        per_page=whole_number(args.get("per_page") or str(BacklogQuery.per_page), "per_page"),
    )


def status_of(value: str) -> IdeaStatus:
    try:
        return IdeaStatus(value)
    except ValueError:
        choices = ", ".join(status.value for status in IdeaStatus)
        raise InvalidInput("status", value, f"is not a status: choose one of {choices}") from None


def whole_number(text: str, field: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(field, text, "is not a whole number") from None


# -- one idea -------------------------------------------------------------------------------
@bp.get("/<reference>")
@staff_required()
def idea(reference: str) -> str:
    user = reviewer()
    with unit_of_work():  # viewing the family's own words is audited: this commits it
        detail = read_idea(user, reference)
        page = render_template(
            "ideas/idea.html",
            detail=detail,
            labels=LABELS,
            merged=IdeaStatus.MERGED,
            testing=IdeaStatus.TESTING,
            categories=IDEA_CATEGORIES,
            centers=all_centers(),
            reviewers=idea_reviewers(),
        )
    return page


def changed(reference: str, change: Callable[[Idea, StaffUser], str]) -> Response:
    """Make one change to an idea in one unit of work; say what happened, or why not."""
    user = reviewer()
    back = reference
    try:
        with unit_of_work():
            target = reviewable_idea(user, reference)
            back = target.reference or reference
            done = change(target, user)
    except InvalidInput as refused:  # Conflict too: the unit of work rolled back
        flash(f"{refused.field}: {refused.reason}", "problem")
    else:
        flash(done, "done")
    return redirect(url_for("ideas.idea", reference=back), 303)


@bp.post("/<reference>/status")
@staff_required()
def status(reference: str) -> Response:
    form = request.form

    def change(target: Idea, user: StaffUser) -> str:
        to = status_of(form.get("status", ""))
        merge_text = form.get("merge_into", "").strip()
        merge_into = find_idea(merge_text) if merge_text else None
        if merge_text and merge_into is None:
            raise InvalidInput("merge_into", merge_text, f"{merge_text!r} is not an idea")
        made = change_status(
            target,
            to,
            rationale=form.get("rationale", ""),
            by=user,
            centers=form.getlist("centers"),
            merge_into=merge_into,
        )
        where = f" into {merge_into.reference}" if merge_into is not None else ""
        return f"{target.reference} is now {LABELS[to]}{where}; {made.relay or 'not texted'}."

    return changed(reference, change)


@bp.post("/<reference>/vote")
@staff_required()
def cast_vote(reference: str) -> Response:
    def change(target: Idea, user: StaffUser) -> str:
        vote(target, user)
        return f"Your vote for {target.reference} is counted."

    return changed(reference, change)


@bp.post("/<reference>/unvote")
@staff_required()
def unvote(reference: str) -> Response:
    def change(target: Idea, user: StaffUser) -> str:
        withdraw_vote(target, user)
        return f"Your vote for {target.reference} is withdrawn."

    return changed(reference, change)


@bp.post("/<reference>/comments")
@staff_required()
def comment(reference: str) -> Response:
    def change(target: Idea, user: StaffUser) -> str:
        add_comment(target, user, request.form.get("body", ""))
        return "Comment added."

    return changed(reference, change)


@bp.post("/<reference>/tags")
@staff_required()
def tag(reference: str) -> Response:
    def change(target: Idea, _user: StaffUser) -> str:
        return f"Tagged {add_tag(target, request.form.get('tag', ''))!r}."

    return changed(reference, change)


@bp.post("/<reference>/tags/remove")
@staff_required()
def untag(reference: str) -> Response:
    def change(target: Idea, _user: StaffUser) -> str:
        remove_tag(target, request.form.get("tag", ""))
        return f"Tag {request.form.get('tag', '')!r} removed."

    return changed(reference, change)


@bp.post("/<reference>/assignee")
@staff_required()
def assignee(reference: str) -> Response:
    def change(target: Idea, _user: StaffUser) -> str:
        choice = request.form.get("reviewer", "").strip()
        chosen = db.session.get(StaffUser, whole_number(choice, "reviewer")) if choice else None
        if choice and chosen is None:
            raise InvalidInput("reviewer", choice, f"{choice!r} is not a staff user")
        assign_reviewer(target, chosen)
        return f"Assigned to {chosen.full_name}." if chosen else "Nobody is assigned now."

    return changed(reference, change)


@bp.post("/<reference>/category")
@staff_required()
def category(reference: str) -> Response:
    def change(target: Idea, _user: StaffUser) -> str:
        set_category(target, request.form.get("category") or None)
        label = target.category.replace("_", " ") if target.category else "no category"
        return f"Filed under {label}."

    return changed(reference, change)


# -- lead users -----------------------------------------------------------------------------
@bp.get("/lead-users")
@staff_required()
def lead_users() -> str:
    reviewer()
    with unit_of_work():
        page = render_template("ideas/lead_users.html", leads=rank_lead_users(), weights=WEIGHTS)
    return page
