"""Opening check-ins and answering inbound texts. Services flush, never commit.

``handle_inbound`` is the whole step a family's text goes through: lock the
phone, store the message once, read keywords, run the conversation engine,
store answers, scores and alerts, and return the replies for the TwiML answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from engage.alerts.models import Alert, AlertStatus
from engage.codesign.models import Idea, IdeaChannel, IdeaCredit
from engage.codesign.services import MAX_IDEA_LENGTH, MAX_WHO_LENGTH, describe_idea, submit_idea
from engage.conversations import engine, postgres
from engage.conversations.keywords import Command, Keyword, read_keyword
from engage.conversations.models import (
    OPEN_STATUSES,
    Answer,
    AnswerStatus,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    CloseReason,
    ContactConversation,
    PendingQuestion,
    RespondentRole,
    opening_was_sent,
)
from engage.conversations.parsing import normalise, read_yes_no, tidy_text
from engage.conversations.replies import reply, which_child
from engage.db import db, insert_for, table_of, utcnow
from engage.errors import InvalidInput
from engage.instruments.model import Instrument, ItemType
from engage.instruments.models import InstrumentVersion
from engage.instruments.scoring import fold
from engage.instruments.services import instrument_of, record_instrument_version
from engage.messaging.models import AT_ANY_HOUR, WAIT_OUT_PAUSE, Direction, Message
from engage.messaging.services import (
    Reply,
    StoredInbound,
    cancel_queued,
    find_inbound_id,
    queue_outbound,
    replies_to_id,
    store_inbound,
    store_replies,
)
from engage.network.models import Center
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import Caregiver, ConsentMethod, ConsentState, Contact, Patient
from engage.people.services import record_consent
from engage.phones import normalise_phone

MAX_PAUSE_DAYS = 90
CLOSED_REPLY_WINDOW = timedelta(days=7)
# Asked one text at a time after an idea is stored: who it helps, contact, credit.
IDEA_QUESTIONS = frozenset(
    {PendingQuestion.IDEA_WHO, PendingQuestion.IDEA_CONTACT, PendingQuestion.IDEA_CREDIT}
)


@dataclass(frozen=True)
class InboundSms:
    """The fields of Twilio's inbound-message webhook that engage uses."""

    message_sid: str
    from_phone: str
    body: str
    to_phone: str | None = None
    num_media: int = 0
    opt_out_type: str | None = None


def expiry_window() -> timedelta:
    return timedelta(hours=float(current_app.config.get("CHECKIN_EXPIRY_HOURS", 24)))


# -- inbound ------------------------------------------------------------------------------
def handle_inbound(sms: InboundSms, now: datetime | None = None) -> list[str]:
    """Answer one inbound text; the same MessageSid again gets the same replies."""
    now = now or utcnow()
    phone = phone_or_raw(sms.from_phone)
    locked = lock_phone(phone, sms.message_sid)
    if locked is None:
        earlier_id = find_inbound_id(sms.message_sid)
        if earlier_id is not None:
            return replies_to_id(earlier_id)
        inbound = store_inbound_message(sms, phone, None, None, now)
        replies = reply_to_stranger(phone, inbound)
    elif locked.earlier_id is not None:
        return replies_to_id(locked.earlier_id)
    else:
        fast = answer_directly(locked, sms, phone, now)
        if fast is not None:
            return fast
        contact = db.session.get(Contact, locked.contact_id)
        assert contact is not None
        inbound = store_inbound_message(sms, phone, contact.id, None, now)
        replies = Conversation(contact, inbound, now).respond(sms)
    store_replies(inbound.id, phone, sms.to_phone, inbound.contact_id, replies, now)
    return [r.text for r in replies]


@dataclass(frozen=True)
class LockedPhone:
    """What one locking query tells about a known phone."""

    contact_id: int
    consent: ConsentState
    language: str
    pending: PendingQuestion
    chosen_checkin_id: int | None
    earlier_id: int | None  # the message already stored under this MessageSid


CONTACTS, PATIENTS, CAREGIVERS = table_of(Contact), table_of(Patient), table_of(Caregiver)
CONVERSATIONS, CHECKINS = table_of(ContactConversation), table_of(CheckIn)
VERSIONS, ANSWERS = table_of(InstrumentVersion), table_of(Answer)
ALERTS, SCORES, MESSAGE_ROWS = table_of(Alert), table_of(CheckInScore), table_of(Message)

CHECKIN_COLUMNS = (
    CHECKINS.c.id,
    CHECKINS.c.patient_id,
    CHECKINS.c.contact_id,
    CHECKINS.c.status,
    CHECKINS.c.state,
    CHECKINS.c.expires_at,
    CHECKINS.c.language,
    CHECKINS.c.respondent_role,
    VERSIONS.c.content_hash,
    CHECKINS.c.instrument_version_id,
)


LOCK_PHONE = (
    sa.select(
        CONTACTS.c.id,
        CONTACTS.c.sms_consent,
        sa.func.coalesce(PATIENTS.c.preferred_language, CAREGIVERS.c.preferred_language),
        CONVERSATIONS.c.pending,
        CONVERSATIONS.c.chosen_checkin_id,
        sa.select(MESSAGE_ROWS.c.id)
        .where(MESSAGE_ROWS.c.twilio_sid == sa.bindparam("sid"))
        .scalar_subquery(),
    )
    .select_from(CONTACTS)
    .outerjoin(PATIENTS, PATIENTS.c.id == CONTACTS.c.patient_id)
    .outerjoin(CAREGIVERS, CAREGIVERS.c.id == CONTACTS.c.caregiver_id)
    .outerjoin(CONVERSATIONS, CONVERSATIONS.c.contact_id == CONTACTS.c.id)
    .where(CONTACTS.c.phone == sa.bindparam("phone"))
    .with_for_update(of=CONTACTS)
)

OPEN_CHECKINS = (
    sa.select(*CHECKIN_COLUMNS)
    .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
    .where(
        CHECKINS.c.contact_id == sa.bindparam("contact_id"),
        CHECKINS.c.status.in_(OPEN_STATUSES),
    )
    .order_by(CHECKINS.c.id)
)


def lock_phone(phone: str, message_sid: str) -> LockedPhone | None:
    """Lock the phone's contact row, so two texts from one phone wait for each other.

    The same statement says whether this MessageSid was stored before. Check-ins
    are read by a later statement: under READ COMMITTED only the locked row is
    re-read after waiting for the lock, so rows joined here could be stale. On
    PostgreSQL both statements go straight to psycopg (``postgres.py``).
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        locked = postgres.lock_phone(connection.connection.driver_connection, phone, message_sid)
        return None if locked is None else LockedPhone(*locked)
    row = connection.execute(LOCK_PHONE, {"phone": phone, "sid": message_sid}).first()
    if row is None:
        return None
    contact_id, consent, language, pending, chosen, earlier_id = row
    return LockedPhone(
        contact_id=contact_id,
        consent=consent,
        language=(language.value if language is not None else "en"),
        pending=pending or PendingQuestion.NONE,
        chosen_checkin_id=chosen,
        earlier_id=earlier_id,
    )


def open_checkin_of(row: Any) -> OpenCheckIn:
    return OpenCheckIn(
        row[0], row[1], row[2], row[3], dict(row[4] or {}), row[5], row[6].value, row[7], row[8],
        row[9],
    )  # fmt: skip


@dataclass(frozen=True)
class OpenCheckIn:
    """The columns of an open check-in that a reply needs."""

    id: int
    patient_id: int
    contact_id: int
    status: CheckInStatus
    state: dict[str, Any]
    expires_at: datetime | None
    language: str
    role: RespondentRole
    content_hash: str
    instrument_version_id: int

    @property
    def opening_sent(self) -> bool:
        return opening_was_sent(self.state)


def open_checkin_rows(contact_id: int) -> list[OpenCheckIn]:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        return [OpenCheckIn(*row) for row in postgres.open_checkins(driver, contact_id)]
    rows = connection.execute(OPEN_CHECKINS, {"contact_id": contact_id})
    return [open_checkin_of(row) for row in rows]


def answer_directly(
    locked: LockedPhone, sms: InboundSms, phone: str, now: datetime
) -> list[str] | None:
    """The common case, in few statements: an answer to the one open check-in.

    Returns None when the text needs the whole conversation (a keyword, a pending
    question, an expired or ambiguous check-in, the end of a check-in with another
    waiting); nothing has been written then.
    """
    decided = plain_answer(locked, sms, now)
    if decided is None:
        return None
    target, step = decided
    instrument = instrument_by_hash(target.content_hash, target.instrument_version_id)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and is_plain(step, instrument):
        return write_plain_step(connection, target, step, sms, phone, locked.contact_id, now)
    inbound = store_inbound_message(sms, phone, locked.contact_id, target.id, now)
    ideas = write_step(target, step, locked.contact_id, inbound.id, sms.body, now)
    replies = step_replies(target.id, target.language, step, ideas)
    store_replies(inbound.id, phone, sms.to_phone, locked.contact_id, replies, now)
    return [r.text for r in replies]


def plain_answer(
    locked: LockedPhone, sms: InboundSms, now: datetime
) -> tuple[OpenCheckIn, engine.Step] | None:
    """The check-in a plain reply answers and the engine's step, or None for anything else."""
    if locked.consent is ConsentState.WITHDRAWN or locked.pending is not PendingQuestion.NONE:
        return None
    if read_keyword(sms.body, opt_out_type=sms.opt_out_type) is not None:
        return None
    rows = open_checkin_rows(locked.contact_id)
    if any(r.expires_at is not None and r.expires_at <= now for r in rows):
        return None
    answerable = [r for r in rows if r.opening_sent]
    target = next((r for r in answerable if r.id == locked.chosen_checkin_id), None)
    if target is None and len(answerable) == 1:
        target = answerable[0]
    if target is None:
        return None
    instrument = instrument_by_hash(target.content_hash, target.instrument_version_id)
    step = engine.receive(
        instrument,
        engine.State.from_json(target.state),
        sms.body,
        target.language,
        proxy=target.role is RespondentRole.PROXY,
    )
    if step.completed and len(rows) > 1:
        return None  # another check-in waits on this phone: let the conversation start it
    return target, step


def write_plain_step(
    connection: sa.Connection,
    target: OpenCheckIn,
    step: engine.Step,
    sms: InboundSms,
    phone: str,
    contact_id: int,
    now: datetime,
) -> list[str]:
    """Store a plain step on PostgreSQL in one statement (``postgres.WRITE_ANSWER``)."""
    recorded = step.recorded[0] if step.recorded else None
    stored = postgres.write_answer(
        connection.connection.driver_connection,
        sid=sms.message_sid,
        phone=phone,
        service_phone=sms.to_phone,
        body=sms.body,
        num_media=sms.num_media,
        contact_id=contact_id,
        checkin_id=target.id,
        item_id=recorded.item_id if recorded else None,
        answer_status=recorded.status if recorded else None,
        value=recorded.value if recorded else None,
        role=target.role,
        state=new_state(target, step),
        status=new_status(target, step),
        replies=[(m.text, m.purpose) for m in step.messages],
        now=now,
    )
    if stored is None:
        return replay(sms.message_sid) or []  # the same MessageSid raced in and won
    return [m.text for m in step.messages]


def is_plain(step: engine.Step, instrument: Instrument) -> bool:
    """One answer (or a re-ask), no alert, no idea, not the end: one statement on PostgreSQL."""
    return (
        step.outcome is None
        and not step.raised
        and len(step.recorded) <= 1
        and all(recorded.status is not None for recorded in step.recorded)
        and not any(makes_idea(instrument, recorded) for recorded in step.recorded)
    )


def replay(message_sid: str) -> list[str] | None:
    """The replies already given to this MessageSid, when it was stored before."""
    earlier_id = find_inbound_id(message_sid)
    return None if earlier_id is None else replies_to_id(earlier_id)


def store_inbound_message(
    sms: InboundSms, phone: str, contact_id: int | None, checkin_id: int | None, now: datetime
) -> StoredInbound:
    return store_inbound(
        twilio_sid=sms.message_sid,
        phone=phone,
        service_phone=sms.to_phone,
        body=sms.body,
        contact_id=contact_id,
        checkin_id=checkin_id,
        num_media=sms.num_media,
        at=now,
    )


def store_unhandled(sms: InboundSms) -> None:
    """Keep the text of a message whose handling failed: nothing is lost."""
    phone = phone_or_raw(sms.from_phone)
    contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.phone == phone))
    store_inbound_message(sms, phone, contact_id, None, utcnow())


def phone_or_raw(raw: str) -> str:
    try:
        return normalise_phone(raw, "From")
    except InvalidInput:
        return raw.strip()[:32] or "unknown"


def reply_to_stranger(phone: str, inbound: StoredInbound) -> list[Reply]:
    """One polite reply to a number we do not know, revealing nothing; then silence."""
    earlier = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(
            Message.phone == phone,
            Message.contact_id.is_(None),
            Message.direction == Direction.INBOUND,
            Message.id != inbound.id,
        )
    )
    if earlier:
        return []
    keyword = read_keyword(inbound.body)
    language = keyword.language if keyword and keyword.language else "en"
    return [Reply(reply(language, "unknown"), "unknown")]


class Conversation:
    """One inbound text from a known phone, and everything it changes."""

    def __init__(self, contact: Contact, inbound: StoredInbound, now: datetime) -> None:
        self.contact = contact
        self.inbound = inbound
        self.now = now
        owner = contact.patient or contact.caregiver
        self.language = owner.preferred_language.value if owner else "en"

    def respond(self, sms: InboundSms) -> list[Reply]:
        opted_out = self.contact.sms_consent is ConsentState.WITHDRAWN
        keyword = read_keyword(sms.body, opted_out=opted_out, opt_out_type=sms.opt_out_type)
        if keyword is not None and keyword.language == "es":
            # STOP and HELP are universal; a Spanish keyword says which language to answer in.
            self.language = "es"
        if keyword is not None and keyword.command is not Command.SKIP:
            self.end_idea_questions()  # a keyword is never an answer to them
        if keyword is not None and keyword.command is Command.OPT_OUT:
            return self.opt_out()
        if keyword is not None and keyword.command is Command.OPT_IN:
            return self.opt_in()
        if keyword is not None and keyword.command is Command.HELP:
            return [self.say("help", **self.center_details())]
        if opted_out:
            return []  # after the confirmation of STOP, nothing more is sent
        if keyword is not None and keyword.command is Command.PAUSE:
            return self.pause(keyword)
        if keyword is not None and keyword.command is Command.RESUME:
            self.contact.paused_until = None
            return [self.say("resumed")]
        if keyword is not None and keyword.command is Command.IDEA:
            return self.idea(keyword.argument)

        state = self.conversation_state()
        if state.pending is PendingQuestion.IDEA_TEXT:
            state.pending = PendingQuestion.NONE
            if keyword is None and normalise(sms.body):
                return self.idea(tidy_text(sms.body))
        if state.pending in IDEA_QUESTIONS:
            # Only SKIP gets here as a keyword: every other one ended the questions above.
            return self.idea_question(state, sms.body, skipped=keyword is not None)
        if state.pending is PendingQuestion.CHOOSE_CHECKIN:
            return self.choose_checkin(state, sms.body)
        return self.answer(state, sms.body)

    # -- keywords ---------------------------------------------------------------------
    def record_consent_by_keyword(self, state: ConsentState) -> None:
        record_consent(
            self.contact,
            state,
            method=ConsentMethod.KEYWORD,
            consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
            note=f"SMS: {self.inbound.body[:200]}",
            at=self.now,
        )

    def opt_out(self) -> list[Reply]:
        self.record_consent_by_keyword(ConsentState.WITHDRAWN)
        self.close_open_checkins(CheckInStatus.CANCELLED)
        cancel_queued(contact_id=self.contact.id)
        state = self.conversation_state()
        state.pending = PendingQuestion.NONE
        state.idea_id = None
        return [self.say("opted_out")]

    def opt_in(self) -> list[Reply]:
        self.record_consent_by_keyword(ConsentState.GRANTED)
        return [self.say("opted_in")]

    def pause(self, keyword: Keyword) -> list[Reply]:
        argument = keyword.argument
        days = int(argument) if argument and argument.isdigit() else None
        if days is None or not 1 <= days <= MAX_PAUSE_DAYS:
            return [self.say("pause_usage")]
        pause_phone(self.contact, self.now + timedelta(days=days), self.now)
        return [self.say("paused", date=self.local_date(self.contact.paused_until))]

    def idea(self, text: str | None) -> list[Reply]:
        if not text or not text.strip():
            self.conversation_state().pending = PendingQuestion.IDEA_TEXT
            return [self.say("idea_prompt")]
        if len(text.strip()) > MAX_IDEA_LENGTH:
            # Kept in the stored message; the next text is read as the shorter idea.
            self.conversation_state().pending = PendingQuestion.IDEA_TEXT
            return [self.say("idea_too_long", length=f"{len(text.strip()):,}")]
        idea = submit_idea(
            text, contact=self.contact, channel=IdeaChannel.SMS, message_id=self.inbound.id
        )
        # Stored at once, so nothing is lost if the family stops answering the questions.
        state = self.conversation_state()
        state.pending = PendingQuestion.IDEA_WHO
        state.idea_id = idea.id
        return [self.say("idea_who", reference=idea.reference)]

    def idea_question(self, state: ContactConversation, text: str, *, skipped: bool) -> list[Reply]:
        """Read the answer to who the idea helps, contact, or credit, and ask the next one."""
        idea = db.session.get(Idea, state.idea_id) if state.idea_id is not None else None
        if idea is None:  # gone since it was asked: read the text as if nothing were pending
            self.end_idea_questions()
            return self.answer(state, text)
        if state.pending is PendingQuestion.IDEA_WHO:
            who = None if skipped else who_it_helps(text)
            if who is not None:
                describe_idea(idea, who_it_helps=who)
            state.pending = PendingQuestion.IDEA_CONTACT
            return [self.say("idea_contact")]
        name = self.first_name()
        if state.pending is PendingQuestion.IDEA_CONTACT:
            if not skipped:
                answer = read_yes_no(text)
                if answer.ok:
                    describe_idea(idea, may_contact=answer.value)
                elif not self.asked_again("idea_contact_again"):
                    return [self.say("idea_contact_again")]
            state.pending = PendingQuestion.IDEA_CREDIT
            return [self.say("idea_credit", name=name)]
        credit = IdeaCredit.ANONYMOUS if skipped else read_credit(text, name)
        if credit is None and not self.asked_again("idea_credit_again"):
            return [self.say("idea_credit_again", name=name)]
        describe_idea(idea, credit=credit or IdeaCredit.ANONYMOUS)
        self.end_idea_questions()
        return self.idea_done(idea)

    def idea_done(self, idea: Idea) -> list[Reply]:
        """The last thank-you; with a check-in waiting, its current question again."""
        checkin = self.next_checkin()
        current = engine.State.from_json(checkin.state).current if checkin else None
        if checkin is None or current is None:
            return [self.say("idea_done", reference=idea.reference)]
        item = instrument_for(checkin).item(current)
        proxy = checkin.respondent_role is RespondentRole.PROXY
        question = engine.question(item, checkin.language.value, proxy)
        return [
            self.say("idea_done_checkin", reference=idea.reference),
            Reply(question.text, question.purpose, checkin.id),
        ]

    def end_idea_questions(self) -> None:
        state = db.session.get(ContactConversation, self.contact.id)
        if state is not None and state.pending in IDEA_QUESTIONS:
            state.pending = PendingQuestion.NONE
            state.idea_id = None

    def asked_again(self, purpose: str) -> bool:
        """Whether the last text we sent this phone was already this re-ask: then move on."""
        last = db.session.scalar(
            sa.select(Message.purpose)
            .where(Message.contact_id == self.contact.id, Message.direction == Direction.OUTBOUND)
            .order_by(Message.id.desc())
            .limit(1)
        )
        return last == purpose

    def first_name(self) -> str:
        owner = self.contact.patient or self.contact.caregiver
        return owner.given_name if owner else reply(self.language, "your_first_name")

    # -- check-ins --------------------------------------------------------------------
    def answer(self, state: ContactConversation, text: str) -> list[Reply]:
        candidates = self.answerable_checkins()
        if not candidates:
            return [self.say("closed" if self.recently_closed() else "nothing_open")]
        target = self.next_checkin(candidates)
        if target is not None:
            return self.step(target, text)
        state.pending = PendingQuestion.CHOOSE_CHECKIN
        state.held_text = text
        state.held_message_id = self.inbound.id
        state.choices = [c.id for c in candidates]
        names = [c.patient.given_name for c in candidates]
        return [Reply(which_child(self.language, names), "which_child")]

    def choose_checkin(self, state: ContactConversation, text: str) -> list[Reply]:
        """Read "1" or "Sam" after "Reply 1 for Sam, 2 for Alex"; then use the held text."""
        open_ids = {c.id: c for c in self.answerable_checkins()}
        choices = [open_ids[i] for i in state.choices or [] if i in open_ids]
        picked = pick_checkin(choices, text)
        if picked is None:
            if len(choices) < 2:
                state.pending = PendingQuestion.NONE
                return self.answer(state, text)
            names = [c.patient.given_name for c in choices]
            return [Reply(which_child(self.language, names), "which_child")]
        held = state.held_text or ""
        state.pending = PendingQuestion.NONE
        state.chosen_checkin_id = picked.id
        state.held_text = None
        state.choices = None
        return self.step(picked, held)

    def step(self, checkin: CheckIn, text: str) -> list[Reply]:
        row = next(r for r in open_checkin_rows(self.contact.id) if r.id == checkin.id)
        instrument = instrument_by_hash(row.content_hash, row.instrument_version_id)
        proxy = row.role is RespondentRole.PROXY
        before = engine.State.from_json(row.state)
        result = engine.receive(instrument, before, text, row.language, proxy=proxy)
        db.session.connection().execute(
            sa.update(MESSAGE_ROWS)
            .where(MESSAGE_ROWS.c.id == self.inbound.id)
            .values(checkin_id=checkin.id)
        )
        ideas = write_step(row, result, self.contact.id, self.inbound.id, text, self.now)
        db.session.expire(checkin)
        replies = step_replies(checkin.id, row.language, result, ideas)
        if result.completed:
            replies.extend(self.continue_with_next_checkin(checkin))
        return replies

    def continue_with_next_checkin(self, finished: CheckIn) -> list[Reply]:
        """After one child's check-in, start the next one waiting on this phone."""
        state = self.conversation_state()
        if state.chosen_checkin_id == finished.id:
            state.chosen_checkin_id = None
        for checkin in self.open_checkins():
            if checkin.id == finished.id or checkin.opening_sent:
                continue
            checkin.state = {**checkin.state, "opening_sent": True}
            checkin.expires_at = self.now + expiry_window()
            name = checkin.patient.given_name
            replies = [Reply(reply(checkin.language.value, "now_about", name=name), "about")]
            replies.extend(Reply(m.text, m.purpose, checkin.id) for m in opening_messages(checkin))
            return replies
        return []

    def open_checkins(self) -> list[CheckIn]:
        """This phone's open check-ins; those past their window are closed on the way."""
        checkins = list(
            db.session.scalars(
                sa.select(CheckIn)
                .where(CheckIn.contact_id == self.contact.id, CheckIn.status.in_(OPEN_STATUSES))
                .order_by(CheckIn.id)
            )
        )
        still_open = []
        for checkin in checkins:
            if checkin.expires_at is not None and checkin.expires_at <= self.now:
                close_checkin(checkin, expired_status(checkin), self.now)
            else:
                still_open.append(checkin)
        return still_open

    def answerable_checkins(self) -> list[CheckIn]:
        return [c for c in self.open_checkins() if c.opening_sent]

    def next_checkin(self, candidates: list[CheckIn] | None = None) -> CheckIn | None:
        """The check-in a plain reply answers: the only one open, or the child chosen."""
        if candidates is None:
            candidates = self.answerable_checkins()
        if len(candidates) == 1:
            return candidates[0]
        chosen_id = self.conversation_state().chosen_checkin_id
        return next((c for c in candidates if c.id == chosen_id), None)

    def recently_closed(self) -> bool:
        latest = db.session.scalar(
            sa.select(CheckIn)
            .where(CheckIn.contact_id == self.contact.id)
            .order_by(CheckIn.id.desc())
            .limit(1)
        )
        return (
            latest is not None
            and latest.status in (CheckInStatus.EXPIRED, CheckInStatus.MISSED)
            and latest.closed_at is not None
            and self.now - latest.closed_at <= CLOSED_REPLY_WINDOW
        )

    def close_open_checkins(self, status: CheckInStatus) -> None:
        for checkin in db.session.scalars(
            sa.select(CheckIn).where(
                CheckIn.contact_id == self.contact.id, CheckIn.status.in_(OPEN_STATUSES)
            )
        ):
            close_checkin(checkin, status, self.now)

    # -- helpers ----------------------------------------------------------------------
    def conversation_state(self) -> ContactConversation:
        state = db.session.get(ContactConversation, self.contact.id)
        if state is None:
            state = ContactConversation(contact_id=self.contact.id, pending=PendingQuestion.NONE)
            db.session.add(state)
        return state

    def center(self) -> Center | None:
        if self.contact.patient is not None:
            return self.contact.patient.center
        caregiver = self.contact.caregiver
        if caregiver is not None and caregiver.patient_links:
            return caregiver.patient_links[0].patient.center
        return None

    def center_details(self) -> dict[str, Any]:
        center = self.center()
        details: dict[str, Any] = {"center": center.name if center else "your care team"}
        if center is not None and center.family_phone:
            details["phone"] = pretty_phone(center.family_phone)
        return details

    def say(self, key: str, **values: Any) -> Reply:
        if key == "help" and "phone" not in values:
            key = "help_no_phone"
        return Reply(reply(self.language, key, **values), key)

    def local_date(self, moment: datetime | None) -> str:
        center = self.center()
        local = moment.astimezone(center.zone) if (moment and center) else moment
        return format_date(local.date() if local else self.now.date(), self.language)


def who_it_helps(text: str) -> str | None:
    """The answer on one line; a long one is cut at a word (the message keeps it whole)."""
    # U+FFFD is what the webhook put for a NUL: a stand-in, not a word of the answer.
    who = " ".join(tidy_text(text).replace("\ufffd", " ").split())
    if len(who) > MAX_WHO_LENGTH:
        cut = who[: MAX_WHO_LENGTH - 1]
        if who[MAX_WHO_LENGTH - 1] != " " and " " in cut:
            cut = cut.rsplit(" ", 1)[0]
        who = cut.rstrip() + "…"
    return who or None


# Folded replies to "credit the idea to Sam, or keep it anonymous?", filler words dropped.
CREDIT_BY_NAME = frozenset({"name", "nombre", "1"})
CREDIT_ANONYMOUS = frozenset({"anon", "anonymous", "anonymously", "anonimo", "anonima", "2", "no"})
CREDIT_FILLER = frozenset({
    "first", "my", "mi", "con", "use", "it", "keep", "please", "pls", "thanks", "thank", "you",
    "ok", "okay", "gracias", "por", "favor", "just", "solo",
})  # fmt: skip


def read_credit(text: str, first_name: str) -> IdeaCredit | None:
    """NAME, NOMBRE, 1 or the first name itself; ANON, ANONIMO, 2 or NO; None for anything else."""
    said = " ".join(w for w in credit_words(text) if w not in CREDIT_FILLER)
    if said in CREDIT_BY_NAME or (said and said == " ".join(credit_words(first_name))):
        return IdeaCredit.FIRST_NAME
    if said in CREDIT_ANONYMOUS:
        return IdeaCredit.ANONYMOUS
    return None


def credit_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(normalise(text)))


def pick_checkin(choices: list[CheckIn], text: str) -> CheckIn | None:
    """A choice by its number or by the child's first name."""
    reply_text = normalise(text)
    if reply_text.isdigit() and 1 <= int(reply_text) <= len(choices):
        return choices[int(reply_text) - 1]
    named = [c for c in choices if fold(c.patient.given_name) == fold(reply_text)]
    return named[0] if len(named) == 1 else None


def pretty_phone(phone: str) -> str:
    if phone.startswith("+1") and len(phone) == 12:
        return f"{phone[2:5]}-{phone[5:8]}-{phone[8:]}"
    return phone


MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    "es": "ene feb mar abr may jun jul ago sep oct nov dic".split(),
}


def format_date(day: date, language: str) -> str:
    month = MONTHS.get(language, MONTHS["en"])[day.month - 1]
    return f"{month} {day.day}" if language == "en" else f"{day.day} {month}"


# -- storing a step -----------------------------------------------------------------------
_instruments_by_hash: dict[str, Instrument] = {}


def instrument_by_hash(content_hash: str, version_id: int) -> Instrument:
    """The exact instrument version a check-in was opened with, parsed once per process."""
    instrument = _instruments_by_hash.get(content_hash)
    if instrument is None:
        version = db.session.get(InstrumentVersion, version_id)
        assert version is not None
        instrument = instrument_of(version)
        _instruments_by_hash[content_hash] = instrument
    return instrument


def instrument_for(checkin: CheckIn) -> Instrument:
    version = checkin.instrument_version
    return instrument_by_hash(version.content_hash, version.id)


def write_step(
    checkin: OpenCheckIn,
    step: engine.Step,
    contact_id: int,
    inbound_id: int | None,
    raw_text: str,
    now: datetime,
) -> list[Idea]:
    """Store what one step decided: answers, the new state, alerts, scores, the status.

    ``contact_id`` gave the answers, in ``checkin.role``; ``inbound_id`` is their text, or
    None for an answer given in the app. An answer to an item that ``becomes_idea`` is
    also submitted as an idea, by that contact: those are returned.
    """
    connection = db.session.connection()
    for recorded in step.recorded:
        if recorded.status is None:
            connection.execute(
                sa.delete(ANSWERS).where(
                    ANSWERS.c.checkin_id == checkin.id, ANSWERS.c.item_id == recorded.item_id
                )
            )
            continue
        values = {
            "status": AnswerStatus(recorded.status),
            "value": recorded.value,
            "raw_text": raw_text,
            "message_id": inbound_id,
            "contact_id": contact_id,
            "respondent_role": checkin.role,
            "answered_at": now,
        }
        upsert(ANSWERS, {"checkin_id": checkin.id, "item_id": recorded.item_id, **values},
               ("checkin_id", "item_id"), values)  # fmt: skip

    changes: dict[str, Any] = {"state": new_state(checkin, step)}
    status = new_status(checkin, step)
    if status is not checkin.status:
        changes["status"] = status
    if status is CheckInStatus.COMPLETED:
        changes["closed_at"] = now
    connection.execute(sa.update(CHECKINS).where(CHECKINS.c.id == checkin.id).values(**changes))

    safety = {m.text for m in step.messages if m.purpose == "safety"}
    if step.raised:
        connection.execute(
            sa.insert(ALERTS),
            [
                {
                    "patient_id": checkin.patient_id,
                    "checkin_id": checkin.id,
                    "red_flag_id": flag.id,
                    "severity": flag.severity,
                    "status": AlertStatus.OPEN,
                    "safety_message": m if (m := flag.message[checkin.language]) in safety else "",
                    "created_at": now,
                }
                for flag in step.raised
            ],
        )
    if step.outcome is not None and step.outcome.scores:
        connection.execute(
            sa.insert(SCORES),
            [
                {
                    "checkin_id": checkin.id,
                    "score_id": result.score.id,
                    "raw": result.raw,
                    "value": result.value,
                    "band_id": result.band.id if result.band else None,
                    "answered": result.answered,
                }
                for result in step.outcome.scores.values()
            ],
        )

    instrument = instrument_by_hash(checkin.content_hash, checkin.instrument_version_id)
    ideas: list[Idea] = []
    for recorded in step.recorded:
        if makes_idea(instrument, recorded):
            ideas.append(
                submit_idea(
                    recorded.value,
                    contact=db.session.get(Contact, contact_id),
                    channel=IdeaChannel.CHECKIN,
                    message_id=inbound_id,
                    checkin_id=checkin.id,
                    now=now,
                )
            )
    return ideas


def makes_idea(instrument: Instrument, recorded: engine.Recorded) -> bool:
    """An answered (not skipped) item whose answer goes to the idea backlog too."""
    item = instrument.item(recorded.item_id)
    return (
        item.becomes_idea
        and item.type is ItemType.TEXT
        and recorded.status == AnswerStatus.ANSWERED.value
        and isinstance(recorded.value, str)
        and bool(recorded.value.strip())
    )


def step_replies(
    checkin_id: int, language: str, step: engine.Step, ideas: list[Idea]
) -> list[Reply]:
    """The engine's texts, and for each idea made its reference, before the next question."""
    replies = [Reply(m.text, m.purpose, checkin_id) for m in step.messages]
    for idea in ideas:
        at = next(
            (n for n, r in enumerate(replies) if r.purpose in ("question", "band")), len(replies)
        )
        text = reply(language, "idea_saved", reference=idea.reference)
        replies.insert(at, Reply(text, "idea_saved", checkin_id))
    return replies


def new_state(checkin: OpenCheckIn, step: engine.Step) -> dict[str, Any]:
    """The engine's state, keeping what it does not know about (``opening_sent``)."""
    return {**checkin.state, **step.state.to_json()}


def new_status(checkin: OpenCheckIn, step: engine.Step) -> CheckInStatus:
    if step.outcome is not None:
        return CheckInStatus.COMPLETED
    if checkin.status is CheckInStatus.SENT and step.recorded:
        return CheckInStatus.IN_PROGRESS
    return checkin.status


def upsert(
    table: sa.Table, values: dict[str, Any], keys: tuple[str, ...], update: dict[str, Any]
) -> None:
    """INSERT, or UPDATE the row with the same keys, in one statement on either database."""
    connection = db.session.connection()
    insert = insert_for(connection)
    statement = insert(table).values(**values)
    connection.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=update))


def pause_phone(contact: Contact, until: datetime, now: datetime) -> None:
    """No check-ins to this phone before ``until`` (SMS PAUSE, or the app's pause date).

    Its open check-ins are cancelled and their texts withdrawn; news of the family's ideas
    waits out the pause (the sender holds it), and a sign-in code still goes.
    """
    contact.paused_until = until
    for checkin in db.session.scalars(
        sa.select(CheckIn).where(
            CheckIn.contact_id == contact.id, CheckIn.status.in_(OPEN_STATUSES)
        )
    ):
        close_checkin(checkin, CheckInStatus.CANCELLED, now, CloseReason.PAUSED)
    cancel_queued(contact_id=contact.id, keep=WAIT_OUT_PAUSE | AT_ANY_HOUR)


def close_checkin(
    checkin: CheckIn, status: CheckInStatus, now: datetime, reason: CloseReason | None = None
) -> None:
    """Close a check-in and withdraw its unsent messages; lapsing unanswered is its own reason."""
    checkin.status = status
    checkin.closed_at = now
    if reason is None and status in (CheckInStatus.EXPIRED, CheckInStatus.MISSED):
        reason = CloseReason.NO_ANSWER
    if reason is not None and checkin.close_reason is None:
        checkin.close_reason = reason.value
    if status is not CheckInStatus.COMPLETED:
        cancel_queued(contact_id=checkin.contact_id, checkin_ids=[checkin.id])


def expired_status(checkin: CheckIn) -> CheckInStatus:
    """Expired when partly answered, missed when nothing came back."""
    answered = bool(checkin.state.get("answers")) or bool(checkin.state.get("passed"))
    return CheckInStatus.EXPIRED if answered else CheckInStatus.MISSED


# -- opening ------------------------------------------------------------------------------
def choose_respondent(
    patient: Patient, instrument: Instrument, today: date
) -> tuple[Contact, RespondentRole]:
    """The patient's own phone or a caregiver's, as the instrument and the patient's age say."""
    respondent = instrument.respondent
    own = next((c for c in patient.contacts if c.sms_consent is not ConsentState.WITHDRAWN), None)
    proxies = [
        contact
        for link in patient.caregiver_links
        if link.may_answer_as_proxy
        for contact in link.caregiver.contacts
        if contact.sms_consent is not ConsentState.WITHDRAWN
    ]
    chosen = respondent.choose(patient.age_on(today), own, proxies)
    if chosen is not None:
        contact, proxy = chosen
        return contact, RespondentRole.PROXY if proxy else RespondentRole.SELF
    raise InvalidInput(
        "patient",
        patient.mrn,
        f"has no phone that can answer {instrument.id} "
        f"({respondent.mode.value}; patient phone: {'yes' if own else 'no'}, "
        f"caregiver phones that may answer: {len(proxies)})",
    )


def open_checkin(
    patient: Patient,
    instrument: Instrument,
    *,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> CheckIn:
    """Open a check-in now and put its opening messages in the outbox."""
    now = now or utcnow()
    already = db.session.scalar(
        sa.select(CheckIn.id)
        .join(InstrumentVersion)
        .where(
            CheckIn.patient_id == patient.id,
            CheckIn.status.in_(OPEN_STATUSES),
            InstrumentVersion.instrument_id == instrument.id,
        )
    )
    if already is not None:
        raise InvalidInput(
            "instrument", instrument.id, f"already has an open check-in for {patient.mrn}"
        )
    contact, role = choose_respondent(patient, instrument, now.astimezone(patient.zone).date())
    if contact.paused_until is not None and contact.paused_until > now:
        raise InvalidInput(
            "phone", contact.phone, f"has paused check-ins until {contact.paused_until:%Y-%m-%d}"
        )
    owner = contact.patient or contact.caregiver
    language = owner.preferred_language if owner else patient.preferred_language
    version = record_instrument_version(instrument)
    opening = engine.begin(instrument, language.value, proxy=role is RespondentRole.PROXY)

    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CheckIn)
        .where(CheckIn.contact_id == contact.id, CheckIn.status.in_(OPEN_STATUSES))
    )
    checkin = CheckIn(
        patient=patient,
        instrument_version_id=version.id,
        contact=contact,
        respondent_role=role,
        language=language,
        status=CheckInStatus.SENT,
        due_at=due_at or now,
        opened_at=now,
        expires_at=now + expiry_window(),
        state={**opening.state.to_json(), "opening_sent": not waiting},
    )
    db.session.add(checkin)
    db.session.flush()
    if not waiting:
        for message in opening_messages(checkin, opening):
            queue_outbound(
                phone=contact.phone,
                body=message.text,
                contact_id=contact.id,
                checkin_id=checkin.id,
                purpose=message.purpose,
            )
    return checkin


def opening_messages(checkin: CheckIn, opening: engine.Step | None = None) -> list[engine.Outgoing]:
    """Intro and first question; naming the child when the phone answers for several."""
    instrument = instrument_for(checkin)
    if opening is None:
        opening = engine.begin(
            instrument,
            checkin.language.value,
            proxy=checkin.respondent_role is RespondentRole.PROXY,
        )
    messages = list(opening.messages)
    caregiver = checkin.contact.caregiver
    if caregiver is not None and len(caregiver.patient_links) > 1:
        about = reply(checkin.language.value, "about", name=checkin.patient.given_name)
        messages.insert(0, engine.Outgoing(about, "about"))
    return messages


def expire_stale_checkins(now: datetime | None = None) -> int:
    """Close every open check-in past its window (the scheduler runs this)."""
    now = now or utcnow()
    stale = db.session.scalars(
        sa.select(CheckIn).where(CheckIn.status.in_(OPEN_STATUSES), CheckIn.expires_at <= now)
    ).all()
    for checkin in stale:
        close_checkin(checkin, expired_status(checkin), now)
    return len(stale)
