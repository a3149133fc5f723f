"""Staff edit their own profile: the name, function and phone families see once
they are their contact (``campaign.portal.profiles``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...portal import profiles
from ...portal.cases import Viewer
from ...portal.profiles import Profile
from .base import see_other, services
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
