"""``/api/v1/measures``: the QI measures as one JSON document, named as on the page.

Not paged: it is one bounded document (at most 104 weeks of five measures for the network
and each center), and a run chart needs its whole window at once. ``?center=`` narrows it
to one place. The same rules as the page: clinicians, network reviewers and other staff
who review ideas; administrators who do not get 403.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engage.api import api_staff, problems
from engage.db import unit_of_work
from engage.measures.compute import DEFAULT_WEEKS, MAX_WEEKS, MEASURES, Measure, Unit
from engage.measures.services import read_measures, require_measures_viewer

blp = Blueprint(
    "measures_api",
    __name__,
    url_prefix="/api/v1/measures",
    description="QI measures by week: network-wide and per center, other centers anonymised.",
)

WEEK_DEFINITION = (
    "ISO weeks in UTC, Monday 00:00 to the next Monday 00:00; the window is the complete "
    "weeks before the current one"
)


class MeasuresQuerySchema(Schema):
    weeks = fields.Integer(
        load_default=DEFAULT_WEEKS,
        validate=validate.Range(min=1, max=MAX_WEEKS),
        metadata={"description": "how many complete weeks, ending with last week"},
    )
    center = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "one place's `key`: `network`, one of your centers' codes, or "
            "`center-a`…; default: every place"
        },
    )


class MeasureInfoSchema(Schema):
    id = fields.String(required=True, metadata={"description": ", ".join(m.value for m in Measure)})
    title = fields.String(required=True)
    unit = fields.String(
        required=True,
        metadata={"description": "share (0 to 1), hours or count"},
        validate=validate.OneOf([unit.value for unit in Unit]),
    )
    value = fields.String(required=True, metadata={"description": "what the value is"})
    numerator = fields.String(required=True, metadata={"description": "what it counts"})
    denominator = fields.String(
        required=True, allow_none=True, metadata={"description": "null: a plain count"}
    )


class PointSchema(Schema):
    week = fields.Date(required=True, metadata={"description": "the week's Monday"})
    numerator = fields.Integer(required=True)
    denominator = fields.Integer(required=True, allow_none=True)
    value = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "null when there was nothing to measure that week"},
    )


class SeriesSchema(Schema):
    measure = fields.String(required=True)
    median = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "the run chart's centre line: the median of the values"},
    )
    points = fields.List(fields.Nested(PointSchema), required=True)


class PlaceSchema(Schema):
    key = fields.String(required=True, metadata={"description": "for `?center=`"})
    label = fields.String(
        required=True, metadata={"description": "Network, your center's code, or Center A…"}
    )
    named = fields.Boolean(
        required=True, metadata={"description": "false: another center, anonymised"}
    )
    name = fields.String(
        required=True, allow_none=True, metadata={"description": "your own centers' only"}
    )
    series = fields.List(fields.Nested(SeriesSchema), required=True)


class MeasuresSchema(Schema):
    week_definition = fields.String(required=True)
    weeks = fields.Integer(required=True)
    first_week = fields.Date(required=True)
    last_week = fields.Date(required=True)
    computed_at = fields.DateTime(required=True)
    measures = fields.List(fields.Nested(MeasureInfoSchema), required=True)
    places = fields.List(fields.Nested(PlaceSchema), required=True)


@blp.before_request
def authenticate() -> None:
    """A staff token or session (401) of someone who may read the measures (403), before
    the arguments are read, so a stranger learns nothing from a 422."""
    require_measures_viewer(api_staff())


@blp.route("")
class MeasuresView(MethodView):
    @blp.arguments(MeasuresQuerySchema, location="query")
    @blp.response(200, MeasuresSchema)
    @problems(blp, 403)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every measure, week by week, for the network and each center.

        One bounded document, not a page. 422 for `weeks` out of range or a `center`
        that is not one of the keys this caller may use.
        """
        with unit_of_work():
            report = read_measures(g.staff, query["weeks"])
            places = report.choose(query["center"])
        return {
            "week_definition": WEEK_DEFINITION,
            "weeks": report.window.weeks,
            "first_week": report.window.mondays[0],
            "last_week": report.window.mondays[-1],
            "computed_at": report.computed_at,
            "measures": [
                {
                    "id": info.id.value,
                    "title": info.title,
                    "unit": info.unit.value,
                    "value": info.value,
                    "numerator": info.numerator,
                    "denominator": info.denominator,
                }
                for info in MEASURES
            ],
            "places": [
                {
                    "key": place.key,
                    "label": place.label,
                    "named": place.named,
                    "name": place.name,
                    "series": [
                        {
                            "measure": series.measure.id.value,
                            "median": series.median,
                            "points": series.figures,
                        }
                        for series in report.series[place.key].values()
                    ],
                }
                for place in places
            ],
        }
