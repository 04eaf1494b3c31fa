"""The runbook names every setting and every metric engage has."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engage.config import ENVIRONMENT_VARIABLES

RUNBOOK = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


@pytest.mark.parametrize("name", ENVIRONMENT_VARIABLES)
def test_every_setting_is_in_the_runbook(name):
    assert f"`{name}`" in RUNBOOK.read_text(), f"docs/operations.md does not explain {name}"


def test_every_engage_metric_is_in_the_runbook(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "runbook-test-token-0123456789")
    text = client.get(
        "/metrics", headers={"Authorization": "Bearer runbook-test-token-0123456789"}
    ).get_data(as_text=True)
    names = {
        family.name
        for family in text_string_to_metric_families(text)
        if family.name.startswith("engage_") and not family.name.endswith("_created")
    }
    assert {"engage_outbox_depth", "engage_job_runs", "engage_webhook_duration_seconds"} <= names
    runbook = RUNBOOK.read_text()
    missing = sorted(name for name in names if name not in runbook)
    assert not missing, f"docs/operations.md does not explain {missing}"
