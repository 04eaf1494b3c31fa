"""The upsert: compare a read roster with what the center holds, then write the differences.

Three steps, so that 100,000 rows take seconds, not an ORM round trip each:

1. ``read_roster`` reads and translates every row (nothing written yet; a bad file
   is refused here).
2. :class:`Snapshot` loads, in a few queries, everything the rows can touch: the
   center's patients by MRN, every phone the file names, the center's caregivers
   and their links, enrollments and upcoming visits. :class:`Planner` then walks
   the rows in file order and decides, in memory, what is new, what changed and
   what must be rejected (a phone that already reaches someone else).
3. :class:`Plan` writes the new and changed rows table by table in bulk
   (``engage.roster.bulk``); the rare visit that moved goes through
   ``move_visit`` so that its pre-visit check-ins move with it.

Re-importing the same file finds nothing to write. Nothing here commits: the
command commits, or rolls back for a dry run.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from engage.conversations.models import RespondentRole
from engage.db import db, table_of, utcnow
from engage.errors import InvalidInput
from engage.instruments.model import Instrument
from engage.network.models import Center
from engage.network.services import get_center
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
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
    age_on,
)
from engage.roster.bulk import BulkWriter
from engage.roster.mapping import RosterMapping, normalise_key
from engage.roster.problems import RosterRefused, RowProblem, RowRejected
from engage.roster.reading import (
    CaregiverEntry,
    Progress,
    RejectedRow,
    Roster,
    RosterRow,
    no_progress,
    read_roster,
)
from engage.scheduling.models import Enrollment, EnrollmentStatus, ScheduleKind
from engage.scheduling.schedules import Schedule, due_before_visit, next_due
from engage.scheduling.services import (
    find_instrument,
    move_visit,
    reschedule_before_visit,
)
from engage.visits.models import Visit, VisitStatus

# How many values go into one ``IN (…)``: well under SQLite's limit of bound parameters.
LOOKUP_CHUNK = 5_000


# -- what the import knows about people, before and after each row ---------------------------
@dataclass(eq=False, slots=True)
class ContactState:
    phone: str
    consent: ConsentState
    id: int | None = None
    patient: PatientState | None = None
    caregiver: CaregiverState | None = None
    # Whom the number reaches, for messages: "patient E-1002 at EAST".
    owner_label: str = ""
    new: bool = False

    def owner(self) -> str:
        if self.caregiver is not None:
            return f"caregiver {self.caregiver.display_name}"
        return self.owner_label


@dataclass(eq=False, slots=True)
class CaregiverState:
    given_name: str
    family_name: str
    language: Language
    id: int | None = None
    contacts: list[ContactState] = field(default_factory=list)
    new: bool = False
    changed: bool = False
    # Set once a row of this file has described the caregiver: later rows do not rename them.
    described: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def same_name(self, entry: CaregiverEntry) -> bool:
        return normalise_key(self.display_name) == normalise_key(
            f"{entry.given_name} {entry.family_name}"
        )


@dataclass(eq=False, slots=True)
class LinkState:
    caregiver: CaregiverState
    relationship: Relationship
    proxy: bool
    id: int | None = None
    new: bool = False
    changed: bool = False


@dataclass(eq=False, slots=True)
class VisitState:
    patient: PatientState
    starts_at: datetime
    status: VisitStatus
    external_ref: str | None
    id: int | None = None
    new: bool = False


@dataclass(eq=False, slots=True)
class PatientState:
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    diagnosis: Diagnosis
    language: Language
    time_zone: str
    id: int | None = None
    new: bool = False
    changed: dict[str, Any] = field(default_factory=dict)
    contacts: list[ContactState] = field(default_factory=list)
    links: list[LinkState] = field(default_factory=list)
    instruments: set[str] = field(default_factory=set)
    visits: list[VisitState] = field(default_factory=list)

    def link_to(self, caregiver: CaregiverState) -> LinkState | None:
        return next((link for link in self.links if link.caregiver is caregiver), None)


@dataclass(eq=False, slots=True)
class EnrollmentPlan:
    patient: PatientState
    instrument_id: str
    contact: ContactState
    role: RespondentRole
    schedule: Schedule


@dataclass(eq=False, slots=True)
class VisitMove:
    visit: VisitState
    starts_at: datetime


# -- the report ------------------------------------------------------------------------------
@dataclass
class RowChange:
    line: int
    mrn: str
    created: bool
    changes: list[str]


@dataclass
class ImportReport:
    roster: str
    center: str
    mapping: str
    header: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[RowChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Seconds spent reading, loading what the center holds, comparing and writing.
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)


# -- loading what the center holds -----------------------------------------------------------
def rows_of(query: sa.Select[Any]) -> list[sa.Row[Any]]:
    """All rows at once, through Core: no ORM result wrapping, one fetch (enums come typed)."""
    return list(db.session.connection().execute(query).all())


def one_of(column: sa.Column[str], values: list[str]) -> list[sa.ColumnElement[bool]]:
    """Conditions that together find every value: one array on PostgreSQL, chunks on SQLite."""
    if not values:
        return []
    if db.session.connection().dialect.name == "postgresql":
        return [column == sa.func.any(sa.bindparam(None, values, type_=ARRAY(sa.String)))]
    return [
        column.in_(values[start : start + LOOKUP_CHUNK])
        for start in range(0, len(values), LOOKUP_CHUNK)
    ]


class Snapshot:
    """The rows a roster can touch, loaded in a few queries and indexed for the planner."""

    def __init__(self, center: Center, roster: Roster, now: datetime) -> None:
        self.center = center
        self.patients: dict[str, PatientState] = {}
        self.by_patient_id: dict[int, PatientState] = {}
        self.caregivers: dict[int, CaregiverState] = {}
        self.phones: dict[str, ContactState] = {}
        self.visits_by_ref: dict[str, VisitState] = {}
        self._load_patients()
        self._load_links()
        self._load_contacts(roster)
        self._load_enrollments()
        self._load_visits(roster, now)

    def _load_patients(self) -> None:
        patients = table_of(Patient)
        query = sa.select(
            patients.c.id,
            patients.c.mrn,
            patients.c.given_name,
            patients.c.family_name,
            patients.c.date_of_birth,
            patients.c.diagnosis,
            patients.c.preferred_language,
            patients.c.time_zone,
        ).where(patients.c.center_id == self.center.id)
        for row in rows_of(query):
            state = PatientState(
                id=row.id,
                mrn=row.mrn,
                given_name=row.given_name,
                family_name=row.family_name,
                date_of_birth=row.date_of_birth,
                diagnosis=row.diagnosis,
                language=row.preferred_language,
                time_zone=row.time_zone or self.center.time_zone,
            )
            self.patients[row.mrn] = state
            self.by_patient_id[row.id] = state

    def _center_patient_ids(self) -> sa.Select[Any]:
        return sa.select(Patient.id).where(Patient.center_id == self.center.id)

    def _caregiver(self, row: Any) -> CaregiverState:
        state = self.caregivers.get(row.caregiver_id)
        if state is None:
            state = CaregiverState(
                id=row.caregiver_id,
                given_name=row.given_name,
                family_name=row.family_name,
                language=row.preferred_language,
            )
            self.caregivers[row.caregiver_id] = state
        return state

    def _load_links(self) -> None:
        links, caregivers = table_of(CaregiverLink), table_of(Caregiver)
        query = (
            sa.select(
                links.c.id,
                links.c.patient_id,
                links.c.caregiver_id,
                links.c.relationship_to_patient,
                links.c.may_answer_as_proxy,
                caregivers.c.given_name,
                caregivers.c.family_name,
                caregivers.c.preferred_language,
            )
            .join(caregivers, caregivers.c.id == links.c.caregiver_id)
            .where(links.c.patient_id.in_(self._center_patient_ids()))
            .order_by(links.c.id)
        )
        for row in rows_of(query):
            self.by_patient_id[row.patient_id].links.append(
                LinkState(
                    id=row.id,
                    caregiver=self._caregiver(row),
                    relationship=row.relationship_to_patient,
                    proxy=row.may_answer_as_proxy,
                )
            )

    def _add_contact(self, row: Any) -> None:
        if row.phone in self.phones:
            return
        state = ContactState(id=row.id, phone=row.phone, consent=row.sms_consent)
        if row.patient_id is not None:
            state.owner_label = f"patient {row.mrn} at {row.center_code}"
            state.patient = self.by_patient_id.get(row.patient_id)
            if state.patient is not None:
                state.patient.contacts.append(state)
        else:
            state.caregiver = self._caregiver(row)
            state.caregiver.contacts.append(state)
        self.phones[row.phone] = state

    def _contacts_query(self) -> sa.Select[Any]:
        from engage.network.models import Center as CenterModel

        contacts, caregivers, patients = table_of(Contact), table_of(Caregiver), table_of(Patient)
        centers = table_of(CenterModel)
        return (
            sa.select(
                contacts.c.id,
                contacts.c.phone,
                contacts.c.sms_consent,
                contacts.c.patient_id,
                contacts.c.caregiver_id,
                patients.c.mrn,
                centers.c.code.label("center_code"),
                caregivers.c.given_name,
                caregivers.c.family_name,
                caregivers.c.preferred_language,
            )
            .outerjoin(patients, patients.c.id == contacts.c.patient_id)
            .outerjoin(centers, centers.c.id == patients.c.center_id)
            .outerjoin(caregivers, caregivers.c.id == contacts.c.caregiver_id)
            .order_by(contacts.c.id)
        )

    def _load_contacts(self, roster: Roster) -> None:
        contacts, links = table_of(Contact), table_of(CaregiverLink)
        # The phones of the center's own people (to choose who answers an enrollment)...
        linked = sa.select(links.c.caregiver_id).where(
            links.c.patient_id.in_(self._center_patient_ids())
        )
        for where in (
            contacts.c.patient_id.in_(self._center_patient_ids()),
            contacts.c.caregiver_id.in_(linked),
        ):
            for row in rows_of(self._contacts_query().where(where)):
                self._add_contact(row)
        # ...then any other number the file names: it may reach someone elsewhere.
        named = {row.phone for row in roster.rows if row.phone}
        named.update(c.phone for row in roster.rows for c in row.caregivers if c.phone)
        unknown = sorted(named - self.phones.keys())
        for condition in one_of(contacts.c.phone, unknown):
            for row in rows_of(self._contacts_query().where(condition)):
                self._add_contact(row)

    def _load_enrollments(self) -> None:
        enrollments = table_of(Enrollment)
        query = sa.select(enrollments.c.patient_id, enrollments.c.instrument_id).where(
            enrollments.c.patient_id.in_(self._center_patient_ids())
        )
        for row in rows_of(query):
            self.by_patient_id[row.patient_id].instruments.add(row.instrument_id)

    def _visit(self, row: Any) -> None:
        patient = self.by_patient_id.get(row.patient_id)
        if patient is None:  # a visit at this center of another center's patient
            return
        state = VisitState(
            id=row.id,
            patient=patient,
            starts_at=row.starts_at,
            status=row.status,
            external_ref=row.external_ref,
        )
        state.patient.visits.append(state)
        if row.external_ref is not None:
            self.visits_by_ref[row.external_ref] = state

    def _load_visits(self, roster: Roster, now: datetime) -> None:
        visits = table_of(Visit)
        query = sa.select(
            visits.c.id,
            visits.c.patient_id,
            visits.c.starts_at,
            visits.c.status,
            visits.c.external_ref,
        ).where(visits.c.center_id == self.center.id)
        # Upcoming visits (to match by time, and for pre-visit schedules)...
        order = (visits.c.starts_at, visits.c.id)
        for row in rows_of(query.where(visits.c.starts_at > now).order_by(*order)):
            self._visit(row)
        # ...and past or cancelled ones that the file names by id.
        refs = sorted(
            {row.visit_ref for row in roster.rows if row.visit_ref} - self.visits_by_ref.keys()
        )
        for where in one_of(visits.c.external_ref, refs):
            for row in rows_of(query.where(where, visits.c.starts_at <= now).order_by(*order)):
                self._visit(row)


# -- deciding, row by row --------------------------------------------------------------------
def choose_respondent(
    patient: PatientState, instrument: Instrument, today: date
) -> tuple[ContactState, RespondentRole] | None:
    """``engage.conversations.services.choose_respondent``, on the import's picture."""
    own = next((c for c in patient.contacts if c.consent is not ConsentState.WITHDRAWN), None)
    proxies = [
        contact
        for link in patient.links
        if link.proxy
        for contact in link.caregiver.contacts
        if contact.consent is not ConsentState.WITHDRAWN
    ]
    chosen = instrument.respondent.choose(age_on(patient.date_of_birth, today), own, proxies)
    if chosen is None:
        return None
    contact, proxy = chosen
    return contact, RespondentRole.PROXY if proxy else RespondentRole.SELF


def local(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


PATIENT_FIELDS = ("given_name", "family_name", "date_of_birth", "diagnosis", "language")


@dataclass
class Plan:
    """Everything to write, in the order the tables depend on each other."""

    new_patients: list[PatientState] = field(default_factory=list)
    changed_patients: list[PatientState] = field(default_factory=list)
    new_caregivers: list[CaregiverState] = field(default_factory=list)
    changed_caregivers: list[CaregiverState] = field(default_factory=list)
    new_links: list[tuple[PatientState, LinkState]] = field(default_factory=list)
    changed_links: list[tuple[PatientState, LinkState]] = field(default_factory=list)
    new_contacts: list[ContactState] = field(default_factory=list)
    new_visits: list[VisitState] = field(default_factory=list)
    moved_visits: list[VisitMove] = field(default_factory=list)
    new_enrollments: list[EnrollmentPlan] = field(default_factory=list)

    def size(self) -> int:
        return (
            len(self.new_patients) + len(self.changed_patients) + len(self.new_caregivers)
            + len(self.changed_caregivers) + len(self.new_links) + len(self.changed_links)
            + 2 * len(self.new_contacts) + len(self.new_visits) + len(self.new_enrollments)
        )  # fmt: skip


class Planner:
    """Walks the rows in file order; each row is applied to the picture only if it is accepted."""

    def __init__(
        self,
        snapshot: Snapshot,
        mapping: RosterMapping,
        instruments: dict[str, Instrument],
        now: datetime,
        report: ImportReport,
    ) -> None:
        self.snapshot = snapshot
        self.mapping = mapping
        self.instruments = instruments
        self.now = now
        self.report = report
        self.plan = Plan()
        self._schedules: dict[tuple[str, str], Schedule] = {}
        self._today: dict[str, date] = {}

    def schedule(self, instrument_id: str, time_zone: str) -> Schedule:
        key = (instrument_id, time_zone)
        if key not in self._schedules:
            self._schedules[key] = self.mapping.schedule_for(instrument_id, time_zone)
        return self._schedules[key]

    def today(self, time_zone: str) -> date:
        if time_zone not in self._today:
            self._today[time_zone] = self.now.astimezone(ZoneInfo(time_zone)).date()
        return self._today[time_zone]

    def note(self, row: RosterRow, text: str) -> None:
        self.report.notes.append(f"row {row.line} ({row.mrn}): {text}")

    # -- checks that may reject the row; nothing is changed yet --
    def resolve_caregivers(
        self, row: RosterRow, patient: PatientState | None
    ) -> list[tuple[CaregiverEntry, CaregiverState | None]]:
        """Who each caregiver of the row is: someone known, or None for a new person."""
        phones = self.snapshot.phones
        taken: dict[str, str] = {}
        if row.phone:
            taken[row.phone] = "the patient's own phone"
        resolved: list[tuple[CaregiverEntry, CaregiverState | None]] = []
        for entry in row.caregivers:
            target: CaregiverState | None = None
            if entry.phone:
                column = entry.phone_column
                if entry.phone in taken:
                    raise RowRejected(column, f"{entry.phone!r} is also {taken[entry.phone]}")
                taken[entry.phone] = f"caregiver {entry.slot}'s phone in this row"
                owner = phones.get(entry.phone)
                if owner is not None:
                    if owner.caregiver is None:
                        raise RowRejected(
                            column,
                            f"{entry.phone!r} already belongs to {owner.owner()}: "
                            "a phone reaches one person",
                        )
                    known = owner.caregiver
                    linked = patient is not None and patient.link_to(known) is not None
                    if not known.same_name(entry) and not linked:
                        raise RowRejected(
                            column,
                            f"{entry.phone!r} already belongs to another caregiver "
                            f"({known.display_name}): a phone reaches one person",
                        )
                    target = known
            if target is None and patient is not None:
                target = next(
                    (link.caregiver for link in patient.links if link.caregiver.same_name(entry)),
                    None,
                )
            if target is not None and any(target is other for _, other in resolved):
                raise RowRejected(
                    entry.phone_column or entry.name_column,
                    f"caregiver {entry.slot} is the same person as another caregiver of this row",
                )
            resolved.append((entry, target))
        return resolved

    def check_own_phone(self, row: RosterRow, patient: PatientState | None) -> bool:
        """Whether the patient's phone is new; refuse it when it reaches someone else."""
        if not row.phone:
            return False
        owner = self.snapshot.phones.get(row.phone)
        if owner is None:
            return True
        if patient is not None and owner.patient is patient:
            return False
        raise RowRejected(
            self.mapping.columns["phone"],
            f"{row.phone!r} already belongs to {owner.owner()}: a phone reaches one person",
        )

    def check_visit(
        self, row: RosterRow, patient: PatientState | None
    ) -> tuple[str, VisitState | None]:
        """What to do with the row's visit: 'none', 'same', 'add', 'move', or a note."""
        if row.visit_at is None:
            return "none", None
        known = self.snapshot.visits_by_ref.get(row.visit_ref) if row.visit_ref else None
        if known is not None and known.patient is not patient:
            raise RowRejected(
                self.mapping.columns["visit_ref"],
                f"{row.visit_ref!r} is the id of patient {known.patient.mrn}'s visit",
            )
        if known is None and patient is not None and row.visit_ref is None:
            known = next(
                (
                    v
                    for v in patient.visits
                    if v.starts_at == row.visit_at and v.external_ref is None
                ),
                None,
            )
        if known is not None:
            if known.starts_at == row.visit_at:
                return "same", known
            if known.status is not VisitStatus.SCHEDULED:
                return f"visit {row.visit_ref} is {known.status.value} here: not moved", known
            if row.visit_at <= self.now:
                return f"visit {row.visit_ref} would move into the past: not moved", known
            return "move", known
        if row.visit_at <= self.now:
            return "visit in the past: not imported", None
        return "add", None

    # -- applying an accepted row --
    def add_row(self, row: RosterRow) -> None:
        snapshot = self.snapshot
        patient = snapshot.patients.get(row.mrn)
        own_phone_is_new = self.check_own_phone(row, patient)
        caregivers = self.resolve_caregivers(row, patient)
        visit_action, visit = self.check_visit(row, patient)

        changes: list[str] = []
        created = patient is None
        if patient is None:
            patient = PatientState(
                mrn=row.mrn,
                given_name=row.given_name,
                family_name=row.family_name,
                date_of_birth=row.date_of_birth,
                diagnosis=row.diagnosis,
                language=row.language,
                time_zone=snapshot.center.time_zone,
                new=True,
            )
            snapshot.patients[row.mrn] = patient
            self.plan.new_patients.append(patient)
            self.report.counts["patients created"] += 1
        else:
            self.update_patient(patient, row, changes)
        if own_phone_is_new:
            assert row.phone is not None
            contact = self.add_contact(row.phone, row.consent, patient=patient)
            changes.append(f"phone {contact.phone} added ({row.consent.value})")
        for entry, known in caregivers:
            self.add_caregiver(patient, entry, known, changes)
        self.add_visit(row, patient, visit_action, visit, changes)
        self.add_enrollments(row, patient, changes)

        if created:
            self.report.created += 1
            self.report.changes.append(RowChange(row.line, row.mrn, True, changes))
        elif changes:
            self.report.updated += 1
            self.report.changes.append(RowChange(row.line, row.mrn, False, changes))
        else:
            self.report.unchanged += 1

    def update_patient(self, patient: PatientState, row: RosterRow, changes: list[str]) -> None:
        found = False
        for name in PATIENT_FIELDS:
            old, new = getattr(patient, name), getattr(row, name)
            if old != new:
                patient.changed[name] = new
                setattr(patient, name, new)
                shown_old = old.value if hasattr(old, "value") else str(old)
                shown_new = new.value if hasattr(new, "value") else str(new)
                changes.append(f"{name} {shown_old!r} -> {shown_new!r}")
                found = True
        if found:
            self.plan.changed_patients.append(patient)
            self.report.counts["patients updated"] += 1

    def add_contact(
        self,
        phone: str,
        consent: ConsentState,
        *,
        patient: PatientState | None = None,
        caregiver: CaregiverState | None = None,
    ) -> ContactState:
        contact = ContactState(
            phone=phone, consent=consent, patient=patient, caregiver=caregiver, new=True
        )
        if patient is not None:
            contact.owner_label = f"patient {patient.mrn} at {self.snapshot.center.code}"
        owner = patient if patient is not None else caregiver
        assert owner is not None
        owner.contacts.append(contact)
        self.snapshot.phones[phone] = contact
        self.plan.new_contacts.append(contact)
        self.report.counts["phones added"] += 1
        return contact

    def add_caregiver(
        self,
        patient: PatientState,
        entry: CaregiverEntry,
        known: CaregiverState | None,
        changes: list[str],
    ) -> None:
        if known is None:
            caregiver = CaregiverState(
                given_name=entry.given_name,
                family_name=entry.family_name,
                language=entry.language or patient.language,
                new=True,
                described=True,
            )
            self.plan.new_caregivers.append(caregiver)
            self.report.counts["caregivers created"] += 1
            changes.append(f"caregiver {caregiver.display_name} added")
        else:
            caregiver = known
            if not caregiver.described:
                # The first row of the file that names them says how they are spelled.
                caregiver.described = True
                renamed = (caregiver.given_name, caregiver.family_name) != (
                    entry.given_name,
                    entry.family_name,
                )
                relanguaged = entry.language is not None and entry.language != caregiver.language
                if renamed or relanguaged:
                    before = caregiver.display_name
                    caregiver.given_name, caregiver.family_name = (
                        entry.given_name,
                        entry.family_name,
                    )
                    if entry.language is not None:
                        caregiver.language = entry.language
                    if not caregiver.new and not caregiver.changed:
                        caregiver.changed = True
                        self.plan.changed_caregivers.append(caregiver)
                        self.report.counts["caregivers updated"] += 1
                    changes.append(
                        f"caregiver {before} -> {caregiver.display_name} "
                        f"({caregiver.language.value})"
                    )
        if entry.phone and self.snapshot.phones.get(entry.phone) is None:
            self.add_contact(entry.phone, entry.consent, caregiver=caregiver)
            changes.append(
                f"phone {entry.phone} added for {caregiver.display_name} ({entry.consent.value})"
            )
        link = patient.link_to(caregiver)
        if link is None:
            link = LinkState(
                caregiver=caregiver,
                relationship=entry.relationship,
                proxy=entry.may_answer_as_proxy,
                new=True,
            )
            patient.links.append(link)
            self.plan.new_links.append((patient, link))
            self.report.counts["caregiver links created"] += 1
            if known is not None:
                changes.append(f"linked to caregiver {caregiver.display_name}")
        elif (link.relationship, link.proxy) != (entry.relationship, entry.may_answer_as_proxy):
            changes.append(
                f"caregiver {caregiver.display_name}: {link.relationship.value}, "
                f"proxy {'yes' if link.proxy else 'no'} -> {entry.relationship.value}, "
                f"proxy {'yes' if entry.may_answer_as_proxy else 'no'}"
            )
            link.relationship, link.proxy = entry.relationship, entry.may_answer_as_proxy
            if not link.new and not link.changed:
                link.changed = True
                self.plan.changed_links.append((patient, link))
                self.report.counts["caregiver links updated"] += 1

    def add_visit(
        self,
        row: RosterRow,
        patient: PatientState,
        action: str,
        visit: VisitState | None,
        changes: list[str],
    ) -> None:
        if action in ("none", "same"):
            return
        zone = self.snapshot.center.time_zone
        assert row.visit_at is not None
        if action == "add":
            state = VisitState(
                patient=patient,
                starts_at=row.visit_at,
                status=VisitStatus.SCHEDULED,
                external_ref=row.visit_ref,
                new=True,
            )
            patient.visits.append(state)
            if row.visit_ref:
                self.snapshot.visits_by_ref[row.visit_ref] = state
            self.plan.new_visits.append(state)
            self.report.counts["visits created"] += 1
            name = f"visit {row.visit_ref}" if row.visit_ref else "visit"
            changes.append(f"{name} {local(row.visit_at, zone)} added")
        elif action == "move":
            assert visit is not None
            self.plan.moved_visits.append(VisitMove(visit, row.visit_at))
            self.report.counts["visits moved"] += 1
            changes.append(
                f"visit {row.visit_ref} moved {local(visit.starts_at, zone)} -> "
                f"{local(row.visit_at, zone)}"
            )
            visit.starts_at = row.visit_at
        else:
            self.note(row, action)

    def add_enrollments(self, row: RosterRow, patient: PatientState, changes: list[str]) -> None:
        for instrument_id in row.instruments:
            if instrument_id in patient.instruments:
                continue
            instrument = self.instruments[instrument_id]
            chosen = choose_respondent(patient, instrument, self.today(patient.time_zone))
            if chosen is None:
                self.report.counts["enrollments not possible"] += 1
                self.note(
                    row,
                    f"not enrolled in {instrument_id}: no phone can answer it "
                    f"({instrument.respondent.mode.value})",
                )
                continue
            contact, role = chosen
            patient.instruments.add(instrument_id)
            self.plan.new_enrollments.append(
                EnrollmentPlan(
                    patient=patient,
                    instrument_id=instrument_id,
                    contact=contact,
                    role=role,
                    schedule=self.schedule(instrument_id, patient.time_zone),
                )
            )
            self.report.counts["enrollments created"] += 1
            changes.append(f"enrolled in {instrument_id} ({role.value}, {contact.phone})")

    def run(self, rows: Iterable[RosterRow], progress: Callable[[int], None]) -> Plan:
        for done, row in enumerate(rows, start=1):
            try:
                self.add_row(row)
            except RowRejected as rejection:
                self.report.rejected.append(
                    RejectedRow(
                        row.line,
                        row.cells,
                        [RowProblem(row.line, rejection.column, rejection.reason)],
                    )
                )
            if done % 1000 == 0:
                progress(1000)
        return self.plan


# -- writing ---------------------------------------------------------------------------------
class PlanWriter:
    """Writes a plan in bulk, table by table, then lets the services move visits."""

    def __init__(self, plan: Plan, center: Center, now: datetime, progress: Callable[[int], None]):
        self.plan = plan
        self.center = center
        self.now = now
        self.writer = BulkWriter(db.session.connection(), progress)

    def write(self) -> None:
        plan, now, writer = self.plan, self.now, self.writer
        patients = table_of(Patient)
        writer.update(
            patients,
            [
                {
                    "id": p.id,
                    "updated_at": now,
                    **{
                        ("preferred_language" if name == "language" else name): value
                        for name, value in p.changed.items()
                    },
                }
                for p in plan.changed_patients
            ],
        )
        ids = writer.insert(
            patients,
            [
                {
                    "center_id": self.center.id,
                    "mrn": p.mrn,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "date_of_birth": p.date_of_birth,
                    "diagnosis": p.diagnosis,
                    "preferred_language": p.language,
                    "time_zone": None,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in plan.new_patients
            ],
            ids=True,
        )
        for patient, new_id in zip(plan.new_patients, ids, strict=True):
            patient.id = new_id
        self.write_caregivers()
        self.write_contacts()
        self.write_visits()
        self.write_enrollments()
        writer.analyze()

    def write_caregivers(self) -> None:
        plan, now, writer = self.plan, self.now, self.writer
        caregivers, links = table_of(Caregiver), table_of(CaregiverLink)
        writer.update(
            caregivers,
            [
                {
                    "id": c.id,
                    "given_name": c.given_name,
                    "family_name": c.family_name,
                    "preferred_language": c.language,
                }
                for c in plan.changed_caregivers
            ],
        )
        ids = writer.insert(
            caregivers,
            [
                {
                    "given_name": c.given_name,
                    "family_name": c.family_name,
                    "preferred_language": c.language,
                    "created_at": now,
                }
                for c in plan.new_caregivers
            ],
            ids=True,
        )
        for caregiver, new_id in zip(plan.new_caregivers, ids, strict=True):
            caregiver.id = new_id
        writer.insert(
            links,
            [
                {
                    "patient_id": patient.id,
                    "caregiver_id": link.caregiver.id,
                    "relationship_to_patient": link.relationship,
                    "may_answer_as_proxy": link.proxy,
                    "created_at": now,
                }
                for patient, link in plan.new_links
            ],
            ids=False,
        )
        writer.update(
            links,
            [
                {
                    "id": link.id,
                    "relationship_to_patient": link.relationship,
                    "may_answer_as_proxy": link.proxy,
                }
                for _, link in plan.changed_links
            ],
        )

    def write_contacts(self) -> None:
        plan, now, writer = self.plan, self.now, self.writer
        ids = writer.insert(
            table_of(Contact),
            [
                {
                    "phone": c.phone,
                    "patient_id": c.patient.id if c.patient is not None else None,
                    "caregiver_id": c.caregiver.id if c.caregiver is not None else None,
                    "sms_consent": c.consent,
                    "created_at": now,
                }
                for c in plan.new_contacts
            ],
            ids=True,
        )
        for contact, new_id in zip(plan.new_contacts, ids, strict=True):
            contact.id = new_id
        writer.insert(
            table_of(ConsentChange),
            [
                {
                    "contact_id": c.id,
                    "state": c.consent,
                    "method": ConsentMethod.IMPORT,
                    "consent_text_version": CURRENT_CONSENT_TEXT_VERSION,
                    "changed_at": now,
                    "recorded_by_id": None,
                    "note": "roster import",
                }
                for c in plan.new_contacts
            ],
            ids=False,
        )

    def write_visits(self) -> None:
        plan, now = self.plan, self.now
        ids = self.writer.insert(
            table_of(Visit),
            [
                {
                    "patient_id": v.patient.id,
                    "center_id": self.center.id,
                    "starts_at": v.starts_at,
                    "clinician_id": None,
                    "status": VisitStatus.SCHEDULED,
                    "external_ref": v.external_ref,
                    "created_at": now,
                }
                for v in plan.new_visits
            ],
            ids=True,
        )
        for visit, new_id in zip(plan.new_visits, ids, strict=True):
            visit.id = new_id
        for move in plan.moved_visits:
            row = db.session.get(Visit, move.visit.id)
            assert row is not None
            move_visit(row, move.starts_at, now=now)
        db.session.flush()
        # Existing pre-visit enrollments learn of the new visits (moves did so already).
        moved = {v.patient.id for v in plan.new_visits if not v.patient.new}
        for patient_id in sorted(pid for pid in moved if pid is not None):
            reschedule_before_visit(patient_id, now)
        db.session.flush()

    def write_enrollments(self) -> None:
        plan, now = self.plan, self.now
        recurring: dict[Schedule, datetime | None] = {}
        rows = []
        for e in plan.new_enrollments:
            schedule = e.schedule
            next_visit_id = None
            if schedule.kind is ScheduleKind.BEFORE_VISIT:
                next_due_at, next_visit_id = self.first_visit_due(e.patient, schedule)
            else:
                if schedule not in recurring:
                    recurring[schedule] = next_due(schedule, now)
                next_due_at = recurring[schedule]
            rows.append(
                {
                    "patient_id": e.patient.id,
                    "instrument_id": e.instrument_id,
                    "contact_id": e.contact.id,
                    "respondent_role": e.role,
                    "status": EnrollmentStatus.ACTIVE,
                    "time_zone": schedule.time_zone,
                    "kind": schedule.kind,
                    "weekdays": ",".join(schedule.weekdays) if schedule.weekdays else None,
                    "every_weeks": schedule.every_weeks,
                    "local_time": schedule.local_time,
                    "starts_on": schedule.starts_on,
                    "ends_on": schedule.ends_on,
                    "minutes_before_visit": schedule.minutes_before_visit,
                    "once_at": schedule.once_at,
                    "next_due_at": next_due_at,
                    "next_visit_id": next_visit_id,
                    "last_due_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self.writer.insert(table_of(Enrollment), rows, ids=False)

    def first_visit_due(
        self, patient: PatientState, schedule: Schedule
    ) -> tuple[datetime | None, int | None]:
        """As ``next_visit_due`` with catch-up, for an enrollment that has no check-ins yet."""
        upcoming = sorted(
            (
                v
                for v in patient.visits
                if v.status is VisitStatus.SCHEDULED and v.starts_at > self.now
            ),
            key=lambda v: v.starts_at,
        )
        if not upcoming:
            return None, None
        first = upcoming[0]
        assert schedule.minutes_before_visit is not None
        due = due_before_visit(first.starts_at, schedule.minutes_before_visit, schedule.time_zone)
        return (due if due > self.now else self.now), first.id


# -- the whole import ------------------------------------------------------------------------
def loaded_instruments(mapping: RosterMapping, center: Center) -> dict[str, Instrument]:
    """Every instrument the mapping schedules, loaded, with its schedule valid at the center."""
    found: dict[str, Instrument] = {}
    problems = []
    for instrument_id in mapping.schedules:
        place = f"mapping {mapping.name}: enrollments.schedules.{instrument_id}"
        try:
            found[instrument_id] = find_instrument(instrument_id)
            mapping.schedule_for(instrument_id, center.time_zone).check()
        except InvalidInput as error:
            problems.append(f"{place}: {error.value!r} {error.reason}")
    if problems:
        raise RosterRefused(problems)
    return found


def import_roster(
    path: Path,
    center_code: str,
    mapping: RosterMapping,
    *,
    now: datetime | None = None,
    progress: Progress = no_progress,
) -> ImportReport:
    """Read, compare and write one roster in the caller's transaction; the caller commits."""
    # Millions of small objects that all live until the end: the cyclic collector would
    # walk them again and again for nothing (a third of the time at 100,000 rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import_roster(path, center_code, mapping, now=now, progress=progress)
    finally:
        if collecting:
            gc.enable()


def _import_roster(
    path: Path,
    center_code: str,
    mapping: RosterMapping,
    *,
    now: datetime | None,
    progress: Progress,
) -> ImportReport:
    now = now or utcnow()
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        report.seconds[step] = time.perf_counter() - clock
        clock = time.perf_counter()

    center = get_center(center_code)
    instruments = loaded_instruments(mapping, center)
    today = now.astimezone(center.zone).date()
    roster = read_roster(path, mapping, time_zone=center.time_zone, today=today, progress=progress)
    report = ImportReport(
        roster=roster.name,
        center=center.code,
        mapping=mapping.name,
        header=roster.header,
        rows=roster.row_count,
    )
    report.rejected.extend(roster.rejected)
    lap("reading")
    db.session.flush()
    snapshot = Snapshot(center, roster, now)
    lap("loading")
    planner = Planner(snapshot, roster.mapping, instruments, now, report)
    with progress("comparing", len(roster.rows)) as advance:
        plan = planner.run(roster.rows, advance)
        advance(len(roster.rows) % 1000)
    report.rejected.sort(key=lambda rejected: rejected.line)
    lap("comparing")
    with progress("writing", plan.size()) as advance:
        PlanWriter(plan, center, now, advance).write()
    lap("writing")
    return report
