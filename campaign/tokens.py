"""Signed, expiring tokens for links in mails (confirm, self-service, receipt, reset)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenExpired(Exception):
    """The signature is right but the link is too old."""


class TokenInvalid(Exception):
    """Forged, truncated or meant for another purpose."""


@functools.lru_cache(maxsize=32)
def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    """One per (secret, purpose), built once: each quiz step reads and writes a token.
    The purpose is the salt: a self-service token never works as a receipt."""
    return URLSafeTimedSerializer(secret, salt=f"campaign.{purpose}")


def make_token(secret: str, purpose: str, payload: Any) -> str:
    return _serializer(secret, purpose).dumps(payload)


def read_token(secret: str, purpose: str, token: str, max_age: float | None = None) -> Any:
    try:
        age = None if max_age is None else int(max_age)
        return _serializer(secret, purpose).loads(token, max_age=age)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from None
    except BadSignature as exc:
        raise TokenInvalid(str(exc)) from None


_MOMENT = re.compile(r"[0-9]{1,12}\.[0-9]{3}")


def _stamp_mac(secret: str, purpose: str, text: str) -> str:
    key = f"campaign.{purpose}:{secret}".encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def make_stamp(secret: str, purpose: str, moment: float) -> str:
    """A signed moment (a form's start time): a number and a truncated HMAC-SHA256.

    Checked on every lead submission, so it avoids the payload encoding of
    the link tokens above (a tenth of their CPU); like them, the purpose is
    part of the key."""
    text = f"{moment:.3f}"
    return f"{text}.{_stamp_mac(secret, purpose, text)}"


def read_stamp(secret: str, purpose: str, token: str) -> float | None:
    """The moment of a genuine stamp; None for anything forged, truncated or odd."""
    number, _, given = token.rpartition(".")
    if not _MOMENT.fullmatch(number) or len(given) != 32:
        return None
    expected = _stamp_mac(secret, purpose, number)
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        return None
    return float(number)
