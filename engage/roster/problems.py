"""What can go wrong with a roster: the whole file refused, or one row rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RosterRefused(Exception):
    """The roster or its mapping cannot be imported at all; nothing was written.

    ``problems`` holds one line each, fit to print as they are.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row is rejected: its CSV line (the header is line 1), the column, the reason."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.line}, column {self.column}" if self.column else f"row {self.line}"
        return f"{where}: {self.reason}"


class RowRejected(Exception):
    """Raised while translating or planning a row; the row is skipped, the rest go on."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason
