"""Submitting ideas: the one function every channel (SMS, app, check-in) calls.

An idea is stored twice over: the family's own words, shown only to staff of the
submitter's center, and a redacted text that the whole network reads.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from engage.codesign.models import IDEA_CATEGORIES, Idea, IdeaChannel, IdeaCredit
from engage.codesign.redaction import redact
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.people.models import Caregiver, CaregiverLink, Contact, Patient

REFERENCE_OFFSET = 1000
MAX_IDEA_LENGTH = 2000  # one SMS can carry 1,600; the app a little more, never an essay
MAX_WHO_LENGTH = 500
REFERENCE = re.compile(r"^\s*(?:i\s*-?\s*)?(\d{1,9})\s*$", re.IGNORECASE)


def submit_idea(
    text: str,
    *,
    contact: Contact | None,
    channel: IdeaChannel,
    message_id: int | None = None,
    checkin_id: int | None = None,
    category: str | None = None,
    who_it_helps: str | None = None,
    may_contact: bool | None = None,
    credit: IdeaCredit = IdeaCredit.ANONYMOUS,
    now: datetime | None = None,
) -> Idea:
    """Store an idea with its submitter and center; its reference (I-1042) acknowledges it."""
    words = idea_text(text)
    patient = contact.patient if contact else None
    caregiver = contact.caregiver if contact else None
    center_id = patient.center_id if patient else None
    if center_id is None and caregiver is not None and caregiver.patient_links:
        center_id = caregiver.patient_links[0].patient.center_id
    now = now or utcnow()
    idea = Idea(
        text=words,
        redacted_text=redact_for(contact, words),
        channel=channel,
        category=checked_category(category),
        may_contact=may_contact,
        credit=credit,
        contact_id=contact.id if contact else None,
        patient_id=patient.id if patient else None,
        caregiver_id=caregiver.id if caregiver else None,
        center_id=center_id,
        message_id=message_id,
        checkin_id=checkin_id,
        created_at=now,
        status_changed_at=now,
    )
    db.session.add(idea)
    db.session.flush()
    idea.reference = f"I-{REFERENCE_OFFSET + idea.id}"
    if who_it_helps is not None:
        describe_idea(idea, who_it_helps=who_it_helps)
    return idea


def describe_idea(
    idea: Idea,
    *,
    who_it_helps: str | None = None,
    may_contact: bool | None = None,
    credit: IdeaCredit | None = None,
) -> Idea:
    """The follow-up answers of the IDEA conversation; None leaves a detail as it was."""
    if who_it_helps is not None:
        who = " ".join(who_it_helps.split())
        if len(who) > MAX_WHO_LENGTH:
            raise InvalidInput(
                "who_it_helps", f"{len(who)} characters", f"is longer than {MAX_WHO_LENGTH}"
            )
        idea.who_it_helps = who or None
        idea.who_it_helps_redacted = redact_for(idea.contact, who) if who else None
    if may_contact is not None:
        idea.may_contact = may_contact
    if credit is not None:
        idea.credit = credit
    return idea


def idea_text(text: str | None) -> str:
    """The idea as written, refused when empty or too long to review."""
    words = (text or "").strip()
    if not words:
        raise InvalidInput("text", text or "", "is empty: an idea needs a few words")
    if len(words) > MAX_IDEA_LENGTH:
        raise InvalidInput(
            "text",
            f"{len(words):,} characters",
            f"is longer than {MAX_IDEA_LENGTH:,} characters: please shorten the idea",
        )
    return words


def checked_category(category: str | None) -> str | None:
    if category is None or not category.strip():
        return None
    value = category.strip().lower().replace(" ", "_").replace("-", "_")
    if value not in IDEA_CATEGORIES:
        raise InvalidInput("category", category, f"is not one of {', '.join(IDEA_CATEGORIES)}")
    return value


def redact_for(contact: Contact | None, text: str) -> str:
    return redact(text, family_names=family_names(contact), known_names=known_names())


def family_names(contact: Contact | None) -> list[str]:
    """The submitter, their children or parents, and the children's other caregivers."""
    if contact is None:
        return []
    patient_ids: set[int] = set()
    caregiver_ids: set[int] = set()
    if contact.patient_id is not None:
        patient_ids.add(contact.patient_id)
    if contact.caregiver_id is not None:
        caregiver_ids.add(contact.caregiver_id)
    links = db.session.execute(
        sa.select(CaregiverLink.patient_id, CaregiverLink.caregiver_id).where(
            sa.or_(
                CaregiverLink.patient_id.in_(patient_ids),
                CaregiverLink.caregiver_id.in_(caregiver_ids),
            )
        )
    ).all()
    patient_ids.update(p for p, _ in links)
    caregiver_ids.update(c for _, c in links)
    siblings = db.session.execute(
        sa.select(CaregiverLink.patient_id).where(CaregiverLink.caregiver_id.in_(caregiver_ids))
    ).scalars()
    patient_ids.update(siblings)
    names = list(
        db.session.execute(
            sa.select(Patient.given_name, Patient.family_name).where(Patient.id.in_(patient_ids))
        )
    )
    names += db.session.execute(
        sa.select(Caregiver.given_name, Caregiver.family_name).where(
            Caregiver.id.in_(caregiver_ids)
        )
    ).all()
    return sorted({name for row in names for name in row if name})


def known_names() -> list[str]:
    """Every patient's and caregiver's names: none of them may appear network-wide."""
    rows = db.session.execute(
        sa.union(
            sa.select(Patient.given_name, Patient.family_name),
            sa.select(Caregiver.given_name, Caregiver.family_name),
        )
    ).all()
    return sorted({name for row in rows for name in row if name})


def reference_number(reference: str) -> int | None:
    """The idea id behind "I-1042", "i1042" or "1042"; None when it is no reference."""
    match = REFERENCE.match(reference or "")
    if match is None:
        return None
    number = int(match.group(1))
    return number - REFERENCE_OFFSET if number > REFERENCE_OFFSET else None


def find_idea(reference: str) -> Idea | None:
    idea_id = reference_number(reference)
    return db.session.get(Idea, idea_id) if idea_id is not None else None
