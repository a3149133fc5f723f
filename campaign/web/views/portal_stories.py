"""A municipality's staff propose their own story of a family who came (with an
optional photo); once the agency approves, it replaces the town's example stories
on the landing and municipality pages."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ...content.model import Municipality, Text
from ...content.stories import Story, picture, stories_of
from ...core.i18n import gettext as _
from ...portal import pages, pictures, review, story_edits
from ...portal.cases import Viewer
from ...portal.pages import PictureRef
from ...portal.photos import PhotoRefused
from ...portal.profiles import clean
from ...portal.story_edits import StoryEdit
from .base import content, see_other, services
from .pictures import figures
from .portal_auth import portal, render
from .portal_pages import municipality_of


async def stories_shown(request: Request, municipality: str | None = None
                        ) -> list[tuple[Story, Municipality, Any, Any]]:
    """(story, town, drawn picture or None, photo or None) for ``showcase/_stories.html``:
    a town's approved own story in place of its shipped examples."""
    c = content(request)
    own = await story_edits.published_all(services(request).db)
    out: list[tuple[Story, Municipality, Any, Any]] = []
    for slug, edit in own.items():
        if municipality in (None, slug) and slug in c.region.municipalities:
            photo = await figures(request, (edit.picture,)) if edit.picture else []
            def told(name: str, german: str, edit: StoryEdit = edit) -> Text:
                return Text({"de": german, **{lang: t[name] for lang, t in
                                              edit.translations.items() if t.get(name)}})

            story = Story(f"eigene-{slug}", slug, edit.family, told("title", edit.title),
                          told("came_from", edit.came_from), told("text", edit.text),
                          Text({"de": edit.picture.alt if edit.picture else ""}), 0, 0, False)
            out.append((story, c.region.municipalities[slug], None,
                        photo[0] if photo else None))
    for s in stories_of(c.stories, municipality):
        if s.municipality not in own:
            town = c.region.municipalities[s.municipality]
            out.append((s, town, picture(s, town), None))
    return out


async def _page(request: Request, viewer: Viewer, m: Municipality,
                edit: StoryEdit | None = None, errors: dict[str, str] | None = None,
                status: int = 200, upload: dict[str, str] | None = None,
                based_on: str | None = None, conflict: review.Conflict | None = None
                ) -> Response:
    db = services(request).db
    draft = await story_edits.draft(db, m.slug)
    pending = await review.pending(db, story_edits.KIND, m.slug)
    edit = edit or draft or StoryEdit("", "", "", "")
    photos = await figures(request, (draft.picture,)) if draft and draft.picture else []
    return render(request, "partner/story_edit.html", {
        "m": m, "edit": edit, "errors": errors or {}, "nav": "page",
        "upload": upload or {"alt": "", "credit": ""},
        "photo": photos[0] if photos else None,
        "pending": pending, "conflict": conflict,
        "based_on": review.form_version(pending) if based_on is None else based_on,
        "decision": await review.latest_decision(db, story_edits.KIND, m.slug),
        "saved": request.query_params.get("saved", ""),
    }, status_code=status, viewer=viewer)


@portal()
async def story_form(request: Request, viewer: Viewer) -> Response:
    return await _page(request, viewer, municipality_of(request, viewer))


@portal()
async def story_save(request: Request, viewer: Viewer) -> Response:
    """The story as a proposal; a new photo (checked and re-encoded on a thread)
    replaces the old one, "remove" takes it away."""
    assert viewer.user is not None
    m = municipality_of(request, viewer)
    svc = services(request)
    form = request.state.form
    draft = await story_edits.draft(svc.db, m.slug)
    translations = {}
    for lang in story_edits.OTHER_LANGUAGES:
        told = {"title": clean(str(form.get(f"title_{lang}", ""))),
                "came_from": clean(str(form.get(f"came_from_{lang}", ""))),
                "text": pages.clean_text(str(form.get(f"text_{lang}", "")))}
        if any(told.values()):
            translations[lang] = told
    edit = StoryEdit(clean(str(form.get("title", ""))), clean(str(form.get("family", ""))),
                     clean(str(form.get("came_from", ""))),
                     pages.clean_text(str(form.get("text", ""))),
                     None if form.get("remove_picture") or draft is None else draft.picture,
                     translations)
    errors: dict[str, str] = dict(story_edits.problems(edit))
    alt, credit = clean(str(form.get("alt", ""))), clean(str(form.get("credit", "")))
    upload = (await request.form()).get("picture")
    data = await upload.read(pictures.MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
    variants: list[pictures.Variant] = []
    if data:
        errors.update(pages.picture_problems(alt, credit))
        if not errors:
            try:
                variants = await asyncio.to_thread(pictures.encode, data)
            except PhotoRefused as refused:
                errors["picture"] = str(refused)
    based_on = review.posted_version(form)
    if errors:
        return await _page(request, viewer, m, edit, {k: _(v) for k, v in errors.items()},
                           400, {"alt": alt, "credit": credit}, based_on=based_on)
    if variants:
        key = await pictures.store(svc.db, story_edits.owner(m.slug), variants, svc.clock.now())
        edit = dataclasses.replace(edit, picture=PictureRef(key, alt, credit))
    try:
        await review.propose(svc.db, story_edits.KIND, m.slug, edit.payload(), viewer.user,
                             viewer.user.email, svc.clock.now(), based_on=based_on)
    except review.Changed:
        await review.forget_pictures(svc.db, story_edits.KIND, m.slug)  # the unsaved photo
        return await _page(request, viewer, m, edit, status=409, upload={
            "alt": alt, "credit": credit}, conflict=await review.conflict(
            svc.db, story_edits.KIND, m.slug))
    await review.forget_pictures(svc.db, story_edits.KIND, m.slug)
    return see_other(request, "partner_story", {"saved": "1"})
