"""Landing, district and municipality pages, the legal pages and Leichte Sprache."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content.model import Text
from ...portal import facts, pages
from .base import content, render, services
from .offers import showcase_context
from .pictures import figures


async def landing(request: Request) -> Response:
    c = content(request)
    return render(request, "showcase/landing.html", {
        "region": c.region, "districts": list(c.region.districts.values()),
        "quizzes": list(c.quizzes.values()), "rmap": c.maps[""],
        **await showcase_context(request),
    })


async def district(request: Request) -> Response:
    c = content(request)
    region = c.region
    slug = request.path_params["district"]
    if slug not in region.districts:
        raise HTTPException(404)
    # The towns' key facts as they stated them, once the agency approved (as on their pages).
    towns = await facts.merged(services(request).db, region.municipalities)
    return render(request, "showcase/district.html", {
        "region": region, "district": region.districts[slug],
        "municipalities": [towns[m.slug] for m in region.in_district(slug)],
        "rmap": c.maps[slug],
    })


async def municipality(request: Request) -> Response:
    region = content(request).region
    slug = request.path_params["municipality"]
    if slug not in region.municipalities:
        raise HTTPException(404)
    # The agency-approved edit, read on every request so that every instance agrees.
    edit = await pages.current(services(request).db, region.municipalities[slug])
    stated = await facts.current(services(request).db, slug)
    m = facts.apply(pages.shown(region.municipalities[slug], edit), stated)
    # Where each fact comes from: the content's named sources (not the campaign's own
    # estimates), and for the facts the town stated, the source it gave.
    fact_sources = {k: region.sources[v].label for k, v in m.facts.sources.items()
                    if v in region.sources and not region.sources[v].demo}
    stated_sources = {k: Text({"de": v}) for k, v in stated.sources.items()}
    return render(request, "showcase/municipality.html", {
        "region": region, "m": m, "district": region.districts[m.district],
        "pictures": await figures(request, edit.pictures),
        "tourism": region.covering(slug, "tourism"),
        "sources": [region.sources[s].label for s in sorted(set(m.facts.sources.values()))
                    if s in region.sources]
        + [Text({"de": s}) for s in sorted(set(stated.sources.values()))],
        "fact_sources": {**fact_sources, **stated_sources}, "stated": stated_sources,
        **await showcase_context(request, slug),
    })


async def privacy(request: Request) -> Response:
    return render(request, "pages/privacy.html", {"region": content(request).region})


async def imprint(request: Request) -> Response:
    return render(request, "pages/imprint.html", {"region": content(request).region})


def _easy(request: Request, page: str) -> Response:
    """Leichte Sprache: what the campaign is, what happens with the interest form
    and with the family's data, once more in easy language (BITV 2.0)."""
    settings = services(request).settings
    return render(request, f"easy/{page}.html", {
        "region": content(request).region,
        "retention_months": settings.lead_retention_months,
        "pending_days": settings.pending_retention_days,
        "easy_page": page,
    })


async def easy_landing(request: Request) -> Response:
    return _easy(request, "landing")


async def easy_interest(request: Request) -> Response:
    return _easy(request, "interest")


async def easy_privacy(request: Request) -> Response:
    return _easy(request, "privacy")
