"""Quiz pages: intro, one question per page, outcome.

The answers live in a signed cookie (no personal data, nothing stored on the
server), so a quiz needs no session table; the funnel only adds one to daily
aggregate counters. Every broken path (missing or forged state, a skipped
question, an unknown answer) ends on a page that explains it and links back.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...content.quizzes import Quiz
from ...core.db import DatabaseUnavailable
from ...core.i18n import gettext as _
from ...core.tokens import TokenExpired, TokenInvalid, make_token, read_token
from ...core.vocab import SKILLED_WORK_INTEREST
from ...portal import facts
from ...quiz.outcome import make_outcome_token
from ...quiz.scoring import score
from ...reach import funnel
from ...reach.attribution import ATTRIBUTION_PARAMS, clean_attribution
from ..csrf import csrf_valid
from ..templating import path_for
from .base import content, read_form, render, services
from .offers import teasers
from .share import result_path

log = logging.getLogger("campaign.quiz")
COOKIE = "quiz"
STATE_PURPOSE = "quiz-state"
STATE_MAX_AGE = 2 * 24 * 3600
SHOWN_MATCHES = 5


class QuizProblem(Exception):
    """A dead end in the quiz flow, shown as a page with a way back."""

    def __init__(self, status: int, title: str, message: str, href: str, label: str,
                 clear: bool = False) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message
        self.href, self.label, self.clear = href, label, clear


def _quiz(request: Request) -> Quiz:
    quiz = content(request).quizzes.get(request.path_params["quiz"])
    if quiz is None:
        raise QuizProblem(404, _("Dieses Quiz gibt es nicht"),
                          _("Vielleicht hat sich die Adresse geändert."),
                          path_for(request, "landing"), _("Zur Startseite"))
    return quiz


def _to_start(request: Request, quiz: Quiz) -> tuple[str, str]:
    return path_for(request, "quiz_start", quiz=quiz.slug), _("Quiz neu starten")


def _to_question(request: Request, quiz: Quiz, n: int) -> tuple[str, str]:
    return (path_for(request, "quiz_question", quiz=quiz.slug, n=n),
            _("Zu Frage %(n)s") % {"n": n})


# -- state in the signed cookie ------------------------------------------------------


def _valid_state(data: Any, quiz: Quiz) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("a"), dict):
        return False
    if not isinstance(data.get("t"), dict) or not isinstance(data.get("f"), bool):
        return False
    by_slug = {q.slug: q for q in quiz.questions}
    for key, chosen in data["a"].items():
        if key not in by_slug or not isinstance(chosen, list) \
                or not all(isinstance(v, str) for v in chosen) or by_slug[key].check(chosen):
            return False
    return True


def _state(request: Request, quiz: Quiz) -> dict[str, Any]:
    """This quiz's state from the cookie, or a QuizProblem saying what is wrong."""
    raw = request.cookies.get(COOKIE)
    data: Any = None
    if raw:
        try:
            data = read_token(services(request).settings.secret_key, STATE_PURPOSE, raw,
                              max_age=STATE_MAX_AGE)
        except TokenExpired:
            data = None
        except TokenInvalid:
            data = False
    if isinstance(data, dict) and data.get("q") == quiz.slug:
        if _valid_state(data, quiz):
            data["t"] = clean_attribution(data["t"])
            return data
        data = False
    href, label = _to_start(request, quiz)
    if data is False:
        raise QuizProblem(400, _("Ihre Antworten konnten nicht gelesen werden"),
                          _("Die gespeicherten Quiz-Antworten sind ungültig oder wurden "
                            "verändert. Bitte startet das Quiz noch einmal."),
                          href, label, clear=True)
    raise QuizProblem(400, _("Wir finden Ihre bisherigen Antworten nicht"),
                      _("Vielleicht ist das Quiz schon länger her, oder Ihr Browser speichert "
                        "keine Cookies. Starten Sie das Quiz einfach noch einmal."), href, label)


def _save(request: Request, response: Response, quiz: Quiz, state: dict[str, Any]) -> Response:
    settings = services(request).settings
    token = make_token(settings.secret_key, STATE_PURPOSE,
                       {"q": quiz.slug, "a": state["a"], "t": state["t"], "f": state["f"]})
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="lax",
                        secure=settings.https)
    return response


def _guarded(view: Any) -> Any:
    """Turn a QuizProblem into its page (and drop a broken cookie)."""
    async def wrapper(request: Request) -> Response:
        try:
            response: Response = await view(request)
            return response
        except QuizProblem as exc:
            response = render(request, "quiz/problem.html", {
                "title": exc.title, "message": exc.message, "href": exc.href,
                "label": exc.label}, status_code=exc.status)
            if exc.clear:
                response.delete_cookie(COOKIE, path="/")
            return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _count_after(response: Response, request: Request, quiz: Quiz, step: str,
                 attribution: dict[str, str]) -> Response:
    """Count the funnel step once the page has gone out: the family does not wait
    for a statistics write (and its sync to the disk). A count the database
    cannot take right now is lost and logged, never an error page."""
    db = services(request).db
    attribution = dict(attribution)

    async def count() -> None:
        try:
            async with db.transaction() as conn:
                await funnel.count(conn, quiz.slug, step, attribution)
        except DatabaseUnavailable as exc:
            log.warning("funnel step %s of %s not counted: %s", step, quiz.slug, exc)

    response.background = BackgroundTask(count)
    return response


# -- views -----------------------------------------------------------------------------


@_guarded
async def start(request: Request) -> Response:
    """The intro, with a way back into an unfinished run."""
    quiz = _quiz(request)
    resume, done = None, False
    try:
        saved = _state(request, quiz)
        resume = quiz.first_unanswered(saved["a"]) if saved["a"] else None
        done = resume is None and bool(saved["a"])
    except QuizProblem:
        pass
    return render(request, "quiz/start.html", {
        "quiz": quiz, "attribution": clean_attribution(request.query_params),
        "resume": resume, "done": done,
    })


@_guarded
async def begin(request: Request) -> Response:
    """A fresh run begins (counted as "started")."""
    quiz = _quiz(request)
    form = await read_form(request)
    if not csrf_valid(request, form.get("csrf_token")):
        href, _label = _to_start(request, quiz)
        raise QuizProblem(400, _("Das Formular ist abgelaufen"),
                          _("Bitte startet das Quiz noch einmal."), href, _("Zum Quiz"))
    attribution = clean_attribution({k: str(form.get(k) or "") for k in ATTRIBUTION_PARAMS})
    response = RedirectResponse(path_for(request, "quiz_question", quiz=quiz.slug, n=1), 303)
    _count_after(response, request, quiz, "started", attribution)
    return _save(request, response, quiz, {"a": {}, "t": attribution, "f": False})


def _step(request: Request, quiz: Quiz, state: dict[str, Any]) -> int:
    """The question number of the path, if it may be shown now."""
    n: int = request.path_params["n"]
    total = len(quiz.questions)
    first = quiz.first_unanswered(state["a"])
    if not 1 <= n <= total:
        raise QuizProblem(404, _("Diese Frage gibt es nicht"),
                          _("Das Quiz hat %(total)s Fragen.") % {"total": total},
                          *_to_question(request, quiz, first or total))
    if first is not None and n > first:
        raise QuizProblem(409, _("Bitte beantwortet zuerst die vorherigen Fragen"),
                          _("Frage %(n)s ist noch offen.") % {"n": first},
                          *_to_question(request, quiz, first))
    return n


def _question_page(request: Request, quiz: Quiz, n: int, chosen: list[str],
                   error: str | None = None) -> Response:
    back = (path_for(request, "quiz_question", quiz=quiz.slug, n=n - 1) if n > 1
            else path_for(request, "quiz_start", quiz=quiz.slug))
    return render(request, "quiz/question.html", {
        "quiz": quiz, "question": quiz.questions[n - 1], "n": n, "total": len(quiz.questions),
        "chosen": chosen, "error": error, "back_url": back,
    }, status_code=400 if error else 200)


@_guarded
async def question(request: Request) -> Response:
    """One question per page, with the answer given so far."""
    quiz = _quiz(request)
    state = _state(request, quiz)
    n = _step(request, quiz, state)
    return _question_page(request, quiz, n, list(state["a"].get(quiz.questions[n - 1].slug, [])))


def _error_text(code: str, kind: str) -> str:
    if code == "missing":
        return _("Bitte wählt mindestens eine Antwort aus.") if kind == "multi" \
            else _("Bitte wählt eine Antwort aus.")
    return _("Diese Antwort gibt es nicht. Bitte wählt eine der angebotenen Antworten.")


@_guarded
async def answer(request: Request) -> Response:
    """Store the answer and move on (post/redirect/get), or show what is wrong."""
    quiz = _quiz(request)
    state = _state(request, quiz)
    n = _step(request, quiz, state)
    q = quiz.questions[n - 1]
    form = await read_form(request)
    chosen = [str(v) for v in form.getlist("answer")]
    if not csrf_valid(request, form.get("csrf_token")):
        return _question_page(request, quiz, n, chosen, _(
            "Das Formular ist abgelaufen. Bitte senden Sie Ihre Antwort noch einmal ab."))
    code = q.check(chosen)
    if code is not None:
        return _question_page(request, quiz, n, [v for v in chosen if v in q.values],
                              _error_text(code, q.kind))
    first_answer = q.slug not in state["a"]
    state["a"][q.slug] = chosen
    nxt = quiz.first_unanswered(state["a"])
    total = len(quiz.questions)
    url = (path_for(request, "quiz_result", quiz=quiz.slug) if nxt is None
           else path_for(request, "quiz_question", quiz=quiz.slug,
                         n=n + 1 if n < total else nxt))
    response = RedirectResponse(url, 303)
    if first_answer:
        _count_after(response, request, quiz, f"answered:{n}", state["t"])
    return _save(request, response, quiz, state)


@_guarded
async def result(request: Request) -> Response:
    """The ranking with reasons; the first view of a finished run counts as "finished"."""
    quiz = _quiz(request)
    state = _state(request, quiz)
    first = quiz.first_unanswered(state["a"])
    if first is not None:
        raise QuizProblem(409, _("Das Quiz ist noch nicht fertig"),
                          _("Frage %(n)s ist noch offen.") % {"n": first},
                          *_to_question(request, quiz, first))
    region = content(request).region
    # The towns' approved facts, read per request so that every instance ranks alike.
    towns = await facts.merged(services(request).db, region.municipalities)
    ranking = score(quiz, state["a"], towns.values())
    token = make_outcome_token(services(request).settings.secret_key, quiz, ranking)
    lead_query: dict[str, str] = {"orte": ",".join(m.slug for m in ranking[:3]),
                                  "quiz": quiz.slug, "ergebnis": token, **state["t"]}
    if quiz.interests:
        lead_query["interessen"] = ",".join(quiz.interests)
    skilled = (region.orgs_of_kind("skilled_workers")
               if SKILLED_WORK_INTEREST in quiz.interests else [])
    top3 = [m.slug for m in ranking[:3]]
    response = render(request, "quiz/result.html", {
        "quiz": quiz,
        "ranking": ranking,
        "matches": [{"match": m, "municipality": towns[m.slug],
                     "district": region.district_of(m.slug),
                     "reasons": [r.text(_) for r in m.reasons]}
                    for m in ranking[:SHOWN_MATCHES]],
        "lead_query": lead_query,
        "skilled_contact": skilled[0] if skilled else None,
        "share_path": result_path(request, quiz.slug, top3),
        "share_names": ", ".join(region.municipality_names(top3)),
        "offers_for": await teasers(request, [m.slug for m in ranking[:SHOWN_MATCHES]]),
    })
    if not state["f"]:
        _count_after(response, request, quiz, "finished", state["t"])
        state["f"] = True
        _save(request, response, quiz, state)
    return response
