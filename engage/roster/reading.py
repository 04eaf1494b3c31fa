"""Reading a roster: decode the file, check its header, translate each row through the mapping.

Nothing here touches the database. Whole-file problems (encoding, columns, duplicate
MRNs) raise :class:`RosterRefused`; a row that cannot be read is set aside with its
problems, each naming the row (the file's line, the header being line 1) and the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import phonenumbers

from engage.errors import InvalidInput
from engage.people.models import ConsentState, Diagnosis, Language, Relationship
from engage.phones import normalise_phone
from engage.roster.mapping import (
    REQUIRED_FIELDS,
    CaregiverColumns,
    RosterMapping,
    ValueTable,
    describe_format,
)
from engage.roster.problems import RosterRefused, RowProblem

T = TypeVar("T")

# A progress bar: given a label and a length, a function to call with each step done.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]

MAX_NAME_LENGTH = 100
MAX_MRN_LENGTH = 64
MAX_VISIT_REF_LENGTH = 64
INSTRUMENT_SEPARATORS = re.compile(r"[;,|\s]+")


@dataclass(slots=True)
class CaregiverEntry:
    """One caregiver of a row, as the export describes them."""

    slot: int
    given_name: str
    family_name: str
    phone: str | None
    phone_column: str
    name_column: str
    relationship: Relationship
    may_answer_as_proxy: bool
    consent: ConsentState
    # None when the mapping has no language column for this caregiver.
    language: Language | None


@dataclass(slots=True)
class RosterRow:
    """One patient, as the export describes them, in engage's terms."""

    line: int
    cells: list[str]
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    diagnosis: Diagnosis
    language: Language
    phone: str | None
    consent: ConsentState
    caregivers: list[CaregiverEntry]
    instruments: tuple[str, ...]
    visit_at: datetime | None
    visit_ref: str | None


@dataclass(slots=True)
class RejectedRow:
    line: int
    cells: list[str]
    problems: list[RowProblem]


@dataclass
class Roster:
    """The file, read: its header, the rows that translate, and those that do not."""

    name: str
    header: list[str]
    mapping: RosterMapping
    rows: list[RosterRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.rejected)


@contextmanager
def no_progress(_label: str, _length: int) -> Iterator[Callable[[int], None]]:
    yield lambda _done: None


# -- the file --------------------------------------------------------------------------------
def decode(path: Path, encoding: str) -> str:
    """The file's text; a byte the encoding cannot read refuses the file, naming where."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterRefused([f"{path.name} cannot be read ({error.strerror})"]) from None
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    skipped = 0
    if is_utf8 and data.startswith(codecs.BOM_UTF8):
        skipped = len(codecs.BOM_UTF8)
    try:
        return data[skipped:].decode(encoding)
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        line = data.count(b"\n", 0, offset) + 1
        hint = (
            "save it as UTF-8, or name its encoding in the mapping (e.g. encoding: cp1252)"
            if is_utf8
            else "check the mapping's encoding"
        )
        raise RosterRefused(
            [
                f"{path.name} is not {'UTF-8' if is_utf8 else encoding}: byte "
                f"0x{data[offset]:02X} at offset {offset} (line {line}) cannot be read; {hint}"
            ]
        ) from None


def records(text: str, delimiter: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells), skipping blank lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RosterRefused(
                [f"{name} is not a readable CSV file at line {reader.line_num}: {error}"]
            ) from None
        if cells and any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def check_header(header: list[str], mapping: RosterMapping, name: str) -> RosterMapping:
    """Refuse a file that lacks a column the mapping needs; name what it has."""
    present = set(header)
    found = ", ".join(header) if header else "none"
    required = {mapping.columns[f] for f in REQUIRED_FIELDS}
    problems = []
    for place, column in mapping.named_columns():
        if column in present:
            continue
        if column in required:
            problems.append(
                f"{name} has no column {column!r} ({place}, required); columns found: {found}"
            )
        elif mapping.columns_must_exist:
            problems.append(
                f"the mapping names column {column!r} ({place}), which {name} does not have; "
                f"columns found: {found}"
            )
    if problems:
        raise RosterRefused(problems)
    named = {column for _, column in mapping.named_columns()}
    twice = sorted({c for c in header if c in named and header.count(c) > 1})
    if twice:
        raise RosterRefused(
            [f"{name} has more than one column named {', '.join(map(repr, twice))}"]
        )
    missing = {column for _, column in mapping.named_columns()} - present
    return mapping.without_columns(missing) if missing else mapping


def check_unique_mrns(rows: list[tuple[int, list[str]]], index: int, name: str) -> None:
    lines: dict[str, list[int]] = defaultdict(list)
    for line, cells in rows:
        mrn = cells[index].strip() if index < len(cells) else ""
        if mrn:
            lines[mrn].append(line)
    duplicates = [(mrn, found) for mrn, found in lines.items() if len(found) > 1]
    if duplicates:
        shown = "; ".join(
            f"{mrn} (rows {', '.join(map(str, found))})" for mrn, found in duplicates[:10]
        )
        more = f"; and {len(duplicates) - 10} more" if len(duplicates) > 10 else ""
        raise RosterRefused([f"duplicate MRNs in {name}: {shown}{more}"])


def read_roster(
    path: Path,
    mapping: RosterMapping,
    *,
    time_zone: str,
    today: date,
    progress: Progress | None = None,
) -> Roster:
    """Read and translate every row; refuse the file before anything is written."""
    text = decode(path, mapping.encoding)
    found = list(records(text, mapping.delimiter, path.name))
    if not found:
        raise RosterRefused([f"{path.name} is empty: it has no header line"])
    (_, header), body = found[0], found[1:]
    header = [cell.strip() for cell in header]
    mapping = check_header(header, mapping, path.name)
    check_unique_mrns(body, header.index(mapping.columns["mrn"]), path.name)
    roster = Roster(name=path.name, header=header, mapping=mapping)
    translator = RowTranslator(header, mapping, ZoneInfo(time_zone), today)
    with (progress or no_progress)("reading", len(body)) as advance:
        for done, (line, cells) in enumerate(body, start=1):
            row = translator.translate(line, cells)
            if isinstance(row, RejectedRow):
                roster.rejected.append(row)
            else:
                roster.rows.append(row)
            if done % 1000 == 0:
                advance(1000)
        advance(len(body) % 1000)
    return roster


# A US number written with nothing but digits, spaces and ( ) . - / and perhaps a leading +.
_PLAIN_US_NUMBER = re.compile(r"^\+?[0-9 ().\-/]+$")
_NOT_DIGITS = re.compile(r"[^0-9]")


def read_phone(text: str, column: str, region: str) -> str:
    """``normalise_phone``, with a shortcut for plain US numbers: the same answer, 4x faster.

    A roster holds a hundred thousand phones, and parsing each one with libphonenumber
    is most of the time spent reading it. For a plain US-style number the E.164 form is
    +1 and its ten digits (after a leading 1 or +1), and libphonenumber's own validity
    test for the US region decides; +1 numbers are the US's first, so a number valid
    there is valid (``is_valid_number`` asks the US first too). Everything else,
    including numbers of Canada and the Caribbean, takes ``normalise_phone``.
    """
    if region == "US" and _PLAIN_US_NUMBER.match(text):
        digits = _NOT_DIGITS.sub("", text)
        plus = text.startswith("+")
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        elif plus or len(digits) != 10:
            digits = ""
        if digits and digits[0] in "23456789":
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
            if phonenumbers.is_valid_number_for_region(number, "US"):
                return f"+1{digits}"
    return normalise_phone(text, column, region)


# -- a row -----------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def parse_moment(text: str, pattern: str) -> datetime:
    return datetime.strptime(text, pattern)


class RowTranslator:
    """Turns one row's cells into a :class:`RosterRow`, or the list of what is wrong with it."""

    def __init__(self, header: list[str], mapping: RosterMapping, zone: ZoneInfo, today: date):
        self.mapping = mapping
        self.header = header
        self.width = len(header)
        self.zone = zone
        self.today = today
        self.index = {column: header.index(column) for _, column in mapping.named_columns()}
        self.columns = mapping.columns
        self.problems: list[RowProblem] = []
        self.line = 0
        self.cells: list[str] = []

    # Each reader returns None and records a problem when the cell cannot be read.
    def cell(self, column: str | None) -> str:
        return self.cells[self.index[column]].strip() if column else ""

    def problem(self, column: str, reason: str) -> None:
        self.problems.append(RowProblem(self.line, column, reason))

    def text(self, column: str, limit: int) -> str | None:
        value = " ".join(self.cell(column).split())
        if not value:
            self.problem(column, "is blank; a value is required")
            return None
        if len(value) > limit:
            self.problem(column, f"{value[:20]!r}... is {len(value)} characters; at most {limit}")
            return None
        return value

    def coded(
        self, column: str | None, table: ValueTable[T], what: str, default: T | None
    ) -> T | None:
        value = self.cell(column)
        if not value:
            if default is None and column:
                self.problem(column, "is blank; a value is required")
            return default
        found = table.lookup(value)
        if found is None:
            assert column is not None
            self.problem(column, f"{value!r} is not a {what} the mapping knows ({table.known()})")
        return found

    def day(self, column: str, pattern: str) -> date | None:
        value = self.cell(column)
        if not value:
            self.problem(column, "is blank; a date is required")
            return None
        try:
            return parse_moment(value, pattern).date()
        except ValueError:
            self.problem(column, f"{value!r} is not a date in {describe_format(pattern)}")
            return None

    def phone(self, column: str | None) -> str | None:
        value = self.cell(column)
        if not value:
            return None
        assert column is not None
        try:
            return read_phone(value, column, self.mapping.phone_region)
        except InvalidInput as error:
            self.problem(column, f"{value!r} {error.reason}")
            return None

    def visit_at(self) -> datetime | None:
        columns = self.columns
        if "visit_at" in columns:
            column = columns["visit_at"]
            value, pattern = self.cell(column), self.mapping.visit_at_format
        elif "visit_date" in columns:
            column = columns["visit_date"]
            day, clock = self.cell(column), self.cell(columns["visit_time"])
            if not day and not clock:
                return None
            if not day or not clock:
                blank = column if not day else columns["visit_time"]
                self.problem(blank, "is blank while the visit's other half is given")
                return None
            value = f"{day} {clock}"
            pattern = f"{self.mapping.visit_date_format} {self.mapping.visit_time_format}"
            column = f"{column}+{columns['visit_time']}"
        else:
            return None
        if not value:
            return None
        try:
            local = parse_moment(value, pattern)
        except ValueError:
            self.problem(column, f"{value!r} is not a time in {describe_format(pattern)}")
            return None
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def caregiver(self, slot: CaregiverColumns) -> CaregiverEntry | None:
        # A slot is used when it names someone or gives a phone; a lone "parent" is not.
        if not any(self.cell(c) for c in (slot.given_name, slot.family_name, slot.phone)):
            return None
        mapping = self.mapping
        given = self.text(slot.given_name, MAX_NAME_LENGTH)
        family = self.text(slot.family_name, MAX_NAME_LENGTH)
        phone = self.phone(slot.phone)
        relationship = self.coded(
            slot.relationship, mapping.relationship, "relationship", mapping.default_relationship
        )
        proxy = self.coded(slot.proxy, mapping.proxy, "yes/no value", mapping.default_proxy)
        consent = self.coded(slot.consent, mapping.consent, "consent", mapping.default_consent)
        language = (
            self.coded(slot.language, mapping.language, "language", mapping.default_language)
            if slot.language
            else None
        )
        if given is None or family is None or relationship is None or consent is None:
            return None
        return CaregiverEntry(
            slot=slot.slot,
            given_name=given,
            family_name=family,
            phone=phone,
            phone_column=slot.phone or "",
            name_column=slot.given_name,
            relationship=relationship,
            may_answer_as_proxy=bool(proxy),
            consent=consent,
            language=language,
        )

    def instruments(self) -> tuple[str, ...]:
        column = self.columns.get("instruments")
        if column is None:
            return self.mapping.default_instruments
        chosen: list[str] = []
        for name in INSTRUMENT_SEPARATORS.split(self.cell(column)):
            if not name:
                continue
            instrument = self.mapping.instrument_names.lookup(name)
            if instrument is None:
                known = self.mapping.instrument_names.known()
                self.problem(column, f"{name!r} is not an instrument the mapping knows ({known})")
            elif instrument not in chosen:
                chosen.append(instrument)
        return tuple(chosen)

    def translate(self, line: int, cells: list[str]) -> RosterRow | RejectedRow:
        self.line, self.cells, self.problems = line, cells, []
        if len(cells) != self.width:
            problem = RowProblem(
                line, "", f"has {len(cells)} fields where the header has {self.width}"
            )
            return RejectedRow(line, cells, [problem])
        columns, mapping = self.columns, self.mapping
        mrn = self.text(columns["mrn"], MAX_MRN_LENGTH)
        given = self.text(columns["given_name"], MAX_NAME_LENGTH)
        family = self.text(columns["family_name"], MAX_NAME_LENGTH)
        born = self.day(columns["date_of_birth"], mapping.date_format)
        if born is not None and born > self.today:
            written = self.cell(columns["date_of_birth"])
            self.problem(columns["date_of_birth"], f"{written!r} is in the future")
        diagnosis = self.coded(columns["diagnosis"], mapping.diagnosis, "diagnosis", None)
        language = self.coded(
            columns.get("language"), mapping.language, "language", mapping.default_language
        )
        phone = self.phone(columns.get("phone"))
        consent = self.coded(
            columns.get("consent"), mapping.consent, "consent", mapping.default_consent
        )
        caregivers = [
            entry for slot in mapping.caregivers if (entry := self.caregiver(slot)) is not None
        ]
        instruments = self.instruments()
        visit_at = self.visit_at()
        visit_ref = self.cell(columns.get("visit_ref")) or None
        if visit_ref is not None:
            if len(visit_ref) > MAX_VISIT_REF_LENGTH:
                self.problem(columns["visit_ref"], f"is longer than {MAX_VISIT_REF_LENGTH}")
            elif visit_at is None and not self.problems:
                self.problem(columns["visit_ref"], f"{visit_ref!r} is given without a visit time")
        if self.problems:
            return RejectedRow(line, cells, self.problems)
        assert mrn and given and family and born and diagnosis and language and consent
        return RosterRow(
            line=line,
            cells=cells,
            mrn=mrn,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            diagnosis=diagnosis,
            language=language,
            phone=phone,
            consent=consent,
            caregivers=caregivers,
            instruments=instruments,
            visit_at=visit_at,
            visit_ref=visit_ref,
        )
