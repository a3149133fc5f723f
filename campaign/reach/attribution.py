"""Campaign attribution: which post, poster or QR place brought a visitor.

Only these parameters are kept (from the entry URL through the quiz to the
lead). They describe the campaign, never the visitor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ATTRIBUTION_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "place")
_ALLOWED = re.compile(r"[^A-Za-z0-9._\-]+")
MAX_LEN = 64


def clean_attribution(params: Mapping[str, str]) -> dict[str, str]:
    """Keep the known parameters, reduced to a safe alphabet and length; drop empties."""
    out: dict[str, str] = {}
    for key in ATTRIBUTION_PARAMS:
        raw = params.get(key)
        if not isinstance(raw, str):
            continue
        value = _ALLOWED.sub("-", raw.strip())[:MAX_LEN].strip("-").lower()
        if value:
            out[key] = value
    return out
