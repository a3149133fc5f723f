"""Signed, expiring tokens for links in mails and for state kept by the browser.

The purpose is the salt: a self-service token never works as a receipt.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MAX_TOKEN_LENGTH = 4096  # longer path or form values are never ours


class TokenExpired(Exception):
    """The signature is right but the link is too old."""


class TokenInvalid(Exception):
    """Forged, truncated or meant for another purpose."""


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"campaign.{purpose}")


def make_token(secret: str, purpose: str, payload: Any) -> str:
    return _serializer(secret, purpose).dumps(payload)


def read_token(secret: str, purpose: str, token: str, max_age: float | None = None) -> Any:
    """The payload; raises TokenExpired or TokenInvalid."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid("not a token")
    try:
        age = None if max_age is None else int(max_age)
        return _serializer(secret, purpose).loads(token, max_age=age)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from None
    except BadSignature as exc:
        raise TokenInvalid(str(exc)) from None
