"""Landing, district and municipality showcase pages, and the health check."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..content import Region
from ..pagecache import shared_page


def _region(request: Request) -> Region:
    return request.app.state.content.region


@shared_page
async def landing(request: Request) -> Response:
    region = _region(request)
    quizzes = request.app.state.content.extras.get("quizzes", {})
    return request.app.state.render(request, "showcase/landing.html", {
        "region": region,
        "districts": list(region.districts.values()),
        "quizzes": list(quizzes.values()) if hasattr(quizzes, "values") else [],
    })


@shared_page
async def district(request: Request) -> Response:
    region = _region(request)
    slug = request.path_params["district"]
    if slug not in region.districts:
        raise HTTPException(404)
    return request.app.state.render(request, "showcase/district.html", {
        "region": region,
        "district": region.districts[slug],
        "municipalities": region.in_district(slug),
    })


@shared_page
async def municipality(request: Request) -> Response:
    region = _region(request)
    slug = request.path_params["municipality"]
    if slug not in region.municipalities:
        raise HTTPException(404)
    m = region.municipalities[slug]
    tourism = region.covering(slug, "tourism")
    return request.app.state.render(request, "showcase/municipality.html", {
        "region": region,
        "m": m,
        "district": region.districts[m.district],
        "tourism": tourism,
        "demo": any(region.sources[s].demo for s in m.facts.sources.values()),
        "sources": sorted({m.facts.sources[f] for f in m.facts.sources}),
    })


async def healthz(request: Request) -> Response:
    db = request.app.state.db
    ok = await db.ping()
    body: dict[str, object] = {"database": "ok" if ok else "unreachable"}
    if ok:
        row = await db.fetchone(
            "SELECT COUNT(*) AS backlog, MIN(created_at) AS oldest FROM outbox"
            " WHERE status='queued'"
        )
        dead = await db.fetchval("SELECT COUNT(*) FROM outbox WHERE status='dead'")
        oldest_age = None
        if row and row["oldest"]:
            created = datetime.fromisoformat(row["oldest"])
            oldest_age = round(time.time() - created.astimezone(UTC).timestamp(), 1)
        body.update({
            "outbox_backlog": row["backlog"] if row else 0,
            "oldest_unsent_age_seconds": oldest_age,
            "dead_letters": dead,
        })
    body["status"] = "ok" if ok else "error"
    return JSONResponse(body, status_code=200 if ok else 503)


routes = [
    Route("/", landing, name="landing"),
    Route("/region/{district}", district, name="district"),
    Route("/orte/{municipality}", municipality, name="municipality"),
    Route("/healthz", healthz, name="healthz"),
]


@shared_page
async def privacy(request: Request) -> Response:
    return request.app.state.render(request, "pages/privacy.html", {"region": _region(request)})


@shared_page
async def imprint(request: Request) -> Response:
    return request.app.state.render(request, "pages/imprint.html", {"region": _region(request)})


routes += [
    Route("/datenschutz", privacy, name="privacy"),
    Route("/impressum", imprint, name="imprint"),
]
