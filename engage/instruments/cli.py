"""``flask engage instruments check`` and ``flask engage instruments show``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup

from engage.config import prompt_folders
from engage.instruments.loader import InstrumentProblems, Library, load_library
from engage.instruments.render import script
from engage.instruments.sms import segment_fit

instruments_cli = AppGroup("instruments", help="Check-in instruments in prompts/.")


def load_from_environment() -> Library:
    """Load the same folders the service would, without starting the service."""
    folders = prompt_folders(os.environ.get("ENGAGE_PROMPTS_PATH"))
    return load_library([Path(folder) for folder in folders])


@instruments_cli.command("check", with_appcontext=False)
def check_command() -> None:
    """Validate every instrument file; exit non-zero with the list of problems."""
    try:
        library = load_from_environment()
    except InstrumentProblems as broken:
        for line in broken.problems:
            click.echo(line, err=True)
        count = len(broken.problems)
        raise click.ClickException(f"{count} problem{'s' if count != 1 else ''} found") from None
    for instrument in library:
        click.echo(
            f"ok  {instrument.label}  {instrument.path}  "
            f"{len(instrument.items)} items, {len(instrument.scores)} scores, "
            f"{len(instrument.red_flags)} red flags, sha256 {instrument.content_hash[:12]}"
        )
    if not len(library):
        click.echo("no instrument files found")


@instruments_cli.command("show", with_appcontext=False)
@click.argument("instrument_id")
@click.option("--lang", "language", default="en", show_default=True, help="en or es")
@click.option("--proxy", is_flag=True, help="The wording a parent answering for a child sees.")
def show_command(instrument_id: str, language: str, proxy: bool) -> None:
    """Print the SMS script of an instrument, one message per block."""
    library = load_from_environment()
    try:
        instrument = library.get(instrument_id)
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from None
    if language not in instrument.languages:
        raise click.ClickException(
            f"{instrument.label} has no language {language!r} ({', '.join(instrument.languages)})"
        )
    click.echo(f"{instrument.title[language]} ({instrument.label}, {language}"
               f"{', proxy wording' if proxy else ''})")  # fmt: skip
    for label, text in script(instrument, language, proxy=proxy):
        fit = segment_fit(text)
        click.echo("")
        click.echo(f"-- {label} · {fit.length}/{fit.limit} characters · {fit.encoding}")
        click.echo(text)
