"""The network page of QI measures: four run charts, a center to compare, a CSV download.

For clinicians, network reviewers and other staff who review ideas (administrators who do
not: 403). Aggregate figures are not a patient's data, so viewing them is not audited; a
CSV download is (``export.measures_csv``), as every export is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, render_template, request
from markupsafe import Markup

from engage.auth.web import current_staff, staff_required
from engage.db import unit_of_work
from engage.errors import InvalidInput
from engage.measures.charts import RunSeries, run_chart, value_text
from engage.measures.compute import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    MEASURE_INFO,
    MEASURES,
    Figure,
    Measure,
)
from engage.measures.services import (
    MeasureReport,
    Place,
    export_measures_csv,
    may_view_measures,
    read_measures,
    require_measures_viewer,
)

bp = Blueprint("measures", __name__)
bp.add_app_template_global(may_view_measures, "may_view_measures")  # the navigation's link


@dataclass(frozen=True)
class Card:
    """One run chart of the page: one measure, or two drawn together (ideas)."""

    id: str
    title: str
    measures: tuple[Measure, ...]
    columns: tuple[str, ...]
    cells: Callable[[Sequence[Figure]], list[str]]  # the figures of one week, as table cells


def share_cells(figures: Sequence[Figure]) -> list[str]:
    (figure,) = figures
    share = "—" if figure.value is None else value_text(figure.value, "share")
    return [str(figure.numerator), str(figure.denominator), share]


def alert_cells(figures: Sequence[Figure]) -> list[str]:
    (figure,) = figures
    raised = figure.denominator or 0
    median = "—" if figure.value is None else value_text(figure.value, "hours")
    return [str(raised), str(figure.numerator), str(raised - figure.numerator), median]


def count_cells(figures: Sequence[Figure]) -> list[str]:
    return [str(figure.numerator) for figure in figures]


CARDS = (
    Card(
        "checkins",
        "Due check-ins completed",
        (Measure.CHECKINS_COMPLETED,),
        ("Completed", "Due", "Share"),
        share_cells,
    ),
    Card(
        "remission",
        "Patients whose latest symptom band is remission",
        (Measure.REMISSION,),
        ("In remission", "Patients with a band", "Share"),
        share_cells,
    ),
    Card(
        "alerts",
        "Median hours to acknowledge a red-flag alert",
        (Measure.ALERT_ACK_HOURS,),
        ("Raised", "Acknowledged", "Still open", "Median"),
        alert_cells,
    ),
    Card(
        "ideas",
        "Ideas submitted and adopted",
        (Measure.IDEAS_SUBMITTED, Measure.IDEAS_ADOPTED),
        ("Submitted", "Adopted"),
        count_cells,
    ),
)


@dataclass(frozen=True)
class ChartView:
    place: Place
    svg: Markup
    rows: list[list[str]]  # the week, then the card's columns


def note_of(measure: Measure, figure: Figure) -> str:
    if measure is Measure.ALERT_ACK_HOURS:
        raised = figure.denominator or 0
        return f"{figure.numerator} of {raised} acknowledged, {raised - figure.numerator} open"
    if figure.denominator is not None:
        return f"{figure.numerator} of {figure.denominator}"
    return ""


def chart_view(report: MeasureReport, card: Card, place: Place, ident: str) -> ChartView:
    weeks = report.window.mondays
    by_measure = [report.series[place.key][measure] for measure in card.measures]
    lines = [
        RunSeries(
            label=MEASURE_INFO[series.measure.id].title,
            values=[figure.value for figure in series.figures],
            median=series.median,
            notes=[note_of(series.measure.id, figure) for figure in series.figures],
        )
        for series in by_measure
    ]
    svg = run_chart(
        weeks,
        lines,
        unit=by_measure[0].measure.unit.value,
        title=f"{card.title}: {place.label}, by week",
        ident=ident,
    )
    rows = [
        [monday.isoformat(), *card.cells([series.figures[n] for series in by_measure])]
        for n, monday in enumerate(weeks)
    ]
    return ChartView(place, Markup(svg), rows)  # run_chart escapes every text it draws


def weeks_asked(text: str | None, *, strict: bool) -> int:
    """``?weeks=``: a whole number from 1 to MAX_WEEKS. A page says so and shows the
    default; a download is refused (400), so a script never gets figures it did not ask for."""
    if text is None or text == "":
        return DEFAULT_WEEKS
    if text.isdigit() and 1 <= int(text) <= MAX_WEEKS:
        return int(text)
    reason = f"weeks: {text!r} is not a whole number from 1 to {MAX_WEEKS}"
    if strict:
        abort(400, description=reason)
    flash(f"{reason}; showing {DEFAULT_WEEKS}", "problem")
    return DEFAULT_WEEKS


@bp.get("/measures")
@staff_required()
def network_page() -> str | Response:
    if request.args.get("format") == "csv":
        return download()
    user = require_measures_viewer(current_staff())
    weeks = weeks_asked(request.args.get("weeks"), strict=False)
    center = request.args.get("center") or None
    with unit_of_work():
        report = read_measures(user, weeks)
        chosen = report.place(center) if center else None
        if center and chosen is None:
            flash(f"center: {center!r} is not a center you can choose", "problem")
        shown = [report.places[0]]
        if chosen is not None and not chosen.is_network:
            shown.append(chosen)
        charts = {
            card.id: [
                chart_view(report, card, place, f"chart-{card.id}-{n}")
                for n, place in enumerate(shown)
            ]
            for card in CARDS
        }
        page = render_template(
            "measures/network.html",
            report=report,
            cards=CARDS,
            charts=charts,
            chosen=chosen,
            weeks=weeks,
            max_weeks=MAX_WEEKS,
            definitions=MEASURES,
        )
    return page


@bp.get("/measures.csv")
@staff_required()
def download() -> Response:
    """The page's figures for every place you may see (or ``?center=`` one), as CSV."""
    user = require_measures_viewer(current_staff())
    weeks = weeks_asked(request.args.get("weeks"), strict=True)
    center = request.args.get("center") or None
    try:
        with unit_of_work():
            report = read_measures(user, weeks)
            body = export_measures_csv(report, user, center)
    except InvalidInput as problem:
        abort(400, description=str(problem))
    first, last = report.window.mondays[0], report.window.mondays[-1]
    name = f"engage-measures-{first.isoformat()}-to-{last.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
