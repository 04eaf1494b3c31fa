"""Who may read which patient through the app.

A patient reads their own data. A caregiver reads the children they are linked to with
proxy permission, until the child turns 18; after that only while the young adult has
granted it again (``ProxyGrant``). Anyone else's patient is "not found": nothing leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from engage.db import db, utcnow
from engage.mobile.models import ProxyGrant
from engage.people.models import Caregiver, Contact, Patient

ADULT_AGE = 18


@dataclass(frozen=True)
class AppUser:
    """A signed-in phone: the patient or caregiver who owns it, and their sign-in (token family)."""

    contact: Contact
    family: str

    @property
    def owner(self) -> Patient | Caregiver:
        owner = self.contact.patient or self.contact.caregiver
        assert owner is not None  # a contact has exactly one owner (a CHECK constraint)
        return owner

    @property
    def role(self) -> str:
        return "patient" if self.contact.patient is not None else "caregiver"


def today_for(patient: Patient) -> date:
    return utcnow().astimezone(patient.zone).date()


def has_grant(patient: Patient, caregiver: Caregiver) -> bool:
    return (
        db.session.scalar(
            sa.select(ProxyGrant.id).where(
                ProxyGrant.patient_id == patient.id,
                ProxyGrant.caregiver_id == caregiver.id,
                ProxyGrant.revoked_at.is_(None),
            )
        )
        is not None
    )


def caregiver_may_read(caregiver: Caregiver, patient: Patient, today: date | None = None) -> bool:
    link = next((x for x in caregiver.patient_links if x.patient_id == patient.id), None)
    if link is None or not link.may_answer_as_proxy:
        return False
    if patient.age_on(today or today_for(patient)) < ADULT_AGE:
        return True
    return has_grant(patient, caregiver)


def accessible_patients(user: AppUser) -> list[Patient]:
    if user.contact.patient is not None:
        return [user.contact.patient]
    caregiver = user.contact.caregiver
    assert caregiver is not None
    return [
        link.patient
        for link in sorted(caregiver.patient_links, key=lambda x: x.id)
        if caregiver_may_read(caregiver, link.patient)
    ]


def accessible_patient(user: AppUser, patient_id: int) -> Patient:
    """The patient, or 404 for anyone this phone may not read."""
    for patient in accessible_patients(user):
        if patient.id == patient_id:
            return patient
    raise NotFound(f"No patient {patient_id}.")
