"""A municipality's staff state their facts, each with its source; families and the
quiz see them once the agency approves (``portal_review``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...content.model import SCHOOLS, Municipality
from ...core.i18n import gettext as _
from ...portal import facts, review
from ...portal.cases import Viewer
from .base import see_other, services
from .portal_auth import portal, render
from .portal_pages import municipality_of


def _typed(m: Municipality, edit: facts.FactsEdit) -> dict[str, str]:
    """The form's fields filled with what families see (or the pending proposal)."""
    shown = facts.apply(m, edit).facts
    typed = {}
    for name in (*facts.NUMBERS, *facts.TEXTS):
        value = getattr(shown, name)
        typed[name] = "" if value is None else (
            f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value))
    typed.update({f"{n}_source": edit.sources.get(n, "") for n in facts.EDITABLE})
    return typed


async def _page(request: Request, viewer: Viewer, m: Municipality,
                typed: dict[str, str] | None = None, flags: dict[str, bool] | None = None,
                schools: tuple[str, ...] | None = None, errors: dict[str, str] | None = None,
                status: int = 200, based_on: str | None = None,
                conflict: review.Conflict | None = None) -> Response:
    db = services(request).db
    draft = await facts.draft(db, m.slug)
    pending = await review.pending(db, facts.KIND, m.slug)
    shown = facts.apply(m, draft).facts
    return render(request, "partner/facts_edit.html", {
        "m": m, "nav": "page", "errors": errors or {}, "labels": facts.LABELS,
        "typed": typed or _typed(m, draft), "numbers": facts.NUMBERS, "texts": facts.TEXTS,
        "flags_names": facts.FLAGS,
        "flags": flags if flags is not None else {n: getattr(shown, n) for n in facts.FLAGS},
        "schools": schools if schools is not None else shown.secondary_schools,
        "all_schools": SCHOOLS,
        "pending": pending, "conflict": conflict,
        "based_on": review.form_version(pending) if based_on is None else based_on,
        "decision": await review.latest_decision(db, facts.KIND, m.slug),
        "saved": request.query_params.get("saved", ""),
    }, status_code=status, viewer=viewer)


@portal()
async def facts_form(request: Request, viewer: Viewer) -> Response:
    return await _page(request, viewer, municipality_of(request, viewer))


@portal()
async def facts_save(request: Request, viewer: Viewer) -> Response:
    """The stated facts as a proposal; a changed fact without a source is sent back."""
    assert viewer.user is not None
    m = municipality_of(request, viewer)
    form = request.state.form
    chosen = [str(v) for v in form.getlist("secondary_schools")]
    edit, errors, typed = facts.read(form, chosen, m)
    flags = {n: form.get(n) == "1" for n in facts.FLAGS}
    schools = tuple(s for s in SCHOOLS if s in chosen)
    based_on = review.posted_version(form)
    if errors:
        return await _page(request, viewer, m, typed, flags, schools,
                           {k: _(v) for k, v in errors.items()}, 400, based_on=based_on)
    svc = services(request)
    try:
        await review.propose(svc.db, facts.KIND, m.slug, edit.payload(), viewer.user,
                             viewer.user.email, svc.clock.now(), based_on=based_on)
    except review.Changed:
        return await _page(request, viewer, m, typed, flags, schools, status=409,
                           conflict=await review.conflict(svc.db, facts.KIND, m.slug))
    return see_other(request, "partner_facts", {"saved": "1"})
