"""Bad input and spam: the form comes back explained, and nothing is stored or mailed."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from campaign.app import create_app
from campaign.formdata import split_urlencoded
from campaign.tokens import make_stamp

from .conftest import shipped_content
from .test_leads import count, deliver, hidden_fields, submit, valid_data

SIX = ["olpe", "attendorn", "wenden", "drolshagen", "finnentrop", "lennestadt"]

CASES = {
    "bad e-mail": ({"email": "anna.beispiel@"}, "email"),
    "e-mail with space": ({"email": "anna beispiel@example.com"}, "email"),
    "e-mail without dot": ({"email": "anna@localhost"}, "email"),
    "no e-mail": ({"email": ""}, "email"),
    "no name": ({"name": "   "}, "name"),
    "no consent": ({"consents": []}, "consents-0"),
    "towns without town consent": ({"consents": ["tourism"]}, "consents-0"),
    "no town, no agency consent": ({"municipalities": [], "interests": ["wohnen"],
                                    "consents": ["tourism"]}, "consents-0"),
    "6 municipalities": ({"municipalities": SIX}, "municipalities-group"),
    "unknown municipality": ({"municipalities": ["olpe", "atlantis"]}, "municipalities-group"),
    "negative children": ({"children": "-1"}, "children"),
    "13 children": ({"children": "13"}, "children"),
    "no adults": ({"adults": "0"}, "adults"),
    "adults not a number": ({"adults": "zwei"}, "adults"),
    "10,000-character name": ({"name": "A" * 10_000}, "name"),
    "long message": ({"message": "x" * 2001}, "message"),
    "long phone": ({"phone": "1" * 41}, "phone"),
    "phone with letters": ({"phone": "call me maybe"}, "phone"),
    "unknown interest": ({"interests": ["golf"]}, "interests-0"),
    "unknown timeframe": ({"timeframe": "never"}, "timeframe-0"),
    "unknown child age": ({"child_ages": ["99"]}, "child_ages-0"),
    # control characters and CR/LF, field by field
    "CR/LF in name": ({"name": "Anna\r\nBcc: victim@example.com"}, "name"),
    "NUL in name": ({"name": "Anna\x00"}, "name"),
    "LF in e-mail": ({"email": "anna@example.com\nBcc: victim@example.com"}, "email"),
    "CR in phone": ({"phone": "0271 123\r"}, "phone"),
    "BEL in message": ({"message": "Hallo\x07"}, "message"),
    "ESC in message": ({"message": "Hallo \x1b[31m"}, "message"),
    "LF in adults": ({"adults": "2\n"}, "adults"),
    "tab in children": ({"children": "\t1"}, "children"),
    "LF in municipality": ({"municipalities": ["olpe\n"]}, "municipalities-group"),
    "CR/LF in consent": ({"consents": ["municipalities\r\n"]}, "consents-0"),
    "NUL in interest": ({"interests": ["natur\x00"]}, "interests-0"),
    "LF in timeframe": ({"timeframe": "within_year\n"}, "timeframe-0"),
    "U+2028 in name": ({"name": "Anna\u2028Beispiel"}, "name"),
}


@pytest.mark.parametrize("overrides, anchor", CASES.values(), ids=CASES.keys())
def test_invalid_input_shows_the_form_with_errors_and_stores_nothing(client, overrides, anchor):
    r = submit(client, **overrides)
    assert r.status_code == 400
    html = r.text
    assert '<div class="error-summary" role="alert"' in html
    assert f'<a href="#{anchor}">' in html  # the summary links to the field
    if anchor == "municipalities-group":
        assert re.search(r'<fieldset id="municipalities-group"[^>]*class="form-group '
                         r'form-group-error"[^>]*aria-describedby="municipalities-hint '
                         r'municipalities-error"', html)
    else:
        tag = re.search(rf'<(?:input|textarea)[^>]*id="{anchor}"[^>]*>', html)
        assert tag, anchor
        assert 'aria-invalid="true"' in tag.group(0)
        field = anchor.removesuffix("-0")
        assert f'aria-describedby="{field}-error"' in tag.group(0) or \
            re.search(rf'aria-describedby="[^"]*{field}-error', tag.group(0))
    assert 'class="field-error"' in html
    assert count(client, "leads") == 0
    assert count(client, "outbox") == 0
    assert count(client, "consent_events") == 0


def test_errors_keep_what_the_family_typed(client):
    r = submit(client, email="kaputt", municipalities=["olpe", "wenden"])
    assert r.status_code == 400
    assert 'value="Anna Beispiel"' in r.text
    assert re.search(r'value="wenden" checked', r.text)
    assert "Wir suchen ein Haus mit Garten." in r.text


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_missing_or_wrong_csrf_token(client, token):
    page = client.get("/interesse")
    data = {**hidden_fields(page.text), **valid_data()}
    if token is None:
        data.pop("csrf_token")
    else:
        data["csrf_token"] = token
    r = client.post("/interesse", data=data)
    assert r.status_code == 400
    assert "Das Formular ist abgelaufen" in r.text
    assert 'role="alert"' in r.text
    assert 'value="Anna Beispiel"' in r.text  # nothing typed is lost
    assert count(client, "leads") == 0 and count(client, "outbox") == 0


def test_file_upload_in_a_text_field_is_not_a_server_error(client):
    page = client.get("/interesse")
    data = {**hidden_fields(page.text), **valid_data()}
    data.pop("name")
    r = client.post("/interesse", data=data, files={"name": ("x.txt", b"Anna", "text/plain")})
    assert r.status_code == 400
    assert count(client, "leads") == 0


def test_honeypot_gets_the_same_thank_you_and_nothing_is_stored(settings, smtp):
    app = create_app(settings.with_(smtp_url=smtp.url), content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        r = submit(client, website="http://spam.example")
        assert r.status_code == 303 and r.headers["location"] == "/interesse/danke"
        assert count(client, "leads") == 0 and count(client, "outbox") == 0
        deliver(client, settings.with_(smtp_url=smtp.url))
    assert smtp.messages == []


@pytest.fixture
def slow_client(settings):
    app = create_app(settings.with_(min_fill_seconds=5.0), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_too_fast_is_refused_politely(slow_client):
    r = submit(slow_client)
    assert r.status_code == 400
    assert "Das ging sehr schnell" in r.text
    assert count(slow_client, "leads") == 0 and count(slow_client, "outbox") == 0
    # a missing or forged start time is treated the same
    page = slow_client.get("/interesse")
    forged = make_stamp("another-secret-" + "x" * 30, "lead-form-started", time.time() - 30)
    for started in ("", "forged", forged, forged[:-1], "1.5." + forged.rpartition(".")[2]):
        data = {**hidden_fields(page.text), **valid_data(), "started": started}
        assert slow_client.post("/interesse", data=data).status_code == 400
    assert count(slow_client, "leads") == 0
    # a person who took their time gets through
    secret = slow_client.app.state.settings.secret_key
    earlier = make_stamp(secret, "lead-form-started", time.time() - 30)
    data = {**hidden_fields(page.text), **valid_data(), "started": earlier}
    assert slow_client.post("/interesse", data=data).status_code == 303
    assert count(slow_client, "leads") == 1


def test_rate_limit_per_client(settings):
    app = create_app(settings.with_(rate_limit_per_hour=2), content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        assert submit(client).status_code == 303
        assert submit(client, email="b@example.com").status_code == 303
        r = submit(client, email="c@example.com")
        assert r.status_code == 429
        assert "später noch einmal" in r.text
        assert count(client, "leads") == 2
        assert count(client, "outbox") == 2


def test_changed_consent_version_asks_to_read_again(client):
    page = client.get("/interesse")
    data = {**hidden_fields(page.text), **valid_data(), "consent_version": "1999-old"}
    r = client.post("/interesse", data=data)
    assert r.status_code == 400
    assert "Einwilligungstexte wurden aktualisiert" in r.text
    assert count(client, "leads") == 0


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(st.characters(blacklist_categories=("Cs",))),
                          st.text(st.characters(blacklist_categories=("Cs",)))), max_size=12))
def test_urlencoded_bodies_split_as_the_standard_parser_does(pairs):
    """The lead form's own splitter gives back exactly what a browser encoded."""
    body = urlencode(pairs).encode()
    assert split_urlencoded(body) == pairs
    assert split_urlencoded(body) == parse_qsl(body.decode("latin-1"), keep_blank_values=True)


def test_urlencoded_edge_cases():
    assert split_urlencoded(b"a=1&&b&c=%E4%ZZ+x") == [("a", "1"), ("b", ""), ("c", "\ufffd%ZZ x")]
    assert split_urlencoded(b"x=1&" * 1000) is None  # too many fields: Starlette's answer
