"""Lead form, double opt-in confirmation, new-link request and family self-service.

Every POST checks CSRF first (the confirmation button excepted: the signed
link is its proof, see ``lead_confirm``) and ends in a 303 (post/redirect/get)
when it changed something; a bot that fills the honeypot sees the same "thank you"
as a family and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...content.checks import SLUG_RE
from ...content.model import Region
from ...core import i18n, jobs
from ...core.tokens import TokenExpired, TokenInvalid, make_token, read_token
from ...core.vocab import (
    CHILD_AGE_LABELS,
    INTEREST_LABELS,
    INTERESTS,
    MAX_MUNICIPALITIES,
    TIMEFRAME_LABELS,
)
from ...leads import applications, lifecycle, live_offers, records, stamps
from ...leads.contacts import lead_contacts
from ...leads.form import LeadForm, ResendForm
from ...leads.mails import (
    CONFIRM_MAX_AGE,
    CONFIRM_PURPOSE,
    SELF_SERVICE_MAX_AGE,
    SELF_SERVICE_PURPOSE,
)
from ...leads.rules import parse_list
from ...quiz.outcome import read_outcome_token
from ...reach.attribution import clean_attribution
from ..csrf import CSRF_FIELD, csrf_valid
from ..templating import path_for
from .base import PRIVATE, client_address, content, read_form, render, see_other, services

log = logging.getLogger("campaign.leads")
HOUR = timedelta(hours=1)


def _secret(request: Request) -> str:
    return services(request).settings.secret_key


# -- where the family came from (re-validated on every request) ---------------------------


def origin_of(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    """Attribution, quiz slug and the signed quiz outcome from query or hidden fields."""
    token = str(params.get("ergebnis") or "")
    outcome = read_outcome_token(_secret(request), token) if token else None
    quiz = str(params.get("quiz") or "")
    if outcome is not None:
        quiz = outcome["quiz"]
    elif not (SLUG_RE.match(quiz) and quiz in content(request).quizzes):
        quiz = ""
    return {"attribution": clean_attribution(params), "quiz": quiz,
            "ergebnis": token if outcome is not None else "", "outcome": outcome}


def _started(request: Request) -> str:
    return stamps.make_stamp(_secret(request), services(request).clock.now())


def _stamp(request: Request, stamp: str | None) -> str | None:
    """The digest of an acceptable start stamp ('' when no minimum fill time is
    set), or None: a bot's (see ``leads.stamps``)."""
    svc = services(request)
    minimum = svc.settings.min_fill_seconds
    if minimum <= 0:
        return ""
    return stamps.accepted(_secret(request), stamp or "", svc.clock.now(), minimum)


# -- the lead form -----------------------------------------------------------------------


def _form(request: Request, formdata: Any = None, **data: Any) -> LeadForm:
    towns = [(m.slug, m.name) for m in content(request).region.municipalities.values()]
    return LeadForm(formdata, municipalities=towns, **data)


def _with_origin(form: LeadForm, origin: Mapping[str, Any]) -> LeadForm:
    for key in ("utm_source", "utm_medium", "utm_campaign", "place"):
        form[key].data = origin["attribution"].get(key, "")
    form.quiz.data = origin["quiz"]
    form.ergebnis.data = origin["ergebnis"]
    return form


def _form_page(request: Request, form: LeadForm, origin: Mapping[str, Any], *,
               status: int = 200, notice: str | None = None) -> Response:
    c = content(request)
    region = c.region
    chosen = set(form.municipalities.data or ())
    outcome = origin.get("outcome") or {}
    return render(request, "leads/form.html", {
        "form": form,
        "errors": form.error_list(),
        "notice": notice,
        "districts": [(d, region.in_district(d.slug), bool(chosen & set(d.municipalities)))
                      for d in region.districts.values()],
        "consent": c.consent,
        "consent_names": _consent_names(region, [s for s in region.municipalities
                                                 if s in chosen]),
        "interest_labels": INTEREST_LABELS,
        "timeframe_labels": TIMEFRAME_LABELS,
        "child_age_labels": CHILD_AGE_LABELS,
        "max_municipalities": MAX_MUNICIPALITIES,
        "outcome_names": region.municipality_names(
            [i["slug"] for i in outcome.get("top", [])[:3]]),
    }, status_code=status)


def _consent_names(region: Region, chosen: list[str]) -> dict[str, list[str]]:
    """Whom the consents for the chosen towns reach, by name: the towns and their
    tourism association (shown beside the short consent labels)."""
    tourism = {o.name: None for s in chosen for o in region.covering(s, "tourism")}
    return {"municipalities": region.municipality_names(chosen), "tourism": list(tourism)}


async def lead_form(request: Request) -> Response:
    q = request.query_params
    region = content(request).region
    form = _form(request, data={
        "municipalities": parse_list(q.get("orte"), region.municipalities, MAX_MUNICIPALITIES),
        "interests": parse_list(q.get("interessen"), INTERESTS, len(INTERESTS)),
    })
    origin = origin_of(request, q)
    _with_origin(form, origin)
    form.started.data = _started(request)
    form.consent_version.data = content(request).consent.version
    return _form_page(request, form, origin)


async def lead_submit(request: Request) -> Response:
    """Checks in this order: CSRF, honeypot, the form's rules, consent version,
    fill time, rate limit, the start stamp's single use. Only a submission
    that passes all is stored; the same bytes again find the lead they made."""
    svc = services(request)
    formdata = await read_form(request)
    origin = origin_of(request, formdata)
    form = _with_origin(_form(request, formdata), origin)

    def refuse(status: int, notice: str | None = None) -> Response:
        return _form_page(request, form, origin, status=status, notice=notice)

    if not csrf_valid(request, formdata.get(CSRF_FIELD)):
        return refuse(400, "csrf")
    if formdata.get("website"):
        log.info("lead form: honeypot filled, nothing stored")
        return see_other(request, "lead_thanks")
    if not form.validate():
        return refuse(400)
    if formdata.get("consent_version") != svc.content.consent.version:
        form.consent_version.data = svc.content.consent.version
        return refuse(400, "consent_changed")
    stamp = _stamp(request, formdata.get("started"))
    if stamp is None:
        log.info("lead form: submitted too fast, nothing stored")
        form.started.data = _started(request)
        return refuse(400, "too_fast")
    outcome = origin["outcome"]
    new = lifecycle.NewLead(
        form.cleaned(), i18n.current_language.get(), origin["attribution"], origin["quiz"],
        outcome["top"] if outcome else None,
        submission=lifecycle.submission_key(await request.body()), stamp=stamp or None)
    limit = jobs.Limit(f"lead:{client_address(request)}", svc.settings.rate_limit_per_hour, HOUR)
    try:
        await lifecycle.create_pending(svc, new, limit)
    except jobs.LimitReached:
        log.info("lead form: rate limit reached, nothing stored")
        return refuse(429, "rate_limited")
    except lifecycle.StampUsed:
        # A bot reusing one fetched form, or a person who went back after sending
        # and sends changed data: the form again, with a fresh stamp and a notice.
        log.info("lead form: start stamp used before, nothing stored")
        form.started.data = _started(request)
        return refuse(409, "already_sent")
    return see_other(request, "lead_thanks")


async def lead_thanks(request: Request) -> Response:
    return render(request, "leads/thanks.html", {"valid_days": CONFIRM_MAX_AGE // 86400})


# -- confirmation and new links ---------------------------------------------------------


def _token_problem(request: Request, problem: str, purpose: str) -> Response:
    status = 410 if problem in ("expired", "gone", "unknown") else 400
    return render(request, "leads/token_problem.html", {"problem": problem, "purpose": purpose},
                  status_code=status)


def _public_id(request: Request, purpose: str, max_age: int, page: str) -> str | Response:
    """The lead's public id from the path token, or the page explaining what is wrong."""
    try:
        value = read_token(_secret(request), purpose, request.path_params["token"],
                           max_age=max_age)
        if not isinstance(value, str):
            raise TokenInvalid("malformed payload")
    except TokenExpired:
        return _token_problem(request, "expired", page)
    except TokenInvalid:
        return _token_problem(request, "invalid", page)
    return value


def _org_names(request: Request, rows: list[records.Delivery]) -> list[dict[str, Any]]:
    orgs = content(request).region.organisations
    return [{"name": orgs[r.org].name if r.org in orgs else r.org, "row": r} for r in rows]


async def lead_confirm(request: Request) -> Response:
    """Shows the confirmation page; only its button (``lead_confirm_act``) confirms.

    Mail filters of municipalities and companies open every link of a mail
    before a person reads it, so a GET (or HEAD) must never act. The page has
    one button, so it stays one click for the family. The POST needs no CSRF
    cookie: the signed token in the path is the proof, and whoever could make a
    browser send that POST holds the link already and could send it himself;
    a first visit straight from the mail (no cookie yet) therefore just works.
    """
    public_id = _public_id(request, CONFIRM_PURPOSE, CONFIRM_MAX_AGE, "confirm")
    if isinstance(public_id, Response):
        return public_id
    svc = services(request)
    lead = await records.by_public_id(svc.db, public_id)
    if lead is None:
        return _token_problem(request, "unknown", "confirm")
    if lead.status == "pending":
        return render(request, "leads/confirm.html", {
            "here": path_for(request, "lead_confirm_act", token=request.path_params["token"]),
            "days": svc.settings.pending_retention_days,
        }, headers=PRIVATE)
    if lead.status != "confirmed":
        return _token_problem(request, "gone", "confirm")
    token = make_token(_secret(request), SELF_SERVICE_PURPOSE, public_id)
    return render(request, "leads/confirmed.html", {
        "lead": lead,
        "first": request.query_params.get("bestaetigt") == "1",
        "recipients": _org_names(request, await records.recipients(svc.db, lead.id)),
        "self_service_url": path_for(request, "self_service", token=token),
    }, headers=PRIVATE)


async def lead_confirm_act(request: Request) -> Response:
    """The button: confirm and route the lead exactly once, then show the result
    (post/redirect/get). A second press only shows that it was confirmed."""
    public_id = _public_id(request, CONFIRM_PURPOSE, CONFIRM_MAX_AGE, "confirm")
    if isinstance(public_id, Response):
        return public_id
    result = await lifecycle.confirm(services(request), public_id)
    if result in ("unknown", "gone"):
        return _token_problem(request, result, "confirm")
    return see_other(request, "lead_confirm", {"bestaetigt": "1"} if result == "confirmed"
                     else None, token=request.path_params["token"])


async def resend_form(request: Request) -> Response:
    return render(request, "leads/resend.html",
                  {"form": ResendForm(), "sent": "gesendet" in request.query_params})


async def resend(request: Request) -> Response:
    svc = services(request)
    formdata = await read_form(request)
    form = ResendForm(formdata)
    if not csrf_valid(request, formdata.get(CSRF_FIELD)):
        return render(request, "leads/resend.html", {"form": form, "notice": "csrf"},
                      status_code=400)
    if not form.validate():
        return render(request, "leads/resend.html", {"form": form}, status_code=400)
    # Same answer, and the same work, whether the address is known, unknown or throttled.
    limit = jobs.Limit(f"resend:{client_address(request)}", svc.settings.rate_limit_per_hour,
                       HOUR)
    if not await lifecycle.request_new_mail(svc, form.email.data, limit):
        log.info("new link: rate limit reached, nothing queued")
    return see_other(request, "lead_resend", {"gesendet": "1"})


# -- family self-service -------------------------------------------------------------------


async def self_service(request: Request) -> Response:
    return await _self_service(request)


async def self_service_act(request: Request) -> Response:
    return await _self_service(request, post=True)


async def _self_service(request: Request, post: bool = False) -> Response:
    public_id = _public_id(request, SELF_SERVICE_PURPOSE, SELF_SERVICE_MAX_AGE, "self_service")
    if isinstance(public_id, Response):
        return public_id
    svc = services(request)
    lead = await records.by_public_id(svc.db, public_id)
    if lead is None:
        return _token_problem(request, "unknown", "self_service")
    here = path_for(request, "self_service", token=request.path_params["token"])
    action = None
    if post:
        formdata = await read_form(request)
        action = formdata.get("action")
        if action not in ("withdraw", "erase"):
            action = None
        if not csrf_valid(request, formdata.get(CSRF_FIELD)):
            return await _self_service_page(request, lead, here, notice="csrf", status=400)
        if action and formdata.get("confirmed") == "yes":
            act = lifecycle.withdraw if action == "withdraw" else lifecycle.erase
            changed = await act(svc, public_id)
            return RedirectResponse(here + (f"?erledigt={action}" if changed else ""), 303)
    done = request.query_params.get("erledigt")
    return await _self_service_page(request, lead, here, ask=action,
                                    done=done if done in ("withdraw", "erase") else None)


async def _self_service_page(request: Request, lead: records.Lead, here: str, *,
                             ask: str | None = None, done: str | None = None,
                             notice: str | None = None, status: int = 200) -> Response:
    c = content(request)
    rows = await records.recipients(services(request).db, lead.id)
    contacts = await lead_contacts(services(request).db, lead.id, c.region) \
        if lead.status == "confirmed" else []
    return render(request, "leads/self_service.html", {
        "contacts": contacts,
        "lead": lead,
        "here": here,
        "ask": ask,
        "done": done,
        "notice": notice,
        "recipients": _org_names(request, rows),
        "municipalities": c.region.municipality_names(lead.municipalities),
        "interests": lead.interests,
        "child_ages": lead.child_ages,
        "consents": [e for g in lead.consents if (e := c.consent.entry(g)) is not None],
        "application": await applications.standing(services(request).db, lead.id),
        "offers": await live_offers.merged(services(request).db, c.offers),
        "quiz": c.quizzes.get(lead.quiz or ""),
        "interest_labels": INTEREST_LABELS,
        "timeframe_labels": TIMEFRAME_LABELS,
        "child_age_labels": CHILD_AGE_LABELS,
        "active": lead.status in records.ACTIVE,
        "has_data": lead.has_data,
    }, status_code=status, headers=PRIVATE)
