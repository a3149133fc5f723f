"""Uploaded pictures for families: served from the database with long cache headers,
and described for templates as ``<picture>`` sources with ``srcset``."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...portal import pictures, review
from ...portal.pages import PictureRef
from ..templating import route_path
from .base import services
from .portal_auth import signed_in

# A variant never changes under its key: caches may keep it for a year.
CACHED = {"Cache-Control": "public, max-age=31536000, immutable"}
# A picture waiting for the agency's review is shown to signed-in staff only, never kept.
PENDING = {"Cache-Control": "private, no-store"}
# Pictures sit in a grid of columns about 20rem wide (static/css/site.css), one on a phone.
SIZES = "(min-width: 40rem) 20rem, 100vw"


async def serve(request: Request) -> Response:
    key, width, fmt = (request.path_params["key"], request.path_params["width"],
                       request.path_params["fmt"])
    if fmt not in pictures.MIME or len(key) != pictures.KEY_LEN or not key.isalnum():
        raise HTTPException(404)
    db = services(request).db
    if await review.picture_published(db, key):
        etag = f'"{key}-{width}-{fmt}"'
        headers = {**CACHED, "ETag": etag}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
    elif (await signed_in(request)).user is not None:
        headers = PENDING
    else:
        raise HTTPException(404)
    data = await pictures.variant(db, key, width, fmt)
    if data is None:
        raise HTTPException(404)
    return Response(data, media_type=pictures.MIME[fmt], headers=headers)


async def figures(request: Request, refs: tuple[PictureRef, ...]) -> list[dict[str, Any]]:
    """What ``showcase/_pictures.html`` needs per picture, in the given order; pictures
    that are no longer stored are left out."""
    found = await pictures.described(services(request).db, [r.key for r in refs])
    out = []
    for ref in refs:
        pic = found.get(ref.key)
        if pic is None:
            continue

        def srcset(fmt: str, key: str = ref.key, pic: pictures.Picture = pic) -> str:
            return ", ".join(f"{route_path(request, 'picture', key=key, width=w, fmt=fmt)} {w}w"
                             for w in pic.widths(fmt))

        jpeg = pic.widths("jpeg")
        out.append({
            "alt": ref.alt, "credit": ref.credit, "width": pic.width, "height": pic.height,
            "sizes": SIZES, "srcset": srcset("jpeg"),
            "src": route_path(request, "picture", key=ref.key, width=jpeg[0], fmt="jpeg"),
            "sources": [{"type": mime, "srcset": srcset(fmt)}
                        for fmt, mime in pictures.FORMATS if fmt != "jpeg"],
        })
    return out
