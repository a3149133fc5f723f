"""Per-language coverage of content texts, printed by ``check-content``.

A missing Dutch or English text is not an error (the page falls back to
German), but editors need to see where translations are missing. The walk
is generic over the loaded content, so new kinds of content are counted
without changes here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from .model import Text, TextList

TRANSLATED = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)
SHOW_MISSING = 10  # named per language; the rest is counted


def content_texts(value: Any, path: str = "") -> Iterator[tuple[str, Text | TextList]]:
    """(dotted path, text) of every multilingual text reachable from ``value``."""
    seen: set[int] = set()
    yield from _walk(value, path, seen)


def _walk(value: Any, path: str, seen: set[int]) -> Iterator[tuple[str, Text | TextList]]:
    if isinstance(value, (Text, TextList)):
        yield path, value
        return
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return
    if id(value) in seen:
        return
    seen.add(id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), _join(path, f.name), seen)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, _join(path, str(key)), seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", seen)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _source_texts(content: Any) -> list[tuple[str, Text | TextList]]:
    # Only texts that exist in German can lack a translation.
    return [(p, t) for p, t in content_texts(content) if t.has(DEFAULT_LANGUAGE)]


def missing(content: Any) -> dict[str, list[str]]:
    """Paths of German texts without a translation, per translated language."""
    out: dict[str, list[str]] = {lang: [] for lang in TRANSLATED}
    for path, text in _source_texts(content):
        for lang in TRANSLATED:
            if not text.has(lang):
                out[lang].append(path)
    return out


def figures(content: Any) -> dict[str, tuple[int, int]]:
    """(translated, total) content texts per translated language."""
    total = len(_source_texts(content))
    return {lang: (total - len(paths), total) for lang, paths in missing(content).items()}


def report(content: Any) -> str:
    """Lines for check-content: figures per language, then the first gaps by name."""
    gaps = missing(content)
    lines = ["translations of content texts (a missing one falls back to German):"]
    for lang, (done, total) in figures(content).items():
        share = 100.0 * done / total if total else 100.0
        lines.append(f"  {lang}: {done}/{total} ({share:.1f} %)")
    for lang, paths in gaps.items():
        for path in paths[:SHOW_MISSING]:
            lines.append(f"  missing {lang}: {path}")
        if len(paths) > SHOW_MISSING:
            lines.append(f"  missing {lang}: … and {len(paths) - SHOW_MISSING} more")
    return "\n".join(lines)
