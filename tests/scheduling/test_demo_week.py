"""The demo's families get their weekly check-in in the local outbox at 18:00 their time."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engage.conversations.models import CheckIn, CheckInStatus
from engage.demo.seed import seed_demo
from engage.messaging.models import Message, MessageStatus
from engage.scheduling.models import Enrollment


def test_every_demo_patient_gets_the_weekly_check_in_at_six_in_the_evening_local(
    session, dispatch, runner
):
    seed_demo()
    session.commit()
    weekly = list(
        session.scalars(sa.select(Enrollment).where(Enrollment.instrument_id == "ibd-symptoms"))
    )
    assert len(weekly) == 6
    for enrollment in weekly:
        local = enrollment.next_due_at.astimezone(ZoneInfo(enrollment.time_zone))
        assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 18, 0)

    due_times = {e.id: e.next_due_at for e in weekly}
    for due in sorted(set(due_times.values())):
        dispatch(due - timedelta(seconds=1))
        before = session.scalar(sa.select(sa.func.count()).select_from(CheckIn))
        dispatch(due + timedelta(seconds=5))
        after = session.scalar(sa.select(sa.func.count()).select_from(CheckIn))
        assert after - before == sum(1 for t in due_times.values() if t == due)

    opened = session.scalars(
        sa.select(CheckIn).where(CheckIn.enrollment_id.in_(list(due_times)))
    ).all()
    assert len(opened) == 6
    # A phone already answering another check-in (a pre-visit one, say) keeps this one waiting.
    for checkin in opened:
        if checkin.status is CheckInStatus.DUE:
            busy = session.scalar(
                sa.select(sa.func.count())
                .select_from(CheckIn)
                .where(CheckIn.contact_id == checkin.contact_id, CheckIn.status == "sent")
            )
            assert busy == 1
        else:
            assert checkin.status is CheckInStatus.SENT
    opened = [c for c in opened if c.status is CheckInStatus.SENT]
    queued = session.scalars(
        sa.select(Message).where(
            Message.checkin_id.in_([c.id for c in opened]), Message.status == MessageStatus.QUEUED
        )
    ).all()
    assert {m.checkin_id for m in queued} == {c.id for c in opened}
    listing = runner.invoke(args=["engage", "outbox"])
    assert listing.exit_code == 0, listing.output
    assert "+16175550102" in listing.output  # Noah's first question waits in the local outbox
