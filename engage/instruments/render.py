"""The SMS text of each part of an instrument, exactly as the respondent receives it."""

from __future__ import annotations

from engage.instruments.model import Instrument, Item, ItemType, Option

YES_NO_HINT = {"en": "Reply YES or NO", "es": "Responda SI o NO"}


def item_message(item: Item, language: str, *, proxy: bool = False) -> str:
    """One item as one SMS: the question, then how to answer when the type implies it."""
    wording = item.proxy_text if proxy and item.proxy_text else item.text
    text = wording[language]
    if item.type is ItemType.CHOICE:
        lines = [f"{number} {option.label[language]}" for number, option in numbered(item)]
        return "\n".join([text, *lines])
    if item.type is ItemType.SCALE and item.anchors:
        anchors = item.anchors[language]
        return text + "\n" + ", ".join(f"{value}={anchors[value]}" for value in sorted(anchors))
    if item.type is ItemType.YES_NO:
        return f"{text}\n{YES_NO_HINT[language]}"
    return text


def numbered(item: Item) -> list[tuple[int, Option]]:
    """Options with the numbers respondents reply with, from 1."""
    return list(enumerate(item.options, start=1))


def script(instrument: Instrument, language: str, *, proxy: bool = False) -> list[tuple[str, str]]:
    """Every message an instrument can send, labelled, in the order they could be sent."""
    messages: list[tuple[str, str]] = []
    if instrument.intro:
        messages.append(("intro", instrument.intro[language]))
    for item in instrument.items:
        label = f"item '{item.id}'"
        if item.ask_when is not None:
            label += " (only asked when its condition holds)"
        messages.append((label, item_message(item, language, proxy=proxy)))
    if instrument.closing:
        messages.append(("closing", instrument.closing[language]))
    for score in instrument.scores:
        for band in score.bands if score.tell_respondent else ():
            summary = score.respondent_summary(band, language)
            messages.append((f"score '{score.id}' when {band.id}", summary or ""))
    for flag in instrument.red_flags:
        messages.append((f"red flag '{flag.id}' ({flag.severity.value})", flag.message[language]))
    return messages
