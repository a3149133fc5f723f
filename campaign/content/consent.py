"""Consent texts (``consent.toml``, with a version) and the hash that proves them.

The lead keeps the version and a SHA-256 of the exact texts the family saw
and ticked, in the language shown, so the consent can be proven later even
after the personal data is gone: recompute the hash from the versioned
content file and compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ..core.i18n import LANGUAGES
from ..core.vocab import CONSENT_GROUPS
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

    def __len__(self) -> int:
        return len(self.groups)

    def text(self, group: str, lang: str) -> str:
        return self.groups[group].text.get(lang)

    def hash_of(self, groups: Iterable[str], lang: str) -> str:
        """SHA-256 of the texts agreed to, in canonical group order, in ``lang``."""
        return texts_hash([self.text(g, lang) for g in ordered(groups)])

    def group_hash(self, group: str, lang: str) -> str:
        return texts_hash([self.text(group, lang)])


def ordered(groups: Iterable[str]) -> list[str]:
    """Known groups in the canonical order of CONSENT_GROUPS, each once."""
    chosen = set(groups)
    return [g for g in CONSENT_GROUPS if g in chosen]


def texts_hash(texts: Sequence[str]) -> str:
    # Texts are joined by a blank line; the hash is of the UTF-8 bytes.
    return hashlib.sha256("\n\n".join(texts).encode("utf-8")).hexdigest()


def load_consent(content_dir: Path) -> ConsentTexts:
    data = read_toml(Path(content_dir) / FILE, FILE)
    top = Checker(FILE)
    version = top.get(data, "version", str).strip()
    if not version:
        raise top.fail("version", "must not be empty")
    raw_groups = top.get(data, "groups", dict)
    groups: dict[str, ConsentGroup] = {}
    for code in CONSENT_GROUPS:
        if code not in raw_groups:
            raise top.fail(f"groups.{code}", "missing (every consent group needs a text)")
        c = Checker(FILE, f"groups.{code}")
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
