"""What every export shares: a folder that appears only when complete, files only the
owner reads, and rows read from the database a chunk at a time."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeAlias, Unpack

import sqlalchemy as sa

from engage.db import db
from engage.errors import InvalidInput

CHUNK_ROWS = 1000

# A select of any columns, and one of its rows as a plain tuple.
AnySelect: TypeAlias = sa.Select[Unpack[tuple[Any, ...]]]  # noqa: UP044 - mypy crashes on *tuple here
AnyRow: TypeAlias = tuple[Any, ...]


def check_output_folder(out: Path) -> None:
    """Refuse a destination that would mix this export with other files.

    An export never deletes or overwrites: a folder holding an older export (or anything
    else) is refused, so no reader can take stale files for new ones.
    """
    if out.exists() and not out.is_dir():
        raise InvalidInput("out", str(out), "is a file: name a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise InvalidInput("out", str(out), "exists and is not empty: name a new or empty folder")
    if not out.absolute().parent.is_dir():
        raise InvalidInput("out", str(out), "is inside a folder that does not exist")


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A private folder beside ``out`` to write into; removed if the block fails.

    Call ``publish`` at the end of the block: readers then see the whole export or none.
    """
    check_output_folder(out)
    parent = out.absolute().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def publish(staging: Path, out: Path) -> None:
    """Move the finished export into place (into ``out`` when it exists, empty)."""
    if out.is_dir():
        for path in sorted(staging.iterdir()):
            path.rename(out / path.name)
        staging.rmdir()
    else:
        staging.rename(out)


def private_opener(path: str, flags: int) -> int:
    """Create files readable by their owner only: exports hold patients' data."""
    return os.open(path, flags, 0o600)


def open_private(path: Path) -> IO[str]:
    return open(path, "w", encoding="utf-8", newline="", opener=private_opener)


def chunked_rows(statement: AnySelect, size: int = CHUNK_ROWS) -> Iterator[Sequence[AnyRow]]:
    """The rows of ``statement`` a chunk at a time, by keyset on its first column.

    The first column must be a unique integer key (a primary key). Each chunk is its own
    short query, so memory stays flat however large the table, on SQLite and PostgreSQL alike.
    """
    key = statement.selected_columns[0]
    last: Any = None
    while True:
        query = statement.order_by(key).limit(size)
        if last is not None:
            query = query.where(key > last)
        rows = [tuple(row) for row in db.session.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


class NdjsonWriter:
    """One JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._file = open_private(path)

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._file.close()


class CsvWriter:
    """A header, then one line per record; booleans as true/false, nothing as empty."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.rows = 0
        self.columns = list(columns)
        self._file = open_private(path)
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(self.columns)

    def write(self, record: dict[str, Any]) -> None:
        self._writer.writerow([csv_value(record[name]) for name in self.columns])
        self.rows += 1

    def close(self) -> None:
        self._file.close()


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
