"""``flask engage enroll …`` and ``flask engage visit …``."""

import pytest
import sqlalchemy as sa

from engage.demo.seed import seed_demo
from engage.scheduling.models import Enrollment, EnrollmentStatus
from tests.conversations.conftest import LAURA


@pytest.fixture
def demo(session):
    seed_demo()
    session.commit()


def invoke(runner, *args, **kw):
    result = runner.invoke(args=["engage", *args], **kw)
    assert "Traceback" not in result.output
    return result


def test_the_demo_enrolls_everyone_weekly_and_before_visits(runner, demo):
    result = invoke(runner, "enroll", "list", "E-1001")
    assert result.exit_code == 0, result.output
    assert "E-1001 ibd-symptoms (active), Mon at 18:00 (America/New_York)" in result.output
    assert f"answered by {LAURA} (proxy)" in result.output
    assert "E-1001 previsit (active), 2 days before each visit" in result.output


def test_enroll_add_change_pause_resume_end(runner, demo, session):
    added = invoke(
        runner, "enroll", "add", "E-1002", "ibd-wellbeing", "--weekly", "tue,fri", "--at", "7pm"
    )
    assert added.exit_code == 0, added.output
    assert "Tue and Fri at 19:00 (America/New_York)" in added.output
    enrollment_id = session.scalar(
        sa.select(Enrollment.id)
        .where(Enrollment.instrument_id == "ibd-wellbeing")
        .join(Enrollment.patient)
        .where(sa.text("patients.mrn = 'E-1002'"))
    )
    changed = invoke(runner, "enroll", "change", str(enrollment_id), "--time-zone", "Europe/Berlin")
    assert "Tue and Fri at 19:00 (Europe/Berlin)" in changed.output
    changed = invoke(
        runner,
        "enroll",
        "change",
        str(enrollment_id),
        "--every-weeks",
        "2",
        "--on",
        "sat",
        "--at",
        "09:30",
        "--starts",
        "2026-12-05",
    )
    assert "every 2 weeks on Sat at 09:30" in changed.output, changed.output
    assert "next: 2026-12-05 09:30" in changed.output or "next: 2026-12-19 09:30" in changed.output
    assert "(paused)" in invoke(runner, "enroll", "pause", str(enrollment_id)).output
    assert "(active)" in invoke(runner, "enroll", "resume", str(enrollment_id)).output
    ended = invoke(runner, "enroll", "end", str(enrollment_id))
    assert "(ended)" in ended.output and "next: nothing due" in ended.output
    session.expire_all()
    assert session.get(Enrollment, enrollment_id).status is EnrollmentStatus.ENDED


def test_enroll_refuses_bad_input_by_name(runner, demo):
    none = invoke(runner, "enroll", "add", "E-1002", "ibd-wellbeing")
    assert none.exit_code == 1
    assert "schedule: 'none' give exactly one of --daily" in none.output
    bad_day = invoke(
        runner,
        "enroll",
        "add",
        "E-1002",
        "ibd-wellbeing",
        "--weekly",
        "mon,funday",
        "--at",
        "18:00",
    )
    assert "weekdays:" in bad_day.output and "funday" in bad_day.output
    no_time = invoke(runner, "enroll", "add", "E-1002", "ibd-wellbeing", "--daily")
    assert "at: '' a recurring schedule needs --at HH:MM" in no_time.output
    twice = invoke(runner, "enroll", "add", "E-1002", "ibd-symptoms", "--daily", "--at", "18:00")
    assert "already has enrollment" in twice.output
    zone = invoke(
        runner,
        "enroll",
        "add",
        "E-1002",
        "ibd-wellbeing",
        "--daily",
        "--at",
        "18:00",
        "--time-zone",
        "Mars/Olympus",
    )
    assert "time_zone: 'Mars/Olympus'" in zone.output
    unknown = invoke(runner, "enroll", "pause", "99999")
    assert "enrollment: '99999' is not a known enrollment" in unknown.output
    duration = invoke(runner, "enroll", "add", "E-1002", "ibd-wellbeing", "--before-visit", "soon")
    assert "before_visit: 'soon' is not a duration such as 2d, 36h or 90m" in duration.output


def test_visit_add_move_cancel_reschedules_the_pre_visit_check_in(runner, demo, session):
    added = invoke(runner, "visit", "add", "E-1002", "--at", "2027-01-20 10:00", "--ref", "V-9")
    assert added.exit_code == 0, added.output
    visit_id = added.output.split()[1].rstrip(":")
    listed = invoke(runner, "visit", "list", "E-1002")
    assert "2027-01-20 10:00 EST (scheduled)" in listed.output
    moved = invoke(runner, "visit", "move", visit_id, "--at", "2027-01-27 11:15")
    assert "2027-01-27 11:15 EST (scheduled)" in moved.output
    cancelled = invoke(runner, "visit", "cancel", visit_id)
    assert "(cancelled)" in cancelled.output
    bad = invoke(runner, "visit", "move", visit_id, "--at", "next tuesday")
    assert "is not a time in the form 'YYYY-MM-DD HH:MM'" in bad.output
