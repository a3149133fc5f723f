"""Suggest (never force) the visitor's language on an unprefixed page.

Redirecting on ``Accept-Language`` would send crawlers and shared links to a
language nobody asked for, so an unprefixed page always answers in German
and at most shows a small hint linking to the same page in Dutch or English.
The hint appears only on entry (no same-site Referer), so it does not follow
someone who chose German with the language switch. No cookie is needed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from ..core import i18n
from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from ..core.i18n import gettext as _


def parse_accept_language(header: str) -> list[str]:
    """Primary language subtags by preference: ``"nl-BE,nl;q=0.9,en;q=0.8"`` → [nl, en]."""
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate(header.split(",")[:50]):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, pos, tag.split("-")[0]))
    seen: list[str] = []
    for _q, _pos, lang in sorted(ranked):
        if lang not in seen:
            seen.append(lang)
    return seen


def preferred_language(header: str) -> str | None:
    """The first of our languages in the header, or None when none is wanted."""
    for lang in parse_accept_language(header):
        if lang in LANGUAGES:
            return lang
    return None


def page_path(request: Request) -> str:
    """The path without its language prefix (set by the language middleware)."""
    return str(request.scope.get("campaign_path", request.url.path))


def same_site(path: str) -> str:
    """``path`` if a browser reads it as a path on this site, else ``/``.

    A request target can be ``//evil.example/x`` or ``/\\evil.example`` (both
    protocol-relative to a browser), ``http://evil.example/x`` (absolute form), or
    hide a second slash behind a tab or newline, which browsers drop from URLs."""
    if (not path.startswith("/") or path.startswith("//") or "\\" in path
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)):
        return "/"
    return path


def suggestion(request: Request) -> str | None:
    """Language to suggest on this page, or None (German wanted, or prefix chosen)."""
    if i18n.current_language.get() != DEFAULT_LANGUAGE:
        return None
    if request.method not in ("GET", "HEAD") or i18n.german_only(page_path(request)):
        return None
    referer = request.headers.get("referer", "")
    if referer and urlsplit(referer).netloc == request.url.netloc:
        return None
    lang = preferred_language(request.headers.get("accept-language", ""))
    return lang if lang and lang != DEFAULT_LANGUAGE else None


def language_hint(request: Request, not_found: bool = False) -> dict[str, str] | None:
    """Text (in the suggested language), language and link for the hint, or None.
    On a page that does not exist the hint links to the landing page."""
    lang = suggestion(request)
    if lang is None:
        return None
    with i18n.language(lang):
        # TRANSLATORS: shown in the catalog's own language to visitors whose
        # browser asks for it: "This page is also available in <this language>".
        text = _("Diese Seite gibt es auch auf Deutsch.")
    if not_found:
        return {"lang": lang, "text": text, "url": i18n.with_language("/", lang)}
    path = i18n.with_language(same_site(page_path(request)), lang)
    query = request.url.query
    return {"lang": lang, "text": text, "url": path + (f"?{query}" if query else "")}


def alternates(request: Request, not_found: bool = False) -> list[tuple[str, str]]:
    """(language, path) of this page in every language it is offered in, query kept;
    always a path on this site. A page that does not exist (404) is not repeated in
    every language: its language links go to the landing pages."""
    page = same_site(page_path(request))
    path = "/" if not_found else page
    query = "" if not_found else request.url.query
    out = []
    for lang in LANGUAGES:
        if lang != DEFAULT_LANGUAGE and i18n.german_only(page):
            continue
        out.append((lang, i18n.with_language(path, lang) + (f"?{query}" if query else "")))
    return out
