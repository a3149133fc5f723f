"""Quiz pages: intro, one question per page, outcome.

The answers live in a signed cookie (no personal data, nothing stored on the
server), so a quiz needs no session table; the funnel only adds one to daily
aggregate counters. Every broken path (missing or forged state, a skipped
question, an unknown answer) ends on a page that explains it and links back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import funnel, i18n
from ..attribution import ATTRIBUTION_PARAMS, clean_attribution
from ..formdata import read_form
from ..i18n import gettext as _
from ..pagecache import form_page
from ..quiz import Quiz, make_outcome_token, score
from ..security import csrf_valid
from ..templating import route_path
from ..tokens import TokenExpired, TokenInvalid, make_token, read_token
from ..vocab import SKILLED_WORK_INTEREST

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


def _path(request: Request, name: str, **params: Any) -> str:
    path = route_path(request.app, name, params)  # quiz slugs and question numbers
    return i18n.with_language(path, i18n.current_language.get())


def _quiz(request: Request) -> Quiz:
    quizzes = request.app.state.content.extras.get("quizzes", {})
    quiz = quizzes.get(request.path_params["quiz"])
    if quiz is None:
        raise QuizProblem(404, _("Dieses Quiz gibt es nicht"),
                          _("Vielleicht hat sich die Adresse geändert."),
                          _path(request, "landing"), _("Zur Startseite"))
    return quiz


def _to_start(request: Request, quiz: Quiz) -> tuple[str, str]:
    return _path(request, "quiz_start", quiz=quiz.slug), _("Quiz neu starten")


# -- state in the signed cookie --------------------------------------------------


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
            data = read_token(request.app.state.settings.secret_key, STATE_PURPOSE, raw,
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
        raise QuizProblem(400, _("Eure Antworten konnten nicht gelesen werden"),
                          _("Die gespeicherten Quiz-Antworten sind ungültig oder wurden "
                            "verändert. Bitte startet das Quiz noch einmal."),
                          href, label, clear=True)
    raise QuizProblem(400, _("Wir finden eure bisherigen Antworten nicht"),
                      _("Vielleicht ist das Quiz schon länger her, oder euer Browser speichert "
                        "keine Cookies. Startet das Quiz einfach noch einmal."), href, label)


def _save(request: Request, response: Response, quiz: Quiz, state: dict[str, Any]) -> Response:
    token = make_token(request.app.state.settings.secret_key, STATE_PURPOSE,
                       {"q": quiz.slug, "a": state["a"], "t": state["t"], "f": state["f"]})
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="lax",
                        secure=request.app.state.settings.https)
    return response


def _render_problem(request: Request, exc: QuizProblem) -> Response:
    response = request.app.state.render(request, "quiz/problem.html", {
        "title": exc.title, "message": exc.message, "href": exc.href, "label": exc.label,
    }, status_code=exc.status)
    if exc.clear:
        response.delete_cookie(COOKIE, path="/")
    return response


def _guarded(view: Any) -> Any:
    async def wrapper(request: Request) -> Response:
        try:
            return await view(request)
        except QuizProblem as exc:
            return _render_problem(request, exc)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# -- views -------------------------------------------------------------------------


@_guarded
async def start(request: Request) -> Response:
    """GET: the intro. POST: a fresh run begins (counted as "started")."""
    quiz = _quiz(request)
    if request.method == "POST":
        form = await read_form(request)
        if not csrf_valid(request, form.get("csrf_token")):
            href, _label = _to_start(request, quiz)
            raise QuizProblem(400, _("Das Formular ist abgelaufen"),
                              _("Bitte startet das Quiz noch einmal."), href, _("Zum Quiz"))
        attribution = clean_attribution({k: str(form.get(k) or "") for k in ATTRIBUTION_PARAMS})
        state: dict[str, Any] = {"a": {}, "t": attribution, "f": False}
        await funnel.count(request.app.state.db, quiz.slug, "started", attribution)
        response = RedirectResponse(_path(request, "quiz_question", quiz=quiz.slug, n=1), 303)
        return _save(request, response, quiz, state)
    resume, done = None, False
    try:
        saved = _state(request, quiz)
        resume = quiz.first_unanswered(saved["a"]) if saved["a"] else None
        done = resume is None and bool(saved["a"])
    except QuizProblem:
        pass
    return request.app.state.render(request, "quiz/start.html", {
        "quiz": quiz,
        "attribution": clean_attribution(request.query_params),
        "resume": resume,
        "done": done,
    })


def _error_text(code: str, kind: str) -> str:
    if code == "missing":
        return _("Bitte wählt mindestens eine Antwort aus.") if kind == "multi" \
            else _("Bitte wählt eine Antwort aus.")
    return _("Diese Antwort gibt es nicht. Bitte wählt eine der angebotenen Antworten.")


@_guarded
async def question(request: Request) -> Response:
    """One question per page; POST stores the answer and moves on (post/redirect/get)."""
    quiz = _quiz(request)
    state = _state(request, quiz)
    n = request.path_params["n"]
    total = len(quiz.questions)
    first = quiz.first_unanswered(state["a"])
    if not 1 <= n <= total:
        target = first or total
        raise QuizProblem(404, _("Diese Frage gibt es nicht"),
                          _("Das Quiz hat %(total)s Fragen.") % {"total": total},
                          _path(request, "quiz_question", quiz=quiz.slug, n=target),
                          _("Zu Frage %(n)s") % {"n": target})
    if first is not None and n > first:
        raise QuizProblem(409, _("Bitte beantwortet zuerst die vorherigen Fragen"),
                          _("Frage %(n)s ist noch offen.") % {"n": first},
                          _path(request, "quiz_question", quiz=quiz.slug, n=first),
                          _("Zu Frage %(n)s") % {"n": first})
    q = quiz.questions[n - 1]
    chosen: list[str] = list(state["a"].get(q.slug, []))
    error = None
    if request.method == "POST":
        form = await read_form(request)
        chosen = [str(v) for v in form.getlist("answer")]
        if not csrf_valid(request, form.get("csrf_token")):
            error = _("Das Formular ist abgelaufen. Bitte sendet eure Antwort noch einmal ab.")
        elif (code := q.check(chosen)) is not None:
            error = _error_text(code, q.kind)
            chosen = [v for v in chosen if v in q.values]
        else:
            if q.slug not in state["a"]:
                await funnel.count(request.app.state.db, quiz.slug, f"answered:{n}", state["t"])
            state["a"][q.slug] = chosen
            nxt = quiz.first_unanswered(state["a"])
            url = (_path(request, "quiz_result", quiz=quiz.slug) if nxt is None
                   else _path(request, "quiz_question", quiz=quiz.slug,
                              n=n + 1 if n < total else nxt))
            return _save(request, RedirectResponse(url, 303), quiz, state)
    back = (_path(request, "quiz_question", quiz=quiz.slug, n=n - 1) if n > 1
            else _path(request, "quiz_start", quiz=quiz.slug))

    def page() -> Response:
        return request.app.state.render(request, "quiz/question.html", {
            "quiz": quiz, "question": q, "n": n, "total": total, "chosen": chosen,
            "error": error, "back_url": back,
        }, status_code=400 if error else 200)

    if error is None:  # the same page for everyone at this step with these answers
        return form_page(request, (tuple(chosen),), page)
    return page()


@_guarded
async def result(request: Request) -> Response:
    """The ranking with reasons; the first view of a finished run counts as "finished"."""
    quiz = _quiz(request)
    state = _state(request, quiz)
    first = quiz.first_unanswered(state["a"])
    if first is not None:
        raise QuizProblem(409, _("Das Quiz ist noch nicht fertig"),
                          _("Frage %(n)s ist noch offen.") % {"n": first},
                          _path(request, "quiz_question", quiz=quiz.slug, n=first),
                          _("Zu Frage %(n)s") % {"n": first})
    region = request.app.state.content.region
    ranking = score(quiz, state["a"], region.municipalities.values())
    top = ranking[:SHOWN_MATCHES]
    token = make_outcome_token(request.app.state.settings.secret_key, quiz, ranking)
    lead_query: dict[str, str] = {"orte": ",".join(m.slug for m in ranking[:3]),
                                  "quiz": quiz.slug, "ergebnis": token, **state["t"]}
    if quiz.interests:
        lead_query["interessen"] = ",".join(quiz.interests)
    skilled = (region.orgs_of_kind("skilled_workers")
               if SKILLED_WORK_INTEREST in quiz.interests else [])
    response = request.app.state.render(request, "quiz/result.html", {
        "quiz": quiz,
        "ranking": ranking,
        "matches": [{"match": m, "municipality": region.municipalities[m.slug],
                     "district": region.district_of(m.slug),
                     "reasons": [r.text(_) for r in m.reasons]} for m in top],
        "lead_query": lead_query,
        "skilled_contact": skilled[0] if skilled else None,
    })
    if not state["f"]:
        await funnel.count(request.app.state.db, quiz.slug, "finished", state["t"])
        state["f"] = True
        _save(request, response, quiz, state)
    return response


routes = [
    Route("/quiz/{quiz}", start, name="quiz_start", methods=["GET", "POST"]),
    Route("/quiz/{quiz}/frage/{n:int}", question, name="quiz_question", methods=["GET", "POST"]),
    Route("/quiz/{quiz}/ergebnis", result, name="quiz_result"),
]
