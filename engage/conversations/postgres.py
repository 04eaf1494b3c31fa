"""The common reply on PostgreSQL: three statements on a psycopg connection.

Every text a family sends takes this path, so on PostgreSQL it skips the ORM
session and speaks SQL straight to psycopg: one statement locks the phone (and
finds an earlier copy of the MessageSid), one reads its open check-ins, and one
data-modifying CTE stores the message, the answer, the check-in's new state and
the replies. Anything else (keywords, the end of a check-in, a retry) goes the
general way in ``services.py``, which SQLite always takes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Json

from engage.conversations.models import CheckInStatus, PendingQuestion, RespondentRole
from engage.people.models import ConsentState

LOCK_PHONE = """
SELECT c.id, c.sms_consent, COALESCE(p.preferred_language, g.preferred_language),
       v.pending, v.chosen_checkin_id,
       (SELECT m.id FROM messages AS m WHERE m.twilio_sid = %(sid)s)
FROM contacts AS c
LEFT JOIN patients AS p ON p.id = c.patient_id
LEFT JOIN caregivers AS g ON g.id = c.caregiver_id
LEFT JOIN contact_conversations AS v ON v.contact_id = c.id
WHERE c.phone = %(phone)s
FOR UPDATE OF c
"""

OPEN_CHECKINS = """
SELECT k.id, k.patient_id, k.contact_id, k.status, k.state, k.expires_at, k.language,
       k.respondent_role, iv.content_hash, k.instrument_version_id
FROM checkins AS k
JOIN instrument_versions AS iv ON iv.id = k.instrument_version_id
WHERE k.contact_id = %(contact_id)s AND k.status IN ('sent', 'in_progress')
ORDER BY k.id
"""

# Nothing but the SELECT happens when the MessageSid is already stored: every other
# part reads from "inbound", which is empty after ON CONFLICT DO NOTHING. Each
# parameter is cast the same way wherever it appears: psycopg sends it once.
WRITE_ANSWER = """
WITH inbound AS (
    INSERT INTO messages (direction, status, twilio_sid, phone, service_phone, body,
                          contact_id, checkin_id, num_media, created_at)
    VALUES ('inbound', 'received', %(sid)s::text, %(phone)s::text,
            %(service_phone)s::text, %(body)s::text,
            %(contact_id)s::integer, %(checkin_id)s::integer, %(num_media)s::integer,
            %(now)s::timestamptz)
    ON CONFLICT (twilio_sid) DO NOTHING
    RETURNING id
), answer AS (
    INSERT INTO answers (checkin_id, item_id, status, value, raw_text, message_id,
                         contact_id, respondent_role, answered_at)
    SELECT %(checkin_id)s::integer, %(item_id)s::text, %(answer_status)s::text,
           %(value)s::json, %(body)s::text, inbound.id,
           %(contact_id)s::integer, %(role)s::text, %(now)s::timestamptz
    FROM inbound
    WHERE %(item_id)s::text IS NOT NULL
    ON CONFLICT (checkin_id, item_id) DO UPDATE SET
        status = EXCLUDED.status, value = EXCLUDED.value, raw_text = EXCLUDED.raw_text,
        message_id = EXCLUDED.message_id, contact_id = EXCLUDED.contact_id,
        respondent_role = EXCLUDED.respondent_role, answered_at = EXCLUDED.answered_at
), progress AS (
    UPDATE checkins SET state = %(state)s::json, status = %(status)s::text
    WHERE id = %(checkin_id)s::integer AND EXISTS (SELECT 1 FROM inbound)
), replies AS (
    INSERT INTO messages (direction, status, phone, service_phone, body, contact_id,
                          checkin_id, reply_to_id, purpose, num_media, created_at)
    SELECT 'outbound', 'replied', %(phone)s::text, %(service_phone)s::text, reply.body,
           %(contact_id)s::integer,
           %(checkin_id)s::integer, inbound.id, reply.purpose, 0, %(now)s::timestamptz
    FROM inbound,
         unnest(%(bodies)s::text[], %(purposes)s::text[]) WITH ORDINALITY
             AS reply(body, purpose, position)
    ORDER BY reply.position
)
SELECT id FROM inbound
"""


def lock_phone(connection: Any, phone: str, message_sid: str) -> tuple[Any, ...] | None:
    row = connection.execute(LOCK_PHONE, {"phone": phone, "sid": message_sid}).fetchone()
    if row is None:
        return None
    contact_id, consent, language, pending, chosen, earlier_id = row
    return (
        contact_id,
        ConsentState(consent),
        language or "en",
        PendingQuestion(pending) if pending else PendingQuestion.NONE,
        chosen,
        earlier_id,
    )


def open_checkins(connection: Any, contact_id: int) -> list[tuple[Any, ...]]:
    rows = connection.execute(OPEN_CHECKINS, {"contact_id": contact_id}).fetchall()
    return [
        (r[0], r[1], r[2], CheckInStatus(r[3]), dict(r[4] or {}), r[5], r[6],
         RespondentRole(r[7]), r[8], r[9])
        for r in rows
    ]  # fmt: skip


def write_answer(
    connection: Any,
    *,
    sid: str,
    phone: str,
    service_phone: str | None,
    body: str,
    num_media: int,
    contact_id: int,
    checkin_id: int,
    item_id: str | None,
    answer_status: str | None,
    value: Any,
    role: RespondentRole,
    state: dict[str, Any],
    status: CheckInStatus,
    replies: list[tuple[str, str]],
    now: datetime,
) -> int | None:
    """Store one plain step; the new message's id, or None when the MessageSid was stored."""
    row = connection.execute(
        WRITE_ANSWER,
        {
            "sid": sid,
            "phone": phone,
            "service_phone": service_phone,
            "body": body,
            "num_media": num_media,
            "contact_id": contact_id,
            "checkin_id": checkin_id,
            "item_id": item_id,
            "answer_status": answer_status,
            "value": Json(value),
            "role": role.value,
            "state": Json(state),
            "status": status.value,
            "bodies": [text for text, _ in replies],
            "purposes": [purpose for _, purpose in replies],
            "now": now,
        },
    ).fetchone()
    return None if row is None else int(row[0])
