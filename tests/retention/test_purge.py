"""The retention purge: each kind goes once old enough and stays until then; answers stay."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.audit.models import AuditEvent
from engage.auth.models import SignInAttempt
from engage.conversations.models import (
    Answer,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    ContactConversation,
    PendingQuestion,
)
from engage.conversations.services import InboundSms, handle_inbound, open_checkin
from engage.instruments.services import get_instrument
from engage.messaging.models import Direction, EarlyStatusCallback, Message
from engage.mobile.models import AppToken, SignInCode, TokenKind
from engage.people.models import Patient
from engage.people.services import find_contact
from engage.retention.services import AUDIT_ACTION, purge_expired_data
from tests.retention.conftest import SEEDED

DAY = timedelta(days=1)
NOW_NONE = SEEDED + 20 * DAY  # the oldest seeded text is about 82 days old: under 90
NOW_SOME = SEEDED + 45 * DAY  # the 90-day cut-off falls inside the eight seeded weeks
NOW_ALL = SEEDED + 200 * DAY  # every seeded text is far older than 90 days
NOAH = "+16175550102"  # a demo patient's own phone
STRANGER = "+15085550177"  # a number engage does not know


def inbound(session):
    return session.execute(
        sa.select(Message.id, Message.body, Message.body_purged_at, Message.created_at)
        .where(Message.direction == Direction.INBOUND)
        .order_by(Message.id)
    ).all()


def body_of(session, sid):
    return session.scalar(sa.select(Message.body).where(Message.twilio_sid == sid))


def test_the_defaults_keep_texts_90_days_and_sign_in_records_30(app):
    assert app.config["RETENTION_INBOUND_BODY_DAYS"] == 90
    assert app.config["RETENTION_SESSION_DAYS"] == 30


def test_inbound_bodies_are_emptied_once_older_than_the_setting(old_history, session):
    assert purge_expired_data(NOW_NONE).counts["inbound_bodies"] == 0
    session.commit()
    assert all(row.body and row.body_purged_at is None for row in inbound(session))

    report = purge_expired_data(NOW_SOME)
    session.commit()
    cutoff = NOW_SOME - 90 * DAY
    rows = inbound(session)
    old = [row for row in rows if row.created_at < cutoff]
    assert 0 < len(old) < len(rows), "the cut-off should split the seeded history"
    for row in rows:
        if row.created_at < cutoff:
            assert (row.body, row.body_purged_at) == ("", NOW_SOME)
        else:
            assert row.body and row.body_purged_at is None
    assert report.counts["inbound_bodies"] == len(old)
    [inbound_kind] = [k for k in report.kinds if k.kind == "inbound_bodies"]
    assert inbound_kind.cutoff == cutoff


def test_the_setting_decides_how_old_is_old(old_history, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_INBOUND_BODY_DAYS", 10)
    report = purge_expired_data(NOW_NONE)
    session.commit()
    assert report.counts["inbound_bodies"] == len(inbound(session))
    assert all(row.body == "" for row in inbound(session))


def test_answers_scores_and_alerts_survive_a_body_purge(old_history, session):
    answer_columns = (
        Answer.id,
        Answer.checkin_id,
        Answer.item_id,
        Answer.status,
        Answer.value,
        Answer.message_id,
        Answer.contact_id,
        Answer.answered_at,
    )
    answers = session.execute(sa.select(*answer_columns).order_by(Answer.id)).all()
    scores = session.execute(sa.select(CheckInScore.__table__).order_by(CheckInScore.id)).all()
    alerts = session.execute(sa.select(Alert.__table__).order_by(Alert.id)).all()
    checkins = session.execute(sa.select(CheckIn.__table__).order_by(CheckIn.id)).all()
    assert answers and scores
    assert all(raw for raw in session.scalars(sa.select(Answer.raw_text)))

    report = purge_expired_data(NOW_ALL)
    session.commit()

    assert session.execute(sa.select(*answer_columns).order_by(Answer.id)).all() == answers
    assert session.execute(sa.select(CheckInScore.__table__).order_by(CheckInScore.id)).all() == (
        scores
    )
    assert session.execute(sa.select(Alert.__table__).order_by(Alert.id)).all() == alerts
    assert session.execute(sa.select(CheckIn.__table__).order_by(CheckIn.id)).all() == checkins
    # The respondent's words, a copy of the purged body, go with it; the parsed value stays.
    assert set(session.scalars(sa.select(Answer.raw_text))) == {None}
    assert report.counts["answer_raw_texts"] == len(answers)


def test_texts_of_an_open_checkin_stay_until_it_closes(old_history, session):
    noah = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
    checkin = open_checkin(noah, get_instrument("ibd-symptoms"), now=SEEDED)
    handle_inbound(InboundSms("SMOPEN00000001", NOAH, "2"), now=SEEDED + timedelta(minutes=3))
    session.commit()
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.IN_PROGRESS

    purge_expired_data(NOW_ALL)
    session.commit()
    assert body_of(session, "SMOPEN00000001") == "2"
    assert session.scalars(
        sa.select(Answer.raw_text).where(Answer.checkin_id == checkin.id)
    ).all() == ["2"]

    session.get(CheckIn, checkin.id).status = CheckInStatus.EXPIRED
    session.commit()
    report = purge_expired_data(NOW_ALL)
    session.commit()
    assert body_of(session, "SMOPEN00000001") == ""
    assert report.counts == {
        "inbound_bodies": 1,
        "answer_raw_texts": 1,
        "held_texts": 0,
        "sign_in_codes": 0,
        "app_tokens": 0,
        "early_status_callbacks": 0,
        "sign_in_attempts": 0,
    }


def test_texts_outside_check_ins_go_too_and_a_retry_still_gets_its_reply(old_history, session):
    first_reply = handle_inbound(InboundSms("SMSTRANGER0001", STRANGER, "who is this"), now=SEEDED)
    handle_inbound(InboundSms("SMKEYWORD00001", NOAH, "HELP"), now=SEEDED)
    handle_inbound(InboundSms("SMRECENT000001", STRANGER, "hello?"), now=NOW_ALL - DAY)
    session.commit()
    assert first_reply, "a stranger gets one polite reply"
    ids = {
        sid: session.scalar(sa.select(Message.checkin_id).where(Message.twilio_sid == sid))
        for sid in ("SMSTRANGER0001", "SMKEYWORD00001")
    }
    assert ids == {"SMSTRANGER0001": None, "SMKEYWORD00001": None}

    purge_expired_data(NOW_ALL)
    session.commit()
    assert body_of(session, "SMSTRANGER0001") == ""
    assert body_of(session, "SMKEYWORD00001") == ""
    assert body_of(session, "SMRECENT000001") == "hello?"
    # The row stays: Twilio retrying the old text gets the same reply, not a new conversation.
    assert handle_inbound(InboundSms("SMSTRANGER0001", STRANGER, "who is this"), NOW_ALL) == (
        first_reply
    )


def hold_text(session, contact_id: int, text: str, at: datetime) -> None:
    """The state of a phone asked "which child?", its reply held since ``at``."""
    state = session.get(ContactConversation, contact_id) or ContactConversation(
        contact_id=contact_id
    )
    state.pending = PendingQuestion.CHOOSE_CHECKIN
    state.held_text = text
    state.updated_at = at
    session.add(state)


def test_a_reply_held_for_a_which_child_question_goes_when_old(demo, session):
    laura = find_contact("+16175550101")
    hold_text(session, laura.id, "3", SEEDED)
    session.commit()
    assert purge_expired_data(SEEDED + 89 * DAY).counts["held_texts"] == 0
    session.commit()
    assert session.get(ContactConversation, laura.id).held_text == "3"

    assert purge_expired_data(SEEDED + 91 * DAY).counts["held_texts"] == 1
    session.commit()
    assert session.get(ContactConversation, laura.id).held_text is None


def sign_in_code(contact_id: int, expires_at: datetime, used: bool = False) -> SignInCode:
    return SignInCode(
        phone=NOAH,
        contact_id=contact_id,
        code_hash="0" * 64,
        client_address="192.0.2.1",
        expires_at=expires_at,
        used_at=expires_at - timedelta(minutes=5) if used else None,
        created_at=expires_at - timedelta(minutes=10),
    )


def test_sign_in_codes_go_once_past_every_rate_limit_window(demo, session):
    noah = find_contact(NOAH).id
    now = NOW_ALL
    kept = [
        sign_in_code(noah, now + timedelta(minutes=5)),  # live
        sign_in_code(noah, now - timedelta(hours=23)),  # still counted by the 24-hour limit
        sign_in_code(noah, now - timedelta(hours=23), used=True),
    ]
    gone = [
        sign_in_code(noah, now - timedelta(hours=25)),
        sign_in_code(noah, now - timedelta(hours=25), used=True),
        sign_in_code(None, now - 40 * DAY),  # asked for by an unknown number
    ]
    session.add_all(kept + gone)
    session.commit()
    kept_ids = {code.id for code in kept}

    assert purge_expired_data(now).counts["sign_in_codes"] == len(gone)
    session.commit()
    assert set(session.scalars(sa.select(SignInCode.id))) == kept_ids


def app_token(contact_id: int, expires_at: datetime, revoked_at: datetime | None = None):
    return AppToken(
        contact_id=contact_id,
        family="f" * 32,
        kind=TokenKind.REFRESH,
        token_hash=uuid.uuid4().hex,
        expires_at=expires_at,
        revoked_at=revoked_at,
        created_at=expires_at - 30 * DAY,
    )


def test_app_tokens_go_30_days_after_they_expired_or_were_revoked(demo, session):
    noah = find_contact(NOAH).id
    now = NOW_ALL
    kept = [
        app_token(noah, now + 10 * DAY),
        app_token(noah, now - 29 * DAY),  # expired, not long enough ago
        app_token(noah, now + 10 * DAY, revoked_at=now - 29 * DAY),
    ]
    gone = [
        app_token(noah, now - 31 * DAY),
        app_token(noah, now + 10 * DAY, revoked_at=now - 31 * DAY),
        app_token(noah, now - 100 * DAY, revoked_at=now - 120 * DAY),
    ]
    session.add_all(kept + gone)
    session.commit()
    kept_ids = {token.id for token in kept}

    assert purge_expired_data(now).counts["app_tokens"] == len(gone)
    session.commit()
    assert set(session.scalars(sa.select(AppToken.id))) == kept_ids


def test_staff_sign_in_attempts_go_after_30_days(demo, session):
    now = NOW_ALL
    made = [now - 31 * DAY, now - 30 * DAY - timedelta(seconds=1), now - 29 * DAY, now]
    for at in made:
        session.add(
            SignInAttempt(email="x@example.org", remote_addr="192.0.2.9", succeeded=False, at=at)
        )
    session.commit()

    assert purge_expired_data(now).counts["sign_in_attempts"] == 2
    session.commit()
    assert sorted(session.scalars(sa.select(SignInAttempt.at))) == made[2:]


def test_statuses_for_sids_never_sent_go_after_a_day(demo, session):
    now = NOW_ALL
    arrived = [now - 2 * DAY, now - DAY - timedelta(seconds=1), now - DAY + timedelta(minutes=1)]
    for at in arrived:
        session.add(EarlyStatusCallback(twilio_sid="SMnever", status="delivered", received_at=at))
    session.commit()

    assert purge_expired_data(now).counts["early_status_callbacks"] == 2
    session.commit()
    assert list(session.scalars(sa.select(EarlyStatusCallback.received_at))) == arrived[2:]


def everything(session):
    """Every row a purge may touch, to compare before and after."""
    return [
        session.execute(sa.select(model.__table__).order_by(*model.__table__.primary_key)).all()
        for model in (
            Message,
            Answer,
            ContactConversation,
            SignInCode,
            AppToken,
            SignInAttempt,
            EarlyStatusCallback,
            AuditEvent,
        )
    ]


@pytest.fixture
def something_of_each(old_history, session):
    noah = find_contact(NOAH).id
    session.add_all(
        [
            sign_in_code(noah, NOW_ALL - 2 * DAY),
            app_token(noah, NOW_ALL - 40 * DAY),
            SignInAttempt(
                email="x@example.org", remote_addr="192.0.2.9", succeeded=True, at=SEEDED
            ),
            EarlyStatusCallback(twilio_sid="SMnever", status="sent", received_at=SEEDED),
        ]
    )
    hold_text(session, noah, "1", SEEDED)
    session.commit()


def test_a_dry_run_changes_nothing_and_counts_what_the_real_run_then_purges(
    something_of_each, session
):
    before = everything(session)
    dry = purge_expired_data(NOW_ALL, dry_run=True)
    session.commit()
    assert everything(session) == before
    assert dry.dry_run and all(count > 0 for count in dry.counts.values()), dry.counts

    real = purge_expired_data(NOW_ALL)
    session.commit()
    assert real.counts == dry.counts
    assert [k.cutoff for k in real.kinds] == [k.cutoff for k in dry.kinds]

    again = purge_expired_data(NOW_ALL)
    session.commit()
    assert again.total == 0


def test_a_purge_is_one_audit_event_with_counts_and_no_personal_data(something_of_each, session):
    purge_expired_data(NOW_ALL, dry_run=True)
    session.commit()
    assert not session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION)).all()

    report = purge_expired_data(NOW_ALL, by="tester")
    purge_expired_data(NOW_ALL, by="tester")  # nothing left: nothing to record
    session.commit()
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION))
    assert event.at == NOW_ALL
    assert (event.staff_user_id, event.patient_id, event.contact_id) == (None, None, None)
    assert event.detail.startswith("by tester: ")
    for kind in report.kinds:
        assert f"{kind.kind} {kind.count} (before {kind.cutoff:%Y-%m-%d %H:%M}Z)" in event.detail
    assert "+1" not in event.detail and "555" not in event.detail
