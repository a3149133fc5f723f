"""Portal sign-in: login (back to the page asked for), logout, forgotten and changed
password, and the guard of every portal page."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.formatting import format_time
from ...core.i18n import LANGUAGES, with_language
from ...core.i18n import gettext as _
from ...portal import accounts, team
from ...portal import mails as reset_mails
from ...portal.accounts import SESSION_COOKIE
from ...portal.cases import Viewer, record_action, viewer_for
from ..cookies import cookie_name
from ..csrf import CSRF_FIELD, csrf_valid
from ..templating import route_path
from .base import client_address, content, read_form, see_other, services
from .base import render as render_page

PortalView = Callable[[Request, Viewer], Awaitable[Response]]
# Where the session cookie lived before it moved to Path=/ (``__Host-`` needs it):
# cleared on sign-in and sign-out, so an old cookie cannot outlive a logout.
OLD_COOKIE_PATHS = tuple(dict.fromkeys(with_language("/partner", lang) for lang in LANGUAGES))
# Where a sign-in may lead back to: a portal page of this site, as a path (no scheme,
# no host, no backslash, no "//" start), in characters a URL path and query use.
_LANGS = "|".join(re.escape(lang) for lang in LANGUAGES)
_NEXT = re.compile(rf"/(?:(?:{_LANGS})/)?partner/[A-Za-z0-9/._~%+=&?-]{{0,400}}")


def safe_next(value: object) -> str | None:
    """``value`` when it is a portal page of this site to return to after signing in
    (from the link in a lead mail), else None: never another site."""
    return value if isinstance(value, str) and _NEXT.fullmatch(value) else None


def session_cookie(request: Request) -> str:
    """``session``, or ``__Host-session`` on https; for the whole site (``/healthz`` too)."""
    return cookie_name(request, SESSION_COOKIE)


def set_session_cookie(request: Request, response: Response, sid: str) -> None:
    _clear_old_cookies(response)
    response.set_cookie(session_cookie(request), sid, path="/", httponly=True, samesite="lax",
                        secure=services(request).settings.https)


def clear_session_cookie(request: Request, response: Response) -> None:
    _clear_old_cookies(response)
    response.delete_cookie(session_cookie(request), path="/", httponly=True, samesite="lax",
                           secure=services(request).settings.https)


def _clear_old_cookies(response: Response) -> None:
    for path in OLD_COOKIE_PATHS:
        response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, samesite="lax")


async def signed_in(request: Request) -> accounts.SessionCheck:
    """Who the session cookie belongs to (``user`` is None when nobody)."""
    svc = services(request)
    return await accounts.check_session(svc.db, request.cookies.get(session_cookie(request)),
                                        svc.clock.now())


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200,
           viewer: Viewer | None = None) -> Response:
    """A portal page: it shows personal data, so it is never stored by a cache."""
    region = content(request).region
    org = region.organisations.get(viewer.org) if viewer else None
    response = render_page(request, name, {"viewer": viewer, "org": org, "region": region,
                                           **ctx}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
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
            check = await signed_in(request)
            response: Response
            if check.user is None:
                query = {"expired": "1"} if check.expired else {}
                wanted = request.url.path + (f"?{request.url.query}"
                                             if request.url.query else "")
                if request.method in ("GET", "HEAD") and wanted != route_path(
                        request, "partner_leads"):  # back here after signing in
                    query["next"] = safe_next(wanted) or ""
                response = see_other(request, "partner_login", query)
                if check.expired:
                    clear_session_cookie(request, response)
                return response
            viewer = viewer_for(check.user, content(request).region)
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


# -- login / logout ------------------------------------------------------------------------


def _login_page(request: Request, email: str = "", errors: dict[str, str] | None = None,
                status: int = 200, target: str | None = None) -> Response:
    notices = {"expired": _("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."),
               "out": _("Sie sind abgemeldet."),
               "reset": _("Ihr Passwort wurde geändert. Bitte melden Sie sich an.")}
    notice = next((text for key, text in notices.items() if key in request.query_params), None)
    return render(request, "partner/login.html",
                  {"notice": notice if not errors else None, "email": email,
                   "errors": errors or {},
                   "next": target or safe_next(request.query_params.get("next"))},
                  status_code=status)


async def login_form(request: Request) -> Response:
    return _login_page(request)


async def login(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    email = str(form.get("email", "")).strip()[:254]
    password = str(form.get("password", ""))[:200]
    target = safe_next(form.get("next"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Bitte geben Sie Ihre E-Mail-Adresse ein.")
    if not password:
        errors["password"] = _("Bitte geben Sie Ihr Passwort ein.")
    status = 400
    if not errors:
        svc = services(request)
        now = svc.clock.now()
        result = await accounts.attempt_login(svc.db, email, password, client_address(request),
                                              now)
        if result.user is not None:
            previous = request.cookies.get(session_cookie(request))
            if previous:  # signing in again (maybe as someone else) ends the old session
                await accounts.end_session(svc.db, previous)
            sid = await accounts.create_session(svc.db, result.user.id, now)
            await record_action(svc.db, None, result.user, "login", now)
            response = (RedirectResponse(target, status_code=303) if target
                        else see_other(request, "partner_leads"))
            set_session_cookie(request, response, sid)
            return response
        if result.throttled_until is not None:
            return _throttled(request, email, now, result.throttled_until, target)
        errors["email"] = _("E-Mail-Adresse oder Passwort ist nicht richtig.")
    return _login_page(request, email, errors, status, target)


def _throttled(request: Request, email: str, now: datetime, until: datetime,
               target: str | None = None) -> Response:
    """429 naming the minute from which the next attempt is checked (rounded up)."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    retry_at = until.replace(second=0, microsecond=0)
    if retry_at < until:
        retry_at += timedelta(minutes=1)
    response = _login_page(request, email, {"email": _(
        "Zu viele Anmeldeversuche. Bitte versuchen Sie es ab %(time)s Uhr wieder, oder "
        "setzen Sie Ihr Passwort über „Passwort vergessen“ neu.") % {
            "time": format_time(retry_at)}}, 429, target)
    response.headers["Retry-After"] = str(seconds)
    return response


async def logout(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    sid = request.cookies.get(session_cookie(request))
    if sid:
        await accounts.end_session(services(request).db, sid)
    response = see_other(request, "partner_login", {"out": "1"})
    clear_session_cookie(request, response)
    return response


# -- forgotten password ----------------------------------------------------------------------


async def forgot_form(request: Request) -> Response:
    return render(request, "partner/forgot.html",
                  {"sent": "sent" in request.query_params, "errors": {}, "email": ""})


async def forgot(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    email = str(form.get("email", "")).strip()[:254]
    if "@" not in email or not email.isprintable():
        return render(request, "partner/forgot.html", {
            "sent": False, "email": email,
            "errors": {"email": _("Bitte geben Sie Ihre E-Mail-Adresse ein.")}}, status_code=400)
    # The same work and the same answer whether or not the account exists:
    # the outbox worker decides (portal.mails).
    await reset_mails.request_reset(services(request), email, client_address(request))
    return see_other(request, "partner_forgot", {"sent": "1"})


async def _reset_user(request: Request) -> accounts.User | None:
    """The account of a reset link, or of an invitation (whose account is not active yet)."""
    svc = services(request)
    token = request.path_params["token"]
    return (await accounts.user_for_reset(svc.db, svc.settings.secret_key, token)
            or await team.user_for_invite(svc.db, svc.settings.secret_key, token))


async def reset_form(request: Request) -> Response:
    if await _reset_user(request) is None:
        return render(request, "partner/reset_invalid.html", {}, status_code=410)
    return render(request, "partner/reset.html",
                  {"errors": {}, "token": request.path_params["token"]})


async def reset(request: Request) -> Response:
    user = await _reset_user(request)
    if user is None:
        return render(request, "partner/reset_invalid.html", {}, status_code=410)
    form = await read_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise csrf_error()
    password = str(form.get("password", ""))
    errors: dict[str, str] = {}
    problem = accounts.password_problem(password)
    if problem:
        errors["password"] = _(problem)
    elif password != str(form.get("password_repeat", "")):
        errors["password_repeat"] = _("Die beiden Passwörter stimmen nicht überein.")
    if errors:
        return render(request, "partner/reset.html",
                      {"errors": errors, "token": request.path_params["token"]},
                      status_code=400)
    svc = services(request)
    if await team.user_for_invite(svc.db, svc.settings.secret_key, request.path_params["token"]):
        await team.accept(svc.db, user, password, svc.clock.now())
    else:
        await accounts.set_password(svc.db, user, password)
    await record_action(svc.db, None, user, "password_reset", svc.clock.now())
    response = see_other(request, "partner_login", {"reset": "1"})
    clear_session_cookie(request, response)
    return response


# -- changing one's own password --------------------------------------------------------


@portal()
async def password_form(request: Request, viewer: Viewer) -> Response:
    return render(request, "partner/password.html",
                  {"errors": {}, "saved": "gespeichert" in request.query_params}, viewer=viewer)


@portal()
async def password_change(request: Request, viewer: Viewer) -> Response:
    """Current password and the new one twice; on success the account's other sessions
    end and this browser gets a fresh one (it stays signed in)."""
    form = request.state.form
    current = str(form.get("current_password", ""))
    new = str(form.get("password", ""))
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _("Bitte geben Sie Ihr bisheriges Passwort ein.")
    problem = accounts.password_problem(new)
    if problem:
        errors["password"] = _(problem)
    elif new != str(form.get("password_repeat", "")):
        errors["password_repeat"] = _("Die beiden Passwörter stimmen nicht überein.")
    elif new == current:
        errors["password"] = _("Das neue Passwort muss sich vom bisherigen unterscheiden.")
    status = 400
    if not errors and viewer.user is not None:
        svc = services(request)
        now = svc.clock.now()
        result = await accounts.change_password(svc.db, viewer.user, current, new,
                                                client_address(request), now)
        if result.user is not None:
            sid = await accounts.create_session(svc.db, result.user.id, now)
            await record_action(svc.db, viewer, result.user, "password_change", now)
            response = see_other(request, "partner_password", {"gespeichert": "1"})
            set_session_cookie(request, response, sid)
            return response
        if result.throttled_until is not None:
            status = 429
            errors["current_password"] = _(
                "Zu viele Versuche. Bitte versuchen Sie es ab %(time)s Uhr wieder.") % {
                    "time": format_time(result.throttled_until + timedelta(seconds=59))}
        else:
            errors["current_password"] = _("Das bisherige Passwort ist nicht richtig.")
    return render(request, "partner/password.html", {"errors": errors, "saved": False},
                  status_code=status, viewer=viewer)
