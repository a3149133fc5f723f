"""Consent texts (``consent.toml``, with a version) and the hash that proves them.

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

from ..core.i18n import LANGUAGES
from ..core.vocab import CONSENT_GROUPS, OFFER_PURPOSES
from .checks import Checker, read_toml
from .model import Text

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
    # Consents of offer applications (trial stay, visit days, job interest).
    purposes: Mapping[str, ConsentGroup] = field(
        default_factory=lambda: MappingProxyType({}))

    def __len__(self) -> int:
        return len(self.groups)

    def entry(self, code: str) -> ConsentGroup | None:
        """A group of the lead form or a purpose of an offer form."""
        return self.groups.get(code) or self.purposes.get(code)

    def text(self, group: str, lang: str) -> str:
        entry = self.entry(group)
        if entry is None:
            raise KeyError(group)
        return entry.text.get(lang)

    def hash_of(self, groups: Iterable[str], lang: str) -> str:
        """SHA-256 of the texts agreed to, in canonical group order, in ``lang``."""
        return texts_hash([self.text(g, lang) for g in ordered(groups)])

    def group_hash(self, group: str, lang: str) -> str:
        return texts_hash([self.text(group, lang)])


def ordered(groups: Iterable[str]) -> list[str]:
    """Known groups (then purposes) in their canonical order, each once."""
    chosen = set(groups)
    return [g for g in (*CONSENT_GROUPS, *OFFER_PURPOSES) if g in chosen]


def texts_hash(texts: Sequence[str]) -> str:
    # Texts are joined by a blank line; the hash is of the UTF-8 bytes.
    return hashlib.sha256("\n\n".join(texts).encode("utf-8")).hexdigest()


def load_consent(content_dir: Path) -> ConsentTexts:
    data = read_toml(Path(content_dir) / FILE, FILE)
    top = Checker(FILE)
    version = top.get(data, "version", str).strip()
    if not version:
        raise top.fail("version", "must not be empty")
    groups = _entries(top, data, "groups", CONSENT_GROUPS)
    purposes = _entries(top, data, "purposes", OFFER_PURPOSES)
    return ConsentTexts(version, MappingProxyType(groups), MappingProxyType(purposes))


def _entries(top: Checker, data: Mapping[str, object], key: str, codes: Sequence[str]
             ) -> dict[str, ConsentGroup]:
    """The texts of ``[key.<code>]``: every code present, in every language."""
    raw = top.get(data, key, dict)
    out: dict[str, ConsentGroup] = {}
    for code in codes:
        if code not in raw:
            raise top.fail(f"{key}.{code}", "missing (every consent group needs a text)")
        c = Checker(FILE, f"{key}.{code}")
        item = raw[code]
        if not isinstance(item, dict):
            raise c.fail("", "expected a table with title and text")
        text = c.text(item, "text")
        for lang in LANGUAGES:
            if not text.has(lang):
                raise c.fail(f"text.{lang}", "missing (consent must be shown in every language)")
        out[code] = ConsentGroup(code, c.text(item, "title"), text)
    unknown = sorted(set(raw) - set(codes))
    if unknown:
        raise top.fail(f"{key}.{unknown[0]}", f"unknown group (known: {', '.join(codes)})")
    return out
