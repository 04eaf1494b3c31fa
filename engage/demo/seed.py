"""Seed the demo network. Safe to run again: it only adds what is missing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import sqlalchemy as sa

from engage.auth.services import set_password
from engage.db import db, utcnow
from engage.demo.ideas import seed_demo_ideas
from engage.network.models import Center, Network, StaffRole, StaffUser
from engage.network.services import add_center, add_staff_user, find_center, find_staff_user
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import (
    Caregiver,
    ConsentMethod,
    ConsentState,
    Contact,
    Diagnosis,
    Language,
    Patient,
    Relationship,
)
from engage.people.services import (
    add_caregiver,
    add_contact,
    add_patient,
    find_contact,
    find_patient,
    link_caregiver,
    record_consent,
)
from engage.scheduling.models import Enrollment, ScheduleKind
from engage.scheduling.schedules import Schedule
from engage.scheduling.services import enroll
from engage.visits.models import Visit

NETWORK = ("demo", "Demo Learning Network")

# Phone numbers are in the 555-0100..0199 range that is reserved for fiction.
CENTERS = [
    ("EAST", "Harbor Children's IBD Center", "America/New_York", "+16175550100"),
    ("WEST", "Pacific Children's IBD Clinic", "America/Los_Angeles", "+12135550100"),
]

# Every demo staff account signs in with this password. Demo data only: real accounts
# get theirs from `flask engage staff add`, which asks for it.
DEMO_STAFF_PASSWORD = "engage-demo-2026"


@cache
def demo_password_hash() -> str:
    """Hashed once per process: scrypt is slow on purpose, and the demo is seeded often."""
    probe = StaffUser(email="demo@example.org", full_name="Demo")
    set_password(probe, DEMO_STAFF_PASSWORD)
    assert probe.password_hash is not None
    return probe.password_hash


STAFF = [
    ("ana.rivera@east.example.org", "Dr. Ana Rivera", StaffRole.CLINICIAN, ["EAST"]),
    ("sam.chen@west.example.org", "Dr. Sam Chen", StaffRole.CLINICIAN, ["WEST"]),
    ("jordan.lee@network.example.org", "Jordan Lee", StaffRole.NETWORK_REVIEWER, []),
    ("pat.morgan@network.example.org", "Pat Morgan", StaffRole.ADMIN, []),
]


@dataclass(frozen=True)
class DemoPatient:
    center: str
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    diagnosis: Diagnosis
    language: Language
    phone: str | None
    visit_in_days: int
    visit_at: time


PATIENTS = [
    # Mia (6) is answered by her mother, Laura, who also cares for Noah: one phone, two children.
    DemoPatient(
        "EAST",
        "E-1001",
        "Mia",
        "Thompson",
        date(2020, 3, 14),
        Diagnosis.CROHNS_DISEASE,
        Language.ENGLISH,
        None,
        1,
        time(9, 0),
    ),
    DemoPatient(
        "EAST",
        "E-1002",
        "Noah",
        "Thompson",
        date(2012, 7, 2),
        Diagnosis.ULCERATIVE_COLITIS,
        Language.ENGLISH,
        "+16175550102",
        1,
        time(9, 30),
    ),
    DemoPatient(
        "EAST",
        "E-1003",
        "Sofia",
        "Martinez",
        date(2009, 11, 20),
        Diagnosis.ULCERATIVE_COLITIS,
        Language.SPANISH,
        "+16175550103",
        3,
        time(14, 0),
    ),
    # Ethan (8) is answered by his father, David.
    DemoPatient(
        "WEST",
        "W-2001",
        "Ethan",
        "Nguyen",
        date(2018, 5, 9),
        Diagnosis.IBD_UNCLASSIFIED,
        Language.ENGLISH,
        None,
        2,
        time(10, 0),
    ),
    DemoPatient(
        "WEST",
        "W-2002",
        "Ava",
        "Johnson",
        date(2011, 1, 25),
        Diagnosis.CROHNS_DISEASE,
        Language.ENGLISH,
        "+12135550102",
        2,
        time(11, 15),
    ),
    DemoPatient(
        "WEST",
        "W-2003",
        "Daniel",
        "Kim",
        date(2006, 9, 3),
        Diagnosis.CROHNS_DISEASE,
        Language.ENGLISH,
        "+12135550103",
        6,
        time(15, 45),
    ),
]

# (phone, given, family, language, [(center, mrn, relationship, may answer as proxy)])
CAREGIVERS = [
    (
        "+16175550101",
        "Laura",
        "Thompson",
        Language.ENGLISH,
        [
            ("EAST", "E-1001", Relationship.PARENT, True),
            ("EAST", "E-1002", Relationship.PARENT, True),
        ],
    ),
    (
        "+16175550113",
        "Carmen",
        "Martinez",
        Language.SPANISH,
        [("EAST", "E-1003", Relationship.PARENT, True)],
    ),
    (
        "+12135550121",
        "David",
        "Nguyen",
        Language.ENGLISH,
        [("WEST", "W-2001", Relationship.PARENT, True)],
    ),
]


def seed_demo(today: date | None = None) -> Counter[str]:
    """Make sure the demo network exists; return how many rows of each kind were added."""
    added: Counter[str] = Counter()
    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK[0]))
    if network is None:
        network = Network(slug=NETWORK[0], name=NETWORK[1])
        db.session.add(network)
        added["networks"] += 1

    centers: dict[str, Center] = {}
    for code, name, zone, family_phone in CENTERS:
        center = find_center(code)
        if center is None:
            center = add_center(
                network, code=code, name=name, time_zone=zone, family_phone=family_phone
            )
            added["centers"] += 1
        centers[code] = center

    clinicians: dict[str, StaffUser] = {}
    for email, full_name, role, center_codes in STAFF:
        user = find_staff_user(email)
        if user is None:
            user = add_staff_user(
                email=email,
                full_name=full_name,
                role=role,
                centers=[centers[c] for c in center_codes],
            )
            added["staff users"] += 1
        if user.password_hash is None:
            user.password_hash = demo_password_hash()
            added["staff passwords"] += 1
        if role is StaffRole.CLINICIAN:
            for code in center_codes:
                clinicians[code] = user

    patients: dict[tuple[str, str], Patient] = {}
    for spec in PATIENTS:
        center = centers[spec.center]
        patient = find_patient(center, spec.mrn)
        if patient is None:
            patient = add_patient(
                center,
                mrn=spec.mrn,
                given_name=spec.given_name,
                family_name=spec.family_name,
                date_of_birth=spec.date_of_birth,
                diagnosis=spec.diagnosis,
                preferred_language=spec.language,
            )
            added["patients"] += 1
        patients[(spec.center, spec.mrn)] = patient
        if spec.phone:
            added += ensure_contact(patient, spec.phone, clinicians[spec.center])
        added += ensure_visit(patient, spec, clinicians[spec.center], today)

    for phone, given, family, language, links in CAREGIVERS:
        contact = find_contact(phone)
        caregiver = contact.caregiver if contact is not None else None
        if caregiver is None:
            caregiver = add_caregiver(
                given_name=given, family_name=family, preferred_language=language
            )
            added["caregivers"] += 1
        first_center = links[0][0]
        added += ensure_contact(caregiver, phone, clinicians[first_center])
        for center_code, mrn, relationship, proxy in links:
            link_caregiver(
                caregiver,
                patients[(center_code, mrn)],
                relationship=relationship,
                may_answer_as_proxy=proxy,
            )
    db.session.flush()
    added += ensure_enrollments(patients.values())
    added += seed_demo_ideas()
    return added


def demo_schedules(time_zone: str) -> list[tuple[str, Schedule]]:
    """Every demo patient answers the symptom check-in weekly, Mondays at 18:00 their time,
    and the pre-visit questions two days before each visit."""
    return [
        (
            "ibd-symptoms",
            Schedule(
                kind=ScheduleKind.RECURRING,
                time_zone=time_zone,
                weekdays=("mon",),
                local_time=time(18, 0),
            ),
        ),
        (
            "previsit",
            Schedule(
                kind=ScheduleKind.BEFORE_VISIT, time_zone=time_zone, minutes_before_visit=2 * 1440
            ),
        ),
    ]


def ensure_enrollments(patients: Iterable[Patient]) -> Counter[str]:
    added: Counter[str] = Counter()
    for patient in patients:
        enrolled = set(
            db.session.scalars(
                sa.select(Enrollment.instrument_id).where(Enrollment.patient_id == patient.id)
            )
        )
        for instrument_id, schedule in demo_schedules(patient.effective_time_zone):
            if instrument_id not in enrolled:
                enroll(patient, instrument_id, schedule)
                added["enrollments"] += 1
    return added


def ensure_contact(owner: Patient | Caregiver, phone: str, staff: StaffUser) -> Counter[str]:
    added: Counter[str] = Counter()
    contact: Contact | None = find_contact(phone)
    if contact is None:
        contact = add_contact(owner, phone)
        added["contacts"] += 1
    if not contact.consent_history:
        record_consent(
            contact,
            ConsentState.GRANTED,
            method=ConsentMethod.STAFF,
            consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
            recorded_by=staff,
            note="demo data",
        )
        added["consent changes"] += 1
    return added


def ensure_visit(
    patient: Patient, spec: DemoPatient, clinician: StaffUser, today: date | None
) -> Counter[str]:
    """One upcoming visit per demo patient, keyed by its external reference."""
    reference = f"DEMO-{spec.mrn}"
    existing = db.session.scalar(
        sa.select(Visit).where(
            Visit.center_id == patient.center_id, Visit.external_ref == reference
        )
    )
    if existing is not None:
        return Counter()
    zone = patient.center.zone
    local_today = today or utcnow().astimezone(zone).date()
    starts_local = datetime.combine(
        local_today + timedelta(days=spec.visit_in_days), spec.visit_at, zone
    )
    db.session.add(
        Visit(
            patient=patient,
            center=patient.center,
            starts_at=starts_local,
            clinician=clinician,
            external_ref=reference,
        )
    )
    return Counter({"visits": 1})
