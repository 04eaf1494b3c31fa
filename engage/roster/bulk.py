"""Writing many rows at once, in the caller's transaction, on PostgreSQL and on SQLite.

On PostgreSQL the ids are drawn from each table's sequence first, then the rows go
in with binary ``COPY``: no statement to parse, no RETURNING to read, and psycopg
formats each row in C (the dispatcher's ``unnest`` arrays, ``engage/scheduling/postgres.py``,
suit its batches of hundreds; here a table takes up to a few hundred thousand rows,
and binary COPY is about five times faster than arrays). Knowing the ids up front
lets rows refer to each other (a caregiver's phone, a patient's enrollment) without
reading anything back. SQLite takes SQLAlchemy's ``executemany`` with ``RETURNING``
in the order of the rows.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

CHUNK_ROWS = 20_000
# After this many new rows a table's planner statistics are refreshed (PostgreSQL):
# queries planned on an empty table's statistics scan where they should look up.
ANALYZE_AFTER_ROWS = 5_000

_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"


def _copy_type(column: sa.Column[Any]) -> str:
    """The PostgreSQL type that binary COPY sends for a column's values."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.Integer):
        return "int4"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Time):
        return "time"
    if isinstance(kind, sa.String):  # VARCHAR and enums stored as their value
        return "text"
    raise TypeError(f"no COPY type for {column.table.name}.{column.name}: {column.type!r}")


def _plain(value: Any) -> Any:
    # psycopg would dump an Enum by its name; the columns hold values.
    return value.value if isinstance(value, enum.Enum) else value


class BulkWriter:
    """Inserts and updates rows of plain dicts; ``progress`` hears how many rows went."""

    def __init__(
        self, connection: sa.Connection, progress: Callable[[int], None] | None = None
    ) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.progress = progress or (lambda _done: None)
        self.inserted: dict[str, int] = defaultdict(int)

    def _driver(self) -> Any:
        return self.connection.connection.driver_connection

    def insert(self, table: sa.Table, rows: Sequence[dict[str, Any]], *, ids: bool) -> list[int]:
        """Insert ``rows`` (all with the same keys); their new ids, in order, if asked."""
        if not rows:
            return []
        self.inserted[table.name] += len(rows)
        if self.postgres:
            return self._insert_postgres(table, rows, ids)
        new_ids: list[int] = []
        statement = sa.insert(table)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = [
                {k: _plain(v) for k, v in row.items()} for row in rows[start : start + CHUNK_ROWS]
            ]
            if ids:
                result = self.connection.execute(
                    statement.returning(table.c.id, sort_by_parameter_order=True), chunk
                )
                new_ids.extend(result.scalars())
            else:
                self.connection.execute(statement, chunk)
            self.progress(len(chunk))
        return new_ids

    def _insert_postgres(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], ids: bool
    ) -> list[int]:
        driver = self._driver()
        names = tuple(rows[0])
        new_ids: list[int] = []
        if ids:
            with driver.cursor() as cursor:
                cursor.execute(_NEXT_IDS, (table.name, len(rows)))
                new_ids = [row[0] for row in cursor.fetchall()]
            names = ("id", *names)
        columns = ", ".join(names)
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_copy_type(table.c[name]) for name in names])
                for start in range(0, len(rows), CHUNK_ROWS):
                    chunk = rows[start : start + CHUNK_ROWS]
                    if ids:
                        for row, new_id in zip(
                            chunk, new_ids[start : start + CHUNK_ROWS], strict=True
                        ):
                            copy.write_row([new_id, *map(_plain, row.values())])
                    else:
                        for row in chunk:
                            copy.write_row([*map(_plain, row.values())])
                    self.progress(len(chunk))
        return new_ids

    def analyze(self) -> None:
        """Refresh the statistics of tables that grew a lot (PostgreSQL), in this transaction."""
        grown = [name for name, count in self.inserted.items() if count >= ANALYZE_AFTER_ROWS]
        if self.postgres and grown:
            with self._driver().cursor() as cursor:
                cursor.execute(f"ANALYZE {', '.join(grown)}")

    def update(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Set the given columns of each row found by its ``id``; rows may differ in keys."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[tuple(sorted(k for k in row if k != "id"))].append(row)
        for names, group in groups.items():
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("match_id"))
                .values({name: sa.bindparam(f"new_{name}") for name in names})
            )
            parameters = [
                {"match_id": row["id"], **{f"new_{n}": _plain(row[n]) for n in names}}
                for row in group
            ]
            self.connection.execute(statement, parameters)
            self.progress(len(group))
