"""How-tos in the portal (/partner/wissen, ``portal.howtos``): search, read, write with
attachments, mark as helpful; attachments go to signed-in staff only, as downloads."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...portal import howtos
from ...portal.cases import Viewer
from ...portal.howtos import Draft
from .base import see_other, services
from .portal_auth import portal, render


def _user_id(viewer: Viewer) -> int:
    assert viewer.user is not None
    return viewer.user.id


@portal()
async def pool_page(request: Request, viewer: Viewer) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    tag = request.query_params.get("tag", "").strip()[:howtos.TAG_MAX]
    found = await howtos.search(services(request).db, _user_id(viewer), query, tag)
    return render(request, "partner/pool.html", {
        "nav": "pool", "articles": found, "q": query, "tag": tag,
        "deleted": request.query_params.get("deleted", "")}, viewer=viewer)


def _form(request: Request, viewer: Viewer, draft: Draft, errors: dict[str, str] | None = None,
          status: int = 200, editing: howtos.Article | None = None) -> Response:
    return render(request, "partner/pool_new.html", {
        "nav": "pool", "draft": draft, "errors": errors or {}, "editing": editing},
        status_code=status, viewer=viewer)


def _typed(request: Request) -> Draft:
    form = request.state.form

    def text(name: str, limit: int) -> str:
        return str(form.get(name, "")).replace("\r\n", "\n").strip()[:limit + 1]

    return Draft(text("title", howtos.TITLE_MAX), text("body", howtos.BODY_MAX),
                 text("tags", 400))


async def _own(request: Request, viewer: Viewer) -> howtos.Article:
    """The article in the path if the viewer's organisation wrote it, else 404."""
    found = await howtos.get(services(request).db, _user_id(viewer),
                             request.path_params["article_id"])
    if found is None or found.org != viewer.org:
        raise HTTPException(404)
    return found


@portal()
async def article_form(request: Request, viewer: Viewer) -> Response:
    return _form(request, viewer, Draft())


async def _attachments(request: Request) -> list[tuple[str, str, bytes]]:
    """The uploaded files, checked (``howtos.FileRefused`` names the first problem)."""
    uploads = [f for f in (await request.form()).getlist("files")
               if isinstance(f, UploadFile) and f.filename]
    if len(uploads) > howtos.MAX_FILES:
        raise howtos.FileRefused("Höchstens drei Anhänge.")
    files, total = [], 0
    for upload in uploads:
        data = await upload.read(howtos.MAX_UPLOAD + 1)
        total += len(data)
        if total > howtos.MAX_UPLOAD:
            raise howtos.FileRefused("Anhänge dürfen zusammen höchstens 5 MB groß sein.")
        kind = await asyncio.to_thread(howtos.media_type, data)
        files.append((howtos.file_name(upload.filename or "", kind), kind, data))
    return files


@portal()
async def article_create(request: Request, viewer: Viewer) -> Response:
    draft = _typed(request)
    errors = {k: _(v) for k, v in howtos.problems(draft).items()}
    files: list[tuple[str, str, bytes]] = []
    try:
        files = await _attachments(request)
    except howtos.FileRefused as refused:
        errors["files"] = _(str(refused))
    if errors:
        return _form(request, viewer, draft, errors, 400)
    svc = services(request)
    new = await howtos.create(svc.db, _user_id(viewer), viewer.org, draft, files,
                              svc.clock.now())
    return see_other(request, "partner_article", article_id=new)


@portal()
async def article_page(request: Request, viewer: Viewer) -> Response:
    found = await howtos.get(services(request).db, _user_id(viewer),
                             request.path_params["article_id"])
    if found is None:
        raise HTTPException(404)
    return render(request, "partner/pool_article.html", {
        "nav": "pool", "article": found, "may_edit": found.org == viewer.org,
        "may_delete": found.org == viewer.org or viewer.admin,
        "saved": request.query_params.get("saved", "")}, viewer=viewer)


@portal()
async def article_edit_form(request: Request, viewer: Viewer) -> Response:
    found = await _own(request, viewer)
    return _form(request, viewer, Draft(found.title, found.body, " ".join(found.tags)),
                 editing=found)


@portal()
async def article_update(request: Request, viewer: Viewer) -> Response:
    """The organisation that wrote an article changes it (text, tags, fewer attachments)."""
    found = await _own(request, viewer)
    draft = _typed(request)
    errors = {k: _(v) for k, v in howtos.problems(draft).items()}
    if errors:
        return _form(request, viewer, draft, errors, 400, editing=found)
    drop = {f.id for f in found.files
            if str(f.id) in {str(v) for v in request.state.form.getlist("drop_files")}}
    svc = services(request)
    if not await howtos.update(svc.db, viewer.org, found.id, draft, drop, svc.clock.now()):
        raise HTTPException(404)
    return see_other(request, "partner_article", {"saved": "1"}, article_id=found.id)


@portal()
async def article_delete(request: Request, viewer: Viewer) -> Response:
    """The author organisation, or the agency, deletes an article (after a tick to confirm)."""
    svc = services(request)
    article_id = request.path_params["article_id"]
    found = await howtos.get(svc.db, _user_id(viewer), article_id)
    if found is None or not (found.org == viewer.org or viewer.admin):
        raise HTTPException(404)
    if request.state.form.get("confirm") != "1":
        return render(request, "partner/pool_article.html", {
            "nav": "pool", "article": found, "may_edit": found.org == viewer.org,
            "may_delete": True,
            "delete_error": _("Bitte bestätigen Sie, dass die Anleitung gelöscht werden soll.")},
            status_code=400, viewer=viewer)
    await howtos.delete(svc.db, article_id, None if viewer.admin else viewer.org)
    return see_other(request, "partner_pool", {"deleted": "1"})


@portal()
async def article_mark(request: Request, viewer: Viewer) -> Response:
    svc = services(request)
    article_id = request.path_params["article_id"]
    if not await howtos.mark(svc.db, _user_id(viewer), article_id, svc.clock.now()):
        raise HTTPException(404)
    return see_other(request, "partner_article", article_id=article_id)


@portal()
async def article_file(request: Request, viewer: Viewer) -> Response:
    """An attachment as a download (never shown inline, never sniffed, never cached)."""
    found = await howtos.attachment(services(request).db, request.path_params["article_id"],
                                    request.path_params["file_id"])
    if found is None:
        raise HTTPException(404)
    name, kind, data = found
    return Response(data, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
