"""``/partner/team``: the organisation's admin invites and deactivates colleagues.

Only an account with the role admin may use it, and only for its own
organisation: another organisation's account is simply not found (404).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...content import EMAIL_RE
from ...core.i18n import gettext as _
from ...portal import profiles, team
from ...portal.cases import Viewer
from .base import see_other, services
from .portal_auth import portal, render


def _admin(viewer: Viewer) -> None:
    if viewer.user is None or not viewer.user.is_admin:
        raise HTTPException(403, _("Nur die Administration Ihrer Organisation verwaltet das "
                                   "Team."))


async def _page(request: Request, viewer: Viewer, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx: dict[str, Any] = {
        "members": await team.members(services(request).db, viewer.org),
        "errors": errors or {}, "values": values or {"name": "", "email": ""},
        "saved": request.query_params.get("saved", ""),
    }
    return render(request, "partner/team.html", ctx, status_code=status, viewer=viewer)


@portal()
async def team_page(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    return await _page(request, viewer)


@portal()
async def team_invite(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    assert viewer.user is not None
    form = request.state.form
    name = profiles.clean(str(form.get("name", "")))[:200]
    email = str(form.get("email", "")).strip()[:254]
    errors: dict[str, str] = {}
    name_problem = profiles.problems(profiles.Profile(name, "", "")).get("display_name")
    if name_problem:
        errors["name"] = _(name_problem)
    if not EMAIL_RE.match(email):
        errors["email"] = _("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
    if not errors:
        svc = services(request)
        refused = await team.invite(svc, viewer.user, name, email, svc.clock.now())
        if refused is None:
            return see_other(request, "partner_team", {"saved": "invited"})
        errors["email"] = _(refused)
    return await _page(request, viewer, errors, {"name": name, "email": email}, 400)


@portal()
async def team_deactivate(request: Request, viewer: Viewer) -> Response:
    _admin(viewer)
    assert viewer.user is not None
    svc = services(request)
    refused = await team.deactivate(svc.db, viewer.user, request.path_params["user_id"],
                                    svc.clock.now())
    if refused == "missing":
        raise HTTPException(404, _("Dieses Konto gibt es in Ihrer Organisation nicht."))
    if refused is not None:
        raise HTTPException(400, _(refused))
    return see_other(request, "partner_team", {"saved": "deactivated"})
