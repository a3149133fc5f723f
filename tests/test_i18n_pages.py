"""Languages on real pages: every page type in de/nl/en, hint, switch, hreflang, formats."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from campaign.core import i18n
from campaign.core.formatting import format_date, format_datetime, format_minutes
from campaign.leads.mails import self_service_url

from .support.app import all_leads, services, shipped_content
from .support.forms import hidden_fields
from .support.pages import head, prefix, quiz_walk

LANGS = ("de", "nl", "en")
# One word per language that the page's own language shows in the footer.
EASY_LINK = {"de": "Leichte Sprache", "nl": "Makkelijk lezen", "en": "Easy Read"}


def lead_data(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Sanne de Vries", "email": "sanne@example.nl", "adults": "2", "children": "1",
        "child_ages": ["3-5"], "interests": ["kita_schule", "natur"],
        "timeframe": "within_year", "municipalities": ["winterberg", "olpe"],
        "consents": ["municipalities"], **extra,
    }


def submit_lead(client, lang: str, **extra: Any):
    form = client.get(f"{prefix(lang)}/interesse?orte=winterberg")
    assert form.status_code == 200
    return client.post(f"{prefix(lang)}/interesse",
                       data={**hidden_fields(form.text), **lead_data(**extra)})


def self_service_path(client, email: str, lang: str) -> str:
    [lead] = [lead for lead in all_leads(client) if lead.email == email]
    svc = services(client)
    url = self_service_url(svc.mailer, svc.settings.secret_key, lead.public_id, lang)
    return url.removeprefix("http://testserver")


# -- the rule: every page type, three languages ------------------------------


def test_every_page_type_renders_in_all_three_languages(client):
    for lang in LANGS:
        p = prefix(lang)
        paths = {
            "landing": f"{p}/", "district": f"{p}/region/kreis-olpe",
            "showcase": f"{p}/orte/winterberg", "privacy": f"{p}/datenschutz",
            "imprint": f"{p}/impressum", "lead form": f"{p}/interesse",
            "easy landing": f"{p}/leichte-sprache",
            "easy form": f"{p}/leichte-sprache/interesse",
            "easy privacy": f"{p}/leichte-sprache/datenschutz",
        }
        paths.update(quiz_walk(client, lang))
        r = submit_lead(client, lang, email=f"family-{lang}@example.org")
        assert r.status_code == 303, (lang, r.text[:500])
        paths["thanks"] = r.headers["location"]
        assert paths["thanks"] == f"{p}/interesse/danke"
        paths["self-service"] = self_service_path(client, f"family-{lang}@example.org", lang)
        for kind, path in paths.items():
            r = client.get(path)
            assert r.status_code == 200, (lang, kind, path)
            page = head(r.text)
            assert page.lang == lang, (lang, kind)
            assert EASY_LINK[lang] in r.text, (lang, kind)  # footer link on every page
        missing = client.get(f"{p}/orte/atlantis")
        assert missing.status_code == 404 and head(missing.text).lang == lang


def test_pages_are_really_translated(client):
    nl = client.get("/nl/orte/winterberg").text
    en = client.get("/en/orte/winterberg").text
    assert "Feiten voor gezinnen" in nl and "Fakten für Familien" not in nl
    assert "Facts for families" in en and "Fakten für Familien" not in en
    assert "Deze pagina bestaat niet" in client.get("/nl/orte/atlantis").text
    assert "Makkelijk lezen" in client.get("/nl/leichte-sprache").text


# -- suggestion, switch, hreflang ----------------------------------------------------


def test_browser_language_is_suggested_never_redirected(client):
    r = client.get("/orte/olpe?utm_source=poster", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert r.status_code == 200 and "location" not in r.headers
    assert head(r.text).lang == "de"
    hint = re.search(r'<aside class="language-hint" lang="nl"[^>]*>.*?</aside>', r.text, re.DOTALL)
    assert hint, "Dutch visitors see a hint"
    assert 'href="/nl/orte/olpe?utm_source=poster"' in hint.group(0)
    assert "Deze pagina is er ook in het Nederlands." in hint.group(0)
    en = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert 'href="/en/"' in en.text and "This page is also available in English." in en.text


def test_no_hint_when_german_is_wanted_chosen_or_already_translated(client):
    for headers in ({"Accept-Language": "de-DE,de;q=0.9,nl;q=0.8"}, {},
                    {"Accept-Language": "fr-FR"},
                    {"Accept-Language": "nl", "Referer": "http://testserver/nl/"}):
        assert "language-hint" not in client.get("/", headers=headers).text, headers
    assert "language-hint" not in client.get("/nl/", headers={"Accept-Language": "nl"}).text
    assert "language-hint" not in client.get("/en/", headers={"Accept-Language": "nl"}).text


def test_language_switch_keeps_the_page_and_query(client):
    page = head(client.get("/nl/orte/olpe?orte=olpe&utm_source=x").text)
    assert page.switch == {"de": "/orte/olpe?orte=olpe&utm_source=x",
                           "nl": "/nl/orte/olpe?orte=olpe&utm_source=x",
                           "en": "/en/orte/olpe?orte=olpe&utm_source=x"}
    assert page.current == ["nl"]
    for lang, href in page.switch.items():
        r = client.get(href)
        assert r.status_code == 200 and head(r.text).lang == lang


def test_hreflang_alternates_are_absolute_and_complete(client):
    page = head(client.get("/en/region/kreis-soest").text)
    assert page.alternates == {
        "de": "http://testserver/region/kreis-soest",
        "nl": "http://testserver/nl/region/kreis-soest",
        "en": "http://testserver/en/region/kreis-soest",
        "x-default": "http://testserver/region/kreis-soest",
    }


def test_links_inside_a_dutch_page_stay_dutch(client):
    html = client.get("/nl/").text
    hrefs = re.findall(r'<a [^>]*href="(/[^"]*)"', html)
    internal = [h for h in hrefs if not h.startswith("/static/")]
    switch = set(head(html).switch.values())
    assert internal
    for href in internal:
        assert href.startswith("/nl/") or href in switch or i18n.german_only(href), href


def test_partner_portal_is_german_only(client):
    r = client.get("/nl/partner/login?next=x")
    assert r.status_code == 308 and r.headers["location"] == "/partner/login?next=x"
    page = client.get("/partner/login", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and head(page.text).lang == "de"
    assert "language-hint" not in page.text
    assert head(page.text).switch == {}  # no language switch in the portal


# -- formats ---------------------------------------------------------------------------


def _in(lang: str, fn: Any, *args: Any) -> str:
    token = i18n.current_language.set(lang)
    try:
        return fn(*args)
    finally:
        i18n.current_language.reset(token)


def test_dates_times_and_travel_times_follow_the_locale():
    day = date(2026, 11, 25)
    assert [_in(lang, format_date, day) for lang in LANGS] == [
        "25. November 2026", "25 november 2026", "November 25, 2026"]
    moment = datetime(2026, 7, 1, 10, 5, tzinfo=UTC)  # 12:05 in Südwestfalen
    assert _in("de", format_datetime, moment) == "01.07.2026, 12:05"
    assert _in("nl", format_datetime, moment) == "1 jul 2026, 12:05"
    assert _in("en", format_datetime, moment) == "Jul 1, 2026, 12:05\u202fPM"
    assert _in("de", format_datetime, "2026-07-01T10:05:00") == "01.07.2026, 12:05"  # UTC in DB
    assert _in("de", format_date, "2026-11-25 23:30:00") == "26. November 2026"
    assert _in("de", format_date, None) == ""
    assert [_in(lang, format_minutes, 1) for lang in LANGS] == ["1 Minute", "1 minuut", "1 minute"]
    assert [_in(lang, format_minutes, 70) for lang in LANGS] == [
        "70 Minuten", "70 minuten", "70 minutes"]


def test_showcase_numbers_and_travel_times_are_localised(client):
    m = shipped_content().region.municipalities["attendorn"]
    assert m.facts.population == 23527  # Zensus 2022
    de = client.get("/orte/attendorn").text
    nl = client.get("/nl/orte/attendorn").text
    en = client.get("/en/orte/attendorn").text
    assert "23.527 Einwohner" in de and "23.527 inwoners" in nl and "23,527 inhabitants" in en
    assert m.facts.travel_minutes["koeln"] == 70  # from the coordinates
    assert "Keulen: ongeveer 70 minuten" in nl
    assert "Cologne: about 70 minutes" in en
    assert "Köln: etwa 70 Minuten" in de


# -- Leichte Sprache -------------------------------------------------------------------


class Sentences(HTMLParser):
    """Sentences of the main content (headings, navigation and word boxes' terms excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._depth = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        if tag == "div" and ("class", "easy") in attrs:
            self._depth = 1
        elif self._depth:
            self._depth += tag not in ("br", "img", "input")
            self._skip += tag in ("h1", "h2", "nav", "strong")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1
            self._skip -= tag in ("h1", "h2", "nav", "strong")

    def handle_data(self, data: str) -> None:
        if self._depth and not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


@pytest.mark.parametrize("path", ["/leichte-sprache", "/leichte-sprache/interesse",
                                  "/leichte-sprache/datenschutz"])
def test_easy_language_pages_use_short_sentences(client, path):
    r = client.get(path)
    assert r.status_code == 200
    parser = Sentences()
    parser.feed(r.text)
    sentences = [s for t in parser.texts for s in re.split(r"(?<=[.?!:])\s+", t) if s]
    assert len(sentences) >= 15
    words = [len(s.split()) for s in sentences]
    assert max(words) <= 14, [s for s in sentences if len(s.split()) > 14]
    assert sum(words) / len(words) <= 8
    assert 'aria-current="page"' in r.text  # the easy-language navigation marks this page


def test_easy_pages_state_the_configured_deadlines(client):
    text = client.get("/leichte-sprache/datenschutz").text
    months = client.app.state.settings.lead_retention_months
    assert f"Nach {months} Monaten löschen wir Ihren Namen" in text
    days = client.app.state.settings.pending_retention_days
    assert f"nach {days} Tagen" in client.get("/leichte-sprache/interesse").text


def test_self_service_dates_follow_the_page_language(client):
    assert submit_lead(client, "en", email="dates@example.org").status_code == 303
    today = datetime.now(UTC)
    page = client.get(self_service_path(client, "dates@example.org", "en")).text
    assert f"<dd>{_in('en', format_date, today)}</dd>" in page  # e.g. November 25, 2026
    page = client.get(self_service_path(client, "dates@example.org", "nl")).text
    assert f"<dd>{_in('nl', format_date, today)}</dd>" in page
    assert f"<dd>{today:%Y-%m-%d}</dd>" not in page


def test_unprefixed_pages_tell_caches_they_vary_by_language(client):
    assert "Accept-Language" in client.get("/orte/olpe").headers.get("vary", "")
    assert "Accept-Language" not in client.get("/nl/orte/olpe").headers.get("vary", "")
