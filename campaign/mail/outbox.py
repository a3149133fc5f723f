"""The outbox table: queue a message inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def enqueue(tx: Any, message: EmailMessage, *, kind: str, lead_id: int | None = None,
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
