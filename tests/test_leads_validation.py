"""Bad input and spam: the form comes back explained, and nothing is stored or mailed."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from campaign.core.schema import consent_events, leads, outbox
from campaign.core.tokens import make_token
from campaign.web.app import create_app

from .support.app import all_leads, count_in, deliver, services, shipped_content
from .support.forms import hidden_fields, submit, valid_data

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
    assert count_in(client, leads) == 0
    assert count_in(client, outbox) == 0
    assert count_in(client, consent_events) == 0


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
    assert count_in(client, leads) == 0 and count_in(client, outbox) == 0


def test_file_upload_in_a_text_field_is_not_a_server_error(client):
    page = client.get("/interesse")
    data = {**hidden_fields(page.text), **valid_data()}
    data.pop("name")
    r = client.post("/interesse", data=data, files={"name": ("x.txt", b"Anna", "text/plain")})
    assert r.status_code == 400
    assert count_in(client, leads) == 0


def test_honeypot_gets_the_same_thank_you_and_nothing_is_stored(mail_client, smtp,
                                                               smtp_settings):
    r = submit(mail_client, website="http://spam.example")
    assert r.status_code == 303 and r.headers["location"] == "/interesse/danke"
    assert count_in(mail_client, leads) == 0 and count_in(mail_client, outbox) == 0
    assert count_in(mail_client, consent_events) == 0
    deliver(mail_client, smtp_settings)
    assert smtp.messages == []


@pytest.fixture
def slow_client(settings):
    app = create_app(settings.with_(min_fill_seconds=5.0), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


def started_at(secret: str, unix_time: float) -> str:
    """The form's signed start time, as the GET puts it into the page."""
    return make_token(secret, "lead-form-started", round(unix_time, 3))


def test_too_fast_is_refused_politely(slow_client):
    r = submit(slow_client)
    assert r.status_code == 400
    assert "Das ging sehr schnell" in r.text
    assert count_in(slow_client, leads) == 0 and count_in(slow_client, outbox) == 0
    # a missing, forged, future or stale start time is treated the same
    secret = services(slow_client).settings.secret_key
    page = slow_client.get("/interesse")
    forged = started_at("another-secret-" + "x" * 30, time.time() - 30)
    for started in ("", "forged", forged, forged[:-1], "1.5." + forged.rpartition(".")[2],
                    started_at(secret, time.time() + 3600),
                    make_token(secret, "confirm", round(time.time() - 30, 3))):
        data = {**hidden_fields(page.text), **valid_data(), "started": started}
        r = slow_client.post("/interesse", data=data)
        assert r.status_code == 400 and "Das ging sehr schnell" in r.text, started
    assert count_in(slow_client, leads) == 0
    # a person who took their time gets through
    data = {**hidden_fields(page.text), **valid_data(),
            "started": started_at(secret, time.time() - 30)}
    assert slow_client.post("/interesse", data=data).status_code == 303
    assert count_in(slow_client, leads) == 1


def test_rate_limit_per_client(settings):
    app = create_app(settings.with_(rate_limit_per_hour=2), content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        assert submit(client).status_code == 303
        assert submit(client, email="b@example.com").status_code == 303
        r = submit(client, email="c@example.com")
        assert r.status_code == 429
        assert "später noch einmal" in r.text
        assert count_in(client, leads) == 2
        assert count_in(client, outbox) == 2


def test_changed_consent_version_asks_to_read_again(client):
    page = client.get("/interesse")
    data = {**hidden_fields(page.text), **valid_data(), "consent_version": "1999-old"}
    r = client.post("/interesse", data=data)
    assert r.status_code == 400
    assert "Einwilligungstexte wurden aktualisiert" in r.text
    assert shipped_content().consent.version in hidden_fields(r.text)["consent_version"]
    assert count_in(client, leads) == 0


# -- what a browser encodes is what the form reads -------------------------------------------
# (The old hand-written body splitter is gone; Starlette's parser reads the form now.
# These keep the behaviour its tests protected: every value, repeated names in
# their order, blank values, odd escapes and the field limit.)


@pytest.fixture
def many_client(settings):
    """A client without the hourly limit, for many valid submissions in one test."""
    app = create_app(settings.with_(rate_limit_per_hour=100_000), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


def post_pairs(client: TestClient, body: bytes):
    return client.post("/interesse", content=body,
                       headers={"content-type": "application/x-www-form-urlencoded"})


TOWNS = ["olpe", "attendorn", "wenden", "drolshagen", "finnentrop", "lennestadt", "siegen"]
PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))


@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(PRINTABLE, min_size=1, max_size=60).filter(lambda t: t.strip()),
       message=st.text(st.one_of(PRINTABLE, st.sampled_from("\r\n")), max_size=200),
       towns=st.lists(st.sampled_from(TOWNS), min_size=1, max_size=5, unique=True))
def test_urlencoded_values_reach_the_lead_exactly(many_client, name, message, towns):
    page = many_client.get("/interesse")
    pairs = [(k, v) for k, v in hidden_fields(page.text).items()]
    pairs += [("name", name), ("email", "anna@example.org"), ("adults", "2"),
              ("children", "0"), ("message", message)]
    pairs += [("municipalities", t) for t in towns]
    pairs += [("consents", "municipalities"), ("consents", "tourism")]
    before = {lead.id for lead in all_leads(many_client)}
    r = post_pairs(many_client, urlencode(pairs).encode())
    assert r.status_code == 303, r.text[:300]
    new = [lead for lead in all_leads(many_client) if lead.id not in before]
    assert len(new) == 1
    lead = new[0]
    assert lead.name == name.strip()
    assert lead.message == (message.replace("\r\n", "\n").strip() or None)
    assert lead.municipalities == tuple(towns)  # repeated names, in the order sent


def test_urlencoded_edge_cases(many_client):
    page = many_client.get("/interesse")
    hidden = urlencode(hidden_fields(page.text)).encode()
    rest = urlencode([("email", "anna@example.org"), ("adults", "2"), ("children", "0"),
                      ("municipalities", "olpe"), ("consents", "municipalities")]).encode()
    # an empty pair and a name without "=" (a blank honeypot) do no harm; a broken
    # escape stays as it was, a broken UTF-8 sequence becomes U+FFFD, "+" a space
    body = hidden + b"&&website&name=%E4%ZZ+Anna&" + rest
    assert post_pairs(many_client, body).status_code == 303
    [lead] = all_leads(many_client)
    assert lead.name == "\ufffd%ZZ Anna"
    # too many fields: refused by the parser, never a server error, nothing stored
    r = post_pairs(many_client, hidden + b"&" + rest + b"&" + b"x=1&" * 1000)
    assert r.status_code == 400
    assert len(all_leads(many_client)) == 1
