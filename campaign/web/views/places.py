"""Portal: print places with their QR codes, A6 cards and figures per place and channel."""

from __future__ import annotations

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.clock import local_today
from ...core.i18n import current_language
from ...core.i18n import gettext as _
from ...portal.cases import Viewer
from ...reach import places
from ...reach.channels import channel_figures, folded
from ...reach.share import qr_code
from .base import content, see_other, services
from .portal_auth import portal, render

FIELDS = ("label", "target", "medium", "campaign", "pitch")


def _targets(request: Request) -> list[tuple[str, str]]:
    """(value, label) of every page a place can lead to."""
    c = content(request)
    lang = current_language.get()
    out = [("landing", _("Startseite der Kampagne"))]
    out += [(f"quiz:{q.slug}", _("Quiz: %(title)s") % {"title": q.title.get(lang)})
            for q in c.quizzes.values()]
    out.append(("lead_form", _("Interessenformular")))
    out += [(f"municipality:{m.slug}", _("Ort: %(name)s") % {"name": m.name})
            for m in sorted(c.region.municipalities.values(), key=lambda m: m.name)]
    return out


async def _page(request: Request, viewer: Viewer, form: dict[str, str],
                errors: dict[str, str], status_code: int = 200) -> Response:
    svc = services(request)
    org = None if viewer.admin else viewer.org
    rows = await places.list_places(svc.db, org)
    base = svc.settings.base_url
    return render(request, "share/places.html", {
        "nav": "places", "places": rows,
        "figures": await places.place_figures(svc.db, [p.code for p in rows]),
        "channels": folded(await channel_figures(svc.db, org)),
        "targets": _targets(request), "form": form, "errors": errors,
        "place_url": lambda code: places.place_url(base, code),
        "created": request.query_params.get("neu", ""),
    }, status_code=status_code, viewer=viewer)


async def _owned(request: Request, viewer: Viewer) -> places.Place:
    place = await places.get_place(services(request).db,
                                   places.normalise_code(request.path_params["code"]))
    if place is None or not (viewer.admin or place.org == viewer.org):
        raise HTTPException(404)
    return place


@portal()
async def places_list(request: Request, viewer: Viewer) -> Response:
    year = local_today(services(request).clock.now()).year
    return await _page(request, viewer, {"medium": "qr", "campaign": f"sommer-{year}"}, {})


@portal()
async def place_create(request: Request, viewer: Viewer) -> Response:
    raw = request.state.form
    form = {k: str(raw.get(k, "")).strip() for k in FIELDS}
    kind, _sep, slug = form["target"].partition(":")
    c = content(request)
    errors = places.validate_place(form["label"], kind, slug, form["medium"], form["campaign"],
                                   form["pitch"], c.quizzes, c.region.municipalities)
    if errors:
        return await _page(request, viewer, form, errors, status_code=400)
    place = await places.create_place(
        services(request).db, label=form["label"], org=viewer.org, target_kind=kind,
        target_slug=slug, medium=form["medium"], campaign=form["campaign"],
        pitch=form["pitch"], created_by=viewer.user.email if viewer.user else None)
    return see_other(request, "partner_places", {"neu": place.code})


@portal()
async def place_qr(request: Request, viewer: Viewer) -> Response:
    place = await _owned(request, viewer)
    kind = request.path_params["kind"]
    if kind not in ("svg", "png"):
        raise HTTPException(404)
    url = places.place_url(services(request).settings.base_url, place.code)
    body = await anyio.to_thread.run_sync(qr_code, url, kind)
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="qr-{place.code}.{kind}"'})


@portal()
async def place_card(request: Request, viewer: Viewer) -> Response:
    place = await _owned(request, viewer)
    return render(request, "share/card.html", {
        "nav": "places", "place": place,
        "url": places.place_url(services(request).settings.base_url, place.code),
    }, viewer=viewer)
