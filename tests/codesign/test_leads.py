"""Lead users: ranked by what they gave, shown by first name and center only."""

from __future__ import annotations

from engage.codesign.leads import WEIGHTS, rank_lead_users
from engage.codesign.models import IdeaStatus
from engage.codesign.workflow import change_status, vote

S = IdeaStatus


def test_lead_users_are_ranked_by_ideas_adoptions_and_votes(
    send_idea, reviewer, make_staff, family, make_family
):
    other = make_family(family.center, child="Ava Brooks", parent="Dana Brooks")
    adopted = send_idea("Text lab results", may_contact=True)
    for status in (S.UNDER_REVIEW, S.ACCEPTED, S.TESTING, S.ADOPTED):
        change_status(adopted, status, rationale="ok", by=reviewer, centers=["EAST"])
    vote(adopted, make_staff())
    send_idea("A second idea")
    for text in ("one", "two", "three"):
        send_idea(text, contact=other.child_phone)

    leads = rank_lead_users()

    assert [(lead.first_name, lead.role) for lead in leads] == [
        ("Lucia", "parent"),
        ("Ava", "patient"),
    ]
    lucia, ava = leads
    assert (lucia.ideas_submitted, lucia.ideas_adopted, lucia.votes_received) == (2, 1, 1)
    assert lucia.score == 2 * WEIGHTS["ideas"] + WEIGHTS["adopted"] + WEIGHTS["votes"]
    assert lucia.center == family.center.name and lucia.may_contact is True
    assert (ava.ideas_submitted, ava.may_contact, ava.rank) == (3, False, 2)
    shown = {field for lead in leads for field in vars(lead)}
    assert not shown & {"family_name", "phone", "mrn", "patient_id", "caregiver_id"}
