"""Bad input: whole files refused before anything is written, bad rows set aside with reasons."""

import sqlalchemy as sa

from engage.people.models import Patient
from tests.roster.conftest import count_rows, patient, read_csv, write_csv


def refused(result, session, *lines):
    """The command stopped, with these lines, and nothing was stored."""
    assert result.exit_code == 1, result.output
    assert "input refused:" in result.output
    for line in lines:
        assert f"  {line}" in result.output, result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0


def without_column(roster, column):
    rows = read_csv(roster)
    for row in rows:
        del row[column]
    return write_csv(roster, rows)


# -- the whole file --------------------------------------------------------------------------
def test_a_file_that_is_not_utf8_is_refused_naming_where(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    data = roster.read_text(encoding="utf-8").encode("cp1252")
    roster.write_bytes(data)
    offset = data.index("Sofía".encode("cp1252")) + 3

    result = run_import(roster, mapping=mapping)

    refused(
        result,
        session,
        f"east-epic.csv is not UTF-8: byte 0xED at offset {offset} (line 4) cannot be read; "
        "save it as UTF-8, or name its encoding in the mapping (e.g. encoding: cp1252)",
    )
    assert not roster.with_name("east-epic.rejects.csv").exists()


def test_the_mapping_may_name_the_encoding(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    roster.write_bytes(roster.read_text(encoding="utf-8").encode("cp1252"))
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("encoding: utf-8", "encoding: cp1252"),
        encoding="utf-8",
    )

    result = run_import(roster, mapping=mapping)

    assert "6 created" in result.stdout, result.output
    assert patient(session, "100200303").given_name == "Sofía"


def test_a_byte_order_mark_is_fine(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    roster.write_text(roster.read_text(encoding="utf-8"), encoding="utf-8-sig")
    assert "6 created" in run_import(roster, mapping=mapping).stdout


def test_a_missing_required_column_is_named_with_the_columns_found(
    run_import, example, centers, session
):
    roster, mapping = example("west-cerner")
    without_column(roster, "Date of Birth")

    result = run_import(roster, center="WEST", mapping=mapping)

    refused(
        result,
        session,
        "west-cerner.csv has no column 'Date of Birth' (columns.date_of_birth, required); "
        "columns found: Medical Record Number, First Name, Last Name, Diagnosis, ",
    )


def test_a_mapping_that_names_a_missing_column_is_refused(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    without_column(roster, "CG2_MOBILE")

    result = run_import(roster, mapping=mapping)

    refused(
        result,
        session,
        "the mapping names column 'CG2_MOBILE' (caregivers[2].phone), which east-epic.csv "
        "does not have; columns found: MRN, PAT_FIRST_NAME,",
    )


def test_an_invalid_mapping_lists_every_problem_with_its_path(
    run_import, example, centers, session, tmp_path
):
    roster, _ = example("east-epic")
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(
        "columns: {given_name: A, family_name: B, date_of_birth: C, diagnosis: D}\n"
        "formats: {date: '%d/%m'}\n"
        "values:\n  diagnosis: {'K50*': crohn}\n"
        "enrollments:\n  schedules:\n    ibd-symptoms: {weekly: funday, at: '18:00'}\n"
        "surprise: 1\n",
        encoding="utf-8",
    )

    result = run_import(roster, mapping=mapping)

    refused(
        result,
        session,
        "mapping bad.yaml: columns.mrn: Missing data for required field.",
        "mapping bad.yaml: formats.date: '%d/%m' needs a year, a month and a day (%Y, %m, %d)",
        "mapping bad.yaml: values.diagnosis.K50*: 'crohn' is not one of: crohns_disease, "
        "ulcerative_colitis, ibd_unclassified",
        "mapping bad.yaml: enrollments.schedules.ibd-symptoms.weekly: 'funday' has an unknown "
        "day 'funday'; use day names such as 'mon,thu'",
        "mapping bad.yaml: surprise: Unknown field.",
    )


def test_a_mapping_that_is_not_yaml_is_refused(run_import, example, centers, session, tmp_path):
    roster, _ = example("east-epic")
    mapping = tmp_path / "broken.yaml"
    mapping.write_text("columns:\n  mrn: [MRN\n", encoding="utf-8")
    result = run_import(roster, mapping=mapping)
    assert result.exit_code == 1
    assert "mapping broken.yaml: not valid YAML at line 3:" in result.output


def test_a_mapping_schedule_for_an_unknown_instrument_is_refused(
    run_import, example, centers, session
):
    roster, mapping = example("west-cerner")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text + "    yoga: {weekly: sat, at: '09:00'}\n", encoding="utf-8")
    result = run_import(roster, center="WEST", mapping=mapping)
    refused(
        result,
        session,
        "mapping west-cerner.yaml: enrollments.schedules.yoga: 'yoga' is not a loaded instrument",
    )


def test_an_unknown_center_is_refused(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    result = run_import(roster, center="NORTH", mapping=mapping)
    refused(result, session, "center: 'NORTH' is not the code of a known center")


def test_duplicate_mrns_are_refused_listing_their_rows(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    write_csv(roster, [*rows, rows[0], {**rows[3], "PAT_FIRST_NAME": "Other"}])

    result = run_import(roster, mapping=mapping)

    refused(
        result,
        session,
        "duplicate MRNs in east-epic.csv: 100200301 (rows 2, 8); 100200304 (rows 5, 9)",
    )


def test_an_empty_file_is_refused(run_import, centers, session, tmp_path):
    roster = tmp_path / "empty.csv"
    roster.write_text("\n", encoding="utf-8")
    refused(run_import(roster), session, "empty.csv is empty: it has no header line")


# -- one row ---------------------------------------------------------------------------------
def test_bad_rows_are_rejected_with_row_column_and_reason_and_good_rows_land(
    run_import, example, centers, session
):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    rows[1]["BIRTH_DATE"] = "2013-02-31"
    rows[2]["DX_CODE"] = "K52.9"
    rows[3]["LANGUAGE"] = "fr"
    rows[4]["CG1_MOBILE"] = "555-0101"
    rows[5]["PRO_PROGRAMS"] = "PREVISIT;YOGA"
    rows.append(
        {**rows[0], "MRN": "100200307", "PAT_LAST_NAME": " ", "NEXT_APPT_DTTM": "2027-03-02 9.30"}
    )
    write_csv(roster, rows)

    result = run_import(roster, mapping=mapping)

    assert result.exit_code == 0, result.output
    assert "7 rows: 1 created, 0 updated, 0 unchanged, 6 rejected" in result.stdout
    assert "6 ROWS REJECTED, not imported; written with their reasons to " in result.stderr
    expected = [
        ("3", "BIRTH_DATE", "'2013-02-31' is not a date in YYYY-MM-DD"),
        ("4", "DX_CODE", "'K52.9' is not a diagnosis the mapping knows (K50*, K51*, K52.3)"),
        ("5", "LANGUAGE", "'fr' is not a language the mapping knows (en, es)"),
        ("6", "CG1_MOBILE", "'555-0101' is not a valid phone number"),
        ("7", "PRO_PROGRAMS",
         "'YOGA' is not an instrument the mapping knows (SYMPTOMS, WELLBEING, PREVISIT)"),
        ("8", "PAT_LAST_NAME; NEXT_APPT_DTTM",
         "PAT_LAST_NAME: is blank; a value is required; "
         "NEXT_APPT_DTTM: '2027-03-02 9.30' is not a time in YYYY-MM-DD HH:mm"),
    ]  # fmt: skip
    for line, column, _ in expected:
        first = column.split("; ")[0]
        assert f"row {line}, column {first}: " in result.stderr
    rejects = read_csv(roster.with_name("east-epic.rejects.csv"))
    assert [(r["row"], r["column"], r["reason"]) for r in rejects] == expected
    assert rejects[0]["MRN"] == "100200302" and rejects[0]["BIRTH_DATE"] == "2013-02-31"
    assert list(rejects[0])[:4] == ["row", "column", "reason", "MRN"]
    assert [p.mrn for p in session.scalars(sa.select(Patient))] == ["100200301"]


def test_a_dd_mm_yyyy_date_that_does_not_exist_is_named(run_import, example, centers, session):
    roster, mapping = example("west-cerner")
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace('  date: "%m/%d/%Y"', '  date: "%d/%m/%Y"'),
        encoding="utf-8",
    )
    rows = read_csv(roster)
    for row in rows:
        month, day, year = row["Date of Birth"].split("/")
        row["Date of Birth"] = f"{day}/{month}/{year}"
    rows[0]["Date of Birth"] = "31/02/2012"
    write_csv(roster, rows)

    result = run_import(
        roster, "--rejects", str(roster.with_name("bad.csv")), center="WEST", mapping=mapping
    )

    assert "5 rows: 4 created, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert "row 2, column Date of Birth: '31/02/2012' is not a date in DD/MM/YYYY" in result.stderr
    assert read_csv(roster.with_name("bad.csv"))[0]["row"] == "2"
    assert not roster.with_name("west-cerner.rejects.csv").exists()


def test_a_fixed_rejects_file_imports_as_a_roster(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    rows[1]["BIRTH_DATE"] = "2013-02-31"
    write_csv(roster, rows)
    assert "1 rejected" in run_import(roster, mapping=mapping).stdout
    rejects = roster.with_name("east-epic.rejects.csv")
    fixed = read_csv(rejects)
    fixed[0]["BIRTH_DATE"] = "2013-09-23"
    write_csv(rejects, fixed)

    result = run_import(rejects, mapping=mapping)

    assert "1 rows: 1 created, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    assert count_rows(session)["patients"] == 6


def test_every_row_rejected_exits_1(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    for row in rows:
        row["DX_CODE"] = "K52.9"
    write_csv(roster, rows)

    result = run_import(roster, mapping=mapping)

    assert result.exit_code == 1
    assert "6 rows: 0 created, 0 updated, 0 unchanged, 6 rejected" in result.stdout
    assert "6 ROWS REJECTED" in result.stderr


def test_a_row_with_the_wrong_number_of_fields_is_rejected(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    with roster.open("a", encoding="utf-8") as out:
        out.write("100200399,Too,Short\n")
    result = run_import(roster, mapping=mapping)
    assert "row 8: has 3 fields where the header has 21" in result.stderr


def test_a_visit_id_of_another_patient_rejects_the_row(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    rows[1]["NEXT_APPT_CSN"] = "5001"
    write_csv(roster, rows)
    result = run_import(roster, mapping=mapping)
    assert (
        "row 3, column NEXT_APPT_CSN: '5001' is the id of patient 100200301's visit"
        in result.stderr
    )


def test_a_visit_in_the_past_is_not_imported_and_says_so(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    rows[0]["NEXT_APPT_DTTM"] = "2026-11-02 09:30"
    write_csv(roster, rows)

    result = run_import(roster, mapping=mapping)

    assert "6 created" in result.stdout
    assert "row 2 (100200301): visit in the past: not imported" in result.stdout
    assert count_rows(session)["visits"] == 4


def test_a_rejects_file_that_cannot_be_written_imports_nothing(
    run_import, example, centers, session, tmp_path
):
    roster, mapping = example("east-epic")
    rows = read_csv(roster)
    rows[0]["DX_CODE"] = "K52.9"
    write_csv(roster, rows)
    nowhere = tmp_path / "missing-folder" / "rejects.csv"

    result = run_import(roster, "--rejects", str(nowhere), mapping=mapping)

    refused(
        result,
        session,
        f"cannot write the rejects file {nowhere} (No such file or directory): nothing imported",
    )
