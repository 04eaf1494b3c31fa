"""Handing the outbox to Twilio, and recording what became of each message.

``send_outbox`` is the scheduler's job. One run:

1. **Reclaims** messages left in SUBMITTING longer than SEND_LEASE_SECONDS: their sender
   stopped (killed, crashed, lost its database) between claiming them and recording
   Twilio's answer. Nobody knows whether Twilio took them, and Twilio's Messages API has
   no idempotency key to ask with, so the policy is **at least once**: they go back to
   QUEUED and are sent again, marked ``error_message = "resent: its sender stopped while
   handing it to Twilio"`` and logged as a warning. A check-in question received twice is
   better than one never received. Every duplicate a family may get is one of these
   (not every one of these is a duplicate: the rest of a batch the stopped sender had
   claimed but not yet handed over is reclaimed too, and sent for the first time).
2. **Claims** a batch of due QUEUED messages, in one short transaction: rows locked with
   ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the write lock of ``BEGIN IMMEDIATE``
   does it), so several senders on several hosts never take the same message. In the same
   statement it reads each recipient's consent, pause, usability and quiet hours:
   messages to a phone that withdrew consent, paused or is unusable are CANCELLED (why is
   in ``error_message``); messages whose recipient is inside quiet hours stay QUEUED until
   the local morning. The rest take slots of the shared rate limit (``send_windows``, one
   row per second for every sender process) and become SUBMITTING, ``attempts + 1``.
3. **Hands over** each claimed message to Twilio outside any transaction, and records the
   answer in a transaction of its own: ACCEPTED with Twilio's SID; back to QUEUED with an
   exponential, jittered backoff after a transient failure (429, 5xx, timeout, connection
   error) until SEND_MAX_ATTEMPTS; FAILED after a permanent one, with Twilio's error code,
   which may also tell about the phone (carrier opt-out 21610, unusable numbers, unreachable
   handsets: see ``apply_error_code``). A phone's messages are handed over in the order
   they were queued: after a transient failure, its later messages wait for the retry.

The job is not wrapped in one unit of work: it commits between these phases on purpose.
A claim must be committed before the HTTP call (other senders must see it, and no row
lock may be held while waiting on Twilio), and each result is committed as soon as it is
known, so a sender killed mid-batch leaves at most the message in flight to be resent.

``record_delivery_status`` applies Twilio's status callbacks (``POST /twilio/status``).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, current_app

from engage.conversations.models import CheckIn
from engage.db import db, insert_for, table_of, utcnow
from engage.messaging.models import (
    AT_ANY_HOUR,
    STATUS_RANK,
    WAIT_OUT_PAUSE,
    Direction,
    EarlyStatusCallback,
    Message,
    MessageStatus,
    MessageStatusEvent,
    SendWindow,
)
from engage.messaging.transport import Handover, SendFailed, TwilioTransport
from engage.monitoring.logs import mask
from engage.network.models import Center
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import (
    CaregiverLink,
    ConsentMethod,
    ConsentState,
    Contact,
    Patient,
)
from engage.people.services import record_consent
from engage.scheduling.quiet_hours import quiet_until

log = logging.getLogger("engage.messaging")

MESSAGES, EVENTS, WINDOWS = table_of(Message), table_of(MessageStatusEvent), table_of(SendWindow)
CONTACTS, CHECKINS, LINKS = table_of(Contact), table_of(CheckIn), table_of(CaregiverLink)
PATIENTS, CENTERS = table_of(Patient), table_of(Center)
EARLY = table_of(EarlyStatusCallback)

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600
WINDOW_KEEP_SECONDS = 300  # rate-limit rows older than this are deleted at each run
RESENT_NOTE = "resent: its sender stopped while handing it to Twilio"
_OUTBOX_NOTICE_KEY = "engage.outbox_sender_notice"

# Twilio error codes that say something about the phone, not only about one message.
CARRIER_OPT_OUT = "21610"
UNUSABLE_CODES = {
    "21211": "invalid phone number",
    "21614": "not a mobile number",
    "30006": "landline or unreachable carrier",
}
UNREACHABLE_CODES = {
    "30003": "unreachable destination handset",
    "30005": "unknown destination handset",
}
ERROR_MEANINGS = {
    CARRIER_OPT_OUT: "the recipient replied STOP to the carrier",
    **UNUSABLE_CODES,
    **UNREACHABLE_CODES,
}

# Twilio's message statuses, as ours; any other (e.g. "partially_delivered") is kept as an
# event only.
TWILIO_STATUSES = {
    "queued": MessageStatus.ACCEPTED,
    "accepted": MessageStatus.ACCEPTED,
    "scheduled": MessageStatus.ACCEPTED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "read": MessageStatus.READ,
    "canceled": MessageStatus.CANCELLED,
}


@dataclass
class SendReport:
    """What one run of the sender did, message by message."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    reclaimed: int = 0

    @property
    def anything(self) -> bool:
        return any(vars(self).values())


@dataclass(frozen=True)
class Claimed:
    """A message this sender holds (SUBMITTING) and must hand to Twilio."""

    id: int
    phone: str
    body: str
    contact_id: int | None
    attempts: int


@dataclass
class Batch:
    examined: int = 0
    claimed: list[Claimed] = field(default_factory=list)
    cancelled: int = 0
    deferred: int = 0
    rate_limited: bool = False


def literal(value: str) -> sa.BindParameter[str]:
    # Rendered into the SQL text, so PostgreSQL matches the partial indexes on status even
    # with a prepared statement's generic plan.
    return sa.bindparam(None, value, literal_execute=True)


QUEUED, SUBMITTING = literal(MessageStatus.QUEUED.value), literal(MessageStatus.SUBMITTING.value)

# The patient whose time zone and center decide quiet hours: the phone's own patient; for
# a caregiver's phone, the patient of the message's check-in, else the first linked one.
FIRST_LINKED_PATIENT = (
    sa.select(LINKS.c.patient_id)
    .where(LINKS.c.caregiver_id == CONTACTS.c.caregiver_id)
    .order_by(LINKS.c.id)
    .limit(1)
    .correlate(CONTACTS)
    .scalar_subquery()
)
RESPONDENT_PATIENT_ID = sa.func.coalesce(
    CONTACTS.c.patient_id, CHECKINS.c.patient_id, FIRST_LINKED_PATIENT
)

CLAIM_CANDIDATES = (
    sa.select(
        MESSAGES.c.id,
        MESSAGES.c.phone,
        MESSAGES.c.body,
        MESSAGES.c.contact_id,
        MESSAGES.c.attempts,
        CONTACTS.c.id,
        CONTACTS.c.sms_consent,
        CONTACTS.c.paused_until,
        CONTACTS.c.unusable_since,
        CONTACTS.c.unusable_reason,
        sa.func.coalesce(PATIENTS.c.time_zone, CENTERS.c.time_zone),
        # The phone's own quiet hours (an app preference) win over its center's.
        sa.func.coalesce(CONTACTS.c.quiet_hours_start, CENTERS.c.quiet_hours_start),
        sa.func.coalesce(CONTACTS.c.quiet_hours_end, CENTERS.c.quiet_hours_end),
        MESSAGES.c.purpose,
        CONTACTS.c.sms_enabled,
    )
    .select_from(MESSAGES)
    .outerjoin(CONTACTS, CONTACTS.c.id == MESSAGES.c.contact_id)
    .outerjoin(CHECKINS, CHECKINS.c.id == MESSAGES.c.checkin_id)
    .outerjoin(PATIENTS, PATIENTS.c.id == RESPONDENT_PATIENT_ID)
    .outerjoin(CENTERS, CENTERS.c.id == PATIENTS.c.center_id)
    .where(
        MESSAGES.c.status == QUEUED,
        sa.or_(
            MESSAGES.c.next_attempt_at.is_(None),
            MESSAGES.c.next_attempt_at <= sa.bindparam("now"),
        ),
    )
    .order_by(MESSAGES.c.id)
    .limit(sa.bindparam("limit"))
    .with_for_update(of=MESSAGES, skip_locked=True)
)

MARK_SUBMITTING = (
    sa.update(MESSAGES)
    .where(MESSAGES.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        status=MessageStatus.SUBMITTING,
        claimed_at=sa.bindparam("now"),
        claimed_by=sa.bindparam("claimer"),
        attempts=MESSAGES.c.attempts + 1,
    )
    .returning(MESSAGES.c.id, MESSAGES.c.attempts)
)

CANCEL_ONE = (
    sa.update(MESSAGES)
    .where(MESSAGES.c.id == sa.bindparam("message"))
    .values(
        status=MessageStatus.CANCELLED,
        error_message=sa.bindparam("reason"),
        status_changed_at=sa.bindparam("now"),
    )
)

DEFER_ONE = (
    sa.update(MESSAGES)
    .where(MESSAGES.c.id == sa.bindparam("message"))
    .values(next_attempt_at=sa.bindparam("until"))
)

RECLAIM_STALE = (
    sa.update(MESSAGES)
    .where(MESSAGES.c.status == SUBMITTING, MESSAGES.c.claimed_at < sa.bindparam("cutoff"))
    .values(
        status=MessageStatus.QUEUED,
        next_attempt_at=None,
        claimed_at=None,
        # claimed_by keeps the stopped sender's name until the message is claimed again.
        error_message=RESENT_NOTE,
        status_changed_at=sa.bindparam("now"),
    )
    .returning(MESSAGES.c.id, MESSAGES.c.claimed_by)
)

# A result is recorded only while the message is still ours: a sender that outlived its
# lease finds its messages reclaimed (and maybe claimed again by another sender).
HELD_BY_ME = sa.and_(
    MESSAGES.c.id == sa.bindparam("message"),
    MESSAGES.c.status == SUBMITTING,
    MESSAGES.c.claimed_by == sa.bindparam("claimer"),
)


# -- the job --------------------------------------------------------------------------------
def send_outbox(
    now: datetime | None = None,
    *,
    batch_size: int = 100,
    max_batches: int | None = None,
    budget_seconds: float | None = None,
) -> SendReport:
    """Hand due outbox messages to Twilio, batch by batch, within the shared rate limit.

    Call it inside an app context with nothing pending in the session: it commits several
    short transactions of its own (see the module docstring). ``now`` fixes the clock
    (tests); then the run never sleeps and stops when this second's slots are used.
    Without it the run waits for the next second when the rate limit is reached, and
    ends when nothing is due or after ``budget_seconds`` (4 scheduler ticks by default).
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    report = SendReport()
    if app.config.get("SMS_TRANSPORT") != "twilio":
        if not app.extensions.get(_OUTBOX_NOTICE_KEY):
            app.extensions[_OUTBOX_NOTICE_KEY] = True
            log.info("Twilio is not configured: outbound SMS stay queued in the local outbox")
        return report

    transport = TwilioTransport.from_app(app)
    claimer = claimer_id()
    cap = int(app.config["SEND_RATE_PER_SECOND"])
    max_attempts = int(app.config["SEND_MAX_ATTEMPTS"])
    concurrency = int(app.config["SEND_CONCURRENCY"])
    lease = timedelta(seconds=float(app.config["SEND_LEASE_SECONDS"]))
    if budget_seconds is None:
        budget_seconds = 4 * float(app.config.get("SCHEDULER_TICK_SECONDS", 15))
    deadline = time.monotonic() + budget_seconds
    try:
        moment = now or utcnow()
        report.reclaimed = reclaim_stale(moment, lease)
        forget_old_windows(moment)
        db.session.commit()
        batches = 0
        while max_batches is None or batches < max_batches:
            moment = now or utcnow()
            batch = claim_batch(moment, batch_size, cap, claimer)
            # Commit the claim before any HTTP call: other senders skip these messages
            # from now on, and no row lock is held while Twilio answers.
            db.session.commit()
            batches += 1
            report.cancelled += batch.cancelled
            report.deferred += batch.deferred
            hand_over(batch.claimed, transport, claimer, max_attempts, now, report, concurrency)
            if batch.claimed:
                handed = sa.select(MESSAGES.c.twilio_sid).where(
                    MESSAGES.c.id.in_([message.id for message in batch.claimed])
                )
                settle_early_statuses(handed)
                db.session.commit()
            if batch.examined == 0 or time.monotonic() >= deadline:
                break
            if batch.rate_limited:
                if now is not None:
                    break
                wait_for_next_second()
    except BaseException:
        db.session.rollback()
        raise
    if report.anything:
        log.info(
            "outbox: %d sent, %d to retry, %d failed, %d cancelled, %d deferred, %d reclaimed",
            report.sent,
            report.retried,
            report.failed,
            report.cancelled,
            report.deferred,
            report.reclaimed,
        )
    return report


def claimer_id() -> str:
    """Who holds a claim: this host and process, for the operator reading ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}"[-64:]


def wait_for_next_second() -> None:
    time.sleep(1.001 - time.time() % 1)


# -- reclaiming -------------------------------------------------------------------------
def reclaim_stale(now: datetime, lease: timedelta) -> int:
    """Put messages whose sender stopped mid-hand-over back in the queue (at least once)."""
    rows = db.session.execute(RECLAIM_STALE, {"cutoff": now - lease, "now": now}).all()
    for message_id, held_by in rows:
        log.warning(
            "message %s was left submitting by %s for over %s: queued to be sent again "
            "(Twilio may have taken it already)",
            message_id,
            held_by,
            lease,
        )
    return len(rows)


def forget_old_windows(now: datetime) -> None:
    cutoff = int(now.timestamp()) - WINDOW_KEEP_SECONDS
    db.session.execute(sa.delete(WINDOWS).where(WINDOWS.c.second < cutoff))


# -- claiming ---------------------------------------------------------------------------
def claim_batch(now: datetime, limit: int, cap: int, claimer: str) -> Batch:
    """Lock due messages, cancel or defer those that must not go now, claim the rest.

    The caller commits. Only as many messages become SUBMITTING as the shared rate limit
    grants for this second; the others stay QUEUED for the next batch.
    """
    connection = db.session.connection()
    rows = connection.execute(CLAIM_CANDIDATES, {"now": now, "limit": limit}).all()
    batch = Batch(examined=len(rows))
    sendable: list[Any] = []
    cancels: list[dict[str, Any]] = []
    deferrals: list[dict[str, Any]] = []
    for row in rows:
        reason = refusal(row, now)
        if reason is not None:
            cancels.append({"message": row[0], "reason": reason, "now": now})
            continue
        resume_at = after_pause(row, now)
        if resume_at is not None:
            deferrals.append({"message": row[0], "until": resume_at})
            continue
        morning = None if row[13] in AT_ANY_HOUR else quiet_morning(row, now)
        if morning is not None:
            deferrals.append({"message": row[0], "until": morning})
            continue
        sendable.append(row)
    if cancels:
        connection.execute(CANCEL_ONE, cancels)
    if deferrals:
        connection.execute(DEFER_ONE, deferrals)
    batch.cancelled, batch.deferred = len(cancels), len(deferrals)
    if not sendable:
        return batch
    granted = reserve_slots(now, min(len(sendable), cap), cap)
    batch.rate_limited = granted < len(sendable)
    chosen = sendable[:granted]
    if chosen:
        by_id = {row[0]: row for row in chosen}
        claimed = connection.execute(
            MARK_SUBMITTING, {"ids": list(by_id), "now": now, "claimer": claimer}
        ).all()
        for message_id, attempts in sorted(claimed):
            _, phone, body, contact_id = by_id[message_id][:4]
            batch.claimed.append(Claimed(message_id, phone, body, contact_id, attempts))
    return batch


def after_pause(row: Sequence[Any], now: datetime) -> datetime | None:
    """When a paused phone may get this message, for messages that wait rather than lapse."""
    paused_until, purpose = row[7], row[13]
    if purpose in WAIT_OUT_PAUSE and paused_until is not None and paused_until > now:
        return cast(datetime, paused_until)
    return None


def refusal(row: Sequence[Any], now: datetime) -> str | None:
    """Why a message must never be sent to its phone, or None."""
    contact_id, consent, paused_until, unusable_since, unusable_reason = row[5:10]
    if contact_id is None:
        return "cancelled: the phone's contact was removed"
    if consent is ConsentState.WITHDRAWN:
        return "cancelled: SMS consent withdrawn"
    if unusable_since is not None:
        return f"cancelled: number unusable ({unusable_reason or 'reported by Twilio'})"
    purpose, sms_enabled = row[13], row[14]
    if sms_enabled is False and purpose not in AT_ANY_HOUR:
        return "cancelled: SMS turned off in the app"
    waits = purpose in WAIT_OUT_PAUSE or purpose in AT_ANY_HOUR
    if paused_until is not None and paused_until > now and not waits:
        return f"cancelled: check-ins paused until {paused_until:%Y-%m-%d %H:%M} UTC"
    return None


def quiet_morning(row: Sequence[Any], now: datetime) -> datetime | None:
    """When quiet hours end for the message's recipient, or None when it is not quiet there."""
    time_zone, start, end = row[10:13]
    if time_zone is None or start is None or end is None:
        # No patient to take a time zone from (a caregiver linked to nobody): no quiet hours
        # can be known, and holding the message forever would be worse.
        return None
    return quiet_until(now, time_zone, start, end)


def reserve_slots(now: datetime, wanted: int, cap: int) -> int:
    """Take up to ``wanted`` of this second's sending slots, shared by every sender.

    The upsert creates the second's row or locks it (a no-op update), returning how many
    slots are used; the grant is added in the same transaction. The row stays locked
    until the caller commits its claim, so two senders never both take the last slots
    (on SQLite the transaction's write lock does the same).
    """
    connection = db.session.connection()
    second = int(now.timestamp())
    insert = insert_for(connection)
    lock = insert(WINDOWS).values(second=second, used=0)
    lock = lock.on_conflict_do_update(
        index_elements=[WINDOWS.c.second], set_={"used": WINDOWS.c.used}
    )
    used = int(connection.scalar(lock.returning(WINDOWS.c.used)) or 0)
    granted = max(0, min(wanted, cap - used))
    if granted:
        connection.execute(
            sa.update(WINDOWS)
            .where(WINDOWS.c.second == second)
            .values(used=WINDOWS.c.used + granted)
        )
    return granted


# -- handing over -----------------------------------------------------------------------
def hand_over(
    claimed: list[Claimed],
    transport: TwilioTransport,
    claimer: str,
    max_attempts: int,
    now: datetime | None,
    report: SendReport,
    concurrency: int = 1,
) -> None:
    """Send each claimed message and record Twilio's answer, one transaction per message.

    Phones are served side by side (``concurrency`` HTTP calls at once: one call takes
    Twilio's round trip, and the rate cap, not that latency, should set the pace), but
    a phone's own messages go one after the other in the order they were queued (an
    intro before its first question). After a transient failure the phone's later
    messages in this batch wait for the same retry time; after an error that stops
    the phone they are cancelled. Results are written by this thread only: the
    session is not shared with the HTTP threads.
    """
    by_phone: dict[object, list[Claimed]] = {}
    for message in claimed:
        key = message.contact_id if message.contact_id is not None else ("message", message.id)
        by_phone.setdefault(key, []).append(message)

    def send_in_order(messages: list[Claimed]) -> list[tuple[Claimed, Handover | SendFailed]]:
        outcomes: list[tuple[Claimed, Handover | SendFailed]] = []
        for message in messages:
            try:
                outcome: Handover | SendFailed = transport.send(message.phone, message.body)
            except SendFailed as failure:
                outcome = failure
            outcomes.append((message, outcome))
            if isinstance(outcome, SendFailed) and stops_the_phone(outcome):
                break  # the phone's later messages are not sent in this batch
        return outcomes

    groups = list(by_phone.values())
    if concurrency <= 1 or len(groups) <= 1:
        for group in groups:
            record_group(group, send_in_order(group), claimer, max_attempts, now, report)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(groups))) as pool:
        futures = {pool.submit(send_in_order, group): group for group in groups}
        for future in as_completed(futures):
            group = futures[future]
            record_group(group, future.result(), claimer, max_attempts, now, report)


def stops_the_phone(failure: SendFailed) -> bool:
    """A failure after which the phone's next messages must not go out in this batch."""
    return failure.transient or failure.code == CARRIER_OPT_OUT or failure.code in UNUSABLE_CODES


def record_group(
    group: list[Claimed],
    outcomes: list[tuple[Claimed, Handover | SendFailed]],
    claimer: str,
    max_attempts: int,
    now: datetime | None,
    report: SendReport,
) -> None:
    """Record what became of one phone's messages, in their order, one commit each."""
    answered = {message.id: outcome for message, outcome in outcomes}
    blocked: str | None = None  # why the phone must get no more texts
    waiting: datetime | None = None  # when its failed message is tried again
    for message in group:
        phone = message.contact_id
        if message.id not in answered:
            if blocked is not None:
                cancel_held(message, blocked, now or utcnow(), claimer)
                report.cancelled += 1
            else:
                put_back(message, waiting or now or utcnow(), claimer)
                report.deferred += 1
            db.session.commit()
            continue
        handover = answered[message.id]
        moment = now or utcnow()
        if isinstance(handover, Handover):
            record_handover(message, handover, moment, claimer)
            report.sent += 1
        elif handover.transient and message.attempts < max_attempts:
            waiting = record_retry(message, handover, moment, claimer)
            report.retried += 1
        else:
            record_failure(message, handover, moment, claimer, max_attempts)
            report.failed += 1
            if phone is not None and handover.code and not handover.transient:
                effect = apply_error_code(phone, handover.code, moment)
                report.cancelled += effect.cancelled
                if effect.blocks:
                    blocked = effect.reason
        db.session.commit()


def record_handover(message: Claimed, handover: Handover, now: datetime, claimer: str) -> None:
    status = TWILIO_STATUSES.get(handover.status.lower(), MessageStatus.ACCEPTED)
    values = {
        "status": status,
        "twilio_sid": handover.sid,
        "sent_at": now,
        "status_changed_at": now,
    }
    # error_code and error_message keep the last problem met on the way (a 429, a resend).
    connection = db.session.connection()
    result = connection.execute(
        sa.update(MESSAGES).where(HELD_BY_ME).values(**values),
        {"message": message.id, "claimer": claimer},
    )
    if result.rowcount:
        return
    # Our lease ran out while Twilio answered. If nobody claimed it again, record the
    # hand-over so it is not sent twice; otherwise a duplicate is already on its way.
    result = connection.execute(
        sa.update(MESSAGES)
        .where(MESSAGES.c.id == message.id, MESSAGES.c.status == QUEUED)
        .values(**values)
    )
    log.warning(
        "message %s: Twilio took it (%s) after this sender's lease ran out%s",
        message.id,
        handover.sid,
        "" if result.rowcount else "; another sender is sending it again",
    )


def record_retry(message: Claimed, failure: SendFailed, now: datetime, claimer: str) -> datetime:
    """Back to the queue after a transient failure; return when it is tried again."""
    delay = retry_delay(message.attempts)
    retry_at = now + delay
    log.info(
        "message %s: attempt %d failed (%s); next try in %.0fs",
        message.id,
        message.attempts,
        mask(failure.message),  # Twilio's words may quote the phone
        delay.total_seconds(),
    )
    write_held(
        message,
        claimer,
        status=MessageStatus.QUEUED,
        next_attempt_at=retry_at,
        claimed_at=None,
        claimed_by=None,
        error_code=failure.code,
        error_message=failure.message[:500],
        status_changed_at=now,
    )
    return retry_at


def put_back(message: Claimed, retry_at: datetime, claimer: str) -> None:
    """Return an unsent message to the queue, behind its phone's earlier one; no attempt made."""
    write_held(
        message,
        claimer,
        status=MessageStatus.QUEUED,
        next_attempt_at=retry_at,
        claimed_at=None,
        claimed_by=None,
        attempts=MESSAGES.c.attempts - 1,
    )


def record_failure(
    message: Claimed, failure: SendFailed, now: datetime, claimer: str, max_attempts: int
) -> None:
    text = failure.message
    if failure.transient:
        text = f"gave up after {message.attempts} attempts (max {max_attempts}): {text}"
    log.warning("message %s failed: %s", message.id, mask(text))  # may quote the phone
    write_held(
        message,
        claimer,
        status=MessageStatus.FAILED,
        error_code=failure.code,
        error_message=text[:500],
        status_changed_at=now,
    )


def cancel_held(message: Claimed, reason: str, now: datetime, claimer: str) -> None:
    write_held(
        message, claimer, status=MessageStatus.CANCELLED, error_message=reason,
        status_changed_at=now,
    )  # fmt: skip


def write_held(message: Claimed, claimer: str, **values: Any) -> None:
    result = db.session.execute(
        sa.update(MESSAGES).where(HELD_BY_ME).values(**values),
        {"message": message.id, "claimer": claimer},
    )
    if not getattr(result, "rowcount", 0):
        log.warning(
            "message %s: this sender's lease ran out before its result was recorded (%s)",
            message.id,
            mask(str(values.get("error_message") or values.get("status"))),
        )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with equal jitter: between half and all of base * 2^(n-1), capped."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


# -- what an error code says about the phone ----------------------------------------------
@dataclass(frozen=True)
class ErrorEffect:
    cancelled: int = 0  # other queued messages to the phone, cancelled
    blocks: bool = False  # the phone must get no more texts
    reason: str = ""


def describe_code(code: str) -> str:
    meaning = ERROR_MEANINGS.get(code)
    return f"{code}: {meaning}" if meaning else f"Twilio error {code}"


def apply_error_code(contact_id: int, code: str, now: datetime) -> ErrorEffect:
    """Record what a Twilio error code says about a phone; the caller commits."""
    if code == CARRIER_OPT_OUT:
        contact = db.session.get(Contact, contact_id)
        if contact is None:
            return ErrorEffect()
        if contact.sms_consent is not ConsentState.WITHDRAWN:
            record_consent(
                contact,
                ConsentState.WITHDRAWN,
                method=ConsentMethod.CARRIER,
                consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
                note=f"Twilio error {describe_code(code)}",
                at=now,
            )
            log.warning("contact %s: consent withdrawn at the carrier (21610)", contact_id)
        reason = "cancelled: SMS consent withdrawn at the carrier (21610)"
        return ErrorEffect(cancel_queued_to(contact_id, reason, now), True, reason)
    if code in UNUSABLE_CODES:
        db.session.execute(
            sa.update(CONTACTS)
            .where(CONTACTS.c.id == contact_id, CONTACTS.c.unusable_since.is_(None))
            .values(unusable_since=now, unusable_reason=describe_code(code)[:100])
        )
        log.warning("contact %s: number unusable (%s)", contact_id, describe_code(code))
        reason = f"cancelled: number unusable ({describe_code(code)})"
        return ErrorEffect(cancel_queued_to(contact_id, reason, now), True, reason)
    if code in UNREACHABLE_CODES:
        db.session.execute(
            sa.update(CONTACTS)
            .where(CONTACTS.c.id == contact_id)
            .values(unreachable_failures=CONTACTS.c.unreachable_failures + 1)
        )
    return ErrorEffect()


def cancel_queued_to(contact_id: int, reason: str, now: datetime) -> int:
    """Cancel every outbox message still waiting for a phone, saying why."""
    result = db.session.execute(
        sa.update(MESSAGES)
        .where(MESSAGES.c.contact_id == contact_id, MESSAGES.c.status == QUEUED)
        .values(status=MessageStatus.CANCELLED, error_message=reason, status_changed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- status callbacks ---------------------------------------------------------------------
@dataclass(frozen=True)
class StatusUpdate:
    """What a status callback changed."""

    message_id: int
    status: MessageStatus | None  # ours for Twilio's status; None when Twilio's is unknown
    moved: bool  # the message's status moved forward
    replayed: bool = False  # the same status was reported before: nothing stored


LOCK_BY_SID = (
    sa.select(MESSAGES.c.id, MESSAGES.c.status, MESSAGES.c.contact_id)
    .where(
        MESSAGES.c.twilio_sid == sa.bindparam("sid"),
        MESSAGES.c.direction == Direction.OUTBOUND.value,
    )
    .with_for_update()
)

SEEN_EVENT = (
    sa.select(EVENTS.c.id)
    .where(
        EVENTS.c.message_id == sa.bindparam("message"),
        EVENTS.c.status == sa.bindparam("status"),
        EVENTS.c.error_code.is_not_distinct_from(sa.bindparam("code", type_=sa.String)),
    )
    .limit(1)
)


def record_delivery_status(
    twilio_sid: str, reported: str, error_code: str | None = None, now: datetime | None = None
) -> StatusUpdate | None:
    """Apply one status callback; None when the SID is not one of our outbound messages.

    Each distinct (status, error code) is stored once as an event, so a replayed callback
    changes nothing. The message's status only moves forward (STATUS_RANK): a late "sent"
    after "delivered" is kept as an event and nothing else. The caller commits.
    """
    now = now or utcnow()
    connection = db.session.connection()
    # The row lock makes concurrent callbacks for one message take turns.
    row = connection.execute(LOCK_BY_SID, {"sid": twilio_sid}).first()
    if row is None:
        return None
    message_id, current, contact_id = row
    status_text = reported.strip().lower()[:32]
    code = (error_code or "").strip()[:16] or None
    ours = TWILIO_STATUSES.get(status_text)
    seen = {"message": message_id, "status": status_text, "code": code}
    if connection.scalar(SEEN_EVENT, seen) is not None:
        return StatusUpdate(message_id, ours, moved=False, replayed=True)
    connection.execute(
        sa.insert(EVENTS).values(
            message_id=message_id, status=status_text, error_code=code, received_at=now
        )
    )
    moved = ours is not None and STATUS_RANK[ours] > STATUS_RANK.get(current, -1)
    if not moved:
        return StatusUpdate(message_id, ours, moved=False)
    values: dict[str, Any] = {"status": ours, "status_changed_at": now}
    if code is not None:
        values.update(error_code=code, error_message=describe_code(code)[:500])
    connection.execute(sa.update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))
    if contact_id is not None:
        if ours in (MessageStatus.DELIVERED, MessageStatus.READ):
            connection.execute(
                sa.update(CONTACTS)
                .where(CONTACTS.c.id == contact_id, CONTACTS.c.unreachable_failures != 0)
                .values(unreachable_failures=0)
            )
        if code is not None:
            apply_error_code(contact_id, code, now)
    return StatusUpdate(message_id, ours, moved=True)


def keep_early_status(
    twilio_sid: str, reported: str, error_code: str | None, now: datetime | None = None
) -> None:
    """Keep a status whose message is not (yet) known by its SID; the caller commits."""
    db.session.connection().execute(
        sa.insert(EARLY).values(
            twilio_sid=twilio_sid[:64],
            status=reported.strip().lower()[:32],
            error_code=(error_code or "").strip()[:16] or None,
            received_at=now or utcnow(),
        )
    )


def settle_early_statuses(sids: sa.Select[tuple[str | None]]) -> int:
    """Apply the early statuses of the messages whose SIDs ``sids`` selects, in the order
    they arrived; returns how many. The caller commits.

    Both sides call this after committing their own part (the callback its early row, the
    sender the SID), so whichever commits last finds the other's row; DELETE … RETURNING
    hands each early status to one of them only.
    """
    known = sa.select(MESSAGES.c.twilio_sid).where(
        MESSAGES.c.twilio_sid.in_(sids.scalar_subquery()),
        MESSAGES.c.direction == Direction.OUTBOUND.value,
    )
    rows = (
        db.session.connection()
        .execute(
            sa.delete(EARLY)
            .where(EARLY.c.twilio_sid.in_(known.scalar_subquery()))
            .returning(EARLY.c.twilio_sid, EARLY.c.status, EARLY.c.error_code, EARLY.c.received_at)
        )
        .all()
    )
    for sid, status, code, received_at in sorted(rows, key=lambda row: row.received_at):
        record_delivery_status(sid, status, code, received_at)
    return len(rows)
