"""Submitting ideas: the one function every channel (SMS, app, check-in) calls."""

from __future__ import annotations

from engage.codesign.models import Idea, IdeaChannel
from engage.db import db
from engage.people.models import Contact

REFERENCE_OFFSET = 1000


def submit_idea(
    text: str, *, contact: Contact | None, channel: IdeaChannel, message_id: int | None = None
) -> Idea:
    """Store an idea with its submitter and center; its reference (I-1042) acknowledges it."""
    patient = contact.patient if contact else None
    caregiver = contact.caregiver if contact else None
    center_id = patient.center_id if patient else None
    if center_id is None and caregiver is not None and caregiver.patient_links:
        center_id = caregiver.patient_links[0].patient.center_id
    idea = Idea(
        text=text.strip(),
        channel=channel,
        contact_id=contact.id if contact else None,
        patient_id=patient.id if patient else None,
        caregiver_id=caregiver.id if caregiver else None,
        center_id=center_id,
        message_id=message_id,
    )
    db.session.add(idea)
    db.session.flush()
    idea.reference = f"I-{REFERENCE_OFFSET + idea.id}"
    return idea
