"""Quiz model and scoring: answers + municipality facts → ranked municipalities.

Everything here is a pure function of content and answers, so the ranking
can be tested by hand. Weights name a *feature* of a municipality (a fact,
or one value of a fact such as ``landscape:lakes``); every feature maps the
facts to a number between 0 and 1. A chosen option adds ``weight × value``
for each feature it names; a 1–5 scale multiplies its weights by
``(answer - 1) / 4``. Reasons are kept as codes and translated when shown.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .content import (
    CITIES,
    LANDSCAPES,
    SCHOOLS,
    SIZE_CLASSES,
    Facts,
    Municipality,
    Region,
    Text,
    register_loader,
)
from .tokens import TokenExpired, TokenInvalid, make_token, read_token

KINDS = ("single", "multi", "scale")
SCALE_VALUES = ("1", "2", "3", "4", "5")
MAX_WEIGHT = 5
OUTCOME_PURPOSE = "quiz-outcome"
OUTCOME_MAX_AGE = 7 * 24 * 3600
# Travel time counts fully up to 30 minutes and nothing from 120 minutes on.
TRAVEL_FULL, TRAVEL_NONE = 30, 120
KITA_TARGET, PLAYGROUND_TARGET = 10, 20
# A feature is named as a reason when it is at least half there.
REASON_THRESHOLD = 0.5
MAX_REASONS = 3


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated later, when shown."""
    return message


# -- the weight vocabulary ----------------------------------------------------

BOOLEAN_FEATURES = {
    "winter_sports": N_("Wintersport direkt vor Ort"),
    "rail_station": N_("Bahnhof im Ort"),
    "hospital": N_("Krankenhaus im Ort"),
    "university_nearby": N_("Hochschule in der Nähe"),
    "swimming_pool": N_("Schwimmbad im Ort"),
}
VALUE_FEATURES: dict[str, dict[str, str]] = {
    "landscape": dict(zip(LANDSCAPES, (
        N_("See in der Nähe"), N_("Wald vor der Haustür"), N_("Berge ringsum"),
        N_("Am Fluss gelegen"), N_("Weite Felder ringsum")))),
    "secondary_schools": dict(zip(SCHOOLS, (
        N_("Gymnasium im Ort"), N_("Realschule im Ort"), N_("Gesamtschule im Ort"),
        N_("Sekundarschule im Ort"), N_("Hauptschule im Ort")))),
    "size_class": dict(zip(SIZE_CLASSES, (
        N_("Gemeinde auf dem Land"), N_("Überschaubare Kleinstadt"),
        N_("Mittelstadt mit allem Nötigen"), N_("Großstadt")))),
}
ANY_SCHOOL = N_("Weiterführende Schule im Ort")
TRAVEL_TARGETS = (*CITIES, "nearest")
TRAVEL_TEXT = N_("%(minutes)s Minuten nach %(city)s")
CITY_NAMES = {"dortmund": N_("Dortmund"), "koeln": N_("Köln"), "frankfurt": N_("Frankfurt")}
COUNT_FEATURES = {
    "kitas": (KITA_TARGET, N_("%(num)s Kitas im Ort")),
    "playgrounds": (PLAYGROUND_TARGET, N_("%(num)s Spielplätze")),
}


def feature_names() -> list[str]:
    names = list(BOOLEAN_FEATURES) + list(COUNT_FEATURES) + ["secondary_schools"]
    for fact, values in VALUE_FEATURES.items():
        names += [f"{fact}:{v}" for v in values]
    return names + [f"travel_minutes:{t}" for t in TRAVEL_TARGETS]


def check_feature(name: str) -> str | None:
    """None when ``name`` is a known feature, else why not (for content errors)."""
    fact, _, sub = name.partition(":")
    if fact in BOOLEAN_FEATURES or fact in COUNT_FEATURES:
        return f"{fact} takes no ':value'" if sub else None
    if fact == "secondary_schools" and not sub:
        return None
    if fact in VALUE_FEATURES:
        allowed = tuple(VALUE_FEATURES[fact])
    elif fact == "travel_minutes":
        allowed = TRAVEL_TARGETS
    else:
        known = sorted({*BOOLEAN_FEATURES, *COUNT_FEATURES, *VALUE_FEATURES, "travel_minutes"})
        return f"unknown fact {fact!r} (known: {', '.join(known)})"
    if not sub:
        return f"{fact} needs a value, e.g. {fact}:{allowed[0]}"
    if sub not in allowed:
        return f"unknown value {sub!r} for {fact} (allowed: {', '.join(allowed)})"
    return None


def _travel(facts: Facts, target: str) -> tuple[str, int]:
    return facts.nearest_city if target == "nearest" else (target, facts.travel_minutes[target])


def feature_value(name: str, facts: Facts) -> float:
    """How much of the feature a municipality has, between 0 and 1."""
    fact, _, sub = name.partition(":")
    if fact in BOOLEAN_FEATURES:
        return 1.0 if getattr(facts, fact) else 0.0
    if fact in COUNT_FEATURES:
        return min(getattr(facts, fact), COUNT_FEATURES[fact][0]) / COUNT_FEATURES[fact][0]
    if fact == "travel_minutes":
        minutes = _travel(facts, sub)[1]
        share = (TRAVEL_NONE - minutes) / (TRAVEL_NONE - TRAVEL_FULL)
        return max(0.0, min(1.0, share))
    if fact == "secondary_schools" and not sub:
        return 1.0 if facts.secondary_schools else 0.0
    value = getattr(facts, fact)
    present = sub in value if isinstance(value, tuple) else value == sub
    return 1.0 if present else 0.0


# -- model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: Text
    weights: Mapping[str, int]


@dataclass(frozen=True)
class Question:
    slug: str
    kind: str  # single | multi | scale
    text: Text
    hint: Text
    required: bool
    options: tuple[Option, ...] = ()
    weights: Mapping[str, int] = field(default_factory=dict)  # scale questions

    @property
    def values(self) -> tuple[str, ...]:
        return SCALE_VALUES if self.kind == "scale" else tuple(o.value for o in self.options)

    def check(self, chosen: Sequence[str]) -> str | None:
        """None when ``chosen`` is a valid answer, else an error code."""
        if any(v not in self.values for v in chosen) or len(set(chosen)) != len(chosen):
            return "unknown"
        if self.kind != "multi" and len(chosen) > 1:
            return "unknown"
        if self.required and not chosen:
            return "missing"
        return None


@dataclass(frozen=True)
class Quiz:
    slug: str
    title: Text
    intro: Text
    questions: tuple[Question, ...]
    interests: tuple[str, ...] = ()  # lead-form interests preselected by the outcome
    order: int = 0

    def number_of(self, slug: str) -> int:
        return next(i for i, q in enumerate(self.questions, 1) if q.slug == slug)

    def first_unanswered(self, answers: Mapping[str, Sequence[str]]) -> int | None:
        for i, q in enumerate(self.questions, 1):
            if q.slug not in answers:
                return i
        return None


@dataclass(frozen=True)
class Reason:
    feature: str
    params: Mapping[str, Any]

    def text(self, gettext: Callable[[str], str] = N_) -> str:
        """The reason in the language of ``gettext`` (German by default)."""
        fact, _, sub = self.feature.partition(":")
        if fact in BOOLEAN_FEATURES:
            return gettext(BOOLEAN_FEATURES[fact])
        if fact in COUNT_FEATURES:
            return gettext(COUNT_FEATURES[fact][1]) % dict(self.params)
        if fact == "travel_minutes":
            city = gettext(CITY_NAMES[self.params["city"]])
            return gettext(TRAVEL_TEXT) % {"minutes": self.params["minutes"], "city": city}
        if fact == "secondary_schools" and not sub:
            return gettext(ANY_SCHOOL)
        return gettext(VALUE_FEATURES[fact][sub])


@dataclass(frozen=True)
class Match:
    slug: str
    name: str
    score: float  # sum of weight × feature value
    percent: int  # score as a share of the best possible for these answers
    reasons: tuple[Reason, ...]


# -- scoring -------------------------------------------------------------------


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


@functools.lru_cache(maxsize=1024)
def name_key(name: str) -> str:
    """Sort key that puts "Ö" with "O", as a German reader expects."""
    folded = unicodedata.normalize("NFKD", name.casefold().replace("ß", "ss"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _reason(feature: str, facts: Facts) -> Reason:
    fact, _, sub = feature.partition(":")
    if fact in COUNT_FEATURES:
        return Reason(feature, {"num": getattr(facts, fact)})
    if fact == "travel_minutes":
        city, minutes = _travel(facts, sub)
        return Reason(feature, {"city": city, "minutes": minutes})
    return Reason(feature, {})


class _Known:
    """One municipality's feature values and reasons, worked out on first use:
    content (and so every Facts) is immutable while it is loaded, and every
    outcome page scores all 59 places."""

    __slots__ = ("facts", "values", "reasons")

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.values: dict[str, float] = {}
        self.reasons: dict[str, Reason] = {}

    def value(self, feature: str) -> float:
        if feature not in self.values:
            self.values[feature] = feature_value(feature, self.facts)
        return self.values[feature]

    def reason(self, feature: str) -> Reason:
        if feature not in self.reasons:
            self.reasons[feature] = _reason(feature, self.facts)
        return self.reasons[feature]


# Keyed by identity (Facts holds a mapping, so it is not hashable); each entry
# keeps its Facts alive, so an id is never reused while it is in here.
_KNOWN: dict[int, _Known] = {}
_KNOWN_MAX = 10_000  # municipalities of a few content loads (tests load many)


def _known(facts: Facts) -> _Known:
    known = _KNOWN.get(id(facts))
    if known is None or known.facts is not facts:
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        known = _KNOWN[id(facts)] = _Known(facts)
    return known


def score(quiz: Quiz, answers: Mapping[str, Sequence[str]],
          municipalities: Iterable[Municipality]) -> list[Match]:
    """Every municipality, best first; equal scores in alphabetical order."""
    weights = answer_weights(quiz, answers)
    best = sum(w for w in weights.values() if w > 0)
    matches = []
    for m in municipalities:
        known = _known(m.facts)
        values = {f: known.value(f) for f in weights}
        total = round(sum(w * values[f] for f, w in weights.items()), 6)
        fits = sorted((f for f, w in weights.items() if w > 0 and values[f] >= REASON_THRESHOLD),
                      key=lambda f: (-weights[f] * values[f], f))
        percent = round(100 * max(total, 0.0) / best) if best else 0
        reasons = tuple(known.reason(f) for f in fits[:MAX_REASONS])
        matches.append(Match(m.slug, m.name, total, percent, reasons))
    matches.sort(key=lambda x: (-x.score, name_key(x.name), x.slug))
    return matches


# -- the outcome, carried to the lead form ------------------------------------


def outcome_payload(quiz: Quiz, ranking: Sequence[Match], top: int = 3) -> dict[str, Any]:
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


@register_loader("quizzes")
def load_quizzes(content_dir: Path, region: Region) -> Mapping[str, Quiz]:
    """All quizzes under ``quizzes/``, slug → Quiz, in their ``order``."""
    from .quiz_load import load_all

    return load_all(content_dir, region)
