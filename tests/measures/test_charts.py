"""The run chart is well-formed, accessible SVG: points, gaps, a median line per series."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from engage.measures.charts import EMPTY_TEXT, RunSeries, run_chart, value_ticks

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [date(2026, 5, 4) + timedelta(weeks=n) for n in range(8)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def with_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if name in (e.get("class") or "").split()]


def share_series(values, label="Network"):
    known = [v for v in values if v is not None]
    median = sorted(known)[len(known) // 2] if known else None
    return RunSeries(label, values, median, notes=["2 of 3"] * len(values))


def test_points_median_title_and_description():
    values = [0.5, 0.75, None, 1.0, 0.25, 0.5, 0.5, 0.75]
    root = parse(run_chart(WEEKS, [share_series(values)], unit="share", title="Due <done>"))
    assert root.get("role") == "img"
    assert root.find(SVG + "title").text == "Due <done>"  # escaped, and read back whole
    labelled = root.get("aria-labelledby").split()
    assert [root.find(f".//*[@id='{ident}']") is not None for ident in labelled] == [True, True]
    desc = root.find(SVG + "desc").text
    assert "latest 75% in the week of 2026-06-22" in desc
    assert "median 50% over 7 of 8 weeks" in desc
    points = with_class(root, "circle", "point")
    assert len(points) == 7  # the week with nothing to measure has no point
    assert points[0].find(SVG + "title").text == "Network, week of 2026-05-04: 50% (2 of 3)"
    (median,) = with_class(root, "line", "median")
    assert median.get("y1") == median.get("y2")
    # 50% sits halfway between the 0% and 100% gridlines.
    ys = {float(p.get("cy")) for p in points if "50%" in p.find(SVG + "title").text}
    assert ys == {float(median.get("y1"))}
    # The gap breaks the line in two.
    assert len(with_class(root, "polyline", "line")) == 2


def test_two_series_each_with_a_median_and_a_legend():
    submitted = RunSeries("Ideas submitted", [2, 0, 3, 1, 0, 4, 2, 1], 1.5)
    adopted = RunSeries("Ideas adopted", [0, 0, 1, 0, 0, 0, 1, 0], 0)
    root = parse(run_chart(WEEKS, [submitted, adopted], unit="count", title="Ideas"))
    assert len(with_class(root, "line", "median")) == 2
    assert len(with_class(root, "circle", "point-0")) == 8
    assert len(with_class(root, "rect", "point-1")) == 8
    legend = [t.text for t in with_class(root, "text", "legend")]
    assert legend == ["Ideas submitted", "Ideas adopted"]


def test_nothing_to_measure_says_so():
    root = parse(run_chart(WEEKS, [share_series([None] * 8)], unit="share", title="Due"))
    assert [t.text for t in with_class(root, "text", "empty")] == [EMPTY_TEXT]
    assert not with_class(root, "line", "median")
    assert "nothing to measure in 8 weeks" in root.find(SVG + "desc").text


def test_one_week_and_hours():
    root = parse(run_chart(WEEKS[:1], [RunSeries("Network", [4.5], 4.5)], unit="hours", title="h"))
    assert len(with_class(root, "circle", "point")) == 1
    labels = [t.text for t in with_class(root, "text", "median-label")]
    assert labels == ["median 4.5 h"]


@pytest.mark.parametrize(
    ("unit", "highest", "ticks"),
    [
        ("share", 0.3, [0, 0.25, 0.5, 0.75, 1.0]),
        ("count", 0, [0, 1]),
        ("count", 3, [0, 1, 2, 3]),
        ("count", 7, [0, 2, 4, 6, 8]),
        ("hours", 0, [0, 1, 2]),
        ("hours", 30, [0, 10, 20, 30]),
    ],
)
def test_value_axis_ticks(unit, highest, ticks):
    assert value_ticks(unit, highest) == ticks


@pytest.mark.parametrize(
    "bad",
    [
        {"unit": "percent"},
        {"series": []},
        {"series": [RunSeries("x", [1.0], None)]},  # one value for eight weeks
        {"series": [RunSeries("x", [float("nan")] * 8, None)]},
        {"series": [RunSeries("x", [-1.0] * 8, None)]},
    ],
)
def test_bad_input_is_refused(bad):
    options = {"unit": "count", "series": [RunSeries("x", [1.0] * 8, 1.0)], **bad}
    with pytest.raises(ValueError):
        run_chart(WEEKS, options["series"], unit=options["unit"], title="x")


def test_a_long_window_labels_the_last_week_and_fits():
    weeks = [date(2024, 12, 2) + timedelta(weeks=n) for n in range(104)]
    values = [n % 5 for n in range(104)]
    root = parse(run_chart(weeks, [RunSeries("Network", values, 2)], unit="count", title="x"))
    labels = [t.text for t in with_class(root, "text", "x-label")]
    assert labels[-1] == "Nov 23"  # 23 Nov 2026, the last Monday
    assert 5 <= len(labels) <= 11
