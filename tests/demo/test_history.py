"""``flask engage demo --history``: eight answered weeks per demo patient, for the charts."""

from datetime import UTC, datetime

import sqlalchemy as sa

from engage.conversations.models import CheckIn, CheckInScore, CheckInStatus
from engage.demo.history import WEEKS, seed_history
from engage.demo.seed import seed_demo
from engage.messaging.models import Message, MessageStatus
from engage.people.models import Patient
from engage.review.summaries import patient_summary

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_every_demo_patient_gets_weeks_of_answered_check_ins_once(session):
    seed_demo()
    added = seed_history(now=NOW)
    session.commit()
    patients = session.scalars(sa.select(Patient)).all()
    assert added["past check-ins"] == len(WEEKS) * len(patients)
    for patient in patients:
        checkins = session.scalars(sa.select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
        assert [c.status for c in checkins] == [CheckInStatus.COMPLETED] * len(WEEKS), patient.mrn
        assert all(c.opened_at < NOW for c in checkins)
    assert session.scalar(sa.select(sa.func.count()).select_from(CheckInScore)) > 0
    assert not session.scalars(
        sa.select(Message).where(Message.status == MessageStatus.QUEUED)
    ).all()  # the past was sent in the past: nothing waits in the outbox
    assert seed_history(now=NOW) == {}


def test_every_center_shares_the_same_past_mondays_when_new_york_is_a_day_ahead(session):
    """Monday 05:30 UTC: Monday in New York, still Sunday in Los Angeles."""
    monday_early = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)
    seed_demo()
    seed_history(now=monday_early)
    session.commit()
    days = {}
    for patient in session.scalars(sa.select(Patient)).all():
        checkins = session.scalars(sa.select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
        days[patient.mrn] = sorted(c.opened_at.astimezone(patient.zone).date() for c in checkins)
        assert all(c.opened_at < monday_early for c in checkins), patient.mrn
    assert len({tuple(d) for d in days.values()}) == 1, days
    assert {day.weekday() for day in next(iter(days.values()))} == {0}


def test_the_charts_have_a_point_per_week_across_bands(session):
    seed_demo()
    seed_history(now=NOW)
    session.commit()
    noah = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
    summary = patient_summary(noah.id, now=NOW)
    [series] = [s for s in summary.series if s.instrument_id == "ibd-symptoms"]
    assert len(series.points) == len(WEEKS)
    assert len({p.band_id for p in series.points}) >= 2
