"""Partner portal pages: leads, follow-up, export, figures, dead letters (all under /partner).

Views only parse and render; what a viewer may see is decided in
campaign/partner.py, in SQL.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import charts, partner
from ..csvexport import leads_csv
from ..i18n import gettext as _
from ..partner import Filters, Viewer
from ..vocab import FOLLOW_UP, INTERESTS
from .partner_account import portal, render, see_other
from .partner_account import routes as account_routes


def _filters(request: Request) -> tuple[Filters, dict[str, str]]:
    region = request.app.state.content.region
    f, errors = partner.parse_filters(request.query_params, region.municipalities)
    return f, {k: _(v) for k, v in errors.items()}


@portal()
async def leads(request: Request, viewer: Viewer) -> Response:
    f, errors = _filters(request)
    rows, total = await partner.list_leads(request.app.state.db, viewer, f)
    pages = max(1, -(-total // partner.PAGE_SIZE))
    return render(request, "partner/leads.html", {
        "leads": rows, "total": total, "filters": f, "errors": errors, "pages": pages,
        "follow_up": FOLLOW_UP, "interests": INTERESTS,
    }, status_code=400 if errors else 200, viewer=viewer)


async def _lead_or_404(request: Request, viewer: Viewer) -> dict[str, Any]:
    lead = await partner.get_lead(request.app.state.db, viewer, request.path_params["lead_id"],
                                  request.app.state.content.region)
    if lead is None:
        raise HTTPException(404)
    return lead


@portal()
async def lead(request: Request, viewer: Viewer) -> Response:
    return render(request, "partner/lead.html", {
        "lead": await _lead_or_404(request, viewer), "errors": {}, "note": "",
        "saved": request.query_params.get("saved", ""), "follow_up": FOLLOW_UP,
    }, viewer=viewer)


@portal()
async def lead_status(request: Request, viewer: Viewer) -> Response:
    form = request.state.form
    status = str(form.get("status", ""))
    lead_id = request.path_params["lead_id"]
    if status not in FOLLOW_UP:
        return render(request, "partner/lead.html", {
            "lead": await _lead_or_404(request, viewer), "note": "", "follow_up": FOLLOW_UP,
            "errors": {"status": _("Bitte wählen Sie einen Bearbeitungsstand aus der Liste.")},
        }, status_code=400, viewer=viewer)
    org = str(form.get("org", "")) or None
    changed = await partner.set_status(request.app.state.db, viewer, lead_id, status, org)
    if changed is None:
        raise HTTPException(404)
    return see_other(request, "partner_lead", "saved=status", lead_id=lead_id)


@portal()
async def lead_note(request: Request, viewer: Viewer) -> Response:
    body = str(request.state.form.get("note", "")).strip()
    lead_id = request.path_params["lead_id"]
    error = None
    if not body:
        error = _("Bitte schreiben Sie eine Notiz.")
    elif len(body) > partner.NOTE_MAX:
        error = _("Eine Notiz darf höchstens 2000 Zeichen lang sein.")
    if error:
        return render(request, "partner/lead.html", {
            "lead": await _lead_or_404(request, viewer), "note": body, "follow_up": FOLLOW_UP,
            "errors": {"note": error}}, status_code=400, viewer=viewer)
    if not await partner.add_note(request.app.state.db, viewer, lead_id, body):
        raise HTTPException(404)
    return see_other(request, "partner_lead", "saved=note", lead_id=lead_id)


@portal()
async def export(request: Request, viewer: Viewer) -> Response:
    f, errors = _filters(request)
    if errors:
        raise HTTPException(400, " ".join(errors.values()))
    db = request.app.state.db
    rows = await partner.export_leads(db, viewer, f)
    await partner.record_export(db, viewer, len(rows), f)
    name = f"interessenten-{viewer.org}-{date.today().isoformat()}.csv"
    return Response(leads_csv(rows).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@portal()
async def stats(request: Request, viewer: Viewer) -> Response:
    region = request.app.state.content.region
    s = await partner.stats(request.app.state.db, viewer)
    fn = s["funnel"]
    funnel: list[tuple[str, int, bool]] = [  # (label, value, campaign-wide?)
        (_("Quiz begonnen"), fn["started"], True),
        (_("Quiz abgeschlossen"), fn["finished"], True),
    ]
    if viewer.admin:
        funnel += [(_("Interesse abgeschickt"), fn["lead_submitted"], True),
                   (_("Interesse bestätigt"), fn["lead_confirmed"], True)]
    else:
        funnel.append((_("Bestätigt und an Sie weitergeleitet"), s["received"], False))
    funnel += [(_("Empfang quittiert"), s["acknowledged"], False),
               (_("Zugezogen"), s["moved"], False)]

    def m_name(slug: str) -> str:
        m = region.municipalities.get(slug)
        return m.name if m else slug

    per_m = [(m_name(k), n) for k, n in s["per_municipality"]]
    per_source: dict[str, int] = {}
    for row in s["per_source"]:
        key = row["source"] or _("ohne Quelle")
        per_source[key] = per_source.get(key, 0) + row["n"]
    return render(request, "partner/stats.html", {
        "s": s, "funnel": funnel, "per_municipality": per_m,
        "charts": {
            "funnel": charts.bar_chart("chart-funnel", [(a, b) for a, b, _c in funnel],
                                       _("Vom Quiz bis zum Zuzug"),
                                       _("Balkendiagramm; die Zahlen stehen in der Tabelle "
                                         "darunter.")),
            "municipality": charts.bar_chart(
                "chart-municipality", per_m[:20], _("Interessenten je Gemeinde"),
                _("Balkendiagramm der 20 häufigsten Gemeinden; alle Zahlen in der Tabelle.")),
            "source": charts.bar_chart(
                "chart-source", sorted(per_source.items(), key=lambda kv: -kv[1])[:20],
                _("Interessenten je Kampagnenquelle"),
                _("Balkendiagramm; Einzelheiten mit Medium, Kampagne und Ort in der Tabelle.")),
            "month": charts.line_chart(
                "chart-month", s["per_month"], _("Interessenten je Monat"),
                _("Liniendiagramm; die Zahlen je Monat stehen in der Tabelle.")),
        },
    }, viewer=viewer)


@portal(admin=True)
async def outbox(request: Request, viewer: Viewer) -> Response:
    db = request.app.state.db
    if request.method == "POST":
        form = request.state.form
        raw = str(form.get("outbox_id", ""))
        if form.get("all"):
            count = await partner.resend(db, viewer)
        elif re.fullmatch(r"[0-9]{1,20}", raw):
            count = await partner.resend(db, viewer, int(raw))
        else:
            raise HTTPException(400)
        return see_other(request, "partner_outbox", f"requeued={count}")
    requeued = request.query_params.get("requeued", "")
    return render(request, "partner/outbox.html", {
        "dead": await partner.dead_letters(db, viewer),
        "requeued": int(requeued) if re.fullmatch(r"[0-9]{1,9}", requeued) else None,
    }, viewer=viewer)


routes = [
    Route("/partner/", leads, name="partner_leads"),
    Route("/partner/lead/{lead_id:int}", lead, name="partner_lead"),
    Route("/partner/lead/{lead_id:int}/status", lead_status, name="partner_lead_status",
          methods=["POST"]),
    Route("/partner/lead/{lead_id:int}/notiz", lead_note, name="partner_lead_note",
          methods=["POST"]),
    Route("/partner/export.csv", export, name="partner_export"),
    Route("/partner/statistik", stats, name="partner_stats"),
    Route("/partner/postausgang", outbox, name="partner_outbox", methods=["GET", "POST"]),
    *account_routes,
]
