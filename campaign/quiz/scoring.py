"""Answers and municipality facts → municipalities ranked, with reasons.

Pure functions of content and answers, so a ranking can be checked by hand.
A chosen option adds ``weight × value`` for each feature it names; a 1–5
scale multiplies its weights by ``(answer - 1) / 4`` (the features and their
values are defined in ``campaign.content.features``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..content.features import Reason, feature_value, reason
from ..content.model import Municipality
from ..content.quizzes import Quiz

# A feature is named as a reason when it is at least half there.
REASON_THRESHOLD = 0.5
MAX_REASONS = 3


@dataclass(frozen=True)
class Match:
    slug: str
    name: str
    score: float  # sum of weight × feature value
    percent: int  # score as a share of the best possible for these answers
    reasons: tuple[Reason, ...]


def answer_weights(quiz: Quiz, answers: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Total weight per feature from all answers (unanswered questions add nothing)."""
    total: dict[str, float] = {}
    for q in quiz.questions:
        chosen = answers.get(q.slug, ())
        if q.kind == "scale":
            terms = [(f, w * (int(v) - 1) / 4) for v in chosen for f, w in q.weights.items()]
        else:
            terms = [(f, float(w)) for o in q.options if o.value in chosen
                     for f, w in o.weights.items()]
        for feature, weight in terms:
            total[feature] = total.get(feature, 0.0) + weight
    return {f: w for f, w in total.items() if w}


def name_key(name: str) -> str:
    """Sort key that puts "Ö" with "O", as a German reader expects."""
    folded = unicodedata.normalize("NFKD", name.casefold().replace("ß", "ss"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def score(quiz: Quiz, answers: Mapping[str, Sequence[str]],
          municipalities: Iterable[Municipality]) -> list[Match]:
    """Every municipality, best first; equal scores in alphabetical order."""
    weights = answer_weights(quiz, answers)
    best = sum(w for w in weights.values() if w > 0)
    matches = []
    for m in municipalities:
        values = {f: feature_value(f, m.facts) for f in weights}
        total = round(sum(w * values[f] for f, w in weights.items()), 6)
        fits = sorted((f for f, w in weights.items() if w > 0 and values[f] >= REASON_THRESHOLD),
                      key=lambda f: (-weights[f] * values[f], f))
        percent = round(100 * max(total, 0.0) / best) if best else 0
        reasons = tuple(reason(f, m.facts) for f in fits[:MAX_REASONS])
        matches.append(Match(m.slug, m.name, total, percent, reasons))
    matches.sort(key=lambda x: (-x.score, name_key(x.name), x.slug))
    return matches
