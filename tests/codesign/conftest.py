"""A family at one center, reviewers at that center and elsewhere, and a way to send ideas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from engage.codesign.models import Idea, IdeaChannel
from engage.codesign.services import submit_idea
from engage.network.models import Center, StaffRole, StaffUser
from engage.network.services import add_staff_user
from engage.people.models import (
    Caregiver,
    Contact,
    Language,
    Patient,
    Relationship,
)
from engage.people.services import add_caregiver, link_caregiver
from tests.conftest import consenting_phone

NOON = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # noon in Boston, a Wednesday


@dataclass
class Family:
    center: Center
    child: Patient
    child_phone: Contact
    parent: Caregiver
    parent_phone: Contact


@pytest.fixture
def make_family(make_center: Callable[..., Center], make_patient: Callable[..., Patient]):
    phones = iter(range(100, 10_000))

    def make(
        center: Center | None = None,
        child: str = "Mateo Alvarez",
        parent: str = "Lucia Alvarez",
        language: Language = Language.ENGLISH,
    ) -> Family:
        center = center or make_center()
        child_given, child_family = child.split(" ", 1)
        parent_given, parent_family = parent.split(" ", 1)
        patient = make_patient(center, given_name=child_given, family_name=child_family)
        caregiver = add_caregiver(
            given_name=parent_given, family_name=parent_family, preferred_language=language
        )
        link_caregiver(
            caregiver, patient, relationship=Relationship.PARENT, may_answer_as_proxy=True
        )
        contacts = []
        for owner in (patient, caregiver):
            contacts.append(consenting_phone(owner, f"+1617555{next(phones):04d}"))
        return Family(center, patient, contacts[0], caregiver, contacts[1])

    return make


@pytest.fixture
def family(make_family: Callable[..., Family], make_center: Callable[..., Center]) -> Family:
    return make_family(make_center(code="EAST", name="East Children's"))


@pytest.fixture
def make_staff(session: Any) -> Callable[..., StaffUser]:
    counter = iter(range(1, 10_000))

    def make(
        role: StaffRole = StaffRole.NETWORK_REVIEWER, centers: tuple[Center, ...] = (), **kw: Any
    ) -> StaffUser:
        n = next(counter)
        user = add_staff_user(
            email=f"staff{n}@example.org",
            full_name=kw.pop("full_name", f"Staff Member {n}"),
            role=role,
            centers=centers,
        )
        for key, value in kw.items():
            setattr(user, key, value)
        return user

    return make


@pytest.fixture
def reviewer(make_staff: Callable[..., StaffUser]) -> StaffUser:
    return make_staff(full_name="Jordan Lee")


@pytest.fixture
def send_idea(family: Family) -> Callable[..., Idea]:
    def send(
        text: str = "Text us lab results instead of the portal",
        contact: Contact | None = None,
        **kw: Any,
    ) -> Idea:
        return submit_idea(
            text,
            contact=contact or family.parent_phone,
            channel=kw.pop("channel", IdeaChannel.APP),
            **kw,
        )

    return send
