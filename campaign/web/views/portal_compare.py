"""The anonymised comparison (/partner/vergleich, ``portal.comparison``): a
municipality sees its own figures beside the region's spread, nobody else's by name;
the agency sees every municipality by name."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...portal import comparison
from ...portal.cases import Viewer
from .base import content, services
from .portal_auth import portal, render


@portal()
async def compare_page(request: Request, viewer: Viewer) -> Response:
    svc = services(request)
    region = content(request).region
    result = comparison.compare(await comparison.gather(svc.db, region, svc.clock.now()))
    own = result.figures.get(viewer.org)
    named = sorted(result.figures.items(), key=lambda item: region.organisations[item[0]].name) \
        if viewer.admin else []
    return render(request, "partner/compare.html", {
        "nav": "compare", "own": own, "region_spread": result.region, "named": named,
        "metrics": comparison.METRICS, "min_leads": comparison.MIN_LEADS,
        "min_peers": comparison.MIN_PEERS}, viewer=viewer)
