"""Reading TOML and checking values, with errors that name file, entry and field.

An editor fixes a content file from the message alone, without a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from .model import Text

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class ContentError(ValueError):
    """A content file is wrong; the message names file, entry and field."""

    def __init__(self, file: str, entry: str, fld: str, message: str) -> None:
        self.file, self.entry, self.field = file, entry, fld
        where = f"{file}: {entry}" if entry else file
        if fld:
            where += f": field '{fld}'"
        super().__init__(f"{where}: {message}")


class Checker:
    """Checks values of one entry of one file; ``fail`` makes the error to raise."""

    def __init__(self, file: str, entry: str = "") -> None:
        self.file, self.entry = file, entry

    def fail(self, fld: str, message: str) -> ContentError:
        return ContentError(self.file, self.entry, fld, message)

    def get(self, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
            prefix: str = "") -> Any:
        name = prefix + key
        if key not in data:
            raise self.fail(name, "missing")
        value = data[key]
        if isinstance(value, bool) and kind in (int, float):
            raise self.fail(name, f"expected {kind.__name__}, got true/false")
        if not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(name, f"expected {want}, got {type(value).__name__}")
        return value

    def slug(self, data: Mapping[str, Any], key: str = "slug") -> str:
        value: str = self.get(data, key, str)
        if not SLUG_RE.match(value):
            raise self.fail(key, f"{value!r} is not a slug (lowercase letters, digits, hyphens)")
        return value

    def email(self, data: Mapping[str, Any], key: str, prefix: str = "") -> str:
        value: str = self.get(data, key, str, prefix)
        if not EMAIL_RE.match(value):
            raise self.fail(prefix + key, f"{value!r} is not a valid e-mail address")
        return value

    def text(self, data: Mapping[str, Any], key: str, required: bool = True) -> Text:
        if key not in data and not required:
            return Text(MappingProxyType({}))
        value = self.get(data, key, (str, dict))
        if isinstance(value, str):
            value = {DEFAULT_LANGUAGE: value}
        out: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.fail(f"{key}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{key}.{lang}", "expected a non-empty string")
            out[lang] = text.strip()
        if DEFAULT_LANGUAGE not in out:
            raise self.fail(f"{key}.{DEFAULT_LANGUAGE}", "missing (German is required)")
        return Text(MappingProxyType(out))

    def coordinate(self, data: Mapping[str, Any], key: str, low: float, high: float) -> float:
        """A degree value (WGS84) inside the region's bounds: a typo or swapped
        lat/lon would put a town outside the map."""
        value = self.get(data, key, (int, float))
        if isinstance(value, bool) or not low <= value <= high:
            raise self.fail(key, f"{value!r} is outside the region (expected {low} to {high})")
        return float(value)

    def choice_list(self, value: Any, fld: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(fld, "expected a list of strings")
        for v in value:
            if v not in allowed:
                raise self.fail(fld, f"unknown value {v!r} (allowed: {', '.join(allowed)})")
        if len(set(value)) != len(value):
            raise self.fail(fld, "contains a value twice")
        return tuple(value)

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], prefix: str = "") -> None:
        extra = sorted(set(data) - allowed)
        if extra:
            raise self.fail(prefix + extra[0],
                            f"unknown field (known: {', '.join(sorted(allowed))})")


def read_toml(path: Path, rel: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ContentError(rel, "", "", "file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(rel, "", "", f"not valid TOML: {exc}") from None
