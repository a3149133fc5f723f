"""The drawn default pictures of municipalities and districts (``content.illustration``).

Served as SVG with a day's public caching: they change only with a deploy of
new content, and every page of a town links the same address.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content.illustration import district_scene, draw, scene_of
from ...core.i18n import gettext as _
from .base import content

CACHE = "public, max-age=86400"


def _svg(svg: str) -> Response:
    return Response(svg.encode(), media_type="image/svg+xml",
                    headers={"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"})


async def municipality(request: Request) -> Response:
    m = content(request).region.municipalities.get(request.path_params["slug"])
    if m is None:
        raise HTTPException(404)
    return _svg(draw(scene_of(m), _("Gezeichnete Landschaft von %(name)s") % {"name": m.name}))


async def district(request: Request) -> Response:
    region = content(request).region
    slug = request.path_params["slug"]
    if slug not in region.districts:
        raise HTTPException(404)
    name = region.districts[slug].name
    return _svg(draw(district_scene(slug, region.in_district(slug)),
                     _("Gezeichnete Landschaft von %(name)s") % {"name": name}))
