import re
from datetime import date

import sqlalchemy as sa

from engage.db import Base, utcnow
from engage.network.models import Center, StaffRole, StaffUser
from engage.people.models import ConsentState, Contact, Diagnosis, Patient
from engage.visits.models import Visit

FICTION_RANGE = re.compile(r"^\+1\d{3}55501\d\d$")


def snapshot(session) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    rows = {}
    for table in Base.metadata.sorted_tables:
        result = session.execute(sa.select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(row) for row in result]
    return rows


def test_demo_twice_leaves_the_same_data(runner, session):
    first = runner.invoke(args=["engage", "demo"])
    assert first.exit_code == 0, first.output
    assert "demo network seeded" in first.output
    after_first = snapshot(session)

    second = runner.invoke(args=["engage", "demo"])
    assert second.exit_code == 0, second.output
    assert "nothing added" in second.output
    assert snapshot(session) == after_first
    assert after_first["patients"], "the demo seeded no patients"


def test_demo_network_has_what_the_demo_promises(runner, session):
    assert runner.invoke(args=["engage", "demo"]).exit_code == 0

    centers = session.scalars(sa.select(Center)).all()
    assert {c.time_zone for c in centers} == {"America/New_York", "America/Los_Angeles"}

    staff = session.scalars(sa.select(StaffUser)).all()
    roles = sorted(user.role for user in staff)
    assert roles.count(StaffRole.CLINICIAN) == 2
    assert StaffRole.NETWORK_REVIEWER in roles and StaffRole.ADMIN in roles
    for center in centers:
        assert any(u.role is StaffRole.CLINICIAN for u in center.staff), center.code

    patients = session.scalars(sa.select(Patient)).all()
    assert len(patients) == 6
    assert {Diagnosis.CROHNS_DISEASE, Diagnosis.ULCERATIVE_COLITIS} <= {
        p.diagnosis for p in patients
    }
    today = date.today()
    ages = sorted(p.age_on(today) for p in patients)
    assert len(set(ages)) == 6, ages

    answered_by_parent = [
        p
        for p in patients
        if not p.contacts and any(link.may_answer_as_proxy for link in p.caregiver_links)
    ]
    assert len(answered_by_parent) == 2
    assert all(p.age_on(today) < 10 for p in answered_by_parent)

    contacts = session.scalars(sa.select(Contact)).all()
    assert contacts and all(FICTION_RANGE.match(c.phone) for c in contacts)
    assert all(c.sms_consent is ConsentState.GRANTED for c in contacts)

    visits = session.scalars(sa.select(Visit)).all()
    assert len(visits) >= 3
    assert all(v.starts_at > utcnow() for v in visits)
    assert all(v.clinician in v.center.staff for v in visits)
