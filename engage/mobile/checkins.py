"""Check-ins in the app: read them, answer them item by item, see the scores over time.

An answer given in the app takes the path of a text: ``engine.receive`` reads it with the
same parsing and validation, and ``write_step`` stores answers, state, status, alerts and
scores. SMS and app share that state, so a check-in answered in one is closed in the other.

Locks are taken in the order the SMS path takes them: the check-in's respondent contact row
(``lock_phone`` locks it for every text from that phone), then the check-in. An SMS reply and
an app answer therefore wait for each other and never both advance the same item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from engage.audit.services import record_event
from engage.conversations import engine
from engage.conversations.models import (
    OPEN_STATUSES,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    ContactConversation,
    PendingQuestion,
    RespondentRole,
)
from engage.conversations.replies import reply
from engage.conversations.services import (
    OpenCheckIn,
    close_checkin,
    expired_status,
    expiry_window,
    instrument_for,
    open_checkin_rows,
    opening_messages,
    step_replies,
    write_step,
)
from engage.db import db, utcnow
from engage.instruments.model import Instrument, Item, RespondentMode
from engage.instruments.models import InstrumentVersion
from engage.instruments.render import numbered
from engage.messaging.services import cancel_queued, queue_outbound
from engage.mobile.access import AppUser, accessible_patient
from engage.people.models import Contact

CLOSED_STATUSES = (
    CheckInStatus.COMPLETED,
    CheckInStatus.EXPIRED,
    CheckInStatus.MISSED,
    CheckInStatus.CANCELLED,
)
LISTED = ("open", "closed", "all")
OUTCOMES = ("recorded", "asked_again", "moved_on", "completed")
SKIP_TEXT, BACK_TEXT = "SKIP", "BACK"  # keywords the engine reads in any language
ACTIONS = {"skip": SKIP_TEXT, "back": BACK_TEXT}


class AnswerRefused(Exception):
    """The check-in cannot take this answer: ``slug`` is the API's problem type."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


# -- what the app is shown ------------------------------------------------------------------
@dataclass(frozen=True)
class OptionView:
    code: str
    number: int  # what an SMS reply would say
    label: str


@dataclass(frozen=True)
class AnchorView:
    value: int
    label: str


@dataclass(frozen=True)
class QuestionView:
    item_id: str
    type: str
    text: str
    options: list[OptionView]
    minimum: int | None
    maximum: int | None
    anchors: list[AnchorView]
    required: bool
    position: int  # this is the n-th question asked
    at_most: int  # the instrument's items; skip logic may ask fewer


@dataclass(frozen=True)
class ScoreView:
    score_id: str
    label: str
    value: float | None
    band_id: str | None
    band_label: str | None
    answered: int


class NamesInstrument:
    """The instrument as the API shows it: ``{"id", "title"}``."""

    instrument_id: str
    instrument_title: str

    @property
    def instrument(self) -> dict[str, str]:
        return {"id": self.instrument_id, "title": self.instrument_title}


@dataclass(frozen=True)
class CheckInView(NamesInstrument):
    id: int
    patient_id: int
    instrument_id: str
    instrument_title: str
    status: CheckInStatus
    respondent_role: RespondentRole
    due_at: datetime
    opened_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    current_question: QuestionView | None
    scores: list[ScoreView]


@dataclass(frozen=True)
class HistoryEntry(NamesInstrument):
    checkin_id: int
    completed_at: datetime | None
    instrument_id: str
    instrument_title: str
    respondent_role: RespondentRole
    scores: list[ScoreView]


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class RaisedFlag:
    id: str
    severity: str
    message: str


@dataclass(frozen=True)
class AppAnswer:
    outcome: str  # recorded, asked_again, moved_on, completed
    messages: list[str]
    check_in: CheckInView
    red_flags: list[RaisedFlag] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------
def list_checkins(
    user: AppUser,
    patient_id: int,
    *,
    status: str = "open",
    page: int = 1,
    per_page: int = 25,
    now: datetime | None = None,
) -> Page:
    """A patient's check-ins, newest first; those past their window count as closed."""
    now = now or utcnow()
    patient = accessible_patient(user, patient_id)
    query = sa.select(CheckIn).where(CheckIn.patient_id == patient.id)
    lapsed = sa.and_(CheckIn.expires_at.is_not(None), CheckIn.expires_at <= now)
    if status == "open":
        query = query.where(CheckIn.status.in_(OPEN_STATUSES), sa.not_(lapsed))
    elif status == "closed":
        query = query.where(
            sa.or_(
                CheckIn.status.in_(CLOSED_STATUSES),
                sa.and_(CheckIn.status.in_(OPEN_STATUSES), lapsed),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    checkins = db.session.scalars(
        query.order_by(CheckIn.due_at.desc(), CheckIn.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    scores = scores_of([c.id for c in checkins if c.status is CheckInStatus.COMPLETED])
    record_event(
        None,
        "app.view_checkins",
        patient_id=patient.id,
        detail=f"status={status} page={page}",
        contact_id=user.contact.id,
    )
    items = [checkin_view(user, c, now, scores.get(c.id, [])) for c in checkins]
    return Page(items, total, page, per_page)


def read_checkin(user: AppUser, checkin_id: int, now: datetime | None = None) -> CheckInView:
    now = now or utcnow()
    checkin = visible_checkin(user, checkin_id)
    record_event(
        None,
        "app.view_checkin",
        patient_id=checkin.patient_id,
        detail=f"check-in {checkin.id}",
        contact_id=user.contact.id,
    )
    return checkin_view(user, checkin, now, scores_of([checkin.id]).get(checkin.id, []))


def read_history(
    user: AppUser,
    patient_id: int,
    *,
    instrument_id: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Completed check-ins with their scores and bands, newest first."""
    patient = accessible_patient(user, patient_id)
    query = sa.select(CheckIn).where(
        CheckIn.patient_id == patient.id, CheckIn.status == CheckInStatus.COMPLETED
    )
    if instrument_id:
        query = query.join(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument_id
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    checkins = db.session.scalars(
        query.order_by(CheckIn.closed_at.desc(), CheckIn.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    scores = scores_of([c.id for c in checkins])
    record_event(
        None,
        "app.view_history",
        patient_id=patient.id,
        detail=f"instrument={instrument_id or 'all'} page={page}",
        contact_id=user.contact.id,
    )
    entries = []
    for checkin in checkins:
        instrument = instrument_for(checkin)
        language = language_for(user, instrument, checkin)
        entries.append(
            HistoryEntry(
                checkin_id=checkin.id,
                completed_at=checkin.closed_at,
                instrument_id=instrument.id,
                instrument_title=instrument.title[language],
                respondent_role=checkin.respondent_role,
                scores=score_views(instrument, scores.get(checkin.id, []), language),
            )
        )
    return Page(entries, total, page, per_page)


def visible_checkin(user: AppUser, checkin_id: int) -> CheckIn:
    """The check-in, or 404 when this phone may not read its patient (nothing leaks)."""
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound(f"No check-in {checkin_id}.")
    try:
        accessible_patient(user, checkin.patient_id)
    except NotFound:
        raise NotFound(f"No check-in {checkin_id}.") from None
    return checkin


def scores_of(checkin_ids: list[int]) -> dict[int, list[CheckInScore]]:
    found: dict[int, list[CheckInScore]] = {}
    if not checkin_ids:
        return found
    rows = db.session.scalars(
        sa.select(CheckInScore)
        .where(CheckInScore.checkin_id.in_(checkin_ids))
        .order_by(CheckInScore.id)
    )
    for row in rows:
        found.setdefault(row.checkin_id, []).append(row)
    return found


def checkin_view(
    user: AppUser, checkin: CheckIn, now: datetime, scores: list[CheckInScore]
) -> CheckInView:
    instrument = instrument_for(checkin)
    language = language_for(user, instrument, checkin)
    status = shown_status(checkin, now)
    question = None
    if status in OPEN_STATUSES:
        proxy = user.role == "caregiver"
        question = question_view(instrument, checkin.state, language, proxy=proxy)
    return CheckInView(
        id=checkin.id,
        patient_id=checkin.patient_id,
        instrument_id=instrument.id,
        instrument_title=instrument.title[language],
        status=status,
        respondent_role=checkin.respondent_role,
        due_at=checkin.due_at,
        opened_at=checkin.opened_at,
        expires_at=checkin.expires_at,
        closed_at=checkin.closed_at,
        current_question=question,
        scores=score_views(instrument, scores, language),
    )


def shown_status(checkin: CheckIn, now: datetime) -> CheckInStatus:
    """The stored status; an open check-in past its window shows as the expiry job will close it."""
    if checkin.is_open and lapsed(checkin, now):
        return expired_status(checkin)
    return checkin.status


def lapsed(checkin: CheckIn, now: datetime) -> bool:
    return checkin.expires_at is not None and checkin.expires_at <= now


def question_view(
    instrument: Instrument, state: dict[str, Any], language: str, *, proxy: bool
) -> QuestionView | None:
    conversation = engine.State.from_json(state)
    if conversation.current is None:
        return None
    item = instrument.item(conversation.current)
    asked = list(conversation.asked)
    position = asked.index(item.id) + 1 if item.id in asked else len(asked) + 1
    return QuestionView(
        item_id=item.id,
        type=item.type.value,
        text=question_text(item, language, proxy=proxy),
        options=[OptionView(o.code, n, o.label[language]) for n, o in numbered(item)],
        minimum=item.minimum,
        maximum=item.maximum,
        anchors=[
            AnchorView(value, label)
            for value, label in sorted((item.anchors or {}).get(language, {}).items())
        ],
        required=item.required,
        position=position,
        at_most=len(instrument.items),
    )


def question_text(item: Item, language: str, *, proxy: bool) -> str:
    """The question as the respondent reads it: a caregiver gets the proxy wording."""
    wording = item.proxy_text if proxy and item.proxy_text else item.text
    return wording[language]


def score_views(
    instrument: Instrument, scores: list[CheckInScore], language: str
) -> list[ScoreView]:
    views = []
    for row in scores:
        try:
            score = instrument.score(row.score_id)
        except KeyError:
            continue  # not in this version: nothing to label it with
        band = next((b for b in score.bands if b.id == row.band_id), None)
        views.append(
            ScoreView(
                score_id=score.id,
                label=score.label[language],
                value=row.value,
                band_id=row.band_id,
                band_label=band.label[language] if band else None,
                answered=row.answered,
            )
        )
    return views


def language_for(user: AppUser, instrument: Instrument, checkin: CheckIn) -> str:
    """The app user's language when the instrument speaks it, else the check-in's."""
    for language in (user.owner.preferred_language.value, checkin.language.value):
        if language in instrument.languages:
            return language
    return instrument.languages[0]


# -- answering ------------------------------------------------------------------------------
def answering_role(user: AppUser, instrument: Instrument) -> RespondentRole:
    """SELF for the patient, PROXY for a caregiver, as the instrument's respondent mode allows."""
    mode = instrument.respondent.mode
    if user.role == "caregiver":
        if mode is RespondentMode.SELF:
            raise Forbidden(
                f"{instrument.title['en']} is answered by the patient themselves, "
                "not by a parent or caregiver."
            )
        return RespondentRole.PROXY
    if mode is RespondentMode.PROXY:
        raise Forbidden(
            f"{instrument.title['en']} is answered by a parent or caregiver, not by the patient."
        )
    return RespondentRole.SELF


def answer_checkin(
    user: AppUser,
    checkin_id: int,
    item_id: str,
    *,
    answer: str | None = None,
    action: str | None = None,
    now: datetime | None = None,
) -> AppAnswer:
    """Answer the check-in's current item (or skip it, or go back) exactly as a text would.

    Raises AnswerRefused when the check-in is closed (one past its window is closed on the
    way: the caller commits that before answering 409) or has moved on from ``item_id``.
    """
    now = now or utcnow()
    if (answer is None) == (action is None):
        raise ValueError("give exactly one of answer and action")
    text = answer if answer is not None else ACTIONS[action or ""]
    checkin = visible_checkin(user, checkin_id)
    instrument = instrument_for(checkin)
    role = answering_role(user, instrument)
    checkin = lock_checkin(checkin)

    if checkin.status is CheckInStatus.DUE:
        raise AnswerRefused("check-in-closed", "This check-in has not opened yet.")
    if not checkin.is_open:
        raise AnswerRefused("check-in-closed", f"This check-in is {checkin.status.value}.")
    if lapsed(checkin, now):
        close_checkin(checkin, expired_status(checkin), now)
        raise AnswerRefused("check-in-closed", "This check-in closed: its time to answer ran out.")
    before = engine.State.from_json(checkin.state)
    if before.current is None:
        raise AnswerRefused("check-in-closed", "This check-in has no question left to answer.")
    if item_id != before.current:
        raise AnswerRefused(
            "check-in-moved-on",
            f"This check-in is at item {before.current!r} now, not {item_id!r} (answered by "
            "text or on another screen meanwhile): read it again for the current question.",
        )

    language = language_for(user, instrument, checkin)
    step = engine.receive(instrument, before, text, language, proxy=role is RespondentRole.PROXY)
    moved = step.completed or bool(step.recorded) or step.state.current != before.current
    was_texted = checkin.opening_sent
    state = dict(checkin.state)
    if moved and not was_texted:
        state["opening_sent"] = True  # begun in the app: SMS must not start it over
    row = OpenCheckIn(
        id=checkin.id,
        patient_id=checkin.patient_id,
        contact_id=checkin.contact_id,
        status=checkin.status,
        state=state,
        expires_at=checkin.expires_at,
        language=language,
        role=role,
        content_hash=checkin.instrument_version.content_hash,
        instrument_version_id=checkin.instrument_version_id,
    )
    ideas = write_step(row, step, user.contact.id, None, text, now)
    db.session.expire(checkin)  # write_step wrote with SQL statements

    if moved:
        # A queued question or reminder is for an item the app has passed: a reply to it
        # would be read as the answer to the next one.
        cancel_queued(contact_id=row.contact_id, checkin_ids=[row.id])
        if not was_texted:
            keep_sms_on_its_checkin(row.contact_id, row.id)
    if step.completed:
        after_completion(row.contact_id, row.id, was_texted, now)

    record_event(
        None,
        "app.answer_checkin",
        patient_id=row.patient_id,
        detail=f"check-in {row.id} item {item_id}",
        contact_id=user.contact.id,
    )
    replies = step_replies(row.id, language, step, ideas)
    return AppAnswer(
        outcome=outcome_of(before, step),
        # The next question is in check_in.current_question, ready to render.
        messages=[r.text for r in replies if r.purpose != "question"],
        red_flags=[RaisedFlag(f.id, f.severity.value, f.message[language]) for f in step.raised],
        check_in=checkin_view(user, checkin, now, scores_of([row.id]).get(row.id, [])),
    )


def outcome_of(before: engine.State, step: engine.Step) -> str:
    if step.completed:
        return "completed"
    if any(r.status == "unanswered" for r in step.recorded):
        return "moved_on"  # the engine gave up on the item after its tries, as by SMS
    if not step.recorded and step.state.current == before.current:
        return "asked_again"
    return "recorded"


def lock_checkin(checkin: CheckIn) -> CheckIn:
    """Lock the respondent's contact row, then the check-in, and read its state afresh.

    The SMS path locks the contact row first (``lock_phone``) and then writes the check-in;
    taking them in the same order means the two wait for each other instead of deadlocking.
    """
    db.session.execute(
        sa.select(Contact.id).where(Contact.id == checkin.contact_id).with_for_update()
    )
    return db.session.scalars(
        sa.select(CheckIn)
        .where(CheckIn.id == checkin.id)
        .with_for_update(of=CheckIn)
        .execution_options(populate_existing=True)
    ).one()


def keep_sms_on_its_checkin(contact_id: int, started_id: int) -> None:
    """The phone's texts keep answering the check-in they were on, not one the app began.

    Without this the phone would have two check-ins under way and be asked which child
    each text is about.
    """
    others = [r for r in open_checkin_rows(contact_id) if r.opening_sent and r.id != started_id]
    if len(others) != 1:
        return
    conversation = db.session.get(ContactConversation, contact_id)
    if conversation is None:
        conversation = ContactConversation(contact_id=contact_id, pending=PendingQuestion.NONE)
        db.session.add(conversation)
    if conversation.chosen_checkin_id is None:
        conversation.chosen_checkin_id = others[0].id


def after_completion(contact_id: int, finished_id: int, was_texted: bool, now: datetime) -> None:
    """As after the last SMS answer: forget the phone's choice, start the check-in waiting.

    The SMS path texts the next child's check-in in its reply; here it goes through the outbox.
    """
    conversation = db.session.get(ContactConversation, contact_id)
    if conversation is not None and conversation.chosen_checkin_id == finished_id:
        conversation.chosen_checkin_id = None
    if not was_texted:
        return  # begun in the app while the phone was on another check-in: that one goes on
    still_open = [
        c
        for c in db.session.scalars(
            sa.select(CheckIn)
            .where(
                CheckIn.contact_id == contact_id,
                CheckIn.status.in_(OPEN_STATUSES),
                CheckIn.id != finished_id,
            )
            .order_by(CheckIn.id)
        )
        if not lapsed(c, now)
    ]
    if not still_open or any(c.opening_sent for c in still_open):
        return
    waiting = still_open[0]
    waiting.state = {**waiting.state, "opening_sent": True}
    waiting.expires_at = now + expiry_window()
    about = reply(waiting.language.value, "now_about", name=waiting.patient.given_name)
    texts = [(about, "about"), *((m.text, m.purpose) for m in opening_messages(waiting))]
    for body, purpose in texts:
        queue_outbound(
            phone=waiting.contact.phone,
            body=body,
            contact_id=contact_id,
            checkin_id=waiting.id,
            purpose=purpose,
        )
