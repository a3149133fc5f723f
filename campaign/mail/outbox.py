"""The outbox table: queue a message inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import Message
from email.utils import parseaddr
from typing import Any


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def enqueue(tx: Any, message: Message, *, kind: str, lead_id: int | None = None,
                  org: str | None = None, not_before_ts: float = 0.0) -> int:
    """Insert one outbox row in the open transaction ``tx``; returns its id.

    The mail is sent only after the transaction commits, by the worker, so a
    rolled-back state change never sends anything and a committed one always
    will (the transactional-outbox pattern).
    """
    recipient = parseaddr(str(message["To"]))[1]
    return await tx.execute(
        "INSERT INTO outbox (kind, lead_id, org, recipient, message_id, message, status,"
        " next_attempt_ts, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
        (kind, lead_id, org, recipient, str(message["Message-ID"]), message.as_bytes(),
         not_before_ts, utcnow()),
    )


async def enqueue_render(tx: Any, *, kind: str, recipient: str, message_id: str,
                         render: dict[str, Any], lead_id: int | None = None,
                         org: str | None = None, not_before_ts: float = 0.0,
                         created_at: str | None = None) -> int:
    """Queue a mail the worker renders right before sending (see mail.render).

    Building a MIME message costs milliseconds of CPU; a request that only has
    to promise the mail stores this small recipe instead. The Message-ID is
    fixed now, so every attempt and every duplicate carries the same one.
    """
    return await tx.execute(
        "INSERT INTO outbox (kind, lead_id, org, recipient, message_id, message, render,"
        " status, next_attempt_ts, created_at) VALUES (?, ?, ?, ?, ?, X'', ?, 'queued', ?, ?)",
        (kind, lead_id, org, recipient, message_id,
         json.dumps(render), not_before_ts, created_at or utcnow()),
    )
