"""Lead users: the most engaged patients and parents, for reviewers to invite as advisers.

Only a first name, a role and a center are shown: enough to ask the center to pass
on an invitation, nothing that identifies the child network-wide.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from engage.codesign.models import Idea, IdeaStatus, IdeaVote
from engage.conversations.models import CheckIn, CheckInStatus
from engage.db import db
from engage.network.models import Center
from engage.people.models import Caregiver, CaregiverLink, Contact, Patient

# An adopted idea says most about a lead user; a completed check-in least, as it is asked for.
WEIGHTS = {"ideas": 5, "adopted": 20, "checkins": 1, "votes": 2}
Person = tuple[str, int]  # ("patient" | "parent", id)


@dataclass(frozen=True)
class LeadUser:
    rank: int
    first_name: str
    role: str  # "patient" or "parent"
    center: str | None
    ideas_submitted: int
    ideas_adopted: int
    checkins_completed: int
    votes_received: int
    may_contact: bool
    score: int


def rank_lead_users(limit: int = 50) -> list[LeadUser]:
    return rank_lead_users_page(limit)[0]


def rank_lead_users_page(limit: int, offset: int = 0) -> tuple[list[LeadUser], int]:
    """``limit`` lead users from the ``offset``-th of the ranking, and how many are ranked."""
    counts: dict[Person, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    willing: set[Person] = set()
    idea_rows = db.session.execute(
        sa.select(
            Idea.patient_id,
            Idea.caregiver_id,
            sa.func.count(Idea.id),
            sa.func.sum(sa.case((Idea.status == IdeaStatus.ADOPTED, 1), else_=0)),
            sa.func.max(sa.case((Idea.may_contact.is_(True), 1), else_=0)),
        ).group_by(Idea.patient_id, Idea.caregiver_id)
    )
    for patient_id, caregiver_id, ideas, adopted, may_contact in idea_rows:
        person = person_of(patient_id, caregiver_id)
        if person is None:
            continue
        counts[person]["ideas"] += ideas
        counts[person]["adopted"] += int(adopted or 0)
        if may_contact:
            willing.add(person)
    vote_rows = db.session.execute(
        sa.select(Idea.patient_id, Idea.caregiver_id, sa.func.count(IdeaVote.id))
        .join(IdeaVote, IdeaVote.idea_id == Idea.id)
        .group_by(Idea.patient_id, Idea.caregiver_id)
    )
    for patient_id, caregiver_id, votes in vote_rows:
        person = person_of(patient_id, caregiver_id)
        if person is not None:
            counts[person]["votes"] += votes
    checkin_rows = db.session.execute(
        sa.select(Contact.patient_id, Contact.caregiver_id, sa.func.count(CheckIn.id))
        .join(CheckIn, CheckIn.contact_id == Contact.id)
        .where(CheckIn.status == CheckInStatus.COMPLETED)
        .group_by(Contact.patient_id, Contact.caregiver_id)
    )
    for patient_id, caregiver_id, completed in checkin_rows:
        person = person_of(patient_id, caregiver_id)
        if person is not None:
            counts[person]["checkins"] += completed

    def score(person: Person) -> int:
        return sum(WEIGHTS[key] * value for key, value in counts[person].items())

    ordered = sorted(counts, key=lambda p: (-score(p), p))
    ranked = ordered[offset : offset + limit]
    names = people_names(ranked)
    leads = []
    for rank, person in enumerate(ranked, start=offset + 1):
        first_name, center = names.get(person, ("", None))
        tally = counts[person]
        leads.append(
            LeadUser(
                rank=rank,
                first_name=first_name,
                role=person[0],
                center=center,
                ideas_submitted=tally["ideas"],
                ideas_adopted=tally["adopted"],
                checkins_completed=tally["checkins"],
                votes_received=tally["votes"],
                may_contact=person in willing,
                score=score(person),
            )
        )
    return leads, len(ordered)


def person_of(patient_id: int | None, caregiver_id: int | None) -> Person | None:
    if patient_id is not None:
        return ("patient", patient_id)
    if caregiver_id is not None:
        return ("parent", caregiver_id)
    return None


def people_names(people: list[Person]) -> dict[Person, tuple[str, str | None]]:
    """First name and center name; a parent's center is their first child's."""
    patient_ids = [i for kind, i in people if kind == "patient"]
    caregiver_ids = [i for kind, i in people if kind == "parent"]
    names: dict[Person, tuple[str, str | None]] = {}
    if patient_ids:
        for patient_id, first, center in db.session.execute(
            sa.select(Patient.id, Patient.given_name, Center.name)
            .join(Center, Center.id == Patient.center_id)
            .where(Patient.id.in_(patient_ids))
        ):
            names[("patient", patient_id)] = (first, center)
    if caregiver_ids:
        first_link = (
            sa.select(sa.func.min(CaregiverLink.id))
            .where(CaregiverLink.caregiver_id == Caregiver.id)
            .correlate(Caregiver)
            .scalar_subquery()
        )
        for caregiver_id, first, center in db.session.execute(
            sa.select(Caregiver.id, Caregiver.given_name, Center.name)
            .outerjoin(CaregiverLink, CaregiverLink.id == first_link)
            .outerjoin(Patient, Patient.id == CaregiverLink.patient_id)
            .outerjoin(Center, Center.id == Patient.center_id)
            .where(Caregiver.id.in_(caregiver_ids))
        ):
            names[("parent", caregiver_id)] = (first, center)
    return names
