"""A municipality's staff propose edits of their page for families: the welcome text,
the contact person and pictures. Nothing reaches families before the agency
approves it (``portal_review``); the author sees the agency's answer here."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content.model import Municipality
from ...core.i18n import LANGUAGES
from ...core.i18n import gettext as _
from ...portal import pages, pictures, review
from ...portal.cases import Viewer
from ...portal.pages import PageEdit, PictureRef
from ...portal.photos import PhotoRefused
from ...portal.profiles import clean
from .base import content, see_other, services
from .pictures import figures
from .portal_auth import portal, render


def municipality_of(request: Request, viewer: Viewer) -> Municipality:
    """The municipality the signed-in staff work for (403 for other organisations)."""
    org = content(request).region.organisations.get(viewer.org)
    municipalities = content(request).region.municipalities
    if org is None or org.kind != "municipality" or org.slug not in municipalities:
        raise HTTPException(403, _("Diese Seite ist den Kommunen vorbehalten."))
    return municipalities[org.slug]


async def _page(request: Request, viewer: Viewer, m: Municipality, edit: PageEdit | None = None,
                errors: dict[str, str] | None = None, status: int = 200,
                upload: dict[str, str] | None = None, based_on: str | None = None,
                conflict: review.Conflict | None = None) -> Response:
    """The editor; ``based_on`` the version a sent-back form was filled from (kept, so
    a change by someone else in between is still noticed), else the one waiting now."""
    db = services(request).db
    draft = await pages.draft(db, m)
    edit = edit or draft
    pending = await review.pending(db, pages.KIND, m.slug)
    return render(request, "partner/page_edit.html", {
        "m": m, "edit": edit, "errors": errors or {}, "nav": "page",
        "languages": LANGUAGES, "upload": upload or {"alt": "", "credit": ""},
        "pending": pending, "conflict": conflict,
        "based_on": review.form_version(pending) if based_on is None else based_on,
        "decision": await review.latest_decision(db, pages.KIND, m.slug),
        "pictures": list(zip(draft.pictures, await figures(request, draft.pictures),
                             strict=False)),
        "max_pictures": pages.MAX_PICTURES, "saved": request.query_params.get("saved", ""),
    }, status_code=status, viewer=viewer)


async def _propose(request: Request, viewer: Viewer, m: Municipality, edit: PageEdit,
                   based_on: str | None = None) -> None:
    assert viewer.user is not None
    svc = services(request)
    await review.propose(svc.db, pages.KIND, m.slug, edit.payload(), viewer.user,
                         viewer.user.email, svc.clock.now(), based_on=based_on)
    await review.forget_pictures(svc.db, pages.KIND, m.slug)


@portal()
async def page_form(request: Request, viewer: Viewer) -> Response:
    return await _page(request, viewer, municipality_of(request, viewer))


@portal()
async def page_save(request: Request, viewer: Viewer) -> Response:
    """The texts and the contact person, as a proposal (pictures stay as they are)."""
    m = municipality_of(request, viewer)
    form = request.state.form
    draft = await pages.draft(services(request).db, m)
    edit = PageEdit({lang: pages.clean_text(str(form.get(f"welcome_{lang}", "")))
                     for lang in LANGUAGES},
                    clean(str(form.get("contact_name", ""))),
                    clean(str(form.get("contact_email", ""))), draft.pictures)
    errors = pages.problems(edit)
    based_on = review.posted_version(form)
    if errors:
        return await _page(request, viewer, m, edit, {k: _(v) for k, v in errors.items()}, 400,
                           based_on=based_on)
    try:
        await _propose(request, viewer, m, edit, based_on)
    except review.Changed:
        return await _page(request, viewer, m, edit, status=409, conflict=await review.conflict(
            services(request).db, pages.KIND, m.slug))
    return see_other(request, "partner_page", {"saved": "text"})


@portal()
async def picture_upload(request: Request, viewer: Viewer) -> Response:
    """A new picture (checked and re-encoded on a thread) added to the proposal."""
    m = municipality_of(request, viewer)
    svc = services(request)
    form = request.state.form
    alt, credit = clean(str(form.get("alt", ""))), clean(str(form.get("credit", "")))
    draft = await pages.draft(svc.db, m)
    errors: dict[str, Any] = dict(pages.picture_problems(alt, credit))
    if len(draft.pictures) >= pages.MAX_PICTURES:
        errors["picture"] = "Es sind höchstens 6 Bilder möglich. Bitte entfernen Sie zuerst eins."
    upload = (await request.form()).get("picture")
    data = await upload.read(pictures.MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
    variants: list[pictures.Variant] = []
    if "picture" not in errors:
        try:
            if not data:
                raise PhotoRefused("Bitte wählen Sie ein Bild aus.")
            if not errors:
                variants = await asyncio.to_thread(pictures.encode, data)
        except PhotoRefused as refused:
            errors["picture"] = str(refused)
    if errors:
        return await _page(request, viewer, m, None, {k: _(v) for k, v in errors.items()}, 400,
                           {"alt": alt, "credit": credit})
    key = await pictures.store(svc.db, pages.owner(m.slug), variants, svc.clock.now())
    edit = await pages.draft(svc.db, m)  # again: the upload took a while
    await _propose(request, viewer, m, dataclasses.replace(
        edit, pictures=(*edit.pictures, PictureRef(key, alt, credit))))
    return see_other(request, "partner_page", {"saved": "picture"})


@portal()
async def picture_arrange(request: Request, viewer: Viewer) -> Response:
    """Remove a picture or move it up or down (one button per action and picture)."""
    m = municipality_of(request, viewer)
    form = request.state.form
    edit = await pages.draft(services(request).db, m)
    order = list(edit.pictures)
    keys = [p.key for p in order]
    for action in ("remove", "up", "down"):
        key = str(form.get(action, ""))
        if key not in keys:
            continue
        i = keys.index(key)
        if action == "remove":
            order.pop(i)
        elif action == "up" and i > 0:
            order[i - 1], order[i] = order[i], order[i - 1]
        elif action == "down" and i < len(order) - 1:
            order[i + 1], order[i] = order[i], order[i + 1]
        await _propose(request, viewer, m, dataclasses.replace(edit, pictures=tuple(order)))
        return see_other(request, "partner_page", {"saved": "pictures"})
    raise HTTPException(400, _("Dieses Bild gibt es nicht (mehr). Bitte laden Sie die Seite "
                               "neu."))
