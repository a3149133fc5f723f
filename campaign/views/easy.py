"""Leichte Sprache: the key pages once more in easy language (BITV 2.0).

German public sites offer the central information in Leichte Sprache; here
that is what the campaign is, what happens with the interest form and what
happens with the family's data. The Dutch and English pages are the same
texts in easy-to-read Dutch and English (through the normal catalogs).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _page(template: str):  # type: ignore[no-untyped-def]
    async def view(request: Request) -> Response:
        settings = request.app.state.settings
        return request.app.state.render(request, f"easy/{template}.html", {
            "region": request.app.state.content.region,
            "retention_months": settings.lead_retention_months,
            "pending_days": settings.pending_retention_days,
            "easy_page": template,
        })

    view.__name__ = f"easy_{template}"
    return view


routes = [
    Route("/leichte-sprache", _page("landing"), name="easy_landing"),
    Route("/leichte-sprache/interesse", _page("interest"), name="easy_interest"),
    Route("/leichte-sprache/datenschutz", _page("privacy"), name="easy_privacy"),
]
