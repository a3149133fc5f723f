"""Reply templates in the portal (/partner/vorlagen) and the reply to a family from
the lead page (``portal.replies``): list, write, edit, share, copy, send."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.i18n import gettext as _
from ...portal import replies
from ...portal.cases import Viewer
from ...portal.replies import Draft, Template
from .base import see_other, services
from .portal import _case_or_404, _lead_page
from .portal_auth import portal, render
from .reply_form import Composer, composer, template_id


def _draft(request: Request) -> Draft:
    form = request.state.form

    def text(name: str, limit: int) -> str:
        return str(form.get(name, "")).replace("\r\n", "\n").strip()[:limit + 1]

    return Draft(text("title", replies.TITLE_MAX), text("category", 16),
                 text("subject", replies.SUBJECT_MAX), text("body", replies.BODY_MAX),
                 bool(form.get("shared")))


def _page(request: Request, viewer: Viewer, templates: list[Template], draft: Draft,
          errors: dict[str, str] | None = None, status: int = 200,
          editing: Template | None = None, delete_error: str = "") -> Response:
    return render(request, "partner/replies.html", {
        "templates": templates, "draft": draft, "errors": errors or {}, "editing": editing,
        "categories": replies.CATEGORY_LABELS, "nav": "replies", "delete_error": delete_error,
        "saved": request.query_params.get("saved", ""),
        "deleted": request.query_params.get("deleted", "")}, status_code=status, viewer=viewer)


@portal()
async def templates_page(request: Request, viewer: Viewer) -> Response:
    svc = services(request)
    return _page(request, viewer, await replies.listing(svc.db, viewer.org), Draft())


async def _own(request: Request, viewer: Viewer) -> tuple[Template, Draft]:
    """The organisation's own template in the path (else 404), and its text as a draft."""
    found = await replies.one(services(request).db, viewer.org,
                              request.path_params["template_id"])
    if found is None or found.org != viewer.org:
        raise HTTPException(404)
    return found, Draft(found.title, found.category, found.subject, found.body, found.shared)


@portal()
async def template_form(request: Request, viewer: Viewer) -> Response:
    found, draft = await _own(request, viewer)
    return _page(request, viewer, [], draft, editing=found)


@portal()
async def template_save(request: Request, viewer: Viewer) -> Response:
    """A new template (no id in the path) or an edit of one of the organisation's own."""
    assert viewer.user is not None
    svc = services(request)
    template_id = request.path_params.get("template_id")
    editing = await replies.one(svc.db, viewer.org, template_id) if template_id else None
    if template_id and (editing is None or editing.org != viewer.org):
        raise HTTPException(404)
    draft = _draft(request)
    errors = replies.problems(draft)
    if errors:
        listed = [] if editing else await replies.listing(svc.db, viewer.org)
        return _page(request, viewer, listed, draft, {k: _(v) for k, v in errors.items()}, 400,
                     editing)
    saved = await replies.save(svc.db, viewer.user, draft, svc.clock.now(), template_id)
    if saved is None:
        raise HTTPException(404)
    return see_other(request, "partner_replies", {"saved": "1"})


@portal()
async def template_delete(request: Request, viewer: Viewer) -> Response:
    """Delete one of the organisation's own templates, after a tick to confirm."""
    found, draft = await _own(request, viewer)
    if request.state.form.get("confirm") != "1":
        return _page(request, viewer, [], draft, status=400, editing=found, delete_error=_(
            "Bitte bestätigen Sie, dass die Vorlage gelöscht werden soll."))
    await replies.delete(services(request).db, viewer.org, found.id)
    return see_other(request, "partner_replies", {"deleted": "1"})


@portal()
async def template_copy(request: Request, viewer: Viewer) -> Response:
    assert viewer.user is not None
    svc = services(request)
    new = await replies.copy(svc.db, viewer.user, request.path_params["template_id"],
                             svc.clock.now())
    if new is None:
        raise HTTPException(404)
    return see_other(request, "partner_reply_template", template_id=new)


@portal()
async def send_reply(request: Request, viewer: Viewer) -> Response:
    """Send the (edited) text of a template to the family; the lead page with the
    mistakes (400) when the form is incomplete, 404 for a lead not routed here."""
    assert viewer.user is not None
    svc = services(request)
    case = await _case_or_404(request, viewer)
    base = await composer(request, viewer, case)
    wanted = template_id(request.state.form.get("template"))
    chosen = next((t for t in base.templates if t.id == wanted), None)
    draft = _draft(request)
    errors = {k: _(v) for k, v in replies.problems(draft, template=False).items()}
    if chosen is None:
        errors["template"] = _("Bitte wählen Sie eine Vorlage aus.")
    if errors:
        return await _lead_page(request, viewer, case, 400,
                                reply=Composer(base.templates, chosen, draft, errors))
    sent = await replies.send(svc, viewer.user, case.id, chosen.id if chosen else 0, draft,
                              svc.clock.now())
    if not sent:
        raise HTTPException(404)
    return see_other(request, "partner_lead", {"saved": "reply"}, lead_id=case.id)
