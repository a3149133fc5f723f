"""Lead form, double opt-in confirmation, new-link request and family self-service.

Thin views: parse and check the request, call campaign.leads, render. Every
POST checks CSRF first and ends in a 303 (post/redirect/get) when it changed
something; a bot that fills the honeypot sees the same "thank you" as a
family and nothing is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from wtforms.fields.choices import SelectChoice

from .. import i18n, leads
from ..attribution import clean_attribution
from ..content import SLUG_RE
from ..formdata import read_form
from ..forms import (
    CHILD_AGE_LABELS,
    INTEREST_LABELS,
    TIMEFRAME_LABELS,
    LeadForm,
    ResendForm,
    parse_list,
)
from ..lead_mails import (
    CONFIRM_MAX_AGE,
    CONFIRM_PATH,
    CONFIRM_PURPOSE,
    SELF_SERVICE_MAX_AGE,
    SELF_SERVICE_PATH,
    SELF_SERVICE_PURPOSE,
)
from ..lead_rules import check_lead, first, group_values
from ..mail import mailer_for
from ..security import CSRF_FIELD, client_key, csrf_valid
from ..templating import route_path
from ..tokens import TokenExpired, TokenInvalid, make_stamp, make_token, read_stamp, read_token
from ..vocab import INTERESTS, MAX_MUNICIPALITIES

log = logging.getLogger("campaign.leads")
# Pages reached through a personal link: never cached, never indexed.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
STARTED_PURPOSE = "lead-form-started"
MAX_TOKEN_LEN = 4096


def _path(request: Request, name: str, **params: Any) -> str:
    # parameters here are a family's tokens: not for the memo of route paths
    path = (str(request.app.url_path_for(name, **params)) if params
            else route_path(request.app, name, {}))
    return i18n.with_language(path, i18n.current_language.get())


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


# -- where the family came from (re-validated on every request) ------------------


def read_outcome(secret: str, token: str | None) -> dict[str, Any] | None:
    if not token or len(token) > MAX_TOKEN_LEN:
        return None
    try:
        from ..quiz import read_outcome_token
    except ImportError:
        return None
    try:
        return read_outcome_token(secret, token)
    except (ValueError, TypeError, KeyError):  # malformed only means "no outcome"
        return None


def origin_of(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    """Attribution, quiz slug and the signed quiz outcome from query or hidden fields."""
    quizzes = request.app.state.content.extras.get("quizzes", {})
    token = params.get("ergebnis") or ""
    outcome = read_outcome(_secret(request), token)
    quiz = str(params.get("quiz") or "")
    if outcome is not None:
        quiz = outcome["quiz"]
    elif not (SLUG_RE.match(quiz) and quiz in quizzes):
        quiz = ""
    return {"attribution": clean_attribution(params), "quiz": quiz,
            "ergebnis": token if outcome is not None else "", "outcome": outcome}


def _set_hidden(form: LeadForm, origin: Mapping[str, Any]) -> None:
    for key in ("utm_source", "utm_medium", "utm_campaign", "place"):
        form[key].data = origin["attribution"].get(key, "")
    form.quiz.data = origin["quiz"]
    form.ergebnis.data = origin["ergebnis"]


def _started(request: Request) -> str:
    return make_stamp(_secret(request), STARTED_PURPOSE, time.time())


def _too_fast(request: Request, stamp: str | None) -> bool:
    """A signed start time in the form: faster than a person can fill it in means a bot."""
    minimum = request.app.state.settings.min_fill_seconds
    if minimum <= 0:
        return False
    started = read_stamp(_secret(request), STARTED_PURPOSE, stamp or "")
    return started is None or time.time() - started < minimum


# -- the lead form ------------------------------------------------------------------


_CHOICES: list[tuple[Any, list[SelectChoice]]] = []  # (region, its choices), newest last


def _municipality_choices(region: Any) -> list[SelectChoice]:
    """Built once per loaded region (content is immutable), not per request."""
    for known, choices in _CHOICES:
        if known is region:
            return choices
    choices = [SelectChoice(m.slug, m.name) for m in region.municipalities.values()]
    _CHOICES[:] = [*_CHOICES[-3:], (region, choices)]
    return choices


def _form(request: Request, formdata: Any = None, **data: Any) -> LeadForm:
    choices = _municipality_choices(request.app.state.content.region)
    return LeadForm(formdata, municipality_choices=choices, **data)


def _render_form(request: Request, form: LeadForm, origin: Mapping[str, Any], *,
                 status: int = 200, notice: str | None = None) -> Response:
    content = request.app.state.content
    region = content.region
    chosen = set(form.municipalities.data or ())
    outcome = origin.get("outcome") or {}
    outcome_names = [region.municipalities[i["slug"]].name for i in outcome.get("top", [])[:3]
                     if i.get("slug") in region.municipalities]
    return request.app.state.render(request, "leads/form.html", {
        "form": form,
        "errors": form.error_list(),
        "notice": notice,
        "districts": [(d, region.in_district(d.slug), bool(chosen & set(d.municipalities)))
                      for d in region.districts.values()],
        "consent": content.extras["consent"],
        "interest_labels": INTEREST_LABELS,
        "timeframe_labels": TIMEFRAME_LABELS,
        "child_age_labels": CHILD_AGE_LABELS,
        "max_municipalities": MAX_MUNICIPALITIES,
        "outcome_names": outcome_names,
    }, status_code=status)


async def lead_form(request: Request) -> Response:
    if request.method == "POST":
        return await _submit(request)
    q = request.query_params
    region = request.app.state.content.region
    form = _form(request, data={
        "municipalities": parse_list(q.get("orte"), region.municipalities, MAX_MUNICIPALITIES),
        "interests": parse_list(q.get("interessen"), INTERESTS, len(INTERESTS)),
    })
    origin = origin_of(request, q)
    _set_hidden(form, origin)
    form.started.data = _started(request)
    form.consent_version.data = request.app.state.content.extras["consent"].version
    return _render_form(request, form, origin)


async def _submit(request: Request) -> Response:
    """Checks in this order: CSRF, honeypot, the form's rules, consent version,
    fill time, rate limit. Only a submission that passes all is stored."""
    formdata = await read_form(request)
    origin = origin_of(request, formdata)
    consent = request.app.state.content.extras["consent"]
    values = group_values(formdata.multi_items())

    def refuse(status: int, notice: str | None = None, errors: Any = None,
               **fields: Any) -> Response:
        form = _form(request, formdata)
        _set_hidden(form, origin)
        form.show_errors(errors or {})
        for name, value in fields.items():
            form[name].data = value
        return _render_form(request, form, origin, status=status, notice=notice)

    if not csrf_valid(request, formdata.get(CSRF_FIELD)):
        return refuse(400, "csrf")
    if first(values, "website"):
        log.info("lead form: honeypot filled, nothing stored")
        return RedirectResponse(_path(request, "lead_thanks"), status_code=303)
    checked = check_lead(values, request.app.state.content.region.municipalities)
    if checked.errors:
        return refuse(400, errors=checked.errors)
    if first(values, "consent_version") != consent.version:
        return refuse(400, "consent_changed", consent_version=consent.version)
    if _too_fast(request, first(values, "started")):
        log.info("lead form: submitted too fast, nothing stored")
        return refuse(400, "too_fast", started=_started(request))
    if not request.app.state.lead_limiter.hit(client_key(request)):
        log.info("lead form: rate limit reached, nothing stored")
        return refuse(429, "rate_limited")
    outcome = origin["outcome"]
    await leads.create_pending(
        request.app.state.db, mailer_for(request.app),
        leads.NewLead(checked.data, i18n.current_language.get(), origin["attribution"],
                      origin["quiz"], outcome["top"] if outcome else None,
                      submission=leads.submission_key(await request.body())),
        consent)
    return RedirectResponse(_path(request, "lead_thanks"), status_code=303)


async def lead_thanks(request: Request) -> Response:
    return request.app.state.render(request, "leads/thanks.html",
                                    {"valid_days": CONFIRM_MAX_AGE // 86400})


# -- confirmation and new links ----------------------------------------------------


def _token_problem(request: Request, problem: str, purpose: str) -> Response:
    status = 410 if problem in ("expired", "gone", "unknown") else 400
    return request.app.state.render(request, "leads/token_problem.html",
                                    {"problem": problem, "purpose": purpose},
                                    status_code=status)


def _public_id(request: Request, purpose: str, max_age: int, page: str) -> str | Response:
    """The lead's public id from the path token, or the page explaining what is wrong."""
    token = request.path_params["token"]
    try:
        if len(token) > MAX_TOKEN_LEN:
            raise TokenInvalid("too long")
        value = read_token(_secret(request), purpose, token, max_age=max_age)
        if not isinstance(value, str):
            raise TokenInvalid("malformed payload")
    except TokenExpired:
        return _token_problem(request, "expired", page)
    except TokenInvalid:
        return _token_problem(request, "invalid", page)
    return value


async def lead_confirm(request: Request) -> Response:
    public_id = _public_id(request, CONFIRM_PURPOSE, CONFIRM_MAX_AGE, "confirm")
    if isinstance(public_id, Response):
        return public_id
    db = request.app.state.db
    result = await leads.confirm(db, mailer_for(request.app), public_id)
    if result in ("unknown", "gone"):
        return _token_problem(request, result, "confirm")
    lead = await leads.by_public_id(db, public_id)
    if lead is None:  # erased by the family in the same moment
        return _token_problem(request, "unknown", "confirm")
    token = make_token(_secret(request), SELF_SERVICE_PURPOSE, public_id)
    return request.app.state.render(request, "leads/confirmed.html", {
        "first": result == "confirmed",
        "recipients": _org_names(request, await leads.recipients(db, lead["id"])),
        "self_service_url": _path(request, "self_service", token=token),
    }, headers=PRIVATE)


def _org_names(request: Request, rows: list[Any]) -> list[dict[str, Any]]:
    orgs = request.app.state.content.region.organisations
    return [{"name": orgs[r["org"]].name if r["org"] in orgs else r["org"], "row": r}
            for r in rows]


async def lead_resend(request: Request) -> Response:
    render = request.app.state.render
    if request.method == "GET":
        return render(request, "leads/resend.html",
                      {"form": ResendForm(), "sent": "gesendet" in request.query_params})
    formdata = await read_form(request)
    form = ResendForm(formdata)
    if not csrf_valid(request, formdata.get(CSRF_FIELD)):
        return render(request, "leads/resend.html", {"form": form, "notice": "csrf"},
                      status_code=400)
    if not form.validate():
        return render(request, "leads/resend.html", {"form": form}, status_code=400)
    # Same answer whether the address is known, unknown or throttled.
    if request.app.state.lead_limiter.hit("resend:" + client_key(request)):
        outcome = await leads.request_new_mail(request.app.state.db, mailer_for(request.app),
                                               form.email.data)
        log.info("new link requested: %s", outcome)
    return RedirectResponse(_path(request, "lead_resend") + "?gesendet=1", status_code=303)


# -- family self-service -------------------------------------------------------------


async def self_service(request: Request) -> Response:
    public_id = _public_id(request, SELF_SERVICE_PURPOSE, SELF_SERVICE_MAX_AGE, "self_service")
    if isinstance(public_id, Response):
        return public_id
    db = request.app.state.db
    lead = await leads.by_public_id(db, public_id)
    if lead is None:
        return _token_problem(request, "unknown", "self_service")
    here = _path(request, "self_service", token=request.path_params["token"])
    action = None
    if request.method == "POST":
        formdata = await read_form(request)
        action = formdata.get("action")
        if action not in ("withdraw", "erase"):
            action = None
        if not csrf_valid(request, formdata.get(CSRF_FIELD)):
            return await _self_service_page(request, lead, here, notice="csrf", status=400)
        if action and formdata.get("confirmed") == "yes":
            mailer = mailer_for(request.app)
            changed = await (leads.withdraw if action == "withdraw" else leads.erase)(
                db, mailer, public_id)
            suffix = f"?erledigt={action}" if changed else ""
            return RedirectResponse(here + suffix, status_code=303)
    done = request.query_params.get("erledigt")
    return await _self_service_page(request, lead, here, ask=action,
                                    done=done if done in ("withdraw", "erase") else None)


async def _self_service_page(request: Request, lead: Any, here: str, *, ask: str | None = None,
                             done: str | None = None, notice: str | None = None,
                             status: int = 200) -> Response:
    import json

    region = request.app.state.content.region
    consent = request.app.state.content.extras["consent"]
    rows = await leads.recipients(request.app.state.db, lead["id"])
    return request.app.state.render(request, "leads/self_service.html", {
        "lead": lead,
        "here": here,
        "ask": ask,
        "done": done,
        "notice": notice,
        "recipients": _org_names(request, rows),
        "municipalities": [region.municipalities[s].name for s in json.loads(
            lead["municipalities"] or "[]") if s in region.municipalities],
        "interests": json.loads(lead["interests"] or "[]"),
        "child_ages": json.loads(lead["child_ages"] or "[]"),
        "consents": [consent.groups[g] for g in json.loads(lead["consents"] or "[]")
                     if g in consent.groups],
        "interest_labels": INTEREST_LABELS,
        "timeframe_labels": TIMEFRAME_LABELS,
        "child_age_labels": CHILD_AGE_LABELS,
        "active": lead["status"] in ("pending", "confirmed"),
        "has_data": lead["status"] in ("pending", "confirmed", "withdrawn"),
    }, status_code=status, headers=PRIVATE)


routes = [
    Route("/interesse", lead_form, name="lead_form", methods=["GET", "POST"]),
    Route("/interesse/danke", lead_thanks, name="lead_thanks"),
    Route("/interesse/neuer-link", lead_resend, name="lead_resend", methods=["GET", "POST"]),
    Route(CONFIRM_PATH, lead_confirm, name="lead_confirm"),
    Route(SELF_SERVICE_PATH, self_service, name="self_service", methods=["GET", "POST"]),
]
