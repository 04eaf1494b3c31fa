"""The dispatcher's bulk writes on PostgreSQL: one statement per table per batch.

A batch writes hundreds of check-ins, their messages and the enrollments' next
due times. Sent as arrays and expanded with ``unnest``, each is one short
statement that psycopg prepares once, instead of a long multi-row VALUES list
rebuilt and parsed for every batch. Parameters go in binary (``%(name)b``): arrays
of text need no escaping that way. SQLite takes the plain ``executemany`` path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

INSERT_CHECKINS = """
INSERT INTO checkins (
    patient_id, instrument_version_id, contact_id, respondent_role, language, status,
    due_at, opened_at, expires_at, closed_at, enrollment_id, visit_id, not_before,
    close_reason, state, created_at)
SELECT patient_id, instrument_version_id, contact_id, respondent_role, language, status,
       due_at, opened_at, expires_at, closed_at, enrollment_id, visit_id, not_before,
       close_reason, state::json, %(now)b
FROM unnest(
    %(patient_id)b::int[], %(instrument_version_id)b::int[], %(contact_id)b::int[],
    %(respondent_role)b::text[], %(language)b::text[], %(status)b::text[],
    %(due_at)b::timestamptz[], %(opened_at)b::timestamptz[], %(expires_at)b::timestamptz[],
    %(closed_at)b::timestamptz[], %(enrollment_id)b::int[], %(visit_id)b::int[],
    %(not_before)b::timestamptz[], %(close_reason)b::text[], %(state)b::text[]
) AS c(patient_id, instrument_version_id, contact_id, respondent_role, language, status,
       due_at, opened_at, expires_at, closed_at, enrollment_id, visit_id, not_before,
       close_reason, state)
ON CONFLICT (enrollment_id, due_at) DO NOTHING
RETURNING id, enrollment_id, due_at
"""

INSERT_MESSAGES = """
INSERT INTO messages (direction, status, phone, body, contact_id, checkin_id, purpose,
                      num_media, attempts, created_at)
SELECT 'outbound', 'queued', phone, body, contact_id, checkin_id, purpose, 0, 0, %(now)b
FROM unnest(%(phone)b::text[], %(body)b::text[], %(contact_id)b::int[],
            %(checkin_id)b::int[], %(purpose)b::text[])
     WITH ORDINALITY AS m(phone, body, contact_id, checkin_id, purpose, n)
ORDER BY n
"""

ADVANCE_ENROLLMENTS = """
UPDATE enrollments AS e
SET next_due_at = v.next_due_at, next_visit_id = v.next_visit_id,
    last_due_at = v.last_due_at, updated_at = %(now)b
FROM unnest(%(id)b::int[], %(next_due_at)b::timestamptz[], %(next_visit_id)b::int[],
            %(last_due_at)b::timestamptz[]) AS v(id, next_due_at, next_visit_id, last_due_at)
WHERE e.id = v.id
"""

CHECKIN_COLUMNS = (
    "patient_id",
    "instrument_version_id",
    "contact_id",
    "respondent_role",
    "language",
    "status",
    "due_at",
    "opened_at",
    "expires_at",
    "closed_at",
    "enrollment_id",
    "visit_id",
    "not_before",
    "close_reason",
    "state",
)


def columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


def insert_checkins(
    connection: Any, rows: Sequence[dict[str, Any]], now: datetime
) -> list[tuple[int, int, datetime]]:
    """Insert check-ins; (id, enrollment_id, due_at) of each one that was not there yet."""
    values = columns(rows, CHECKIN_COLUMNS)
    values["state"] = [json.dumps(state) for state in values["state"]]
    for name in ("respondent_role", "language", "status"):
        values[name] = [str(value) for value in values[name]]
    return connection.execute(INSERT_CHECKINS, {**values, "now": now}).fetchall()


def insert_messages(connection: Any, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    values = columns(rows, ("phone", "body", "contact_id", "checkin_id", "purpose"))
    connection.execute(INSERT_MESSAGES, {**values, "now": now})


def advance_enrollments(connection: Any, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    values = {
        "id": [row["enrollment"] for row in rows],
        **columns(rows, ("next_due_at", "next_visit_id", "last_due_at")),
    }
    connection.execute(ADVANCE_ENROLLMENTS, {**values, "now": now})
