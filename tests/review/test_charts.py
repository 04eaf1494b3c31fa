"""The score chart is well-formed SVG whose marks sit where the values and dates say."""

from __future__ import annotations

import random
import re
import timeit
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engage.instruments.loader import load_library
from engage.review.charts import BandZone, Point, band_zones, score_chart

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2025, 12, 1, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def library():
    return load_library([PROMPTS])


@pytest.fixture(scope="module")
def pucai(library):
    return library.get("ibd-symptoms").score("activity_index")


@pytest.fixture(scope="module")
def wellbeing(library):
    return library.get("ibd-wellbeing").score("wellbeing")


def chart(points, score, **options):
    options.setdefault("title", score.label["en"])
    options.setdefault("bands", band_zones(score))
    return score_chart(points, minimum=score.minimum, maximum=score.maximum, **options)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def with_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [
        element for element in root.iter(SVG + tag) if name in (element.get("class") or "").split()
    ]


def weekly(values, start=START):
    return [Point(start + timedelta(weeks=n), value) for n, value in enumerate(values)]


def hover(element: ET.Element) -> str:
    title = element.find(SVG + "title")
    assert title is not None
    return title.text or ""


def plot_edges(root: ET.Element) -> tuple[float, float]:
    """The bottom and top of the plot area, read from the lowest and highest band."""
    bands = with_class(root, "rect", "band")
    bottom = float(bands[0].get("y")) + float(bands[0].get("height"))
    return bottom, float(bands[-1].get("y"))


# -- the document ---------------------------------------------------------------------------
def test_is_a_self_contained_accessible_svg(pucai):
    root = parse(chart(weekly([35, 40]), pucai))

    assert root.tag == SVG + "svg"
    assert root.get("viewBox") == "0 0 640 200"
    assert root.get("role") == "img"
    # Screen readers read the first <title> and <desc> of the svg.
    assert [child.tag for child in root][:3] == [SVG + "title", SVG + "desc", SVG + "style"]
    assert root.find(SVG + "title").text == "Symptom activity (PUCAI points)"
    # The fills travel with the chart, so it prints without the page's stylesheet.
    style = root.find(SVG + "style").text
    for tone in ("good", "mild", "moderate", "severe", "neutral"):
        assert f".band-{tone}{{fill:#" in style
    assert "href" not in chart(weekly([35, 40]), pucai)


def test_desc_summarises_the_latest_value_and_its_band(pucai):
    points = weekly([5, 20, None, 35])
    desc = parse(chart(points, pucai)).find(SVG + "desc").text

    assert desc == (
        "Latest 35 (Moderate) on 2025-12-22; 3 check-ins answered since 2025-12-01, 1 missed"
    )


def test_desc_reads_the_latest_by_time_not_by_position(pucai):
    points = [Point(START + timedelta(weeks=1), 70), Point(START, 0)]
    desc = parse(chart(points, pucai)).find(SVG + "desc").text

    assert desc == "Latest 70 (Severe) on 2025-12-08; 2 check-ins answered since 2025-12-01"


def test_desc_when_every_check_in_was_missed(pucai):
    desc = parse(chart(weekly([None, None]), pucai)).find(SVG + "desc").text

    assert desc == "No answered check-ins; 2 missed since 2025-12-01"


def test_same_input_same_output_whatever_the_order_given(pucai):
    points = weekly([10, None, 45, 70, 0])
    shuffled = points[:]
    random.Random(4).shuffle(shuffled)
    visits = [START + timedelta(days=10)]

    assert chart(points, pucai, visits=visits) == chart(shuffled, pucai, visits=visits)


def test_coordinates_have_one_decimal(pucai):
    points = [Point(START + timedelta(hours=37 * n), 85 * n / 7) for n in range(8)]
    root = parse(chart(points, pucai, visits=[START + timedelta(days=3)]))
    numbers = []
    for element in root.iter():
        if element is root:
            continue  # its width and height are the whole pixels asked for
        for name in ("cx", "cy", "x", "y", "x1", "x2", "y1", "y2", "width", "height"):
            if name in element.attrib:
                numbers.append(element.get(name))
        for name in ("points", "d"):
            numbers += re.findall(r"[-\d.]+", element.get(name, ""))

    assert len(numbers) > 100
    assert all(re.fullmatch(r"\d+\.\d", number) for number in numbers), numbers


# -- values and bands -------------------------------------------------------------------
def test_one_point_circle_per_answered_check_in(pucai):
    points = weekly([0, 15, None, 40, None, None, 85])
    root = parse(chart(points, pucai))

    assert len(with_class(root, "circle", "point")) == 4
    assert len(with_class(root, "circle", "missed")) == 3


def test_missed_check_ins_are_hollow_markers_on_the_time_axis(pucai):
    points = weekly([20, None, 30])
    root = parse(chart(points, pucai))
    bottom, _ = plot_edges(root)
    [missed] = with_class(root, "circle", "missed")

    assert float(missed.get("cy")) == bottom
    assert hover(missed) == "2025-12-08: missed"
    assert ".missed,.score-chart .legend-missed{fill:#fff;" in root.find(SVG + "style").text
    # The line breaks at the missed check-in instead of joining across it.
    assert with_class(root, "polyline", "series") == []
    legend = [t.text for t in root.iter(SVG + "text") if t.get("class") == "legend"]
    assert legend == ["missed check-in"]


def test_series_joins_runs_of_answered_check_ins(pucai):
    root = parse(chart(weekly([20, 25, 30, None, 40, 45]), pucai))
    runs = [line.get("points").split() for line in with_class(root, "polyline", "series")]
    circles = [f"{c.get('cx')},{c.get('cy')}" for c in with_class(root, "circle", "point")]

    assert runs == [circles[:3], circles[3:]]


def test_band_rectangles_tile_the_value_range_in_order(pucai):
    root = parse(chart(weekly([10]), pucai))
    bands = with_class(root, "rect", "band")
    bottom, top = plot_edges(root)

    assert [band.get("class") for band in bands] == [
        "band band-good",
        "band band-mild",
        "band band-moderate",
        "band band-severe",
    ]
    for lower, upper in zip(bands, bands[1:], strict=False):
        assert float(upper.get("y")) + float(upper.get("height")) == pytest.approx(
            float(lower.get("y")), abs=0.05
        )
    # Each edge sits where a linear scale from minimum (bottom) to maximum (top) puts it.
    scale = (bottom - top) / (pucai.maximum - pucai.minimum)
    edges = [float(band.get("y")) for band in bands[:-1]]
    expected = [bottom - (band.maximum + 1 - pucai.minimum) * scale for band in pucai.bands[:-1]]
    assert edges == pytest.approx(expected, abs=0.1)
    assert top < bottom


def test_minimum_is_at_the_bottom_and_maximum_at_the_top(pucai):
    root = parse(chart(weekly([pucai.minimum, pucai.maximum]), pucai))
    bottom, top = plot_edges(root)
    low, high = with_class(root, "circle", "point")

    assert float(low.get("cy")) == bottom
    assert float(high.get("cy")) == top


def test_each_point_lies_in_the_rectangle_of_its_band(pucai):
    values = list(range(0, 86, 5))  # every reachable PUCAI total
    root = parse(chart(weekly(values), pucai))
    rectangles = with_class(root, "rect", "band")
    circles = with_class(root, "circle", "point")

    for value, circle in zip(values, circles, strict=True):
        band = pucai.band_for(value)
        rectangle = rectangles[pucai.bands.index(band)]
        top = float(rectangle.get("y"))
        y = float(circle.get("cy"))
        assert top <= y <= top + float(rectangle.get("height")), (value, band.id)
        assert hover(circle).endswith(f": {value} ({band.label['en']})")


def test_value_ticks_are_the_band_cut_offs(pucai):
    root = parse(chart(weekly([10]), pucai))
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "y-label"]

    assert labels == ["0", "10", "35", "65", "85"]


def test_value_ticks_without_bands_are_round_numbers():
    svg = score_chart(weekly([3]), minimum=0, maximum=12, bands=(), title="Physical")
    labels = [t.text for t in parse(svg).iter(SVG + "text") if t.get("class") == "y-label"]

    assert labels == ["0", "5", "10", "12"]


def test_out_of_range_values_are_pinned_to_the_edge_but_told_truly(pucai):
    root = parse(chart(weekly([90, -3]), pucai))
    bottom, top = plot_edges(root)
    high, low = with_class(root, "circle", "point")

    assert (float(high.get("cy")), float(low.get("cy"))) == (top, bottom)
    assert hover(high) == "2025-12-01: 90"


def test_band_labels_at_the_right_edge_wrap_long_labels(wellbeing):
    root = parse(chart(weekly([60]), wellbeing))
    bands = with_class(root, "rect", "band")
    right_edge = float(bands[0].get("x")) + float(bands[0].get("width"))
    labels = [t for t in root.iter(SVG + "text") if t.get("class") == "band-label"]
    lines = [[span.text for span in label] for label in labels]

    assert lines == [
        ["Many concerns: follow", "up soon"],
        ["Some concerns: discuss", "at next visit"],
        ["Doing well"],
    ]
    assert all(float(span.get("x")) > right_edge for label in labels for span in label)


# -- time -------------------------------------------------------------------------------
def test_x_increases_with_time(pucai):
    instants = [START + timedelta(days=days) for days in (0, 1, 3, 10, 40, 41, 200)]
    points = [Point(at, 20) for at in instants]
    random.Random(7).shuffle(points)
    circles = with_class(parse(chart(points, pucai)), "circle", "point")
    xs = [float(circle.get("cx")) for circle in circles]

    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert [hover(c)[:10] for c in circles] == [at.date().isoformat() for at in instants]
    # Proportional to elapsed time: 200 days span, day 40 sits a fifth of the way along.
    assert (xs[4] - xs[0]) / (xs[-1] - xs[0]) == pytest.approx(0.2, abs=0.01)


def test_two_years_weekly_gets_a_few_month_ticks(pucai):
    points = weekly([r % 86 for r in range(0, 104 * 7, 7)])
    root = parse(chart(points, pucai))
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "x-label"]

    assert 3 <= len(labels) <= 8
    assert all(re.fullmatch(r"(Jan|Apr|Jul|Oct) 20\d\d", label) for label in labels), labels


def test_a_few_weeks_get_monday_ticks(pucai):
    # Mondays 1, 8 and 15 December at 17:00: the axis starts after midnight on the 1st.
    root = parse(chart(weekly([10, 20, 30]), pucai))
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "x-label"]

    assert labels == ["Dec 8", "Dec 15"]


def test_dst_crossing_series_uses_local_dates():
    new_york = ZoneInfo("America/New_York")
    # Saturdays at 23:30 in New York, across the end of daylight saving time (1 November
    # 2026): in UTC these are Sundays, and 31 October falls on 1 November.
    saturdays = [
        datetime(2026, 9, 5, 23, 30, tzinfo=new_york) + timedelta(weeks=n) for n in range(17)
    ]
    points = [Point(at.astimezone(UTC), 20) for at in saturdays]
    root = parse(
        score_chart(
            points, minimum=0, maximum=85, bands=(), title="t", time_zone="America/New_York"
        )
    )
    circles = with_class(root, "circle", "point")
    dates = [datetime.fromisoformat(hover(circle)[:10]) for circle in circles]

    assert [d.weekday() for d in dates] == [5] * 17
    assert dates[8].date().isoformat() == "2026-10-31"
    ticks = [
        (t.text, float(t.get("x"))) for t in root.iter(SVG + "text") if t.get("class") == "x-label"
    ]
    november = dict(ticks)["Nov 2026"]
    # Local midnight on 1 November comes after the 23:30 check-in of 31 October.
    assert float(circles[8].get("cx")) < november < float(circles[9].get("cx"))
    assert root.find(SVG + "desc").text.startswith("Latest 20 on 2026-12-26;")


def test_the_same_series_in_utc_uses_utc_dates():
    at = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # 31 October, 23:30 in New York
    svg = score_chart([Point(at, 5)], minimum=0, maximum=85, bands=(), title="t")

    assert hover(with_class(parse(svg), "circle", "point")[0]).startswith("2026-11-01:")


def test_single_point_renders_mid_axis(pucai):
    root = parse(chart([Point(START, 40)], pucai))
    [circle] = with_class(root, "circle", "point")
    bands = with_class(root, "rect", "band")
    left, width = float(bands[0].get("x")), float(bands[0].get("width"))

    assert float(circle.get("cx")) == pytest.approx(left + width / 2, abs=0.1)
    assert with_class(root, "polyline", "series") == []
    assert len([t for t in root.iter(SVG + "text") if t.get("class") == "x-label"]) >= 2


def test_visits_are_dashed_lines_and_stretch_the_time_axis(pucai):
    visits = [START + timedelta(days=10), START + timedelta(days=30)]
    root = parse(chart(weekly([10, 20, 30]), pucai, visits=visits))
    lines = with_class(root, "line", "visit")
    xs = [float(c.get("cx")) for c in with_class(root, "circle", "point")]

    assert [hover(line) for line in lines] == ["Visit 2025-12-11", "Visit 2025-12-31"]
    assert xs[1] < float(lines[0].get("x1")) < xs[2]
    assert float(lines[1].get("x1")) > xs[2]  # the next visit, after the last check-in
    assert "stroke-dasharray" in root.find(SVG + "style").text.split(".visit")[1]


# -- text -------------------------------------------------------------------------------
def test_every_text_is_escaped():
    nasty = '<script>alert("x")</script> & co'
    bands = [BandZone(0, 10, "Mild & <b>fine</b>", "mild")]
    points = [Point(START, 4, label=nasty), Point(START + timedelta(days=7), None, label="a&b")]
    svg = score_chart(points, minimum=0, maximum=10, bands=bands, title=nasty + "\x07")
    root = parse(svg)

    assert "<script" not in svg and "<b>" not in svg
    assert root.find(SVG + "title").text == nasty
    assert list(root.iter(SVG + "script")) == []
    band_label = next(t for t in root.iter(SVG + "text") if t.get("class") == "band-label")
    assert "".join(band_label.itertext()) == "Mild & <b>fine</b>"
    point, missed = with_class(root, "circle", "point") + with_class(root, "circle", "missed")
    assert hover(point) == f"2025-12-01: 4 (Mild & <b>fine</b>), {nasty}"
    assert hover(missed) == "2025-12-08: missed, a&b"


def test_empty_input_renders_the_empty_state(pucai):
    root = parse(chart([], pucai, visits=[START]))
    texts = [t.text for t in root.iter(SVG + "text") if t.get("class") == "empty"]

    assert texts == ["No check-ins yet"]
    assert root.find(SVG + "desc").text == "No check-ins yet"
    assert with_class(root, "circle", "point") == with_class(root, "circle", "missed") == []
    assert len(with_class(root, "rect", "band")) == 4


# -- bands from instruments ---------------------------------------------------------------
def test_band_zones_of_a_higher_is_worse_score(pucai):
    assert band_zones(pucai) == (
        BandZone(0, 10, "Remission", "good"),
        BandZone(10, 35, "Mild", "mild"),
        BandZone(35, 65, "Moderate", "moderate"),
        BandZone(65, 85, "Severe", "severe"),
    )


def test_band_zones_of_a_higher_is_better_score(wellbeing):
    zones = band_zones(wellbeing, "es")

    assert [(z.low, z.high, z.tone) for z in zones] == [
        (0, 50, "severe"),
        (50, 75, "moderate"),
        (75, 100, "good"),
    ]
    assert zones[2].label == "Le va bien"


def test_band_zones_direction_can_be_given(pucai):
    zones = band_zones(pucai, higher_is_better=True)

    assert [z.tone for z in zones] == ["severe", "moderate", "mild", "good"]


def test_band_zones_of_unknown_ids_are_neutral_unless_told(pucai):
    renamed = replace(
        pucai, bands=tuple(replace(b, id=f"level_{n}") for n, b in enumerate(pucai.bands))
    )

    assert {z.tone for z in band_zones(renamed)} == {"neutral"}
    assert band_zones(renamed, higher_is_better=False) == band_zones(pucai)


def test_band_zones_of_translated_band_records():
    @dataclass(frozen=True)
    class Stored:  # how a summary may carry bands: label already in the reader's language
        id: str
        label: str
        minimum: float
        maximum: float

    stored = [Stored("doing_well", "Le va bien", 75, 100), Stored("many", "Muchas", 0, 74)]

    assert band_zones(stored) == (
        BandZone(0, 75, "Muchas", "severe"),
        BandZone(75, 100, "Le va bien", "good"),
    )


# -- misuse and speed -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("points", "options", "message"),
    [
        ([Point(datetime(2026, 1, 1), 3)], {}, "no time zone"),
        ([], {"minimum": 5, "maximum": 5}, "must be below"),
        ([], {"bands": [BandZone(0, 10, "x", "purple")]}, "tone 'purple'"),
        ([Point(START, float("nan"))], {}, "not a number"),
        ([], {"visits": [datetime(2026, 1, 1)]}, "no time zone"),
    ],
)
def test_refuses_input_it_cannot_draw(points, options, message):
    arguments = {"minimum": 0, "maximum": 10, "bands": (), "title": "t"} | options
    with pytest.raises(ValueError, match=message):
        score_chart(points, **arguments)


def test_two_years_weekly_draws_well_under_five_milliseconds(pucai):
    points = weekly([(n * 37) % 86 if n % 9 else None for n in range(104)])
    zones = band_zones(pucai)

    def draw():
        return score_chart(
            points, minimum=0, maximum=85, bands=zones, title="t", time_zone="America/Chicago"
        )

    best = min(timeit.repeat(draw, number=5, repeat=5)) / 5
    assert best < 0.005
