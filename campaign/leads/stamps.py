"""The lead form's signed start stamp: when the form was rendered, plus a nonce.

A submission sooner than the minimum fill time after its stamp is a bot's; a
stamp counts for one stored lead only (``lifecycle.create_pending`` records
its digest in the lead's transaction), so fetching the form once does not let
a bot skip the fill time for every later submission.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from ..core.tokens import TokenExpired, TokenInvalid, make_token, read_token

PURPOSE = "lead-form-started"
MAX_AGE = timedelta(days=1)  # a form older than this is sent again with a new stamp


def make_stamp(secret: str, now: datetime) -> str:
    """A new stamp; the nonce makes two forms rendered in the same millisecond differ."""
    return make_token(secret, PURPOSE, [round(now.timestamp(), 3), secrets.token_urlsafe(12)])


def accepted(secret: str, stamp: str, now: datetime, minimum: float) -> str | None:
    """The digest under which a stamp counts once, or None when it is missing,
    forged, expired, or younger than ``minimum`` seconds (too fast for a person)."""
    try:
        value = read_token(secret, PURPOSE, stamp, max_age=MAX_AGE.total_seconds())
    except (TokenExpired, TokenInvalid):
        return None
    # [time, nonce]; a bare time (stamps from before the nonce) still counts for a day
    started = value[0] if isinstance(value, list) and len(value) == 2 else value
    if isinstance(started, bool) or not isinstance(started, float | int):
        return None
    if now.timestamp() - started < minimum:
        return None
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()
