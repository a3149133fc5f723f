"""Staff edit their own profile: the name, function, phone and photo families see
once they are their contact (``campaign.portal.profiles``, ``portal.photos``)."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...portal import photos, profiles
from ...portal.cases import Viewer
from ...portal.profiles import Profile
from .base import PRIVATE, see_other, services
from .portal_auth import portal, render


def _page(request: Request, viewer: Viewer, profile: Profile,
          errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "partner/profile.html", {
        "profile": profile, "errors": errors or {}, "nav": "profile",
        "saved": request.query_params.get("saved", ""),
    }, status_code=status, viewer=viewer)


@portal()
async def profile_form(request: Request, viewer: Viewer) -> Response:
    assert viewer.user is not None
    return _page(request, viewer, await profiles.get(services(request).db, viewer.user.id))


@portal()
async def profile_save(request: Request, viewer: Viewer) -> Response:
    assert viewer.user is not None
    form = request.state.form
    svc = services(request)
    current = await profiles.get(svc.db, viewer.user.id)

    def field(name: str, limit: int) -> str:
        return profiles.clean(str(form.get(name, "")))[:limit + 1]

    typed = Profile(field("display_name", profiles.NAME_MAX),
                    field("job_title", profiles.TITLE_MAX), field("phone", profiles.PHONE_MAX),
                    current.photo, field("photo_alt", profiles.ALT_MAX))
    errors = profiles.problems(typed)
    if errors:
        return _page(request, viewer, typed, {k: _(v) for k, v in errors.items()}, 400)
    await profiles.save(svc.db, viewer.user, typed, svc.clock.now())
    return see_other(request, "partner_profile", {"saved": "1"})


@portal()
async def photo_upload(request: Request, viewer: Viewer) -> Response:
    """A new photo (re-encoded, see ``portal.photos``), or none with ``remove``."""
    assert viewer.user is not None
    svc = services(request)
    new: str | None = None
    if not request.state.form.get("remove"):
        upload = (await request.form()).get("photo")  # the parsed form, with its file
        data = await upload.read(photos.MAX_UPLOAD + 1) if isinstance(upload, UploadFile) \
            else b""
        try:
            if not data:
                raise photos.PhotoRefused("Bitte wählen Sie ein Foto aus.")
            jpeg = await asyncio.to_thread(photos.reencode, data)
        except photos.PhotoRefused as refused:
            current = await profiles.get(svc.db, viewer.user.id)
            return _page(request, viewer, current, {"photo": _(str(refused))}, 400)
        new = await asyncio.to_thread(photos.store, svc.settings, jpeg)
    old = await profiles.set_photo(svc.db, viewer.user, new, svc.clock.now())
    await asyncio.to_thread(photos.remove, svc.settings, old)
    return see_other(request, "partner_profile", {"saved": "photo" if new else "removed"})


async def photo(request: Request) -> Response:
    """A contact's photo, for the family's page: only of an active account, not stored
    by caches (like the page that shows it); an unknown or retired name is a 404."""
    name = request.path_params["photo"]
    svc = services(request)
    path = photos.path_of(svc.settings, name)
    if path is None or not await profiles.photo_in_use(svc.db, name):
        raise HTTPException(404)
    data = await asyncio.to_thread(path.read_bytes)
    return Response(data, media_type="image/jpeg", headers=PRIVATE)
