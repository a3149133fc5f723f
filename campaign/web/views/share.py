"""Share images, the public result page of a quiz outcome, and QR redirects."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ...content.model import Municipality
from ...core import i18n
from ...core.i18n import gettext as _
from ...core.tokens import TokenExpired, TokenInvalid
from ...portal import pages
from ...reach import places
from ...reach.share import Card, cache_dir, cached_card, make_result_token, read_result_token
from ..templating import path_for
from .base import content, render, services

IMAGE_CACHE = "public, max-age=86400"


def _footer() -> str:
    return _("Vom Touristen zum Neubürger · Südwestfalen")


def _card_file(card: Card, folder: Path) -> tuple[Path, os.stat_result]:
    path = cached_card(card, folder)
    return path, path.stat()


async def _png(request: Request, card: Card) -> Response:
    """Serve the cached image, drawing it in a worker thread the first time.

    The file's time records its last use (for pruning), not a change: the ETag is
    the image's cache key (a hash of what it shows), and no Last-Modified is sent,
    so every request for an image (GET or HEAD) gets the same headers."""
    folder: Path = cache_dir(services(request).settings)
    path, stat = await anyio.to_thread.run_sync(_card_file, card, folder)
    response = FileResponse(path, media_type="image/png", stat_result=stat,
                            headers={"Cache-Control": IMAGE_CACHE, "ETag": f'"{path.stem}"'})
    del response.headers["last-modified"]
    return response


async def image_default(request: Request) -> Response:
    region = content(request).region
    lang = i18n.current_language.get()
    return await _png(request, Card(kicker=region.title.get(lang), title=region.tagline.get(lang),
                                    footer=_footer(), seed="campaign"))


async def image_municipality(request: Request) -> Response:
    m = content(request).region.municipalities.get(request.path_params["slug"])
    if m is None:
        raise HTTPException(404)
    return await _png(request, Card(kicker=_("Familienleben in"), title=m.name,
                                    footer=_footer(), seed=m.slug))


def _result(request: Request) -> tuple[str, list[Municipality]]:
    """Quiz slug and municipalities of a share token; 410 when expired, 404 when bad."""
    settings = services(request).settings
    region = content(request).region
    try:
        quiz, slugs = read_result_token(settings.secret_key, request.path_params["token"],
                                        settings.share_ttl_days)
    except TokenExpired:
        raise HTTPException(410) from None
    except TokenInvalid:
        raise HTTPException(404) from None
    found = [region.municipalities[s] for s in slugs if s in region.municipalities]
    if not found:
        raise HTTPException(404)
    return quiz, found


def _names(municipalities: list[Municipality]) -> str:
    return ", ".join(m.name for m in municipalities)


async def image_result(request: Request) -> Response:
    quiz, found = _result(request)
    return await _png(request, Card(kicker=_("Unsere Familie passt nach"), title=_names(found),
                                    footer=_footer(), seed=quiz + "/" + found[0].slug))


def _quiz(request: Request, slug: str | None) -> Any:
    """The quiz to invite friends to: the shared one if it still exists, else the first."""
    quizzes = content(request).quizzes
    if slug and slug in quizzes:
        return quizzes[slug]
    return next(iter(quizzes.values()), None)


async def result_page(request: Request) -> Response:
    try:
        quiz_slug, found = _result(request)
    except HTTPException as exc:
        if exc.status_code != 410:
            raise
        return render(request, "share/expired.html", {"quiz": _quiz(request, None)},
                      status_code=410)
    token = request.path_params["token"]
    db = services(request).db  # the welcome texts families see on the towns' own pages
    found = [pages.shown(m, await pages.current(db, m)) for m in found]
    return render(request, "share/result.html", {
        "share_url": services(request).settings.base_url
        + path_for(request, "share_result", token=token),
        "region": content(request).region,
        "quiz": _quiz(request, quiz_slug),
        "municipalities": found,
        "names": _names(found),
        "og_image": request.app.url_path_for("share_image_result", token=token),
        "og_title": _("Unsere Familie passt nach %(places)s") % {"places": _names(found)},
    }, headers={"Cache-Control": "public, max-age=3600", "X-Robots-Tag": "noindex"})


def result_path(request: Request, quiz_slug: str, slugs: list[str]) -> str | None:
    """Path of the public result page for the top three places (language kept)."""
    if not slugs:
        return None
    token = make_result_token(services(request).settings.secret_key, quiz_slug, slugs)
    return path_for(request, "share_result", token=token)


async def qr_redirect(request: Request) -> Response:
    """Count one scan for the place, then send the visitor on with its parameters."""
    db = services(request).db
    code = places.normalise_code(request.path_params["code"])
    place = await places.get_place(db, code) if code else None
    if place is None:
        raise HTTPException(404, detail=_(
            "Diesen Code kennen wir nicht. Vielleicht ist das Plakat schon älter – "
            "auf der Startseite finden Sie alle Orte und das Quiz."))
    if request.method == "GET":  # a HEAD probe is not a scan
        await places.count_scan(db, place.code)
    name, params, query = places.target(place)
    return RedirectResponse(path_for(request, name, query, **params), status_code=303,
                            headers={"Cache-Control": "no-store"})


