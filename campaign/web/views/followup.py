"""``/nachfrage/…``: the family's consent to one follow-up, and its answer a year later.

Both links only show a page; the button's POST acts. Mail scanners open every
link of a mail, so a GET never changes anything. As with the confirmation link,
the signed token in the path is the proof (no CSRF cookie is needed, so the
first visit straight from the mail works).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...core.tokens import TokenExpired, TokenInvalid
from ...leads import followup
from ..templating import path_for
from .base import PRIVATE, read_form, render, see_other, services


def _problem(request: Request, problem: str) -> Response:
    status = {"expired": 410, "invalid": 400}.get(problem, 404)
    return render(request, "followup/problem.html", {"problem": problem},
                  status_code=status, headers=PRIVATE)


def _public_id(request: Request, purpose: str) -> str | Response:
    try:
        return followup.read(services(request).settings.secret_key, purpose,
                             request.path_params["token"])
    except TokenExpired:
        return _problem(request, "expired")
    except TokenInvalid:
        return _problem(request, "invalid")


async def consent(request: Request) -> Response:
    """The question and one button (or that consent is given)."""
    public_id = _public_id(request, followup.CONSENT_PURPOSE)
    if isinstance(public_id, Response):
        return public_id
    state = await followup.consent_state(services(request).db, public_id)
    if state == "unknown":
        return _problem(request, "unknown")
    return render(request, "followup/consent.html", {
        "state": state, "first": request.query_params.get("danke") == "1",
        "consent_text": followup.CONSENT_TEXT,
        "here": path_for(request, "followup_consent_act", token=request.path_params["token"]),
    }, headers=PRIVATE)


async def consent_act(request: Request) -> Response:
    """Records the consent once; a second press changes nothing."""
    public_id = _public_id(request, followup.CONSENT_PURPOSE)
    if isinstance(public_id, Response):
        return public_id
    outcome = await followup.give_consent(services(request), public_id)
    if outcome == "unknown":
        return _problem(request, "unknown")
    return see_other(request, "followup_consent", {"danke": "1"} if outcome == "recorded"
                     else None, token=request.path_params["token"])


def _answer_page(request: Request, state: str, *, errors: dict[str, Any] | None = None,
                 values: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "followup/answer.html", {
        "state": state, "first": request.query_params.get("danke") == "1",
        "errors": errors or {}, "values": values or {"feedback": ""},
        "max_feedback": followup.FEEDBACK_MAX,
        "here": path_for(request, "followup_answer_act", token=request.path_params["token"]),
    }, status_code=status, headers=PRIVATE)


async def answer(request: Request) -> Response:
    """The three questions, or that they are answered."""
    public_id = _public_id(request, followup.ANSWER_PURPOSE)
    if isinstance(public_id, Response):
        return public_id
    state = await followup.answer_state(services(request).db, public_id)
    if state == "unknown":
        return _problem(request, "unknown")
    return _answer_page(request, state)


async def answer_act(request: Request) -> Response:
    """Stores the answer once; a wrong field shows the form again (400), a second
    answer is told that the questions are answered."""
    public_id = _public_id(request, followup.ANSWER_PURPOSE)
    if isinstance(public_id, Response):
        return public_id
    svc = services(request)
    state = await followup.answer_state(svc.db, public_id)
    if state == "unknown":
        return _problem(request, "unknown")
    if state == "answered":
        return _answer_page(request, state, status=409)
    form = await read_form(request)
    parsed = followup.parse_answer(form)
    if isinstance(parsed, dict):
        values = {k: str(form.get(k, ""))[:followup.FEEDBACK_MAX * 2]
                  for k in ("still_here", "satisfaction", "feedback")}
        return _answer_page(request, state, errors=parsed, values=values, status=400)
    outcome = await followup.record_answer(svc, public_id, parsed)
    if outcome == "unknown":
        return _problem(request, "unknown")
    if outcome == "already":
        return _answer_page(request, "answered", status=409)
    return see_other(request, "followup_answer", {"danke": "1"},
                     token=request.path_params["token"])
