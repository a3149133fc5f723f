"""Finding a lead by what a clerk has at hand: part of the family's name or
e-mail address, or the lead's number as read out on the phone.

Every word typed must appear in the name or the address (in any order, any
case, on both backends: ``core.db.fold``); a text that reads as a lead number
(``L-2026-0042``, ``2026-42``, ``42``) also finds that lead. The words are bound
as parameters with ``%`` and ``_`` escaped, so a search is never a pattern.
The condition only narrows ``cases.scope``: a search never shows a lead the
viewer could not see anyway.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ..core.clock import local_day_start
from ..core.db import fold
from ..core.schema import leads
from ..leads.records import parse_lead_number

SEARCH_MAX = 100  # characters; a name and an address fit, a pasted letter does not
MAX_WORDS = 6


def acceptable(text: str) -> bool:
    """Short, printable text (PostgreSQL refuses a NUL in a text parameter)."""
    return 0 < len(text) <= SEARCH_MAX and text.isprintable()


def condition(text: str) -> Any:
    """Leads whose name or e-mail holds every word of ``text``, or whose number it is."""
    words = text.lower().split()[:MAX_WORDS]
    matches: list[Any] = [sa.and_(*(
        sa.or_(fold(leads.c.name).contains(word, autoescape=True),
               fold(leads.c.email).contains(word, autoescape=True))
        for word in words))] if words else []
    number = parse_lead_number(text)
    if number is not None:
        year, lead_id = number
        same = leads.c.id == lead_id
        if year is not None:  # the year of the number is the year it came in, in Berlin
            same = sa.and_(same, leads.c.created_at >= local_day_start(date(year, 1, 1)),
                           leads.c.created_at < local_day_start(date(year + 1, 1, 1)))
        matches.append(same)
    return sa.or_(*matches) if matches else sa.false()
