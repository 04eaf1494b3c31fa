"""``flask engage export registry`` and ``flask engage export fhir``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from engage.cli import command_operator
from engage.config import DEVELOPMENT_REGISTRY_PSEUDONYM_KEY
from engage.db import unit_of_work
from engage.errors import InvalidInput
from engage.exports.fhir_bulk import export_fhir
from engage.exports.output import check_output_folder, publish, staged_folder
from engage.exports.registry import DATE_MODES, FORMATS, export_registry
from engage.network.services import get_center

export_cli = AppGroup(
    "export", help="Export data: the de-identified network registry, or one center as FHIR."
)

OUT_PATH = click.Path(file_okay=True, dir_okay=True, path_type=Path)


@contextmanager
def refusals() -> Iterator[None]:
    """Bad input is one line naming the option and the value, without a traceback."""
    try:
        yield
    except InvalidInput as error:
        raise click.ClickException(f"--{error.field}: {error.value!r} {error.reason}") from None


@export_cli.command("registry")
@click.option("--out", required=True, type=OUT_PATH, help="A new or empty folder.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    default="ndjson",
    show_default=True,
    help="One JSON object per line, or CSV with a header.",
)
@click.option(
    "--dates",
    type=click.Choice(DATE_MODES),
    default="year",
    show_default=True,
    help="year: Safe Harbor (years, and days since each patient's index date); shifted: "
    "dates moved by a per-patient offset (for an expert determination or a data use "
    "agreement).",
)
def registry_command(out: Path, file_format: str, dates: str) -> None:
    """Write the whole network's de-identified registry (HIPAA Safe Harbor) into OUT."""
    key = current_app.config.get("REGISTRY_PSEUDONYM_KEY")
    if not key:
        raise click.ClickException(
            "REGISTRY_PSEUDONYM_KEY is not set: the registry's pseudonyms are keyed with it. "
            "Set it to a long random value kept secret and the same for every export, e.g. "
            "$(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    with refusals():
        check_output_folder(out)
    if key == DEVELOPMENT_REGISTRY_PSEUDONYM_KEY:
        click.echo("warning: the development key is not secret: these pseudonyms are not either")
    with refusals(), staged_folder(out) as staging:
        with unit_of_work():
            counts = export_registry(
                staging,
                key=key,
                file_format=file_format,
                dates=dates,
                exported_by=command_operator(),
            )
        publish(staging, out)
    for name, rows in counts.items():
        click.echo(f"{name}: {rows} rows")
    click.echo(f"registry written to {out} (dates: {dates}; see data_dictionary.json)")


@export_cli.command("fhir")
@click.option("--center", "center_code", required=True, help="Center code.")
@click.option("--out", required=True, type=OUT_PATH, help="A new or empty folder.")
@click.option(
    "--base-url",
    help="Canonical base of this service's FHIR resources (default: PUBLIC_BASE_URL/fhir).",
)
def fhir_command(center_code: str, out: Path, base_url: str | None) -> None:
    """Write one center's patients, questionnaires, responses and scores as FHIR R4 NDJSON."""
    with refusals():
        center = get_center(center_code)
        base = canonical_base(base_url)
        check_output_folder(out)
    with refusals(), staged_folder(out) as staging:
        with unit_of_work():
            result = export_fhir(
                center, staging, canonical_base=base, exported_by=command_operator()
            )
        publish(staging, out)
    for name, rows in result.resources.items():
        click.echo(f"{name}: {rows} resources")
    if result.skipped_responses:
        click.echo(
            f"warning: {result.skipped_responses} check-ins left out: their stored answers "
            "do not fit their questionnaire"
        )
    click.echo(f"FHIR R4 export of {center.code} written to {out}")


def canonical_base(given: str | None) -> str:
    if given is None:
        public = current_app.config.get("PUBLIC_BASE_URL")
        if not public:
            raise click.ClickException(
                "--base-url is needed (the canonical base of the Questionnaires and code "
                "systems, e.g. https://engage.example.org/fhir), or set PUBLIC_BASE_URL"
            )
        given = f"{str(public).rstrip('/')}/fhir"
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("base-url", given, "is not an http(s) address")
    return given.rstrip("/")
