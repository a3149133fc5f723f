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
        "nav": "pool", "articles": found, "q": query, "tag": tag}, viewer=viewer)


def _form(request: Request, viewer: Viewer, draft: Draft, errors: dict[str, str] | None = None,
          status: int = 200) -> Response:
    return render(request, "partner/pool_new.html", {
        "nav": "pool", "draft": draft, "errors": errors or {}}, status_code=status,
        viewer=viewer)


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
    form = request.state.form

    def text(name: str, limit: int) -> str:
        return str(form.get(name, "")).replace("\r\n", "\n").strip()[:limit + 1]

    draft = Draft(text("title", howtos.TITLE_MAX), text("body", howtos.BODY_MAX),
                  text("tags", 400))
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
    return render(request, "partner/pool_article.html", {"nav": "pool", "article": found},
                  viewer=viewer)


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
