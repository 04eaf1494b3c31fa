"""The mapping file: which column of a center's export holds what, and how its values read.

A mapping is YAML, loaded through :class:`MappingSchema` (the format is described
in the README, "Roster import"). Every problem in it is reported at once, each
with its path (``columns.mrn: Missing data for required field.``), before the
roster is even opened.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from engage.errors import InvalidInput, describe_problems
from engage.fields import Choice
from engage.people.models import ConsentState, Diagnosis, Language, Relationship
from engage.roster.problems import RosterRefused
from engage.scheduling.input import build_schedule
from engage.scheduling.schedules import Schedule

T = TypeVar("T")

# The patient's columns a roster cannot do without.
REQUIRED_FIELDS = ("mrn", "given_name", "family_name", "date_of_birth", "diagnosis")
MAX_CAREGIVERS = 4

# strptime directives in the words people use for date formats ("DD/MM/YYYY").
_FORMAT_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%H": "HH",
    "%I": "hh",
    "%M": "mm",
    "%p": "AM/PM",
    "%b": "Mon",
    "%B": "Month",
    "%S": "SS",
}
_DIRECTIVE = re.compile(r"%.")

PROXY_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "t": True,
    "1": True,
    "x": True,
    "no": False,
    "n": False,
    "false": False,
    "f": False,
    "0": False,
}


def normalise_key(text: str) -> str:
    """How a value and a mapping key are compared: trimmed, spaces collapsed, any case."""
    return " ".join(text.split()).casefold()


def describe_format(pattern: str) -> str:
    """``%d/%m/%Y`` as people write it: ``DD/MM/YYYY``."""
    return _DIRECTIVE.sub(lambda match: _FORMAT_WORDS.get(match.group(0), match.group(0)), pattern)


class ValueTable(Generic[T]):
    """Values as the export spells them, to engage's; ``K50*`` matches every code from K50.

    Exact keys win over patterns, and a longer pattern over a shorter one.
    """

    def __init__(self, entries: Mapping[str, T]) -> None:
        # As the mapping writes them, for messages that list what is known.
        self.spellings = list(entries)
        self.exact: dict[str, T] = {}
        prefixes: list[tuple[str, T]] = []
        for key, value in entries.items():
            if key.endswith("*"):
                prefixes.append((normalise_key(key[:-1]), value))
            else:
                self.exact[normalise_key(key)] = value
        self.prefixes = sorted(prefixes, key=lambda entry: len(entry[0]), reverse=True)
        self._seen: dict[str, T | None] = {}

    def lookup(self, text: str) -> T | None:
        try:
            return self._seen[text]
        except KeyError:
            pass
        key = normalise_key(text)
        found = self.exact.get(key)
        if found is None:
            found = next((value for prefix, value in self.prefixes if key.startswith(prefix)), None)
        self._seen[text] = found
        return found

    def known(self, limit: int = 12) -> str:
        shown = ", ".join(self.spellings[:limit]) or "none"
        return shown + (", ..." if len(self.spellings) > limit else "")


@dataclass(frozen=True)
class CaregiverColumns:
    """The columns of one caregiver slot (a row holds up to ``MAX_CAREGIVERS``)."""

    slot: int
    given_name: str
    family_name: str
    phone: str | None = None
    relationship: str | None = None
    proxy: str | None = None
    consent: str | None = None
    language: str | None = None

    def named(self) -> list[tuple[str, str]]:
        names = ("given_name", "family_name", "phone", "relationship", "proxy", "consent")
        places = [(f"caregivers[{self.slot}].{name}", getattr(self, name)) for name in names]
        places.append((f"caregivers[{self.slot}].language", self.language))
        return [(place, column) for place, column in places if column]


@dataclass(frozen=True)
class RosterMapping:
    """A loaded, checked mapping."""

    name: str
    columns: dict[str, str]
    caregivers: tuple[CaregiverColumns, ...]
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    visit_at_format: str = "%Y-%m-%d %H:%M"
    visit_date_format: str = "%Y-%m-%d"
    visit_time_format: str = "%H:%M"
    phone_region: str = "US"
    diagnosis: ValueTable[Diagnosis] = field(default_factory=lambda: ValueTable({}))
    language: ValueTable[Language] = field(default_factory=lambda: ValueTable({}))
    relationship: ValueTable[Relationship] = field(default_factory=lambda: ValueTable({}))
    consent: ValueTable[ConsentState] = field(default_factory=lambda: ValueTable({}))
    proxy: ValueTable[bool] = field(default_factory=lambda: ValueTable(PROXY_WORDS))
    instrument_names: ValueTable[str] = field(default_factory=lambda: ValueTable({}))
    default_language: Language = Language.ENGLISH
    default_relationship: Relationship = Relationship.PARENT
    default_proxy: bool = True
    default_consent: ConsentState = ConsentState.PENDING
    default_instruments: tuple[str, ...] = ()
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    # False for the built-in default mapping: a column it names that the file lacks is
    # simply not used (the required ones still are required).
    columns_must_exist: bool = True

    def named_columns(self) -> list[tuple[str, str]]:
        """Every (place in the mapping, column name) the mapping names, patient's first."""
        places = [(f"columns.{name}", column) for name, column in self.columns.items()]
        for slot in self.caregivers:
            places.extend(slot.named())
        return places

    def without_columns(self, missing: set[str]) -> RosterMapping:
        """The same mapping, minus optional columns that the file does not have."""
        columns = {name: col for name, col in self.columns.items() if col not in missing}

        def kept(column: str | None) -> str | None:
            return None if column in missing else column

        slots = tuple(
            CaregiverColumns(
                slot=slot.slot,
                given_name=slot.given_name,
                family_name=slot.family_name,
                phone=kept(slot.phone),
                relationship=kept(slot.relationship),
                proxy=kept(slot.proxy),
                consent=kept(slot.consent),
                language=kept(slot.language),
            )
            for slot in self.caregivers
            if slot.given_name not in missing and slot.family_name not in missing
        )
        return replace(self, columns=columns, caregivers=slots)

    def schedule_for(self, instrument_id: str, time_zone: str) -> Schedule:
        return build_schedule(time_zone, **self.schedules[instrument_id])


# -- the schema ------------------------------------------------------------------------------
class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


def column_field(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **kwargs)


class ColumnsSchema(StrictSchema):
    mrn = column_field(required=True)
    given_name = column_field(required=True)
    family_name = column_field(required=True)
    date_of_birth = column_field(required=True)
    diagnosis = column_field(required=True)
    language = column_field()
    phone = column_field()
    consent = column_field()
    instruments = column_field()
    visit_ref = column_field()
    visit_at = column_field()
    visit_date = column_field()
    visit_time = column_field()

    @validates_schema
    def _check_visit(self, data: dict[str, Any], **_: Any) -> None:
        if "visit_at" in data and ("visit_date" in data or "visit_time" in data):
            raise ValidationError(
                "give either visit_at (date and time in one column) or visit_date and "
                "visit_time, not both",
                "visit_at",
            )
        if ("visit_date" in data) != ("visit_time" in data):
            raise ValidationError("visit_date and visit_time go together", "visit_date")
        if "visit_ref" in data and not ({"visit_at", "visit_date"} & data.keys()):
            raise ValidationError("a visit id needs the visit's time: visit_at", "visit_ref")


class CaregiverSchema(StrictSchema):
    given_name = column_field(required=True)
    family_name = column_field(required=True)
    phone = column_field()
    relationship = column_field()
    proxy = column_field()
    consent = column_field()
    language = column_field()


def check_date_format(pattern: str, *, needs_date: bool = True, needs_time: bool = False) -> None:
    """Refuse a strptime pattern that cannot read back what it writes, or misses a part."""
    directives = set(_DIRECTIVE.findall(pattern))
    if needs_date and not (
        directives & {"%Y", "%y"} and directives & {"%m", "%b", "%B"} and "%d" in directives
    ):
        raise ValidationError(f"{pattern!r} needs a year, a month and a day (%Y, %m, %d)")
    if needs_time and not ({"%H", "%I"} & directives and "%M" in directives):
        raise ValidationError(f"{pattern!r} needs hours and minutes (%H or %I with %p, and %M)")
    if "%I" in directives and "%p" not in directives:
        raise ValidationError(f"{pattern!r}: %I (12-hour clock) needs %p (AM/PM)")
    sample = datetime(2012, 7, 2, 18, 45)
    try:
        read = datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError:
        read = None
    if read is None or (
        (needs_date and read.date() != sample.date())
        or (needs_time and (read.hour, read.minute) != (sample.hour, sample.minute))
    ):
        raise ValidationError(f"{pattern!r} cannot read back a date it writes")


class FormatsSchema(StrictSchema):
    date = fields.String(load_default="%Y-%m-%d")
    visit_at = fields.String(load_default="%Y-%m-%d %H:%M")
    visit_date = fields.String(load_default=None)
    visit_time = fields.String(load_default="%H:%M")
    phone_region = fields.String(load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$"))

    @validates_schema
    def _check_formats(self, data: dict[str, Any], **_: Any) -> None:
        checks = {
            "date": {},
            "visit_at": {"needs_time": True},
            "visit_date": {},
            "visit_time": {"needs_date": False, "needs_time": True},
        }
        problems: dict[str, list[str]] = {}
        for name, options in checks.items():
            if data.get(name) is None:
                continue
            try:
                check_date_format(data[name], **options)
            except ValidationError as error:
                problems[name] = [str(message) for message in error.messages]
        if problems:
            raise ValidationError(problems)


def yaml_key(key: Any) -> Any:
    if key is True or key is False:
        return "yes" if key else "no"
    return str(key) if isinstance(key, int | float) else key


def table(values: fields.Field) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(min=1)), values=values)


class ValuesSchema(StrictSchema):
    @pre_load
    def _plain_keys(self, data: Any, **_: Any) -> Any:
        # YAML 1.1 reads an unquoted yes/no/on/off key as a boolean and 1 as a number.
        if not isinstance(data, dict):
            return data
        return {
            name: (
                {yaml_key(key): value for key, value in entries.items()}
                if isinstance(entries, dict)
                else entries
            )
            for name, entries in data.items()
        }

    diagnosis = table(Choice(Diagnosis))
    language = table(Choice(Language))
    relationship = table(Choice(Relationship))
    consent = table(Choice(ConsentState))
    proxy = table(fields.Boolean())
    instruments = table(fields.String(validate=validate.Length(min=1)))


class DefaultsSchema(StrictSchema):
    language = Choice(Language, load_default=Language.ENGLISH)
    relationship = Choice(Relationship, load_default=Relationship.PARENT)
    proxy = fields.Boolean(load_default=True)
    consent = Choice(ConsentState, load_default=ConsentState.PENDING)


class ScheduleSchema(StrictSchema):
    """The options of ``flask engage enroll add``, as YAML keys."""

    @pre_load
    def _on_key(self, data: Any, **_: Any) -> Any:
        # YAML 1.1 reads an unquoted ``on:`` key as the boolean true.
        if isinstance(data, dict) and True in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    daily = fields.Boolean()
    weekly = fields.String()
    every_weeks = fields.Integer(strict=True)
    on = fields.String()
    at = fields.String()
    before_visit = fields.String()
    once = fields.String()
    starts = fields.String()
    ends = fields.String()

    @post_load
    def _as_options(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        options = {
            "on_days" if key == "on" else "at_time" if key == "at" else key: value
            for key, value in data.items()
        }
        try:
            # The shape only: the center's time zone is applied when importing.
            build_schedule("UTC", **options).check()
        except InvalidInput as error:
            raise ValidationError(
                f"{error.value!r} {error.reason}", self._key_of(error.field, data)
            ) from None
        return options

    @staticmethod
    def _key_of(field_name: str, data: dict[str, Any]) -> str:
        """The YAML key behind a schedule field that ``build_schedule`` refused."""
        keys = {
            "weekdays": "weekly" if "weekly" in data else "on",
            "local_time": "at",
            "starts_on": "starts",
            "ends_on": "ends",
            "minutes_before_visit": "before_visit",
            "once_at": "once",
        }
        return keys.get(field_name, field_name if field_name in data else "_schema")


class EnrollmentsSchema(StrictSchema):
    default = fields.List(fields.String(), load_default=list)
    schedules = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1)),
        values=fields.Nested(ScheduleSchema),
        load_default=dict,
    )

    @validates_schema
    def _check_default(self, data: dict[str, Any], **_: Any) -> None:
        unknown = [name for name in data.get("default", []) if name not in data["schedules"]]
        if unknown:
            raise ValidationError(
                f"{', '.join(map(repr, unknown))} has no schedule under enrollments.schedules",
                "default",
            )


def check_encoding(name: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValidationError(
            f"{name!r} is not a known text encoding (e.g. utf-8, cp1252)"
        ) from None


class MappingSchema(StrictSchema):
    encoding = fields.String(load_default="utf-8", validate=check_encoding)
    delimiter = fields.String(load_default=",", validate=validate.Length(equal=1))
    columns = fields.Nested(ColumnsSchema, required=True)
    caregivers = fields.List(
        fields.Nested(CaregiverSchema),
        load_default=list,
        validate=validate.Length(max=MAX_CAREGIVERS),
    )
    formats = fields.Nested(FormatsSchema, load_default=lambda: FormatsSchema().load({}))
    values = fields.Nested(ValuesSchema, load_default=dict)
    defaults = fields.Nested(DefaultsSchema, load_default=lambda: DefaultsSchema().load({}))
    enrollments = fields.Nested(
        EnrollmentsSchema, load_default=lambda: EnrollmentsSchema().load({})
    )

    @validates_schema
    def _check_instruments(self, data: dict[str, Any], **_: Any) -> None:
        schedules = data.get("enrollments", {}).get("schedules", {})
        named = data.get("values", {}).get("instruments", {})
        unknown = sorted({target for target in named.values() if target not in schedules})
        if unknown:
            raise ValidationError(
                {
                    "instruments": [
                        f"{', '.join(map(repr, unknown))} has no schedule under "
                        "enrollments.schedules"
                    ]
                },
                "values",
            )


def build_mapping(name: str, data: dict[str, Any], *, columns_must_exist: bool) -> RosterMapping:
    formats = data["formats"]
    values = data["values"]
    defaults = data["defaults"]
    enrollments = data["enrollments"]
    return RosterMapping(
        name=name,
        columns=dict(data["columns"]),
        caregivers=tuple(
            CaregiverColumns(slot=n, **slot) for n, slot in enumerate(data["caregivers"], start=1)
        ),
        encoding=data["encoding"],
        delimiter=data["delimiter"],
        date_format=formats["date"],
        visit_at_format=formats["visit_at"],
        visit_date_format=formats["visit_date"] or formats["date"],
        visit_time_format=formats["visit_time"],
        phone_region=formats["phone_region"],
        # Without a table, engage's own spellings are read (crohns_disease, es, parent...).
        diagnosis=ValueTable(values.get("diagnosis") or {d.value: d for d in Diagnosis}),
        language=ValueTable(values.get("language") or {lang.value: lang for lang in Language}),
        relationship=ValueTable(values.get("relationship") or {r.value: r for r in Relationship}),
        consent=ValueTable(values.get("consent") or {c.value: c for c in ConsentState}),
        proxy=ValueTable(values.get("proxy") or PROXY_WORDS),
        instrument_names=ValueTable(
            values.get("instruments") or {name: name for name in enrollments["schedules"]}
        ),
        default_language=defaults["language"],
        default_relationship=defaults["relationship"],
        default_proxy=defaults["proxy"],
        default_consent=defaults["consent"],
        default_instruments=tuple(enrollments["default"]),
        schedules=dict(enrollments["schedules"]),
        columns_must_exist=columns_must_exist,
    )


def parse_mapping(name: str, data: Any, *, columns_must_exist: bool = True) -> RosterMapping:
    """A mapping from already parsed YAML, or every problem in it, each with its path."""
    if not isinstance(data, dict):
        raise RosterRefused([f"mapping {name}: expected a YAML mapping of settings at the top"])
    try:
        loaded = MappingSchema().load(data)
    except ValidationError as error:
        # marshmallow files a dict's bad value under "value": the key is the place.
        lines = [
            line.replace(".value.", ".").replace(".value:", ":")
            for line in describe_problems(error.messages)
        ]
        raise RosterRefused([f"mapping {name}: {line}" for line in lines]) from None
    return build_mapping(name, loaded, columns_must_exist=columns_must_exist)


def load_mapping(path: Path) -> RosterMapping:
    """Read a mapping file; refuse it, naming each problem, when it is not valid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RosterRefused([f"mapping {path.name}: cannot be read ({error})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RosterRefused([f"mapping {path.name}: not valid YAML{line}: {problem}"]) from None
    return parse_mapping(path.name, data)


# -- the default mapping ---------------------------------------------------------------------
# Used when --mapping is not given: engage's own column names and spellings, plus the
# ICD-10-CM codes and common words for the same things. Its optional columns may be absent.
DEFAULT_MAPPING: dict[str, Any] = {
    "columns": {
        "mrn": "mrn",
        "given_name": "given_name",
        "family_name": "family_name",
        "date_of_birth": "date_of_birth",
        "diagnosis": "diagnosis",
        "language": "language",
        "phone": "phone",
        "consent": "sms_consent",
        "instruments": "instruments",
        "visit_ref": "visit_id",
        "visit_at": "visit_at",
    },
    "caregivers": [
        {
            "given_name": f"caregiver{n}_given_name",
            "family_name": f"caregiver{n}_family_name",
            "relationship": f"caregiver{n}_relationship",
            "phone": f"caregiver{n}_phone",
            "proxy": f"caregiver{n}_proxy",
            "consent": f"caregiver{n}_sms_consent",
            "language": f"caregiver{n}_language",
        }
        for n in (1, 2)
    ],
    "formats": {"date": "%Y-%m-%d", "visit_at": "%Y-%m-%d %H:%M", "phone_region": "US"},
    "values": {
        "diagnosis": {
            "crohns_disease": "crohns_disease",
            "ulcerative_colitis": "ulcerative_colitis",
            "ibd_unclassified": "ibd_unclassified",
            "K50*": "crohns_disease",
            "K51*": "ulcerative_colitis",
            "K52.3": "ibd_unclassified",
        },
        "language": {
            "en": "en",
            "eng": "en",
            "english": "en",
            "es": "es",
            "spa": "es",
            "spanish": "es",
            "español": "es",
        },
        "relationship": {
            **{r.value: r.value for r in Relationship},
            "mother": "parent",
            "father": "parent",
            "legal guardian": "guardian",
            "grandmother": "grandparent",
            "grandfather": "grandparent",
            "brother": "sibling",
            "sister": "sibling",
        },
        "consent": {
            **{c.value: c.value for c in ConsentState},
            "yes": "granted",
            "y": "granted",
            "no": "withdrawn",
            "n": "withdrawn",
        },
    },
    "enrollments": {
        "schedules": {
            "ibd-symptoms": {"weekly": "mon", "at": "18:00"},
            "ibd-wellbeing": {"weekly": "thu", "at": "18:00"},
            "previsit": {"before_visit": "2d"},
        },
    },
}


def default_mapping() -> RosterMapping:
    return parse_mapping("(default)", DEFAULT_MAPPING, columns_must_exist=False)
