"""Issue 9's "done when": both example rosters import, import again with no change, and export
(the de-identified registry and each center's FHIR bulk export)."""

from __future__ import annotations

import json

from engage.people.models import Patient
from tests.roster.conftest import count_rows

KEY = "example-rosters-registry-key-for-tests-0123456789"


def test_the_example_rosters_import_again_unchanged_and_export(
    app, monkeypatch, run_import, example, centers, session, runner, tmp_path
):
    monkeypatch.setitem(app.config, "REGISTRY_PSEUDONYM_KEY", KEY)
    for name, center in (("east-epic", "EAST"), ("west-cerner", "WEST")):
        roster, mapping = example(name)
        assert run_import(roster, center=center, mapping=mapping).exit_code == 0
    before = {k: v for k, v in count_rows(session).items() if k != "audit_events"}
    for name, center in (("east-epic", "EAST"), ("west-cerner", "WEST")):
        roster, mapping = example(name)
        again = run_import(roster, center=center, mapping=mapping)
        assert again.exit_code == 0 and " 0 created, 0 updated," in again.stdout, again.output
    assert {k: v for k, v in count_rows(session).items() if k != "audit_events"} == before

    registry = runner.invoke(args=["engage", "export", "registry", "--out", str(tmp_path / "reg")])
    assert registry.exit_code == 0, registry.output
    exported = "".join(p.read_text() for p in (tmp_path / "reg").rglob("*") if p.is_file())
    imported = session.query(Patient).all()
    assert len(imported) == before["patients"] > 0
    for patient in imported:
        assert patient.mrn not in exported and patient.family_name not in exported

    for center in ("EAST", "WEST"):
        out = tmp_path / f"fhir-{center}"
        result = runner.invoke(
            args=["engage", "export", "fhir", "--center", center, "--out", str(out),
                  "--base-url", "https://engage.example.org/fhir"]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        patients = [json.loads(line) for line in (out / "Patient.ndjson").read_text().splitlines()]
        mrns = {p.mrn for p in imported if p.center.code == center}
        assert {p["identifier"][0]["value"] for p in patients} == mrns
