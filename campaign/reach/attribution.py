"""Campaign attribution: which post, poster or QR place brought a visitor.

Only these parameters are kept (from the entry URL through the quiz to the
lead). They describe the campaign, never the visitor. Anyone can make up
values, so they are bounded: at most 40 characters of ``a-z 0-9 . _ -``
(after lower-casing); any other value counts as ``other``, and the figures
fold rare channels into ``other`` too (``fold``), so neither the tables nor
the pages that show them grow with made-up values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

ATTRIBUTION_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "place")
UTM_PARAMS = ATTRIBUTION_PARAMS[:3]
MAX_LEN = 40
VALUE = re.compile(rf"[a-z0-9._\-]{{1,{MAX_LEN}}}")
OTHER = "other"  # every value outside the bounds, and the rare channels in figures
TOP_CHANNELS = 20  # channels shown one by one in figures; the rest are summed as OTHER
_UNTIDY = re.compile(r"[^a-z0-9._\-]+")

Row = TypeVar("Row")


def clean_value(raw: str) -> str:
    """A value as stored: lower-cased, or ``other`` outside the bounds ("" when empty)."""
    value = raw.strip().lower()
    if not value:
        return ""
    return value if VALUE.fullmatch(value) else OTHER


def clean_attribution(params: Mapping[str, str]) -> dict[str, str]:
    """Keep the known parameters within their bounds; drop empties. A place code
    outside the bounds is dropped (it names no place), other values become ``other``."""
    out: dict[str, str] = {}
    for key in ATTRIBUTION_PARAMS:
        raw = params.get(key)
        if not isinstance(raw, str):
            continue
        value = clean_value(raw)
        if value and not (key == "place" and value == OTHER):  # no code is "other"
            out[key] = value
    return out


def campaign_slug(name: str) -> str:
    """A campaign name typed by staff ("Sommer 2026") as a value ("sommer-2026"), or ""."""
    return _UNTIDY.sub("-", name.strip().lower())[:MAX_LEN].strip("-")


def fold(ranked: Iterable[Row], is_other: Callable[[Row], bool], top: int = TOP_CHANNELS
         ) -> tuple[list[Row], list[Row]]:
    """(the first ``top`` rows, the rest) of rows ranked heaviest first; the rest is
    shown summed as one ``other`` row. Rows that are ``other`` already go to the rest."""
    shown: list[Row] = []
    rest: list[Row] = []
    for row in ranked:
        (shown if len(shown) < top and not is_other(row) else rest).append(row)
    return shown, rest
