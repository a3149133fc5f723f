"""Portal sign-in: login, logout, forgotten password, plus the guard every portal page uses."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import auth, i18n
from ..content import LANGUAGES
from ..formdata import read_form
from ..i18n import gettext as _
from ..partner import Viewer, viewer_for
from ..security import CSRF_FIELD, RateLimiter, client_key, csrf_valid

# The cookie is valid for the portal under every path it can be reached at
# (just /partner while the portal is German-only; /nl/partner … otherwise).
COOKIE_PATHS = tuple(dict.fromkeys(i18n.with_language("/partner", lang) for lang in LANGUAGES))
PortalView = Callable[[Request, Viewer], Awaitable[Response]]


def path_for(request: Request, name: str, query: str = "", **params: Any) -> str:
    """Language-aware path of a named route (what ``url_for`` does in templates)."""
    path = i18n.with_language(str(request.app.url_path_for(name, **params)),
                              i18n.current_language.get())
    return path + (f"?{query}" if query else "")


def see_other(request: Request, name: str, query: str = "", **params: Any) -> RedirectResponse:
    return RedirectResponse(path_for(request, name, query, **params), status_code=303)


def set_session_cookie(request: Request, response: Response, sid: str) -> None:
    https = request.app.state.settings.https
    for path in COOKIE_PATHS:
        response.set_cookie(auth.SESSION_COOKIE, sid, path=path, httponly=True,
                            samesite="lax", secure=https)


def clear_session_cookie(request: Request, response: Response) -> None:
    https = request.app.state.settings.https
    for path in COOKIE_PATHS:
        response.delete_cookie(auth.SESSION_COOKIE, path=path, httponly=True, samesite="lax",
                               secure=https)


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200,
           viewer: Viewer | None = None) -> Response:
    region = request.app.state.content.region
    org = region.organisations.get(viewer.org) if viewer else None
    response = request.app.state.render(request, name, {
        "viewer": viewer, "org": org, "region": region, **ctx}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # pages show personal data
    return response


def csrf_error() -> HTTPException:
    return HTTPException(400, _("Das Formular ist abgelaufen oder unvollständig. Bitte laden "
                                "Sie die Seite neu und versuchen Sie es noch einmal. Es wurde "
                                "nichts geändert."))


def portal(admin: bool = False) -> Callable[[PortalView], Callable[[Request], Awaitable[Response]]]:
    """Guard: a valid session (else to the login), admin if asked, CSRF on every POST."""

    def decorate(view: PortalView) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(view)
        async def guarded(request: Request) -> Response:
            check = await auth.check_session(request.app.state.db,
                                             request.cookies.get(auth.SESSION_COOKIE))
            response: Response
            if check.user is None:
                response = see_other(request, "partner_login",
                                     "expired=1" if check.expired else "")
                if check.expired:
                    clear_session_cookie(request, response)
                return response
            viewer = viewer_for(check.user, request.app.state.content.region)
            if admin and not viewer.admin:
                raise HTTPException(403, _("Diese Seite ist der Südwestfalen Agentur "
                                           "vorbehalten."))
            if request.method == "POST":
                form = await read_form(request)
                if not csrf_valid(request, form.get(CSRF_FIELD)):
                    raise csrf_error()
                request.state.form = form
            response = await view(request, viewer)
            response.headers["Cache-Control"] = "no-store"
            return response

        return guarded

    return decorate


# -- login / logout ------------------------------------------------------------


async def login(request: Request) -> Response:
    notices = {"expired": _("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."),
               "out": _("Sie sind abgemeldet."),
               "reset": _("Ihr Passwort wurde geändert. Bitte melden Sie sich an.")}
    notice = next((text for key, text in notices.items() if key in request.query_params), None)
    if request.method == "GET":
        return render(request, "partner/login.html", {"notice": notice, "email": "",
                                                      "errors": {}})
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    email = str(form.get("email", "")).strip()[:254]
    password = str(form.get("password", ""))[:200]
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Bitte geben Sie Ihre E-Mail-Adresse ein.")
    if not password:
        errors["password"] = _("Bitte geben Sie Ihr Passwort ein.")
    status = 400
    if not errors:
        db = request.app.state.db
        result = await auth.attempt_login(db, email, password, client_key(request))
        if result.user is not None:
            previous = request.cookies.get(auth.SESSION_COOKIE)
            if previous:  # signing in again (maybe as someone else) ends the old session
                await auth.end_session(db, previous)
            sid = await auth.create_session(db, result.user.id)
            async with db.transaction() as tx:
                await auth.audit(tx, result.user, "login")
            response = see_other(request, "partner_leads")
            set_session_cookie(request, response, sid)
            return response
        if result.locked_until is not None:
            status = 429
            errors["email"] = _("Zu viele fehlgeschlagene Anmeldungen. Aus Sicherheitsgründen "
                                "ist die Anmeldung für 15 Minuten gesperrt.")
        else:
            errors["email"] = _("E-Mail-Adresse oder Passwort ist nicht richtig.")
    return render(request, "partner/login.html", {"notice": None, "email": email,
                                                  "errors": errors}, status_code=status)


async def logout(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    sid = request.cookies.get(auth.SESSION_COOKIE)
    if sid:
        await auth.end_session(request.app.state.db, sid)
    response = see_other(request, "partner_login", "out=1")
    clear_session_cookie(request, response)
    return response


# -- forgotten password ----------------------------------------------------------


def _reset_limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if not hasattr(state, "password_reset_limiter"):
        state.password_reset_limiter = RateLimiter(5, 3600)
    return state.password_reset_limiter  # type: ignore[no-any-return]


async def forgot(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "partner/forgot.html",
                      {"sent": "sent" in request.query_params, "errors": {}, "email": ""})
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    email = str(form.get("email", "")).strip()[:254]
    if "@" not in email:
        return render(request, "partner/forgot.html", {
            "sent": False, "email": email,
            "errors": {"email": _("Bitte geben Sie Ihre E-Mail-Adresse ein.")}}, status_code=400)
    limiter = _reset_limiter(request)
    allowed = limiter.hit("addr:" + client_key(request)) and limiter.hit(
        "acct:" + auth.normalise_email(email))
    db = request.app.state.db
    user = await auth.user_by_email(db, email) if allowed else None
    if user is not None:
        await _send_reset_mail(request, user)
    # The same answer whether or not the account exists.
    return see_other(request, "partner_forgot", "sent=1")


async def _send_reset_mail(request: Request, user: auth.User) -> None:
    from ..mail import mailer_for
    from ..mail.outbox import enqueue

    mailer = mailer_for(request.app)
    token = auth.reset_token(request.app.state.settings.secret_key, user)
    lang = i18n.current_language.get()
    link = mailer.url(path_for(request, "partner_reset", token=token))
    subject, text, html = mailer.render("password_reset", {"link": link, "email": user.email,
                                                           "minutes": auth.RESET_MAX_AGE // 60},
                                        lang)
    msg = mailer.build(to=user.email, subject=subject, text=text, html=html)
    async with request.app.state.db.transaction() as tx:
        await enqueue(tx, msg, kind="password_reset", org=user.org)
        await auth.audit(tx, user, "password_reset_requested")


async def reset(request: Request) -> Response:
    db, settings = request.app.state.db, request.app.state.settings
    token = request.path_params["token"]
    user = await auth.user_for_reset(db, settings.secret_key, token)
    if user is None:
        return render(request, "partner/reset_invalid.html", {}, status_code=410)
    if request.method == "GET":
        return render(request, "partner/reset.html", {"errors": {}, "token": token})
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    password = str(form.get("password", ""))
    errors: dict[str, str] = {}
    problem = auth.password_problem(password)
    if problem:
        errors["password"] = _(problem)
    elif password != str(form.get("password_repeat", "")):
        errors["password_repeat"] = _("Die beiden Passwörter stimmen nicht überein.")
    if errors:
        return render(request, "partner/reset.html", {"errors": errors, "token": token},
                      status_code=400)
    await auth.set_password(db, user.id, password)
    async with db.transaction() as tx:
        await auth.audit(tx, user, "password_reset")
    response = see_other(request, "partner_login", "reset=1")
    clear_session_cookie(request, response)
    return response


routes = [
    Route("/partner/login", login, name="partner_login", methods=["GET", "POST"]),
    Route("/partner/logout", logout, name="partner_logout", methods=["POST"]),
    Route("/partner/passwort-vergessen", forgot, name="partner_forgot", methods=["GET", "POST"]),
    Route("/partner/passwort-neu/{token}", reset, name="partner_reset", methods=["GET", "POST"]),
]
