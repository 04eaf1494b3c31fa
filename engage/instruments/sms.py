"""How many characters one SMS holds for a text: GSM-7 when it can, UCS-2 when it must."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet, and the extension table whose characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SEGMENT = 160
UCS2_SEGMENT = 70


@dataclass(frozen=True)
class SegmentFit:
    """The encoding a text needs, its length in that encoding, and what one SMS holds."""

    encoding: str  # "GSM-7" or "UCS-2"
    length: int
    limit: int
    first_unicode_character: str | None = None

    @property
    def fits(self) -> bool:
        return self.length <= self.limit


def segment_fit(text: str) -> SegmentFit:
    length = 0
    for character in text:
        if character in GSM7_BASIC:
            length += 1
        elif character in GSM7_EXTENSION:
            length += 2
        else:
            # UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
            units = len(text.encode("utf-16-le")) // 2
            return SegmentFit("UCS-2", units, UCS2_SEGMENT, character)
    return SegmentFit("GSM-7", length, GSM7_SEGMENT)
