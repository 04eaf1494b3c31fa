"""Who may see what: clinicians see the patients of their own centers, no one else does.

Network reviewers work on de-identified, network-wide data; administrators manage
accounts and read the audit log. Neither sees a patient's identity through these rules.
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from engage.db import db
from engage.network.models import StaffRole, StaffUser
from engage.people.models import Patient


def patient_center_ids(user: StaffUser) -> set[int]:
    """The centers whose patients this user may see."""
    if not user.is_active or user.role is not StaffRole.CLINICIAN:
        return set()
    return {center.id for center in user.centers}


def may_see_patient(user: StaffUser, patient: Patient) -> bool:
    return patient.center_id in patient_center_ids(user)


def visible_patient(user: StaffUser, patient_id: int) -> Patient:
    """The patient, or "not found" for anyone who may not see them: nothing leaks."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or not may_see_patient(user, patient):
        raise NotFound()
    return patient
