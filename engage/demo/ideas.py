"""A small demo backlog: ideas from the demo families, some already on their way.

Their earlier decisions are written as history without texting anyone: they happened
before the demo began. Decisions made in the demo are relayed as usual.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa

from engage.codesign.models import (
    Idea,
    IdeaChannel,
    IdeaCredit,
    IdeaStatus,
    IdeaStatusChange,
    IdeaVote,
)
from engage.codesign.services import submit_idea
from engage.db import db, utcnow
from engage.network.models import StaffUser
from engage.network.services import find_center, find_staff_user
from engage.people.services import find_contact

S = IdeaStatus
REVIEWER = "jordan.lee@network.example.org"

# (phone, days ago, text, category, credit, path of (status, rationale), testing centers)
DEMO_IDEAS = [
    (
        "+16175550101",
        40,
        "Could the clinic text us lab results instead of making us wait for the portal? "
        "Mia's results take days to show up there.",
        "communication",
        IdeaCredit.FIRST_NAME,
        [
            (
                S.UNDER_REVIEW,
                "Several families have asked for this; the network team is looking "
                "at what labs can be sent by text safely.",
            )
        ],
        [],
    ),
    (
        "+16175550113",
        35,
        "Videos en español que expliquen la preparación para la colonoscopia.",
        "clinic_visits",
        IdeaCredit.ANONYMOUS,
        [
            (S.UNDER_REVIEW, "Families who speak Spanish asked for it at two centers."),
            (S.ACCEPTED, "A parent partner and a nurse will script a first video."),
        ],
        [],
    ),
    (
        "+12135550102",
        6,
        "A group chat for teens with IBD so we can talk to people who get it.",
        "peer_support",
        IdeaCredit.FIRST_NAME,
        [],
        [],
    ),
    (
        "+12135550103",
        60,
        "A checklist for moving to adult care: what to ask, which doctor, how insurance changes.",
        "transition_to_adult_care",
        IdeaCredit.FIRST_NAME,
        [
            (S.UNDER_REVIEW, "Young adults named this as their biggest worry."),
            (S.ACCEPTED, "The transition working group will draft it."),
            (S.TESTING, "Trying the checklist with 18-year-olds at one center first."),
        ],
        ["WEST"],
    ),
    (
        "+12135550121",
        90,
        "Let us pick the time of day for the check-in texts; evenings are easier after work.",
        "check_ins",
        IdeaCredit.ANONYMOUS,
        [
            (S.UNDER_REVIEW, "Easy to try: schedules already take a local time."),
            (S.ACCEPTED, "Families will choose their time at the next visit."),
            (S.TESTING, "Two centers let families choose."),
            (S.ADOPTED, "More check-ins were answered when families chose the time."),
        ],
        ["EAST", "WEST"],
    ),
    (
        "+16175550102",
        20,
        "A letter for the school nurse that we can print, about bathroom passes and snacks.",
        "school",
        IdeaCredit.ANONYMOUS,
        [(S.NOT_NOW, "Centers use their own letters today; we will come back to it in spring.")],
        [],
    ),
]


def seed_demo_ideas() -> Counter[str]:
    """Add the demo ideas once: nothing when the backlog already has ideas."""
    added: Counter[str] = Counter()
    if db.session.scalar(sa.select(sa.func.count(Idea.id))):
        return added
    reviewer = find_staff_user(REVIEWER)
    now = utcnow()
    for phone, days_ago, text, category, credit, path, centers in DEMO_IDEAS:
        contact = find_contact(phone)
        at = now - timedelta(days=days_ago)
        idea = submit_idea(
            text, contact=contact, channel=IdeaChannel.SMS, category=category, credit=credit, now=at
        )
        added["ideas"] += 1
        for step, (status, rationale) in enumerate(path, start=1):
            record_past_decision(idea, status, rationale, reviewer, at + timedelta(days=step * 3))
        if centers:
            idea.testing_centers = [c for c in (find_center(code) for code in centers) if c]
        if reviewer is not None and path:
            db.session.add(IdeaVote(idea=idea, staff_user_id=reviewer.id, created_at=at))
    return added


def record_past_decision(
    idea: Idea, status: IdeaStatus, rationale: str, reviewer: StaffUser | None, at: datetime
) -> None:
    db.session.add(
        IdeaStatusChange(
            idea=idea,
            from_status=idea.status,
            to_status=status,
            rationale=rationale,
            changed_by_id=reviewer.id if reviewer else None,
            relay="demo data: decided before the demo began, not texted",
            changed_at=at,
        )
    )
    idea.status, idea.status_changed_at = status, at
