"""The reply form of the lead page (``portal.replies``), apart from the views of
``portal_replies`` so that the lead page can include it without an import cycle."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.requests import Request

from ...portal import replies
from ...portal.cases import Case, Viewer
from ...portal.replies import Draft, Template
from .base import services


@dataclass(frozen=True)
class Composer:
    """The reply form of the lead page: the organisation's templates, the chosen one
    filled in for this family, and what went wrong when sending."""

    templates: list[Template]
    chosen: Template | None = None
    draft: Draft = Draft()
    errors: dict[str, str] = field(default_factory=dict)


def template_id(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,8}", text) else None


async def composer(request: Request, viewer: Viewer, case: Case) -> Composer:
    """The lead page's reply form; ``?vorlage=ID`` fills in that template."""
    svc = services(request)
    own = [t for t in await replies.listing(svc.db, viewer.org) if t.org == viewer.org]
    wanted = template_id(request.query_params.get("vorlage"))
    chosen = next((t for t in own if t.id == wanted), None)
    if chosen is None or viewer.user is None:
        return Composer(own)
    values = await replies.values_for(svc, viewer.user, case.name)
    return Composer(own, chosen, Draft(chosen.title, chosen.category,
                                       replies.fill(chosen.subject, values),
                                       replies.fill(chosen.body, values)))


