"""Quizzes: the model, and ``quizzes/*.toml`` loaded into it.

A quiz file is named after its slug (``familie.toml`` → ``/quiz/familie``).
Errors name the file, the question and option, and the field, like the
region loader does, so an editor can fix a quiz without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.vocab import INTERESTS
from .checks import SLUG_RE, Checker, ContentError, read_toml
from .features import check_feature
from .model import Text

KINDS = ("single", "multi", "scale")
SCALE_VALUES = ("1", "2", "3", "4", "5")
MAX_WEIGHT = 5
QUIZ_KEYS = {"order", "title", "intro", "interests"}
QUESTION_KEYS = {"slug", "kind", "text", "hint", "required", "option", "weights"}
OPTION_KEYS = {"value", "label", "weights"}


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


def _weights(c: Checker, data: Mapping[str, Any], required: bool) -> Mapping[str, int]:
    if "weights" not in data:
        if required:
            raise c.fail("weights", "missing")
        return MappingProxyType({})
    table = c.get(data, "weights", dict)
    if required and not table:
        raise c.fail("weights", "name at least one fact")
    out: dict[str, int] = {}
    for name, weight in table.items():
        fld = f"weights.{name}"
        problem = check_feature(name)
        if problem:
            raise c.fail(fld, problem)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight == 0 \
                or abs(weight) > MAX_WEIGHT:
            raise c.fail(fld, f"expected a whole number from -{MAX_WEIGHT} to {MAX_WEIGHT}, not 0")
        out[name] = weight
    return MappingProxyType(out)


def _question(rel: str, data: Any, index: int) -> Question:
    if not isinstance(data, dict):
        raise ContentError(rel, f"question {index}", "", "expected a [[question]] table")
    c = Checker(rel, f"question '{data.get('slug', index)}'")
    c.unknown_keys(data, QUESTION_KEYS)
    slug = c.slug(data)
    kind = c.get(data, "kind", str)
    if kind not in KINDS:
        raise c.fail("kind", f"unknown kind {kind!r} (allowed: {', '.join(KINDS)})")
    required = c.get(data, "required", bool) if "required" in data else True
    text, hint = c.text(data, "text"), c.text(data, "hint", required=False)
    if kind == "scale":
        if "option" in data:
            raise c.fail("option", "a scale question has no options (answers are 1 to 5)")
        return Question(slug, kind, text, hint, required, (), _weights(c, data, True))
    if "weights" in data:
        raise c.fail("weights", "put weights on the options of a choice question")
    raw = data.get("option")
    if not isinstance(raw, list) or len(raw) < 2:
        raise c.fail("option", "a choice question needs at least two [[question.option]]")
    options: list[Option] = []
    for item in raw:
        if not isinstance(item, dict):
            raise c.fail("option", "expected tables")
        oc = Checker(rel, f"question '{slug}', option '{item.get('value', '?')}'")
        oc.unknown_keys(item, OPTION_KEYS)
        value = oc.slug(item, "value")
        if any(o.value == value for o in options):
            raise oc.fail("value", "duplicate value in this question")
        options.append(Option(value, oc.text(item, "label"), _weights(oc, item, False)))
    return Question(slug, kind, text, hint, required, tuple(options))


def load_quiz(path: Path, rel: str) -> Quiz:
    slug = path.stem
    data = read_toml(path, rel)
    c = Checker(rel, "[quiz]")
    if not SLUG_RE.match(slug):
        raise ContentError(rel, "", "", "the file name must be a slug (lowercase, hyphens)")
    head = c.get(data, "quiz", dict)
    c.unknown_keys(head, QUIZ_KEYS)
    interests = c.choice_list(head.get("interests", []), "interests", INTERESTS)
    order = c.get(head, "order", int) if "order" in head else 100
    raw = data.get("question")
    if not isinstance(raw, list) or not raw:
        raise ContentError(rel, "", "question", "a quiz needs at least one [[question]]")
    questions = [_question(rel, item, i) for i, item in enumerate(raw, 1)]
    seen: set[str] = set()
    for q in questions:
        if q.slug in seen:
            raise ContentError(rel, f"question '{q.slug}'", "slug", "duplicate slug")
        seen.add(q.slug)
    return Quiz(slug, c.text(head, "title"), c.text(head, "intro"), tuple(questions),
                interests, order)


def load_quizzes(content_dir: Path) -> Mapping[str, Quiz]:
    """All quizzes under ``quizzes/``, slug → Quiz, in their ``order``."""
    folder = Path(content_dir) / "quizzes"
    quizzes = [load_quiz(p, f"quizzes/{p.name}") for p in sorted(folder.glob("*.toml"))]
    quizzes.sort(key=lambda q: (q.order, q.slug))
    return MappingProxyType({q.slug: q for q in quizzes})
