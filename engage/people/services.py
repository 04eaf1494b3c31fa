"""Adding patients, caregivers and contacts; recording consent. Services flush, never commit."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.network.models import Center, StaffUser
from engage.people.consent import CONSENT_TEXTS
from engage.people.models import (
    Caregiver,
    CaregiverLink,
    ConsentChange,
    ConsentMethod,
    ConsentState,
    Contact,
    Diagnosis,
    Language,
    Patient,
    Relationship,
)
from engage.phones import normalise_phone
from engage.timezones import check_time_zone


def add_patient(
    center: Center,
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    diagnosis: Diagnosis,
    preferred_language: Language = Language.ENGLISH,
    time_zone: str | None = None,
    today: date | None = None,
) -> Patient:
    mrn = mrn.strip()
    if not mrn:
        raise InvalidInput("mrn", mrn, "must not be blank")
    if find_patient(center, mrn) is not None:
        raise InvalidInput("mrn", mrn, f"is already the MRN of another patient at {center.code}")
    if date_of_birth > (today or date.today()):
        raise InvalidInput("date_of_birth", date_of_birth.isoformat(), "is in the future")
    patient = Patient(
        center=center,
        mrn=mrn,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        diagnosis=diagnosis,
        preferred_language=preferred_language,
        time_zone=None if time_zone in (None, center.time_zone) else check_time_zone(time_zone),
    )
    db.session.add(patient)
    db.session.flush()
    return patient


def find_patient(center: Center, mrn: str) -> Patient | None:
    return db.session.scalar(
        sa.select(Patient).where(Patient.center_id == center.id, Patient.mrn == mrn.strip())
    )


def add_caregiver(
    *, given_name: str, family_name: str, preferred_language: Language = Language.ENGLISH
) -> Caregiver:
    caregiver = Caregiver(
        given_name=given_name, family_name=family_name, preferred_language=preferred_language
    )
    db.session.add(caregiver)
    db.session.flush()
    return caregiver


def link_caregiver(
    caregiver: Caregiver,
    patient: Patient,
    *,
    relationship: Relationship,
    may_answer_as_proxy: bool,
) -> CaregiverLink:
    """Tie a caregiver to a patient, or update the tie if it exists."""
    link = db.session.scalar(
        sa.select(CaregiverLink).where(
            CaregiverLink.caregiver_id == caregiver.id, CaregiverLink.patient_id == patient.id
        )
    )
    if link is None:
        link = CaregiverLink(caregiver=caregiver, patient=patient)
        db.session.add(link)
    link.relationship_to_patient = relationship
    link.may_answer_as_proxy = may_answer_as_proxy
    db.session.flush()
    return link


def add_contact(owner: Patient | Caregiver, phone: str) -> Contact:
    """Give a patient or caregiver a phone number; a number reaches one person only."""
    number = normalise_phone(phone)
    existing = find_contact(number)
    if existing is not None:
        raise InvalidInput("phone", phone, "already belongs to another patient or caregiver")
    contact = Contact(phone=number)
    if isinstance(owner, Patient):
        contact.patient = owner
    else:
        contact.caregiver = owner
    db.session.add(contact)
    db.session.flush()
    return contact


def find_contact(phone: str) -> Contact | None:
    return db.session.scalar(sa.select(Contact).where(Contact.phone == phone))


def record_consent(
    contact: Contact,
    state: ConsentState,
    *,
    method: ConsentMethod,
    consent_text_version: str,
    recorded_by: StaffUser | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> ConsentChange:
    """Append a consent change to the contact's history and make it the current state."""
    if consent_text_version not in CONSENT_TEXTS:
        raise InvalidInput(
            "consent_text_version", consent_text_version, "is not a known consent text version"
        )
    change = ConsentChange(
        contact=contact,
        state=state,
        method=method,
        consent_text_version=consent_text_version,
        recorded_by=recorded_by,
        note=note,
        changed_at=at or utcnow(),
    )
    db.session.add(change)
    contact.sms_consent = state
    db.session.flush()
    return change
