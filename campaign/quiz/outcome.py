"""The quiz outcome as a signed token: the lead form shows and stores the top
three places with their (German) reasons, and cannot be fed made-up ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..content.quizzes import Quiz
from ..core.tokens import TokenExpired, TokenInvalid, make_token, read_token
from .scoring import Match

OUTCOME_PURPOSE = "quiz-outcome"
OUTCOME_MAX_AGE = 7 * 24 * 3600
TOP = 3


def outcome_payload(quiz: Quiz, ranking: Sequence[Match], top: int = TOP) -> dict[str, Any]:
    return {"quiz": quiz.slug, "top": [
        {"slug": m.slug, "score": m.percent, "reasons": [r.text() for r in m.reasons]}
        for m in ranking[:top]]}


def make_outcome_token(secret: str, quiz: Quiz, ranking: Sequence[Match]) -> str:
    return make_token(secret, OUTCOME_PURPOSE, outcome_payload(quiz, ranking))


def read_outcome_token(secret: str, token: str) -> dict[str, Any] | None:
    """The signed quiz outcome (German reasons), or None when forged, old or malformed."""
    try:
        data = read_token(secret, OUTCOME_PURPOSE, token, max_age=OUTCOME_MAX_AGE)
    except (TokenExpired, TokenInvalid):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("quiz"), str):
        return None
    top = data.get("top")
    if not isinstance(top, list):
        return None
    for item in top:
        if not (isinstance(item, dict) and isinstance(item.get("slug"), str)
                and isinstance(item.get("score"), int)
                and isinstance(item.get("reasons"), list)
                and all(isinstance(r, str) for r in item["reasons"])):
            return None
    return data
