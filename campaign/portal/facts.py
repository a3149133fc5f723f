"""A municipality's facts as its staff state them, each with a source: population,
area, Kitas, playgrounds, motorway exit, one Kita with its opening hours, the train
from the station, rail station, swimming pool, secondary schools, hospital.

Only what the staff *state* is kept: a fact whose value they change or whose
source they name. Everything else stays as the content files have it (the seed).
After the agency approves (``portal.review``) the stated facts replace the seed's
on the family page and in the quiz, read on every request so every instance agrees.
The rules here are pure functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..content.model import SCHOOLS, Municipality
from ..core.db import Database
from ..core.schema import published_pages
from . import review

KIND = "municipality_facts"
NUMBERS: dict[str, tuple[float, float]] = {  # sane ranges for a town of Südwestfalen
    "population": (1, 500_000), "area_km2": (0.1, 1_000),
    "kitas": (0, 300), "playgrounds": (0, 1_000)}
TEXTS = ("motorway_exit", "kita_named", "train")
FLAGS = ("rail_station", "swimming_pool", "hospital")
EDITABLE = (*NUMBERS, *TEXTS, *FLAGS, "secondary_schools")
LABELS = {  # German, for the reviewer's diff and the error summary
    "population": "Einwohner", "area_km2": "Fläche (km²)", "kitas": "Kitas",
    "playgrounds": "Spielplätze", "motorway_exit": "Autobahnanschluss",
    "kita_named": "Eine Kita mit Öffnungszeiten", "train": "Mit dem Zug",
    "rail_station": "Bahnhof im Ort", "swimming_pool": "Schwimmbad im Ort",
    "secondary_schools": "Weiterführende Schulen", "hospital": "Krankenhaus im Ort"}
SOURCE_MAX = 120
TEXT_MAX = 100


@dataclass(frozen=True)
class FactsEdit:
    """The stated facts: name -> value, and name -> source text (both for the same names)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def payload(self) -> dict[str, Any]:
        return {"values": {k: list(v) if isinstance(v, tuple) else v
                           for k, v in self.values.items()},
                "sources": dict(self.sources)}

    @classmethod
    def from_payload(cls, data: dict[str, Any] | None) -> FactsEdit:
        data = data or {}
        values = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in dict(data.get("values") or {}).items() if k in EDITABLE}
        sources = {k: str(v) for k, v in dict(data.get("sources") or {}).items() if k in values}
        return cls(values, sources)


def _number(raw: str, name: str) -> tuple[float | int | None, str]:
    low, high = NUMBERS[name]
    text = raw.strip().replace(" ", "").replace(".", "" if name != "area_km2" else ".")
    if name == "area_km2":
        text = text.replace(",", ".")
    try:
        value: float | int = float(text) if name == "area_km2" else int(text)
    except ValueError:
        return None, ("Bitte geben Sie eine Zahl ein, z. B. 85,9." if name == "area_km2"
                      else "Bitte geben Sie eine ganze Zahl ein, z. B. 12.")
    if not low <= value <= high:
        return None, "Diese Zahl ist für einen Ort in Südwestfalen nicht möglich."
    return value, ""


def _same(value: Any, seed: Any) -> bool:
    return set(value) == set(seed) if isinstance(value, tuple) else bool(value == seed)


def read(form: Mapping[str, str], schools: Iterable[str],
         seed: Municipality) -> tuple[FactsEdit, dict[str, str], dict[str, str]]:
    """The stated facts from the form, the problems (German msgids, by field) and the
    form's values as typed (to show them again)."""
    typed = {name: " ".join(str(form.get(name, "")).split()) for name in (*NUMBERS, *TEXTS)}
    typed.update({f"{n}_source": " ".join(str(form.get(f"{n}_source", "")).split())
                  for n in EDITABLE})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in NUMBERS:
        if typed[name]:
            values[name], problem = _number(typed[name], name)
            if problem:
                errors[name] = problem
    for name in TEXTS:
        if len(typed[name]) > TEXT_MAX or not typed[name].isprintable():
            errors[name] = "Bitte höchstens 100 Zeichen."
        elif typed[name]:
            values[name] = typed[name]
    for name in FLAGS:
        values[name] = form.get(name) == "1"
    values["secondary_schools"] = tuple(s for s in SCHOOLS if s in set(schools))
    stated: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in EDITABLE:
        source = typed[f"{name}_source"]
        if name in errors:
            continue
        if len(source) > SOURCE_MAX or not source.isprintable():
            errors[f"{name}_source"] = "Die Quelle darf höchstens 120 Zeichen lang sein."
        elif name not in values:
            if source:
                errors[name] = "Bitte geben Sie den Wert an, zu dem Sie eine Quelle nennen."
        elif source:
            stated[name], sources[name] = values[name], source
        elif not _same(values[name], getattr(seed.facts, name)):
            errors[f"{name}_source"] = ("Bitte nennen Sie die Quelle, z. B. "
                                        "„Stadtverwaltung, Stand 2026“.")
    return FactsEdit(stated, sources), errors, typed


def problems_of(edit: FactsEdit) -> bool:
    """Whether a stored payload is unusable (so a family page never breaks on it)."""
    for name, value in edit.values.items():
        if name in NUMBERS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return True
        if name in FLAGS and not isinstance(value, bool):
            return True
    return False


def lines(payload: dict[str, Any]) -> list[str]:
    """The stated facts as text lines, for the reviewer's diff."""
    edit = FactsEdit.from_payload(payload)
    out = []
    for name in EDITABLE:
        if name not in edit.values:
            continue
        value = edit.values[name]
        shown = ("ja" if value else "nein") if isinstance(value, bool) else (
            ", ".join(value) or "keine" if isinstance(value, tuple) else str(value))
        out.append(f"{LABELS[name]}: {shown} (Quelle: {edit.sources.get(name, '')})")
    return out


review.register(review.Kind(KIND, "Fakten einer Kommune", lines, page="/partner/fakten"))


def apply(m: Municipality, edit: FactsEdit) -> Municipality:
    """The municipality with the stated facts in place of the seed's; their sources
    are the stated texts (``edit.sources``), not the content's sources."""
    if problems_of(edit) or not edit.values:
        return m
    facts = dataclasses.replace(
        m.facts, **edit.values,
        sources={k: v for k, v in m.facts.sources.items() if k not in edit.values})
    return dataclasses.replace(m, facts=facts)


async def current(db: Database, slug: str) -> FactsEdit:
    """The approved facts of one municipality (none stated, or unusable: empty)."""
    edit = FactsEdit.from_payload(await review.published(db, KIND, slug))
    return FactsEdit({}, {}) if problems_of(edit) else edit


async def draft(db: Database, slug: str) -> FactsEdit:
    """What the staff edit: the pending proposal, else the approved facts."""
    waiting = await review.pending(db, KIND, slug)
    return FactsEdit.from_payload(waiting.payload) if waiting else await current(db, slug)


async def merged(db: Database,
                 municipalities: Mapping[str, Municipality]) -> dict[str, Municipality]:
    """Every municipality with its approved facts (one query; the quiz ranks these)."""
    rows = await db.all(sa.select(published_pages.c.target, published_pages.c.payload)
                        .where(published_pages.c.kind == KIND))
    stated = {row.target: FactsEdit.from_payload(dict(row.payload)) for row in rows}
    return {slug: apply(m, stated[slug]) if slug in stated else m
            for slug, m in municipalities.items()}
