"""``flask engage import ROSTER.csv --center CODE``: a center's roster, upserted by MRN."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from engage.audit.services import record_event
from engage.cli import InputRefused, command_operator, command_unit_of_work
from engage.db import db
from engage.roster.importer import ImportReport, import_roster
from engage.roster.mapping import RosterMapping, default_mapping, load_mapping
from engage.roster.problems import RosterRefused

# Rejections and notes printed in full up to this many; the rest are in the rejects file.
SHOWN = 20

COUNT_ORDER = (
    "patients created",
    "patients updated",
    "caregivers created",
    "caregivers updated",
    "caregiver links created",
    "caregiver links updated",
    "phones added",
    "visits created",
    "visits moved",
    "enrollments created",
    "enrollments not possible",
)


@contextmanager
def progress_bar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A bar on stderr while a long step runs; nothing at all when stderr is not a terminal."""
    stderr = sys.stderr
    with click.progressbar(
        length=max(length, 1), label=f"{label:<9}", file=stderr, hidden=not stderr.isatty()
    ) as bar:

        def advance(steps: int) -> None:
            bar.update(steps)

        yield advance


def default_rejects_path(roster: Path) -> Path:
    return roster.with_name(f"{roster.stem}.rejects.csv")


def write_rejects(path: Path, report: ImportReport, mapping: RosterMapping) -> None:
    """The rejected rows as they were, after three columns that say why: row, column, reason."""
    with path.open("w", newline="", encoding=mapping.encoding, errors="replace") as out:
        writer = csv.writer(out, delimiter=mapping.delimiter)
        writer.writerow(["row", "column", "reason", *report.header])
        for rejected in report.rejected:
            columns = "; ".join(dict.fromkeys(p.column for p in rejected.problems if p.column))
            reasons = "; ".join(
                f"{p.column}: {p.reason}" if len(rejected.problems) > 1 and p.column else p.reason
                for p in rejected.problems
            )
            writer.writerow([rejected.line, columns, reasons, *rejected.cells])


def summary(report: ImportReport) -> str:
    return (
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected_count} rejected"
    )


def print_report(report: ImportReport, *, dry_run: bool, verbose: bool) -> None:
    where = f"{report.roster} into {report.center} (mapping {report.mapping})"
    if dry_run:
        click.echo(f"DRY RUN, nothing was written. {where} would give {summary(report)}")
    else:
        click.echo(f"imported {where}: {summary(report)}")
    counts = [f"{name} {report.counts[name]}" for name in COUNT_ORDER if report.counts[name]]
    if counts:
        click.echo("  " + ", ".join(counts))
    steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in report.seconds.items())
    click.echo(f"  took {sum(report.seconds.values()):.1f} s: {steps}")
    for change in report.changes:
        if verbose or (dry_run and not change.created):
            action = "created" if change.created else "updated"
            click.echo(f"  row {change.line} ({change.mrn}) {action}: {'; '.join(change.changes)}")
    if report.notes:
        click.echo(f"notes ({len(report.notes)}):")
        for note in report.notes[: None if verbose else SHOWN]:
            click.echo(f"  {note}")
        if not verbose and len(report.notes) > SHOWN:
            click.echo(f"  ... and {len(report.notes) - SHOWN} more (--verbose shows them all)")


def print_rejections(report: ImportReport, rejects: Path) -> None:
    count = report.rejected_count
    click.echo(
        f"{count} ROW{'S' if count != 1 else ''} REJECTED, not imported; "
        f"written with their reasons to {rejects}:",
        err=True,
    )
    problems = [problem for rejected in report.rejected for problem in rejected.problems]
    for problem in problems[:SHOWN]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > SHOWN:
        click.echo(f"  ... and {len(problems) - SHOWN} more in {rejects}", err=True)


@click.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--center", "center_code", required=True, help="The center's code, e.g. EAST.")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping file (YAML): which column holds what. Default: engage's own column names.",
)
@click.option("--dry-run", is_flag=True, help="Do everything, then roll back: report only.")
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows (default: ROSTER.rejects.csv next to the roster).",
)
@click.option("--verbose", "-v", is_flag=True, help="Print every row's changes and every note.")
@with_appcontext
def import_command(
    roster: Path,
    center_code: str,
    mapping_path: Path | None,
    dry_run: bool,
    rejects_path: Path | None,
    verbose: bool,
) -> None:
    """Import a center's ROSTER (CSV): patients, caregivers, phones, enrollments, visits.

    Patients are matched by the center and MRN: new ones are added, known ones updated
    where the roster differs; importing the same file again changes nothing. A row that
    cannot be imported is reported and written to the rejects file; the others are imported.
    """
    try:
        mapping = load_mapping(mapping_path) if mapping_path else default_mapping()
    except RosterRefused as refused:
        raise InputRefused(refused.problems) from None
    rejects = rejects_path or default_rejects_path(roster)
    with command_unit_of_work():
        # A dry run does everything inside a savepoint and rolls it back; the audit
        # event after it is the one thing that commits.
        trial = db.session.begin_nested() if dry_run else None
        try:
            report = import_roster(roster, center_code, mapping, progress=progress_bar)
        except RosterRefused as refused:
            raise InputRefused(refused.problems) from None
        except sa.exc.IntegrityError as error:
            # Someone else added the same phone or MRN between our reading and writing.
            detail = str(error.orig).strip().splitlines()[0]
            raise InputRefused(
                [
                    f"the database changed while {roster.name} was being imported ({detail}); "
                    "nothing was written: import it again"
                ]
            ) from None
        if report.rejected:
            try:
                write_rejects(rejects, report, mapping)
            except OSError as error:
                # Rejected rows nobody can read are rows lost: import nothing instead.
                problem = f"cannot write the rejects file {rejects} ({error.strerror})"
                raise InputRefused([f"{problem}: nothing imported"]) from None
        if trial is not None:
            trial.rollback()
        record_event(
            None,
            "roster.dry_run" if dry_run else "roster.import",
            detail=(
                f"by {command_operator()}: {report.roster} into {report.center} "
                f"(mapping {report.mapping}): {summary(report)}"
            ),
        )
    print_report(report, dry_run=dry_run, verbose=verbose)
    if report.rejected:
        print_rejections(report, rejects)
    if report.rows and report.rejected_count == report.rows:
        raise SystemExit(1)
