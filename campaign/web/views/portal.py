"""Partner portal pages: leads, follow-up, export, figures, dead letters (all under /partner).

Views only parse and render; what a viewer may see is decided in
``campaign.portal.cases``, in SQL.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...core.clock import local_today
from ...core.i18n import gettext as _
from ...core.vocab import FOLLOW_UP, INTERESTS
from ...delivery import outbox
from ...leads import applications, followup, live_offers
from ...portal import cases, charts, figures, outcomes, targets
from ...portal.cases import Case, Filters, Viewer, record_action
from ...portal.casework import case_work
from ...portal.export import leads_csv
from .base import content, see_other, services
from .portal_auth import portal, render
from .reply_form import composer


def _filters(request: Request) -> tuple[Filters, dict[str, str]]:
    f, errors = cases.parse_filters(request.query_params, content(request).region.municipalities)
    return replace(f, now=services(request).clock.now()), {k: _(v) for k, v in errors.items()}


def _target(case: Case, now: datetime) -> targets.Target:
    return targets.target(case.due_at, case.first_contact_at, case.follow_up, now)


def _municipality_choices(request: Request, viewer: Viewer, f: Filters, every: bool
                          ) -> tuple[list[tuple[str, list[str]]], bool]:
    """(district name, municipality slugs) for the filter, and whether it is narrowed:
    by default an organisation sees the places it covers (and the one chosen); the
    agency, a service that covers no place, or a click on "alle" see all 59."""
    region = content(request).region
    org = region.organisations.get(viewer.org)
    own = set(org.covers) if org and org.covers and not viewer.admin and not every else None
    groups = [(d.name, [s for s in d.municipalities
                        if own is None or s in own or s == f.municipality])
              for d in region.districts.values()]
    return [(name, slugs) for name, slugs in groups if slugs], own is not None


@portal()
async def leads(request: Request, viewer: Viewer) -> Response:
    f, errors = _filters(request)
    rows, total = await cases.list_leads(services(request).db, viewer, f)
    pages = max(1, -(-total // cases.PAGE_SIZE))
    every = request.query_params.get("alle_gemeinden") == "1"
    choices, narrowed = _municipality_choices(request, viewer, f, every)
    return render(request, "partner/leads.html", {
        "leads": rows, "total": total, "filters": f, "errors": errors, "pages": pages,
        "follow_up": FOLLOW_UP, "interests": INTERESTS, "municipality_choices": choices,
        "narrowed": narrowed, "every": every,
        "targets": {c.id: _target(c, f.now or services(request).clock.now()) for c in rows},
    }, status_code=400 if errors else 200, viewer=viewer)


async def _case_or_404(request: Request, viewer: Viewer) -> Case:
    found = await cases.get_lead(services(request).db, viewer, request.path_params["lead_id"],
                                 content(request).region)
    if found is None:
        raise HTTPException(404)
    return found


async def _application(request: Request, lead_id: int) -> list[str]:
    """What an offer application asked for (offer, dates, seat), as the lead mail says."""
    db = services(request).db
    applied = await applications.standing(db, lead_id)
    if applied is None:
        return []
    offers = await live_offers.merged(db, content(request).offers)
    return applications.describe(applied, offers, content(request).region)


async def _lead_page(request: Request, viewer: Viewer, case: Case, status_code: int = 200,
                     **extra: Any) -> Response:
    return render(request, "partner/lead.html", {
        "lead": case, "errors": {}, "note": "", "follow_up": FOLLOW_UP,
        "saved": request.query_params.get("saved", ""),
        "quiz": content(request).quizzes.get(case.quiz or ""),
        "work": await case_work(services(request).db, viewer, case.id),
        "target": _target(case, services(request).clock.now()),
        "reply": await composer(request, viewer, case),
        "application": await _application(request, case.id), **extra,
    }, status_code=status_code, viewer=viewer)


@portal()
async def lead(request: Request, viewer: Viewer) -> Response:
    """The lead's page; a lead the organisation received that was withdrawn or erased
    since answers 410 with only its number (the link in the notice mail leads here)."""
    svc = services(request)
    lead_id = request.path_params["lead_id"]
    found = await cases.get_lead(svc.db, viewer, lead_id, content(request).region)
    if found is not None:
        return await _lead_page(request, viewer, found)
    ended = await cases.gone(svc.db, viewer, lead_id)
    if ended is None:
        raise HTTPException(404)
    return render(request, "partner/lead_gone.html", {"lead": ended}, status_code=410,
                  viewer=viewer)


@portal()
async def lead_note(request: Request, viewer: Viewer) -> Response:
    body = str(request.state.form.get("note", "")).strip()
    lead_id = request.path_params["lead_id"]
    error = None
    if not body:
        error = _("Bitte schreiben Sie eine Notiz.")
    elif len(body) > cases.NOTE_MAX:
        error = _("Eine Notiz darf höchstens 2000 Zeichen lang sein.")
    if error:
        return await _lead_page(request, viewer, await _case_or_404(request, viewer), 400,
                                note=body, errors={"note": error})
    svc = services(request)
    if not await cases.add_note(svc.db, viewer, lead_id, body, svc.clock.now()):
        raise HTTPException(404)
    return see_other(request, "partner_lead", {"saved": "note"}, lead_id=lead_id)


@portal()
async def export(request: Request, viewer: Viewer) -> Response:
    f, errors = _filters(request)
    if errors:
        raise HTTPException(400, " ".join(errors.values()))
    svc = services(request)
    rows = await cases.export_leads(svc.db, viewer, f)
    await cases.record_export(svc.db, viewer, len(rows), f, svc.clock.now())
    name = f"interessenten-{viewer.org}-{local_today(svc.clock.now()).isoformat()}.csv"
    return Response(leads_csv(rows, content(request)).encode("utf-8"),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def followup_rows(per_org: dict[str, followup.FollowupFigures], viewer: Viewer
                  ) -> list[tuple[str, int | None]]:
    """The twelve-month follow-up as (label, families): an organisation its own,
    the agency all together; None where fewer than five families stand behind
    the figures and the viewer is not the organisation itself."""
    mine = [f for org, f in per_org.items() if viewer.admin or org == viewer.org]
    total = {k: sum(getattr(f, k) for f in mine) for k in (
        "asked", "consented", "sent", "answered", "still_here", "moved_away", "satisfied")}
    hidden = viewer.admin and total["asked"] < outcomes.MIN_LEADS
    labels = [("asked", _("nach dem Zuzug gefragt")), ("consented", _("Nachfrage zugestimmt")),
              ("sent", _("Fragen nach 12 Monaten verschickt")), ("answered", _("beantwortet")),
              ("still_here", _("leben noch hier")), ("moved_away", _("weggezogen")),
              ("satisfied", _("zufrieden (4 oder 5 von 5)"))]
    return [(label, None if hidden else total[key]) for key, label in labels]


@portal()
async def stats(request: Request, viewer: Viewer) -> Response:
    region = content(request).region
    s = await figures.stats(services(request).db, viewer)
    fn = s.funnel
    funnel: list[tuple[str, int, bool]] = [  # (label, value, campaign-wide?)
        (_("Quiz begonnen"), fn["started"], True),
        (_("Quiz abgeschlossen"), fn["finished"], True),
    ]
    if viewer.admin:
        funnel += [(_("Interesse abgeschickt"), fn["lead_submitted"], True),
                   (_("Interesse bestätigt"), fn["lead_confirmed"], True)]
    else:
        funnel.append((_("Bestätigt und an Sie weitergeleitet"), s.received, False))
    funnel += [(_("Empfang quittiert"), s.acknowledged, False),
               (_("Zugezogen"), s.moved, False)]
    per_m = [(region.municipalities[k].name if k in region.municipalities else k, n)
             for k, n in s.per_municipality]
    per_source: dict[str, int] = {}
    for row in s.per_source:
        key = row.source or _("ohne Quelle")
        per_source[key] = per_source.get(key, 0) + row.n
    if s.other_source_count:
        per_source[_("Sonstige")] = s.other_sources
    found = await outcomes.outcomes(services(request).db, viewer, services(request).clock.now())
    return render(request, "partner/stats.html", {
        "s": s, "funnel": funnel, "per_municipality": per_m, "outcomes": found,
        "followup": followup_rows(await followup.answers_by_org(services(request).db), viewer),
        "outcome_charts": outcomes.outcome_charts(
            found, {k: o.name for k, o in region.organisations.items()}),
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
                "chart-month", s.per_month, _("Interessenten je Monat"),
                _("Liniendiagramm; die Zahlen je Monat stehen in der Tabelle.")),
        },
    }, viewer=viewer)


@portal(admin=True)
async def outbox_page(request: Request, viewer: Viewer) -> Response:
    requeued = request.query_params.get("requeued", "")
    return render(request, "partner/outbox.html", {
        "dead": await outbox.dead_letters(services(request).db),
        "requeued": int(requeued) if re.fullmatch(r"[0-9]{1,9}", requeued) else None,
    }, viewer=viewer)


@portal(admin=True)
async def outbox_resend(request: Request, viewer: Viewer) -> Response:
    """Put one (or every) dead letter back in the queue."""
    form = request.state.form
    raw = str(form.get("outbox_id", ""))
    svc = services(request)
    if form.get("all"):
        count, what = await outbox.requeue(svc.db, all_dead=True), "all"
    elif re.fullmatch(r"[0-9]{1,9}", raw):
        count, what = await outbox.requeue(svc.db, int(raw)), f"outbox #{raw}"
    else:
        raise HTTPException(400)
    await record_action(svc.db, viewer, None, "resend", svc.clock.now(), f"{what}: {count}")
    return see_other(request, "partner_outbox", {"requeued": str(count)})
