"""Consent texts (content with a version) and the pure rules around them.

The lead keeps the version and a SHA-256 of the exact texts the family saw
and ticked, in the language shown, so the consent can be proven later even
after the personal data is gone: recompute the hash from the versioned
content file and compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .content import LANGUAGES, Region, Text, _Checker, read_toml, register_loader
from .vocab import CONSENT_GROUPS, SKILLED_WORK_INTEREST

FILE = "consent.toml"


@dataclass(frozen=True)
class ConsentGroup:
    code: str
    title: Text
    text: Text


@dataclass(frozen=True)
class ConsentTexts:
    version: str
    groups: Mapping[str, ConsentGroup]
    _hashes: dict[tuple[tuple[str, ...], str], str] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.groups)

    def text(self, group: str, lang: str) -> str:
        return self.groups[group].text.get(lang)

    def hash_of(self, groups: Iterable[str], lang: str) -> str:
        """SHA-256 of the texts agreed to, in canonical group order, in ``lang``."""
        return self._hash(tuple(ordered(groups)), lang)

    def group_hash(self, group: str, lang: str) -> str:
        return self._hash((group,), lang)

    def _hash(self, groups: tuple[str, ...], lang: str) -> str:
        """The texts never change while the app runs: each hash is made once."""
        key = (groups, lang)
        if key not in self._hashes:
            self._hashes[key] = texts_hash([self.text(g, lang) for g in groups])
        return self._hashes[key]


def ordered(groups: Iterable[str]) -> list[str]:
    """Known groups in the canonical order of CONSENT_GROUPS, each once."""
    chosen = set(groups)
    return [g for g in CONSENT_GROUPS if g in chosen]


def texts_hash(texts: Sequence[str]) -> str:
    # Texts are joined by a blank line; the hash is of the UTF-8 bytes.
    return hashlib.sha256("\n\n".join(texts).encode("utf-8")).hexdigest()


@register_loader("consent")
def load_consent(content_dir: Path, region: Region) -> ConsentTexts:
    data = read_toml(Path(content_dir) / FILE, FILE)
    top = _Checker(FILE)
    version = top.get(data, "version", str).strip()
    if not version:
        raise top.fail("version", "must not be empty")
    raw_groups = top.get(data, "groups", dict)
    groups: dict[str, ConsentGroup] = {}
    for code in CONSENT_GROUPS:
        if code not in raw_groups:
            raise top.fail(f"groups.{code}", "missing (every consent group needs a text)")
        c = _Checker(FILE, f"groups.{code}")
        item = raw_groups[code]
        if not isinstance(item, dict):
            raise c.fail("", "expected a table with title and text")
        text = c.text(item, "text")
        for lang in LANGUAGES:
            if not text.has(lang):
                raise c.fail(f"text.{lang}", "missing (consent must be shown in every language)")
        groups[code] = ConsentGroup(code, c.text(item, "title"), text)
    unknown = sorted(set(raw_groups) - set(CONSENT_GROUPS))
    if unknown:
        known = ", ".join(CONSENT_GROUPS)
        raise top.fail(f"groups.{unknown[0]}", f"unknown group (known: {known})")
    return ConsentTexts(version, MappingProxyType(groups))


def receiving_groups(municipalities: Sequence[str], interests: Sequence[str]) -> list[str]:
    """Groups that could receive a lead with these choices (mirrors the routing rules)."""
    groups = ["municipalities", "tourism"] if municipalities else ["agency"]
    if SKILLED_WORK_INTEREST in interests:
        groups.append("skilled_workers")
    return ordered(groups)


def consent_problem(municipalities: Sequence[str], interests: Sequence[str],
                    consents: Sequence[str]) -> str | None:
    """Which rule the consent choice breaks, as a code; None when fine.

    ``municipalities``: towns chosen but not the consent to tell them;
    ``nobody``: with these consents no organisation could ever contact the family.
    """
    if municipalities and "municipalities" not in consents:
        return "municipalities"
    if not set(consents) & set(receiving_groups(municipalities, interests)):
        return "nobody"
    return None
