"""Work on a lead in the portal: move its stage, take it or assign it, log a call.

Each view checks the form, lets ``campaign.portal.work`` / ``assignment`` decide
in one transaction, and answers 303 to the lead page, or the lead page again
with the reason: 400 for a form that is incomplete, 409 for a change the
lead's state does not allow (or that someone else made first), 404 for a
lead the viewer's organisation did not receive.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...core.vocab import CALL_OUTCOMES, CLOSE_REASONS, CLOSED, STAGES
from ...portal import assignment, work
from ...portal.cases import Viewer
from ...portal.work import Outcome
from .base import see_other, services
from .portal import _case_or_404, _lead_page
from .portal_auth import portal


async def _answer(request: Request, viewer: Viewer, outcome: Outcome, field: str,
                  saved: str) -> Response:
    """303 to the lead page when done, else the page with the reason (409) or a 404."""
    if outcome.missing:
        raise HTTPException(404)
    if outcome.refused is not None:
        message = _(outcome.refused.message) % outcome.refused.params \
            if outcome.refused.params else _(outcome.refused.message)
        return await _invalid(request, viewer, field, message, 409)
    return see_other(request, "partner_lead", {"saved": saved},
                     lead_id=request.path_params["lead_id"])


async def _invalid(request: Request, viewer: Viewer, field: str, message: str,
                   status: int = 400) -> Response:
    return await _lead_page(request, viewer, await _case_or_404(request, viewer), status,
                            errors={field: message})


def _field(request: Request, name: str) -> str:
    return str(request.state.form.get(name, "")).strip()[:64]


@portal()
async def lead_stage(request: Request, viewer: Viewer) -> Response:
    stage, reason = _field(request, "status"), _field(request, "reason")
    if stage not in STAGES:
        return await _invalid(request, viewer, "status",
                              _("Bitte wählen Sie einen Stand aus der Liste."))
    if stage == CLOSED and reason not in CLOSE_REASONS:
        return await _invalid(request, viewer, "reason",
                              _("Bitte wählen Sie einen Grund für das Schließen."))
    svc = services(request)
    outcome = await work.move(svc.db, viewer, request.path_params["lead_id"], stage,
                              svc.clock.now(), reason=reason, seen=_field(request, "seen"),
                              org=_field(request, "org") or None)
    return await _answer(request, viewer, outcome, "status", "status")


@portal()
async def lead_call(request: Request, viewer: Viewer) -> Response:
    outcome = _field(request, "outcome")
    if outcome not in CALL_OUTCOMES:
        return await _invalid(request, viewer, "outcome",
                              _("Bitte geben Sie an, ob Sie die Familie erreicht haben."))
    svc = services(request)
    done = await work.log_call(svc.db, viewer, request.path_params["lead_id"], outcome,
                               svc.clock.now())
    return await _answer(request, viewer, done, "outcome", "call")


@portal()
async def lead_take(request: Request, viewer: Viewer) -> Response:
    svc = services(request)
    outcome = await assignment.take(svc, viewer, request.path_params["lead_id"],
                                    svc.clock.now())
    return await _answer(request, viewer, outcome, "assignee", "taken")


@portal()
async def lead_assign(request: Request, viewer: Viewer) -> Response:
    if viewer.user is None or not viewer.user.is_admin:
        raise HTTPException(403, _("Nur die Administration Ihrer Organisation kann "
                                   "Interessenten zuweisen."))
    raw = _field(request, "assignee")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        return await _invalid(request, viewer, "assignee",
                              _("Bitte wählen Sie eine Kollegin oder einen Kollegen aus."))
    svc = services(request)
    outcome = await assignment.assign(svc, viewer, request.path_params["lead_id"], int(raw),
                                      svc.clock.now())
    return await _answer(request, viewer, outcome, "assignee", "assigned")
