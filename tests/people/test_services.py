from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from engage.errors import InvalidInput
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import (
    ConsentMethod,
    ConsentState,
    Contact,
    Language,
    Relationship,
)
from engage.people.services import (
    add_caregiver,
    add_contact,
    link_caregiver,
    record_consent,
)


def test_duplicate_mrn_in_a_center_is_refused_with_field_and_value(make_center, make_patient):
    center = make_center(code="EAST")
    make_patient(center, mrn="E-1001")
    with pytest.raises(InvalidInput) as refused:
        make_patient(center, mrn=" E-1001 ")
    assert refused.value.field == "mrn"
    assert str(refused.value) == "mrn: 'E-1001' is already the MRN of another patient at EAST"


def test_the_same_mrn_may_exist_at_another_center(make_center, make_patient):
    make_patient(make_center(), mrn="1001")
    assert make_patient(make_center(), mrn="1001").mrn == "1001"


def test_the_database_also_refuses_a_duplicate_mrn(session, make_center, make_patient):
    center = make_center()
    first = make_patient(center, mrn="X-1")
    second = make_patient(center, mrn="X-2")
    second.mrn = first.mrn
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_patient_time_zone_defaults_to_the_center(make_center, make_patient):
    center = make_center(time_zone="America/Denver")
    patient = make_patient(center)
    assert patient.time_zone is None
    assert patient.effective_time_zone == "America/Denver"
    travelling = make_patient(center, time_zone="Europe/Madrid")
    assert travelling.zone.key == "Europe/Madrid"


def test_unknown_patient_time_zone_is_refused(make_patient):
    with pytest.raises(InvalidInput, match="time_zone: 'Europe/Atlantis'"):
        make_patient(time_zone="Europe/Atlantis")


def test_date_of_birth_in_the_future_is_refused(make_patient):
    with pytest.raises(InvalidInput, match="date_of_birth: '2031-01-01' is in the future"):
        make_patient(date_of_birth=date(2031, 1, 1), today=date(2026, 11, 29))


def test_age_counts_whole_years(make_patient):
    patient = make_patient(date_of_birth=date(2012, 2, 29))
    assert patient.age_on(date(2026, 2, 28)) == 13
    assert patient.age_on(date(2026, 3, 1)) == 14


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+16175550101", "+16175550101"),
        ("(617) 555-0102", "+16175550102"),
        ("617.555.0103", "+16175550103"),
        ("+34 612 34 56 78", "+34612345678"),
    ],
)
def test_phones_are_stored_in_e164(make_patient, given, stored):
    assert add_contact(make_patient(), given).phone == stored


@pytest.mark.parametrize("given", ["555-0101", "+1 555", "call me", "", "+1617555010"])
def test_invalid_phone_numbers_are_refused_with_field_and_value(make_patient, given):
    with pytest.raises(InvalidInput) as refused:
        add_contact(make_patient(), given)
    assert refused.value.field == "phone"
    assert repr(given) in str(refused.value)


def test_a_number_reaches_one_person_only(make_patient):
    add_contact(make_patient(), "+16175550101")
    with pytest.raises(InvalidInput, match="already belongs to another patient or caregiver"):
        add_contact(make_patient(), "617-555-0101")


def test_a_contact_has_exactly_one_owner_in_the_database(session):
    session.add(Contact(phone="+16175550150"))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_one_caregiver_phone_for_two_children(make_center, make_patient):
    center = make_center()
    older, younger = make_patient(center), make_patient(center)
    parent = add_caregiver(given_name="Laura", family_name="T", preferred_language=Language.SPANISH)
    phone = add_contact(parent, "+16175550111")
    for child in (older, younger):
        link_caregiver(parent, child, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    # Linking again updates the tie instead of adding a second one.
    link_caregiver(parent, older, relationship=Relationship.GUARDIAN, may_answer_as_proxy=False)

    assert phone.caregiver is parent and phone.patient is None
    assert {link.patient for link in parent.patient_links} == {older, younger}
    assert len(older.caregiver_links) == 1
    assert older.caregiver_links[0].relationship_to_patient is Relationship.GUARDIAN
    assert older.caregiver_links[0].may_answer_as_proxy is False


def test_consent_changes_are_kept_as_history(session, make_patient):
    contact = add_contact(make_patient(), "+16175550120")
    assert contact.sms_consent is ConsentState.PENDING
    granted_at = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    record_consent(
        contact,
        ConsentState.GRANTED,
        method=ConsentMethod.IMPORT,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
        at=granted_at,
    )
    record_consent(
        contact,
        ConsentState.WITHDRAWN,
        method=ConsentMethod.KEYWORD,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
        note="STOP",
    )
    session.flush()
    session.expire_all()

    assert contact.sms_consent is ConsentState.WITHDRAWN
    history = [(c.state, c.method, c.consent_text_version) for c in contact.consent_history]
    assert history == [
        (ConsentState.GRANTED, ConsentMethod.IMPORT, CURRENT_CONSENT_TEXT_VERSION),
        (ConsentState.WITHDRAWN, ConsentMethod.KEYWORD, CURRENT_CONSENT_TEXT_VERSION),
    ]
    assert contact.consent_history[0].changed_at == granted_at


def test_consent_under_an_unknown_text_version_is_refused(make_patient):
    contact = add_contact(make_patient(), "+16175550121")
    with pytest.raises(InvalidInput, match="consent_text_version: '1999-01'"):
        record_consent(
            contact,
            ConsentState.GRANTED,
            method=ConsentMethod.STAFF,
            consent_text_version="1999-01",
        )
