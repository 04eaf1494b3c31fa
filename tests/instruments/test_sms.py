import pytest

from engage.instruments.sms import segment_fit


@pytest.mark.parametrize(
    ("text", "encoding", "length", "limit"),
    [
        ("How was your belly pain today?", "GSM-7", 30, 160),
        ("¿Como estuvo? Niño, señal, é ü", "GSM-7", 30, 160),
        ("Price: 5€ [a]", "GSM-7", 16, 160),  # € [ ] take two septets each
        ("¿Cómo estuvo su día?", "UCS-2", 20, 70),  # ó and í are not GSM-7
        ("Great job! 🎉", "UCS-2", 13, 70),  # the emoji is two UTF-16 units
        ("x" * 160, "GSM-7", 160, 160),
    ],
)
def test_segment_fit(text, encoding, length, limit):
    fit = segment_fit(text)
    assert (fit.encoding, fit.length, fit.limit) == (encoding, length, limit)


def test_one_character_over_does_not_fit():
    assert segment_fit("x" * 160).fits
    assert not segment_fit("x" * 161).fits
    assert not segment_fit("á" + "x" * 70).fits


def test_the_first_unicode_character_is_named():
    assert segment_fit("Dolor de barriga: ¿cuánto?").first_unicode_character == "á"
