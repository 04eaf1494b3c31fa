"""What a signed-in phone reads and changes about itself: who it is, whose data it may read,
the grants of a young adult, its ideas, and its preferences.

Services flush, never commit; the request's unit of work commits once. Refusals are
``InvalidInput`` (422), ``Conflict`` (409), or werkzeug's ``Forbidden`` and ``NotFound``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from engage.codesign.models import Idea, IdeaChannel, IdeaCredit, IdeaFollower, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import LABELS
from engage.conversations.services import MAX_PAUSE_DAYS, pause_phone
from engage.db import db, utcnow
from engage.errors import Conflict, InvalidInput
from engage.mobile.access import (
    ADULT_AGE,
    AppUser,
    accessible_patients,
    caregiver_may_read,
    today_for,
)
from engage.mobile.models import ProxyGrant
from engage.network.models import Center
from engage.people.models import CaregiverLink, Contact, Language, Patient
from engage.scheduling.models import Enrollment, EnrollmentStatus, ScheduleKind
from engage.scheduling.services import change_schedule, schedule_of


# -- the phone, its owner and its clock -------------------------------------------------------
def phone_patient(contact: Contact) -> Patient | None:
    """The patient whose time zone and center the phone goes by: its own, or a caregiver's
    first linked child (as the sender decides quiet hours)."""
    if contact.patient is not None:
        return contact.patient
    caregiver = contact.caregiver
    if caregiver is None or not caregiver.patient_links:
        return None
    return min(caregiver.patient_links, key=lambda link: link.id).patient


def phone_zone(contact: Contact) -> ZoneInfo:
    patient = phone_patient(contact)
    return patient.zone if patient is not None else ZoneInfo("UTC")


def live_pause(contact: Contact, now: datetime) -> datetime | None:
    """When check-ins resume, or None when the phone is not paused (any more)."""
    until = contact.paused_until
    if until is None:
        return None
    if until.tzinfo is None:  # SQLite hands back naive UTC
        until = until.replace(tzinfo=UTC)
    return until if until > now else None


def last_paused_day(resumes_at: datetime, zone: ZoneInfo) -> date:
    """The last local date the pause covers: a pause that ends at midnight covers the day
    before; one that ends during a day (PAUSE 7 by SMS) covers part of that day too."""
    return (resumes_at.astimezone(zone) - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class Me:
    role: str
    first_name: str
    language: str
    phone: str
    sms_enabled: bool
    paused_until: date | None
    resumes_at: datetime | None
    patient_id: int | None


def describe_me(user: AppUser, now: datetime | None = None) -> Me:
    now = now or utcnow()
    contact = user.contact
    resumes_at = live_pause(contact, now)
    return Me(
        role=user.role,
        first_name=user.owner.given_name,
        language=user.owner.preferred_language.value,
        phone=contact.phone,
        sms_enabled=contact.sms_enabled,
        paused_until=last_paused_day(resumes_at, phone_zone(contact)) if resumes_at else None,
        resumes_at=resumes_at,
        patient_id=contact.patient_id,
    )


# -- my patients ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PatientEntry:
    id: int
    first_name: str
    age: int
    center_name: str
    access: str  # self, proxy, or proxy_granted (an adult's grant)


def my_patients(user: AppUser) -> list[PatientEntry]:
    """The patients this phone may read, and why."""
    entries = []
    for patient in accessible_patients(user):
        age = patient.age_on(today_for(patient))
        if user.contact.patient is not None:
            access = "self"
        else:
            access = "proxy" if age < ADULT_AGE else "proxy_granted"
        entries.append(
            PatientEntry(patient.id, patient.given_name, age, patient.center.name, access)
        )
    return entries


# -- proxy grants -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CaregiverEntry:
    id: int
    first_name: str
    relationship: str
    may_answer_as_proxy: bool
    has_access: bool
    granted_at: datetime | None


@dataclass(frozen=True)
class CaregiverChoices:
    may_grant: bool
    caregivers: list[CaregiverEntry]


def own_patient(user: AppUser) -> Patient:
    """The caller's own patient record; 403 for a caregiver's phone."""
    patient = user.contact.patient
    if patient is None:
        raise Forbidden("Only a patient's own phone manages who may read their data.")
    return patient


def is_adult(patient: Patient) -> bool:
    return patient.age_on(today_for(patient)) >= ADULT_AGE


def active_grant(patient: Patient, caregiver_id: int) -> ProxyGrant | None:
    return db.session.scalar(
        sa.select(ProxyGrant)
        .where(
            ProxyGrant.patient_id == patient.id,
            ProxyGrant.caregiver_id == caregiver_id,
            ProxyGrant.revoked_at.is_(None),
        )
        .order_by(ProxyGrant.id.desc())
        .limit(1)
    )


def caregiver_entry(patient: Patient, link: CaregiverLink) -> CaregiverEntry:
    grant = active_grant(patient, link.caregiver_id)
    return CaregiverEntry(
        id=link.caregiver_id,
        first_name=link.caregiver.given_name,
        relationship=link.relationship_to_patient.value,
        may_answer_as_proxy=link.may_answer_as_proxy,
        has_access=caregiver_may_read(link.caregiver, patient),
        granted_at=grant.granted_at if grant is not None else None,
    )


def caregiver_choices(user: AppUser) -> CaregiverChoices:
    """The patient's linked caregivers, whether each may read their data, and their grants."""
    patient = own_patient(user)
    links = sorted(patient.caregiver_links, key=lambda link: link.id)
    return CaregiverChoices(
        may_grant=is_adult(patient), caregivers=[caregiver_entry(patient, x) for x in links]
    )


def grantable_link(user: AppUser, caregiver_id: int) -> tuple[Patient, CaregiverLink]:
    """The adult patient and their link to the caregiver; 403 or 404 otherwise."""
    patient = own_patient(user)
    if not is_adult(patient):
        raise Forbidden(
            f"Until you are {ADULT_AGE}, your care team decides which caregivers may "
            "read your data."
        )
    link = next((x for x in patient.caregiver_links if x.caregiver_id == caregiver_id), None)
    if link is None:
        raise NotFound(f"No caregiver {caregiver_id} is linked to you.")
    return patient, link


def grant_proxy(user: AppUser, caregiver_id: int, now: datetime | None = None) -> CaregiverEntry:
    """Let a linked caregiver read an adult patient's data again."""
    patient, link = grantable_link(user, caregiver_id)
    if active_grant(patient, caregiver_id) is not None:
        raise Conflict("caregiver_id", caregiver_id, "is already granted access")
    if not link.may_answer_as_proxy:
        raise Conflict(
            "caregiver_id",
            caregiver_id,
            "may not answer for you (the care team decides): a grant would change nothing",
        )
    db.session.add(
        ProxyGrant(patient_id=patient.id, caregiver_id=caregiver_id, granted_at=now or utcnow())
    )
    db.session.flush()
    return caregiver_entry(patient, link)


def revoke_proxy(user: AppUser, caregiver_id: int, now: datetime | None = None) -> None:
    """End a caregiver's grant; 404 when there is none to end."""
    patient, _link = grantable_link(user, caregiver_id)
    grant = active_grant(patient, caregiver_id)
    if grant is None:
        raise NotFound(f"Caregiver {caregiver_id} has no grant of yours to revoke.")
    grant.revoked_at = now or utcnow()
    db.session.flush()


# -- my ideas ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdeaStep:
    to_status: IdeaStatus
    label: str
    rationale: str
    at: datetime


@dataclass(frozen=True)
class MyIdea:
    reference: str
    relation: str  # submitted, or following (an idea theirs was merged into)
    text: str
    who_it_helps: str | None
    category: str | None
    credit: str | None
    may_contact: bool | None
    status: IdeaStatus
    status_label: str
    merged_into: str | None
    created_at: datetime
    status_changed_at: datetime
    history: list[IdeaStep]


def my_idea(idea: Idea, contact: Contact) -> MyIdea:
    """An idea as its family sees it: their own words when it is theirs; another family's
    idea (one theirs was merged into) only in its redacted words."""
    own = idea.contact_id == contact.id
    return MyIdea(
        reference=idea.reference or "",
        relation="submitted" if own else "following",
        text=idea.text if own else idea.redacted_text,
        who_it_helps=idea.who_it_helps if own else idea.who_it_helps_redacted,
        category=idea.category,
        credit=idea.credit.value if own else None,
        may_contact=idea.may_contact if own else None,
        status=idea.status,
        status_label=LABELS[idea.status],
        merged_into=idea.merged_into.reference if idea.merged_into is not None else None,
        created_at=idea.created_at,
        status_changed_at=idea.status_changed_at,
        # The reviewer's reason is texted to the family anyway; who decided, and what was
        # relayed to whom, stay with the network.
        history=[
            IdeaStep(step.to_status, LABELS[step.to_status], step.rationale, step.changed_at)
            for step in idea.history
        ],
    )


def my_ideas(contact: Contact, offset: int, limit: int) -> tuple[list[MyIdea], int]:
    """Ideas this phone submitted or follows, newest first: one page of them, and how many
    there are in all."""
    followed = sa.select(IdeaFollower.idea_id).where(IdeaFollower.contact_id == contact.id)
    mine = sa.or_(Idea.contact_id == contact.id, Idea.id.in_(followed))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Idea).where(mine)) or 0
    ideas = db.session.scalars(
        sa.select(Idea)
        .where(mine)
        .order_by(Idea.created_at.desc(), Idea.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [my_idea(idea, contact) for idea in ideas], total


def send_idea(
    user: AppUser,
    text: str,
    *,
    category: str | None = None,
    who_it_helps: str | None = None,
    may_contact: bool | None = None,
    credit: IdeaCredit = IdeaCredit.ANONYMOUS,
) -> MyIdea:
    idea = submit_idea(
        text,
        contact=user.contact,
        channel=IdeaChannel.APP,
        category=category,
        who_it_helps=who_it_helps,
        may_contact=may_contact,
        credit=credit,
    )
    return my_idea(idea, user.contact)


# -- preferences ------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    source: str | None = None  # phone (the app's preference) or center


@dataclass(frozen=True)
class Preferences:
    preferred_time: time | None
    check_in_times: list[time]
    time_zone: str
    quiet_hours: QuietHours | None
    effective_quiet_hours: QuietHours | None
    language: str
    paused_until: date | None
    resumes_at: datetime | None
    sms_enabled: bool


def recurring_enrollments(contact: Contact) -> list[Enrollment]:
    """The active recurring schedules whose check-ins this phone answers."""
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .where(
                Enrollment.contact_id == contact.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                Enrollment.kind == ScheduleKind.RECURRING,
            )
            .order_by(Enrollment.id)
        )
    )


def phone_center(contact: Contact) -> Center | None:
    patient = phone_patient(contact)
    return patient.center if patient is not None else None


def read_preferences(contact: Contact, now: datetime | None = None) -> Preferences:
    now = now or utcnow()
    owner = contact.patient or contact.caregiver
    assert owner is not None
    zone = phone_zone(contact)
    times = sorted({e.local_time for e in recurring_enrollments(contact) if e.local_time})
    own_hours = None
    if contact.quiet_hours_start is not None and contact.quiet_hours_end is not None:
        own_hours = QuietHours(contact.quiet_hours_start, contact.quiet_hours_end, "phone")
    center = phone_center(contact)
    effective = own_hours
    if effective is None and center is not None:
        effective = QuietHours(center.quiet_hours_start, center.quiet_hours_end, "center")
    resumes_at = live_pause(contact, now)
    return Preferences(
        # One time when every recurring check-in goes at it; none when they differ.
        preferred_time=times[0] if len(times) == 1 else None,
        check_in_times=times,
        time_zone=zone.key,
        quiet_hours=own_hours,
        effective_quiet_hours=effective,
        language=owner.preferred_language.value,
        paused_until=last_paused_day(resumes_at, zone) if resumes_at else None,
        resumes_at=resumes_at,
        sms_enabled=contact.sms_enabled,
    )


def change_preferences(
    contact: Contact, changes: dict[str, Any], now: datetime | None = None
) -> list[Patient]:
    """Apply the fields given (a missing field stays as it is); returns the patients whose
    schedules moved. Refusals name the field."""
    now = now or utcnow()
    moved: list[Patient] = []
    if changes.get("preferred_time") is not None:
        moved = set_preferred_time(contact, changes["preferred_time"], now)
    if "quiet_hours" in changes:
        set_quiet_hours(contact, changes["quiet_hours"])
    if "language" in changes:
        owner = contact.patient or contact.caregiver
        assert owner is not None
        owner.preferred_language = Language(changes["language"])
    if "paused_until" in changes:
        set_pause(contact, changes["paused_until"], now)
    if "sms_enabled" in changes:
        # Not a consent change: check-ins keep coming to the app; the sender drops their
        # texts while it is off. Sign-in codes are still texted.
        contact.sms_enabled = bool(changes["sms_enabled"])
    db.session.flush()
    return moved


def set_preferred_time(contact: Contact, at: time, now: datetime) -> list[Patient]:
    """Send this phone's recurring check-ins at ``at`` local time, on the same days."""
    enrollments = recurring_enrollments(contact)
    if not enrollments:
        raise Conflict(
            "preferred_time", at.strftime("%H:%M"), "has nothing to move: no recurring check-ins"
        )
    for enrollment in enrollments:
        change_schedule(enrollment, replace(schedule_of(enrollment), local_time=at), now=now)
    return [e.patient for e in enrollments]


def set_quiet_hours(contact: Contact, hours: QuietHours | None) -> None:
    if hours is None:  # the center's hours again
        contact.quiet_hours_start = contact.quiet_hours_end = None
        return
    if hours.start == hours.end:
        raise InvalidInput(
            "quiet_hours",
            f"{hours.start:%H:%M}-{hours.end:%H:%M}",
            "starts and ends at the same time: choose when texts must wait",
        )
    contact.quiet_hours_start, contact.quiet_hours_end = hours.start, hours.end


def set_pause(contact: Contact, last_day: date | None, now: datetime) -> None:
    """Pause check-ins through the end of ``last_day`` (the phone's local date), or resume."""
    if last_day is None:
        contact.paused_until = None
        return
    zone = phone_zone(contact)
    today = now.astimezone(zone).date()
    if last_day < today:
        raise InvalidInput("paused_until", last_day.isoformat(), "is in the past")
    if last_day > today + timedelta(days=MAX_PAUSE_DAYS):
        raise InvalidInput(
            "paused_until",
            last_day.isoformat(),
            f"is more than {MAX_PAUSE_DAYS} days ahead: pause at most {MAX_PAUSE_DAYS} days",
        )
    resume = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone)
    pause_phone(contact, resume.astimezone(UTC), now)
