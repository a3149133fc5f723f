"""Filling in the site's forms like a browser: hidden fields, CSRF, links from mails."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = re.compile(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', re.S)
SUBMIT = re.compile(r'<button[^>]*type="submit"|<input[^>]*type="submit"')
LINK = re.compile(
    r"http://testserver((?:/[a-z]{2})?/(?:bestaetigen|meine-daten|quittung|nachfrage)/(?:zustimmen/)?[A-Za-z0-9._-]+)")


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has a CSRF field"
    return match.group(1)


def valid_data(**overrides: Any) -> dict[str, Any]:
    """A lead every rule accepts; ``None`` for a key leaves the field out."""
    data: dict[str, Any] = {
        "name": "Anna Beispiel",
        "email": "anna.beispiel@example.com",
        "phone": "+49 2761 12345",
        "adults": "2",
        "children": "2",
        "child_ages": ["3-5", "6-9"],
        "interests": ["kita_schule", "medizin_pflege"],
        "timeframe": "within_year",
        "municipalities": ["olpe", "attendorn"],
        "message": "Wir suchen ein Haus mit Garten.\r\nGern mit Blick auf den See.",
        "consents": ["municipalities", "tourism", "skilled_workers"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client: TestClient, query: str = "", **overrides: Any) -> Any:
    """GET the form (cookie + hidden fields), then POST it like a browser does."""
    page = client.get("/interesse" + query)
    assert page.status_code == 200
    return client.post("/interesse", data={**hidden_fields(page.text), **valid_data(**overrides)})


def link_in(message: Any, kind: str) -> str:
    """The path of the first ``/kind/…`` link in a mail's text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    for path in LINK.findall(text):
        if f"/{kind}/" in path:
            return path
    raise AssertionError(f"no {kind} link in {text!r}")


def submit_buttons(html: str) -> int:
    return len(SUBMIT.findall(html))


def the_button(html: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's only form; the page must have
    exactly one submit button (a page reached from a mail asks for one click)."""
    assert submit_buttons(html) == 1, "the page has exactly one button"
    [(action, inner)] = FORM.findall(html)
    return action, hidden_fields(inner)


def click(client: Any, path: str) -> Any:
    """Follow a link from a mail like a person: open the page (GET, which changes
    nothing), press its one button (POST), and return the page it leads to."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code, page.text[:300])
    action, fields = the_button(page.text)
    done = client.post(action, data=fields)
    if done.status_code == 303:
        return client.get(done.headers["location"])
    return done
