"""Telling the family what became of their idea, by SMS, in their language.

Each status change puts one text per recipient in the outbox (the submitter, and the
senders of duplicates merged into the idea). The outbox's sender keeps quiet hours;
a paused phone gets the text when the pause ends; a phone that opted out or that
Twilio reported unusable gets nothing, and the change's history says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from engage.codesign.models import Idea, IdeaStatus, IdeaStatusChange
from engage.db import db
from engage.messaging.services import queue_outbound
from engage.people.models import ConsentState, Contact

PURPOSE = "idea_update"

UPDATES: Mapping[str, Mapping[str, str]] = {
    "en": {
        IdeaStatus.UNDER_REVIEW: (
            "Update on your idea {reference}: the network team is now "
            "reviewing it."
        ),
        IdeaStatus.ACCEPTED: "Good news: your idea {reference} was chosen to be tried out.",
        IdeaStatus.TESTING: "Your idea {reference} is now being tried at {centers}.",
        IdeaStatus.ADOPTED: (
            "Your idea {reference} worked, and the network is adopting "
            "it. Thank you!"
        ),
        IdeaStatus.NOT_NOW: "Your idea {reference} is on hold for now.",
        IdeaStatus.DECLINED: (
            "The network will not go ahead with your idea {reference}. "
            "Thank you for sharing it."
        ),
        IdeaStatus.MERGED: (
            "Your idea {reference} is like idea {target} already in the list, so they are now "
            "one. We'll text you what becomes of {target}."
        ),
        "why": "Why: {rationale}",
        "centers": "{count} care centers",
        "one_center": "1 care center",
    },
    "es": {
        IdeaStatus.UNDER_REVIEW: (
            "Novedad sobre su idea {reference}: el equipo de la red la "
            "esta revisando."
        ),
        IdeaStatus.ACCEPTED: "Buenas noticias: su idea {reference} fue elegida para probarla.",
        IdeaStatus.TESTING: "Su idea {reference} se esta probando en {centers}.",
        IdeaStatus.ADOPTED: "Su idea {reference} funciono y la red la va a adoptar. ¡Gracias!",
        IdeaStatus.NOT_NOW: "Su idea {reference} queda en espera por ahora.",
        IdeaStatus.DECLINED: (
            "La red no seguira adelante con su idea {reference}. Gracias "
            "por compartirla."
        ),
        IdeaStatus.MERGED: (
            "Su idea {reference} se parece a la idea {target} que ya estaba en la lista, asi "
            "que ahora son una. Le avisaremos que pasa con {target}."
        ),
        "why": "Por que: {rationale}",
        "centers": "{count} centros de cuidado",
        "one_center": "1 centro de cuidado",
    },
}  # fmt: skip


def update_text(idea: Idea, change: IdeaStatusChange, language: str) -> str:
    texts = UPDATES.get(language, UPDATES["en"])
    count = len(change.centers or [])
    centers = texts["one_center"] if count == 1 else texts["centers"].format(count=count)
    target = change.merged_into.reference if change.merged_into is not None else ""
    news = texts[change.to_status].format(reference=idea.reference, target=target, centers=centers)
    return f"{news} {texts['why'].format(rationale=change.rationale)}"


def recipients(idea: Idea) -> list[Contact]:
    """The submitter's phone first, then followers' phones, each once."""
    contacts = [idea.contact, *(f.contact for f in idea.followers)]
    unique: dict[int, Contact] = {}
    for contact in contacts:
        if contact is not None and contact.id not in unique:
            unique[contact.id] = contact
    return list(unique.values())


def language_of(contact: Contact) -> str:
    owner = contact.patient or contact.caregiver
    return owner.preferred_language.value if owner is not None else "en"


def relay_status_change(idea: Idea, change: IdeaStatusChange, now: datetime) -> str:
    """Queue the texts for one change; returns what was done, for the idea's history."""
    texted, skipped = 0, []
    for contact in recipients(idea):
        if contact.sms_consent is ConsentState.WITHDRAWN:
            skipped.append("opted out")
            continue
        if contact.unusable_since is not None:
            skipped.append("number unusable")
            continue
        message = queue_outbound(
            phone=contact.phone,
            body=update_text(idea, change, language_of(contact)),
            contact_id=contact.id,
            checkin_id=None,
            purpose=PURPOSE,
        )
        if contact.paused_until is not None and contact.paused_until > now:
            message.next_attempt_at = contact.paused_until
        texted += 1
    db.session.flush()
    if not texted and not skipped:
        return "not texted: no phone to text (submitted without one)"
    parts = []
    if texted:
        parts.append(f"texted {texted} phone{'s' if texted != 1 else ''}")
    if skipped:
        parts.append("not texted: " + ", ".join(sorted(skipped)))
    return "; ".join(parts)
