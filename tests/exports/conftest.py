"""Identifiable data to export: the demo, its history, and families whose details are spelled
out in free text (names, phones, e-mails, an address) where a careless export would leak them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.alerts.services import acknowledge_alert
from engage.codesign.models import IdeaChannel, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import add_comment, add_tag, change_status, vote
from engage.conversations.services import InboundSms, handle_inbound, open_checkin
from engage.demo.history import seed_history
from engage.demo.seed import seed_demo
from engage.instruments.services import get_instrument
from engage.network.services import find_center, find_staff_user
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentMethod, ConsentState, Diagnosis, Relationship
from engage.people.services import (
    add_caregiver,
    add_contact,
    add_patient,
    link_caregiver,
    record_consent,
)

KEY = "registry-test-key-5f0c2e7b9d4a4c0f8e1b3a6d2c9f7e10"
OTHER_KEY = "another-registry-key-0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"
HISTORY_NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PREVISIT_AT = datetime(2026, 2, 25, 17, 23, tzinfo=UTC)
IDEA_AT = datetime(2026, 2, 26, 20, 41, tzinfo=UTC)

ZEPHYRINE = {
    "mrn": "QX-998877",
    "given_name": "Zephyrine",
    "family_name": "Quillfeather",
    "date_of_birth": date(2010, 10, 31),
    "phone": "+16175550177",
}
BARTHOLOMEW = {"given_name": "Bartholomew", "family_name": "Quillfeather", "phone": "+16175550178"}
IGNATIUS = {  # 90 and over: his age is grouped and his birth year withheld
    "mrn": "OLD-90001",
    "given_name": "Ignatius",
    "family_name": "Oldcastle",
    "date_of_birth": date(1931, 2, 14),
}
ADDRESS = "42 Wallaby Way"
EMAIL = "zephyrine.q@example.com"
PREVISIT_REPLIES = (
    "yes",
    f"Zephyrine fell off her bike near {ADDRESS}, call Bartholomew at 617-555-0178",
    "3",  # three or more missed doses: a red flag, so an alert
    f"email {EMAIL} or call (617) 555-0177 about Zephyrine Quillfeather",
    "SKIP",
)
IDEA_TEXT = (
    f"Parking near {ADDRESS} for families like ours. Zephyrine Quillfeather, "
    f"{EMAIL}, 617 555 0177, MRN QX-998877"
)


@dataclass(frozen=True)
class Seeded:
    zephyrine_id: int
    ignatius_id: int


@pytest.fixture
def identifiable(session: Any) -> Seeded:
    """The demo with eight weeks of history, plus the Quillfeathers and Mr Oldcastle."""
    seed_demo(today=HISTORY_NOW.date())
    seed_history(now=HISTORY_NOW)
    east, west = find_center("EAST"), find_center("WEST")
    assert east is not None and west is not None
    clinician = find_staff_user("ana.rivera@east.example.org")
    reviewer = find_staff_user("jordan.lee@network.example.org")
    assert clinician is not None and reviewer is not None

    phone = ZEPHYRINE["phone"]
    zephyrine = add_patient(
        east,
        diagnosis=Diagnosis.CROHNS_DISEASE,
        **{k: v for k, v in ZEPHYRINE.items() if k != "phone"},
    )
    own = add_contact(zephyrine, phone)
    parent = add_caregiver(
        given_name=BARTHOLOMEW["given_name"], family_name=BARTHOLOMEW["family_name"]
    )
    parents_phone = add_contact(parent, BARTHOLOMEW["phone"])
    link_caregiver(parent, zephyrine, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    for contact in (own, parents_phone):
        record_consent(
            contact,
            ConsentState.GRANTED,
            method=ConsentMethod.STAFF,
            consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
            recorded_by=clinician,
            note="Consent from Bartholomew Quillfeather in clinic",
            at=PREVISIT_AT - timedelta(days=30),
        )
    ignatius = add_patient(
        west, diagnosis=Diagnosis.ULCERATIVE_COLITIS, **IGNATIUS, today=HISTORY_NOW.date()
    )

    checkin = open_checkin(zephyrine, get_instrument("previsit"), now=PREVISIT_AT)
    session.flush()
    for minute, text in enumerate(PREVISIT_REPLIES, start=1):
        handle_inbound(
            InboundSms(f"SM{checkin.id:06d}quill{minute:02d}", phone, text),
            now=PREVISIT_AT + timedelta(minutes=minute),
        )
    alert = session.scalar(sa.select(Alert).where(Alert.checkin_id == checkin.id))
    assert alert is not None, "three or more missed doses raises an alert"
    acknowledge_alert(
        alert,
        clinician,
        "Called Bartholomew Quillfeather at 617-555-0178",
        now=PREVISIT_AT + timedelta(hours=5, minutes=30),
    )

    idea = submit_idea(
        IDEA_TEXT,
        contact=own,
        channel=IdeaChannel.SMS,
        who_it_helps="Kids like Zephyrine at 42 Wallaby Way",
        now=IDEA_AT,
    )
    change_status(
        idea,
        IdeaStatus.UNDER_REVIEW,
        rationale="Bartholomew Quillfeather asked about this in clinic",
        by=reviewer,
        now=IDEA_AT + timedelta(days=2),
    )
    add_comment(idea, reviewer, "Zephyrine's family at 42 Wallaby Way", now=IDEA_AT)
    add_tag(idea, "quillfeather")
    vote(idea, reviewer, now=IDEA_AT)
    session.commit()
    return Seeded(zephyrine_id=zephyrine.id, ignatius_id=ignatius.id)
