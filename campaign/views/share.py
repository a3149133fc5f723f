"""Share images, the public result page, QR redirects and the print places portal."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import i18n, places
from ..i18n import gettext as _
from ..share import (
    Card,
    cache_dir,
    cached_card,
    make_result_token,
    qr_code,
    read_result_token,
    top_slugs,
)
from ..tokens import TokenExpired, TokenInvalid

IMAGE_CACHE = "public, max-age=86400"


def _footer() -> str:
    return _("Vom Touristen zum Neubürger · Südwestfalen")


async def _png(request: Request, card: Card) -> Response:
    """Serve the cached image, drawing it in a worker thread the first time."""
    folder: Path = cache_dir(request.app.state.settings)
    path = await anyio.to_thread.run_sync(cached_card, card, folder)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


async def image_default(request: Request) -> Response:
    region = request.app.state.content.region
    lang = i18n.current_language.get()
    return await _png(request, Card(kicker=region.title.get(lang),
                                    title=region.tagline.get(lang), footer=_footer(),
                                    seed="campaign"))


async def image_municipality(request: Request) -> Response:
    region = request.app.state.content.region
    m = region.municipalities.get(request.path_params["slug"])
    if m is None:
        raise HTTPException(404)
    return await _png(request, Card(kicker=_("Familienleben in"), title=m.name,
                                    footer=_footer(), seed=m.slug))


def _result(request: Request) -> tuple[str, list[Any]]:
    """Quiz slug and municipalities of a share token; 410 when expired, 404 when bad."""
    settings = request.app.state.settings
    region = request.app.state.content.region
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


def _names(municipalities: list[Any]) -> str:
    return ", ".join(m.name for m in municipalities)


async def image_result(request: Request) -> Response:
    quiz, found = _result(request)
    return await _png(request, Card(kicker=_("Unsere Familie passt nach"), title=_names(found),
                                    footer=_footer(), seed=quiz + "/" + found[0].slug))


async def result_page(request: Request) -> Response:
    try:
        quiz_slug, found = _result(request)
    except HTTPException as exc:
        if exc.status_code != 410:
            raise
        return request.app.state.render(request, "share/expired.html", {
            "quiz": _quiz(request, None)}, status_code=410)
    quiz = _quiz(request, quiz_slug)
    token = request.path_params["token"]
    path = i18n.with_language(str(request.app.url_path_for("share_result", token=token)),
                              i18n.current_language.get())
    return request.app.state.render(request, "share/result.html", {
        "share_url": request.app.state.settings.base_url + path,
        "region": request.app.state.content.region,
        "quiz": quiz,
        "municipalities": found,
        "names": _names(found),
        "og_image": request.app.url_path_for("share_image_result", token=token),
        "og_title": _("Unsere Familie passt nach %(places)s") % {"places": _names(found)},
    }, headers={"Cache-Control": "public, max-age=3600", "X-Robots-Tag": "noindex"})


def _quiz(request: Request, slug: str | None) -> Any:
    """The quiz to invite friends to: the shared one if it still exists, else the first."""
    quizzes = request.app.state.content.extras.get("quizzes") or {}
    if slug and slug in quizzes:
        return quizzes[slug]
    return next(iter(quizzes.values()), None) if hasattr(quizzes, "values") else None


def result_path(request: Request, quiz: Any, ranking: Any) -> str | None:
    """Path of the public result page for a ranking's top three (language kept)."""
    slug = quiz if isinstance(quiz, str) else getattr(quiz, "slug", None)
    slugs = top_slugs(ranking)
    if not slug or not slugs:
        return None
    token = make_result_token(request.app.state.settings.secret_key, slug, slugs)
    path = str(request.app.url_path_for("share_result", token=token))
    return i18n.with_language(path, i18n.current_language.get())


async def qr_redirect(request: Request) -> Response:
    """Count one scan for the place, then send the visitor on with its parameters."""
    db = request.app.state.db
    code = places.normalise_code(request.path_params["code"])
    place = await places.get_place(db, code) if code else None
    if place is None:
        raise HTTPException(404, detail=_(
            "Diesen Code kennen wir nicht. Vielleicht ist das Plakat schon älter – "
            "auf der Startseite findet ihr alle Orte und das Quiz."))
    if request.method == "GET":  # a HEAD probe is not a scan
        await places.count_scan(db, place.code)
    url = places.target_url(place, request.app.url_path_for)
    return RedirectResponse(i18n.with_language(url, i18n.current_language.get()),
                            status_code=303, headers={"Cache-Control": "no-store"})


routes = [
    Route("/teilen/bild/kampagne.png", image_default, name="share_image_default"),
    Route("/teilen/bild/orte/{slug}.png", image_municipality, name="share_image_municipality"),
    Route("/teilen/bild/ergebnis/{token}.png", image_result, name="share_image_result"),
    Route("/teilen/{token}", result_page, name="share_result"),
    Route("/q/{code}", qr_redirect, name="qr_redirect"),
]


# -- portal: print places, QR codes, A6 cards, figures ---------------------------

try:  # the partner portal provides login and rendering; without it no portal pages
    from .partner_account import portal, see_other
    from .partner_account import render as portal_render
except ModuleNotFoundError:  # pragma: no cover - only while the portal is missing
    portal = None  # type: ignore[assignment]


def _targets(request: Request) -> list[tuple[str, str]]:
    """(value, label) of every page a place can lead to."""
    region = request.app.state.content.region
    quizzes = request.app.state.content.extras.get("quizzes") or {}
    lang = i18n.current_language.get()
    out = [("landing", _("Startseite der Kampagne"))]
    out += [(f"quiz:{q.slug}", _("Quiz: %(title)s") % {"title": q.title.get(lang)})
            for q in quizzes.values()]
    out.append(("lead_form", _("Interessenformular")))
    out += [(f"municipality:{m.slug}", _("Ort: %(name)s") % {"name": m.name})
            for m in sorted(region.municipalities.values(), key=lambda m: m.name)]
    return out


async def _places_page(request: Request, viewer: Any, form: dict[str, str],
                       errors: dict[str, str], status_code: int = 200) -> Response:
    db = request.app.state.db
    org = None if viewer.admin else viewer.org
    rows = await places.list_places(db, org)
    figures = await places.place_figures(db, [p.code for p in rows])
    base = request.app.state.settings.base_url
    return portal_render(request, "share/places.html", {
        "nav": "places", "places": rows, "figures": figures,
        "channels": await places.channel_figures(db, org),
        "targets": _targets(request), "form": form, "errors": errors,
        "place_url": lambda code: places.place_url(base, code),
        "created": request.query_params.get("neu", ""),
    }, status_code=status_code, viewer=viewer)


async def _owned_place(request: Request, viewer: Any) -> places.Place:
    place = await places.get_place(request.app.state.db,
                                   places.normalise_code(request.path_params["code"]))
    if place is None or not (viewer.admin or place.org == viewer.org):
        raise HTTPException(404)
    return place


if portal is not None:

    @portal()
    async def places_list(request: Request, viewer: Any) -> Response:
        form = {"medium": "qr", "campaign": f"sommer-{date.today().year}"}
        return await _places_page(request, viewer, form, {})

    @portal()
    async def places_create(request: Request, viewer: Any) -> Response:
        raw = request.state.form
        form = {k: str(raw.get(k, "")).strip() for k in ("label", "target", "medium",
                                                         "campaign", "pitch")}
        kind, _sep, slug = form["target"].partition(":")
        region = request.app.state.content.region
        quizzes = request.app.state.content.extras.get("quizzes") or {}
        errors = places.validate_place(form["label"], kind, slug, form["medium"],
                                       form["campaign"], form["pitch"], quizzes,
                                       region.municipalities)
        if errors:
            return await _places_page(request, viewer, form, errors, status_code=400)
        place = await places.create_place(
            request.app.state.db, label=form["label"], org=viewer.org, target_kind=kind,
            target_slug=slug, medium=form["medium"], campaign=form["campaign"],
            pitch=form["pitch"], created_by=viewer.user.email if viewer.user else None)
        return see_other(request, "partner_places", f"neu={place.code}")

    @portal()
    async def place_qr(request: Request, viewer: Any) -> Response:
        place = await _owned_place(request, viewer)
        kind = request.path_params["kind"]
        if kind not in ("svg", "png"):
            raise HTTPException(404)
        url = places.place_url(request.app.state.settings.base_url, place.code)
        body = await anyio.to_thread.run_sync(qr_code, url, kind)
        media = "image/svg+xml" if kind == "svg" else "image/png"
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="qr-{place.code}.{kind}"'})

    @portal()
    async def place_card(request: Request, viewer: Any) -> Response:
        place = await _owned_place(request, viewer)
        return portal_render(request, "share/card.html", {
            "nav": "places", "place": place,
            "url": places.place_url(request.app.state.settings.base_url, place.code),
        }, viewer=viewer)

    routes += [
        Route("/partner/orte-qr", places_list, name="partner_places"),
        Route("/partner/orte-qr", places_create, name="partner_place_create",
              methods=["POST"]),
        Route("/partner/orte-qr/{code}/qr.{kind}", place_qr, name="partner_place_qr"),
        Route("/partner/orte-qr/{code}/karte", place_card, name="partner_place_card"),
    ]
