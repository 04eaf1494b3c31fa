"""The de-identified registry export: nothing that identifies anyone, in any form, anywhere.

The identifiers are read back from the database after seeding, so every name, MRN, phone,
birth date and timestamp of the demo and of the extra families is checked, not a list kept
by hand; the files are read as plain text, so a leak in any column, file or format counts.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.audit.models import AuditEvent
from engage.codesign.models import Idea, IdeaComment, IdeaStatusChange
from engage.conversations.models import Answer, CheckIn
from engage.messaging.models import Message
from engage.network.models import Center, StaffUser
from engage.people.models import Caregiver, ConsentChange, Contact, Patient
from engage.visits.models import Visit
from tests.exports.conftest import ADDRESS, EMAIL, KEY, OTHER_KEY, PREVISIT_AT, Seeded

pytestmark = pytest.mark.usefixtures("identifiable")

HEX16 = re.compile(r"^[0-9a-f]{16}$")
ANY_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b|\b\d{1,2}/\d{1,2}/(19|20)\d\d\b")


# -- running the export -------------------------------------------------------------------
def export(runner: Any, folder: Path, *args: str) -> Any:
    result = runner.invoke(args=["engage", "export", "registry", "--out", str(folder), *args])
    assert result.exit_code == 0, result.output
    return result


def files_of(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())}


def records(folder: Path, table: str) -> list[dict[str, Any]]:
    """A table's rows as dicts, from NDJSON or CSV (CSV values stay text)."""
    ndjson, csv_path = folder / f"{table}.ndjson", folder / f"{table}.csv"
    if ndjson.exists():
        return [json.loads(line) for line in ndjson.read_text().splitlines()]
    with open(csv_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def keyed(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "REGISTRY_PSEUDONYM_KEY", KEY)


# -- what must never appear ---------------------------------------------------------------
def phone_forms(e164: str) -> set[str]:
    digits = e164.lstrip("+")
    forms = {e164, digits}
    if e164.startswith("+1") and len(digits) == 11:
        national = digits[1:]
        area, exchange, line = national[:3], national[3:6], national[6:]
        forms |= {
            national,
            f"{area}-{exchange}-{line}",
            f"({area}) {exchange}-{line}",
            f"({area}){exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"{area} {exchange} {line}",
            f"+1 {area} {exchange} {line}",
            f"1-{area}-{exchange}-{line}",
        }
    return forms


def date_forms(day: date) -> set[str]:
    return {
        day.isoformat(),
        day.strftime("%m/%d/%Y"),
        f"{day.month}/{day.day}/{day.year}",
        day.strftime("%d/%m/%Y"),
        day.strftime("%Y%m%d"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%d.%m.%Y"),
    }


def moment_forms(moment: datetime, zones: Iterable[ZoneInfo]) -> set[str]:
    forms: set[str] = set()
    for zone in (ZoneInfo("UTC"), *zones):
        local = moment.astimezone(zone)
        forms |= {
            local.isoformat(),
            local.replace(tzinfo=None).isoformat(),
            local.strftime("%Y-%m-%d %H:%M"),
            local.strftime("%Y-%m-%dT%H:%M"),
            local.strftime("%m/%d/%Y %H:%M"),
        }
    return forms


def identifiers(session: Any) -> dict[str, set[str]]:
    """Everything in the database that names, reaches or dates a person, by kind."""
    zones = {ZoneInfo(zone) for zone in session.scalars(sa.select(Center.time_zone))}
    names: set[str] = set()
    for given, family in session.execute(sa.select(Patient.given_name, Patient.family_name)):
        names |= {given, family}
    for given, family in session.execute(sa.select(Caregiver.given_name, Caregiver.family_name)):
        names |= {given, family}
    for full_name in session.scalars(sa.select(StaffUser.full_name)):
        names |= {word for word in full_name.split() if not word.endswith(".")}
    phones = set(session.scalars(sa.select(Contact.phone)))
    phones |= set(session.scalars(sa.select(Message.phone)))
    phones |= {p for p in session.scalars(sa.select(Center.family_phone)) if p}
    moments: set[datetime] = set()
    for column in (
        CheckIn.due_at, CheckIn.opened_at, CheckIn.closed_at, CheckIn.expires_at,
        Answer.answered_at, Visit.starts_at, Alert.created_at, Alert.acknowledged_at,
        Idea.created_at, Idea.status_changed_at, IdeaStatusChange.changed_at,
        Message.created_at, Message.sent_at, ConsentChange.changed_at,
    ):  # fmt: skip
        moments |= {m for m in session.scalars(sa.select(column)) if m is not None}
    free_text: set[str] = {ADDRESS, EMAIL}
    for column in (
        Answer.raw_text, Idea.text, Idea.redacted_text, Idea.who_it_helps,
        IdeaStatusChange.rationale, IdeaComment.body, Alert.acknowledgement_note,
        ConsentChange.note, Message.body,
    ):  # fmt: skip
        free_text |= {t for t in session.scalars(sa.select(column)) if t and len(t) >= 20}
    mrns = set(session.scalars(sa.select(Patient.mrn)))
    return {
        "name": names,
        "mrn": mrns | {re.sub(r"[^A-Za-z0-9]", "", mrn) for mrn in mrns},
        "phone": {form for phone in phones for form in phone_forms(phone)},
        "birth date": {
            form
            for born in session.scalars(sa.select(Patient.date_of_birth))
            for form in date_forms(born)
        },  # fmt: skip
        "timestamp": {form for m in moments for form in moment_forms(m, zones)},
        "e-mail": set(session.scalars(sa.select(StaffUser.email))) | {EMAIL},
        "twilio sid": {s for s in session.scalars(sa.select(Message.twilio_sid)) if s},
        "idea reference": {r for r in session.scalars(sa.select(Idea.reference)) if r},
        "free text": free_text,
        "key": {KEY, KEY.encode().hex()},
    }


def leaks(text: str, kinds: dict[str, set[str]]) -> list[str]:
    found = []
    folded = text.casefold()
    for kind, values in kinds.items():
        for value in values:
            if kind in ("name", "mrn", "idea reference"):
                # Whole words: "Kim" must not be found inside "skimmed".
                pattern = rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
                if re.search(pattern, text, re.IGNORECASE):
                    found.append(f"{kind} {value!r}")
            elif value.casefold() in folded:
                found.append(f"{kind} {value!r}")
    return found


def assert_nothing_identifies(folder: Path, kinds: dict[str, set[str]], dates: str) -> None:
    files = files_of(folder)
    assert files, "the export wrote nothing"
    for name, text in files.items():
        assert not leaks(text, kinds), f"{name}: {leaks(text, kinds)}"
        assert "@" not in text, f"{name}: an e-mail address"
        if dates == "year":
            # Only the manifest's export date is a calendar date.
            exported_on = json.loads(files["manifest.json"])["exported_on"]
            found = {m.group(0) for m in ANY_DATE.finditer(text)} - {exported_on}
            assert not found, f"{name}: dates {sorted(found)}"


def assert_no_database_ids(folder: Path, session: Any) -> None:
    """Patients are pseudonyms wherever they are referred to; no *_id column is exported."""
    patient_ids = {str(i) for i in session.scalars(sa.select(Patient.id))}
    for path in folder.iterdir():
        if path.name.startswith(("manifest", "data_dictionary")):
            continue
        table = path.name.rsplit(".", 1)[0]
        for row in records(folder, table):
            for column, value in row.items():
                assert column != "id" and not column.endswith("_id"), (path.name, column)
                if "patient" in column or column.endswith("_ref"):
                    assert value in (None, "") or HEX16.match(str(value)), (path.name, row)
                    assert str(value) not in patient_ids


# -- the tests ----------------------------------------------------------------------------
@pytest.mark.parametrize("file_format", ["ndjson", "csv"])
@pytest.mark.parametrize("dates", ["year", "shifted"])
def test_no_identifier_in_any_form_appears_anywhere(
    runner, session, tmp_path, keyed, file_format, dates
):
    kinds = identifiers(session)
    # The seed really is identifiable: the checks below look for things that exist.
    assert {"Zephyrine", "Quillfeather", "Bartholomew", "Noah", "Rivera"} <= kinds["name"]
    assert {"6175550177", "617-555-0178", "(617) 555-0102"} <= kinds["phone"]
    assert {"2012-07-02", "07/02/2012", "20120702"} <= kinds["birth date"]
    assert any(ADDRESS in text for text in kinds["free text"] if text != ADDRESS)
    folder = tmp_path / "registry"

    result = export(runner, folder, "--format", file_format, "--dates", dates)

    assert not leaks(result.output, kinds)
    assert sorted(files_of(folder)) == sorted(
        [f"{t}.{file_format}" for t in TABLES]
        + ["data_dictionary.csv", "data_dictionary.json", "manifest.json"]
    )
    assert_nothing_identifies(folder, kinds, dates)
    assert_no_database_ids(folder, session)
    # And it is not empty: every kind of row made it, coded.
    answers = records(folder, "answers")
    items = {row["item"] for row in answers}
    assert {"changes", "missed_doses", "pain"} <= items
    assert not items & {"what_changed", "topics", "questions"}  # free-text items
    assert {row["value"] for row in answers if row["item"] == "missed_doses"} == {"three_plus"}
    assert len(records(folder, "alerts")) == 1
    assert len(records(folder, "ideas")) >= 7


TABLES = ("patients", "checkins", "answers", "scores", "alerts", "ideas", "idea_status_changes")


def pseudonym(center: str, mrn: str, key: str = KEY) -> str:
    """The documented scheme, computed independently of the code under test."""
    message = f"patient:{center}:{mrn}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:16]


def test_pseudonyms_follow_the_scheme_are_stable_and_change_with_the_key(
    app, runner, session, tmp_path, keyed, monkeypatch
):
    export(runner, tmp_path / "first")
    export(runner, tmp_path / "second", "--format", "csv")
    monkeypatch.setitem(app.config, "REGISTRY_PSEUDONYM_KEY", OTHER_KEY)
    export(runner, tmp_path / "other")

    def pseudonyms(folder: str) -> set[str]:
        return {row["patient_pseudonym"] for row in records(tmp_path / folder, "patients")}

    expected = {
        pseudonym(center, mrn)
        for center, mrn in session.execute(sa.select(Center.code, Patient.mrn).join(Patient.center))
    }
    assert pseudonyms("first") == pseudonyms("second") == expected
    assert not pseudonyms("other") & expected
    assert pseudonym("EAST", "E-1002", OTHER_KEY) in pseudonyms("other")
    first = json.loads((tmp_path / "first" / "manifest.json").read_text())
    other = json.loads((tmp_path / "other" / "manifest.json").read_text())
    assert first["pseudonym_key_id"] != other["pseudonym_key_id"]
    # Check-ins keep their references across exports too.
    assert [r["checkin_ref"] for r in records(tmp_path / "first", "checkins")] == [
        r["checkin_ref"] for r in records(tmp_path / "second", "checkins")
    ]


def test_ages_over_89_are_grouped_and_their_birth_year_withheld(
    runner, tmp_path, keyed, identifiable: Seeded
):
    export(runner, tmp_path / "out", "--format", "csv")
    rows = {r["patient_pseudonym"]: r for r in records(tmp_path / "out", "patients")}
    oldest = rows[pseudonym("WEST", "OLD-90001")]
    assert (oldest["age_at_index"], oldest["birth_year"]) == ("90+", "")
    noah = rows[pseudonym("EAST", "E-1002")]
    assert noah["birth_year"] == "2012" and 12 <= int(noah["age_at_index"]) <= 14
    assert all(r["age_at_index"] == "90+" or int(r["age_at_index"]) < 90 for r in rows.values())


def local_due_dates(session: Any, mrn: str) -> list[date]:
    patient = session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
    due = session.scalars(
        sa.select(CheckIn.due_at).where(CheckIn.patient_id == patient.id).order_by(CheckIn.due_at)
    )
    return [moment.astimezone(patient.zone).date() for moment in due]


def test_year_mode_keeps_intervals_as_days_from_the_index_date(runner, session, tmp_path, keyed):
    export(runner, tmp_path / "out")
    noah = pseudonym("EAST", "E-1002")
    [patient] = [r for r in records(tmp_path / "out", "patients") if r["patient_pseudonym"] == noah]
    assert set(patient) >= {"index_year"} and "index_date" not in patient
    days = sorted(
        r["due_day"]
        for r in records(tmp_path / "out", "checkins")
        if r["patient_pseudonym"] == noah
    )
    true_dates = local_due_dates(session, "E-1002")
    assert len(days) == len(true_dates) == 8
    # Day 0 is the index date: his first check-in, unless he was entered in engage before it.
    assert [day - days[0] for day in days] == [(d - true_dates[0]).days for d in true_dates]
    assert days[0] >= 0
    assert patient["index_year"] in {true_dates[0].year, true_dates[0].year - 1}
    checkin_columns = set(records(tmp_path / "out", "checkins")[0])
    assert "due_date" not in checkin_columns


def test_shifted_dates_keep_every_interval_and_move_every_date(runner, session, tmp_path, keyed):
    export(runner, tmp_path / "out", "--dates", "shifted")
    checkins = records(tmp_path / "out", "checkins")
    patients = {r["patient_pseudonym"]: r for r in records(tmp_path / "out", "patients")}
    assert "index_year" not in next(iter(patients.values()))
    offsets = set()
    for center, mrn in (("EAST", "E-1002"), ("EAST", "E-1001"), ("WEST", "W-2003")):
        mine = pseudonym(center, mrn)
        shifted = sorted(
            date.fromisoformat(r["due_date"]) for r in checkins if r["patient_pseudonym"] == mine
        )
        true_dates = local_due_dates(session, mrn)
        assert len(shifted) == len(true_dates) == 8
        offset = shifted[0] - true_dates[0]
        assert timedelta(days=1) <= abs(offset) <= timedelta(days=180)
        assert [s - offset for s in shifted] == true_dates  # same offset for every date
        assert all(s != t for s, t in zip(shifted, true_dates, strict=True))
        index = date.fromisoformat(patients[mine]["index_date"])
        assert sorted(r["due_day"] for r in checkins if r["patient_pseudonym"] == mine) == [
            (s - index).days for s in shifted
        ]
        offsets.add(offset)
    assert len(offsets) > 1  # per patient, not one shift for everyone


def test_alerts_keep_the_time_to_acknowledge_but_not_who_or_what(runner, tmp_path, keyed):
    export(runner, tmp_path / "out", "--dates", "shifted")
    [alert] = records(tmp_path / "out", "alerts")
    assert alert["hours_to_acknowledge"] == 5.5
    assert (alert["severity"], alert["status"], alert["red_flag"]) == (
        "moderate",
        "acknowledged",
        "many_missed_doses",
    )
    assert alert["patient_pseudonym"] == pseudonym("EAST", "QX-998877")
    checkin_refs = {r["checkin_ref"] for r in records(tmp_path / "out", "checkins")}
    assert alert["checkin_ref"] in checkin_refs


def test_the_dictionary_describes_every_column_of_every_file(runner, tmp_path, keyed):
    export(runner, tmp_path / "out", "--format", "csv")
    dictionary = json.loads((tmp_path / "out" / "data_dictionary.json").read_text())
    assert "year" in dictionary["date_handling"]
    described = {
        entry["file"]: [column["name"] for column in entry["columns"]]
        for entry in dictionary["files"]
    }
    for table in TABLES:
        with open(tmp_path / "out" / f"{table}.csv", newline="") as handle:
            header = next(csv.reader(handle))
        assert described[f"{table}.csv"] == header
    for entry in dictionary["files"]:
        for column in entry["columns"]:
            assert column["meaning"] and column["de_identification"] and column["type"]
    with open(tmp_path / "out" / "data_dictionary.csv", newline="") as handle:
        flat = list(csv.DictReader(handle))
    assert len(flat) == sum(len(columns) for columns in described.values())
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {f["file"]: f["rows"] for f in manifest["files"]} == {
        f"{table}.csv": len(records(tmp_path / "out", table)) for table in TABLES
    }


def test_each_export_is_one_audit_event_with_who_and_how_many(runner, session, tmp_path, keyed):
    result = export(runner, tmp_path / "out")
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.registry"))
    assert event.staff_user_id is None and event.patient_id is None
    assert event.detail.startswith("by ")
    assert "patients.ndjson 8" in event.detail  # the demo's six, Zephyrine and Ignatius
    assert "checkins.ndjson 49" in event.detail
    assert KEY not in event.detail
    assert "patients.ndjson: 8 rows" in result.output


def test_refused_without_a_key_and_nothing_is_written(runner, session, tmp_path):
    result = runner.invoke(args=["engage", "export", "registry", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "REGISTRY_PSEUDONYM_KEY is not set" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert not session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export.registry")
    ).all()


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(runner, session, tmp_path, keyed):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "patients.ndjson").write_text("older export\n")
    result = runner.invoke(args=["engage", "export", "registry", "--out", str(folder)])
    assert result.exit_code != 0
    assert (
        result.output.strip()
        == f"Error: --out: {str(folder)!r} exists and is not empty: name a new or empty folder"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind
    assert (folder / "patients.ndjson").read_text() == "older export\n"

    empty = tmp_path / "empty"
    empty.mkdir()
    export(runner, empty)
    assert (empty / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "out"]


def test_the_leak_detector_finds_each_kind_of_identifier(session):
    """The checks above pass because nothing leaks, not because they cannot see."""
    kinds = identifiers(session)
    planted = {
        "name": "notes on QUILLFEATHER",
        "mrn": "qx998877",
        "phone": "call 617.555.0177",
        "birth date": "born 10/31/2010",
        "timestamp": PREVISIT_AT.isoformat(),
        "e-mail": "jordan.lee@network.example.org",
        "twilio sid": session.scalars(
            sa.select(Message.twilio_sid).where(Message.twilio_sid.is_not(None))
        ).first(),
        "free text": "Bartholomew Quillfeather asked about this in clinic",
        "key": KEY,
    }
    for kind, text in planted.items():
        assert any(found.startswith(kind) for found in leaks(f'{{"x": "{text}"}}', kinds)), kind
    assert not leaks('{"patient_pseudonym": "0532aa0bb9342d77", "item": "skimmed"}', kinds)
