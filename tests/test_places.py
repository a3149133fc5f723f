"""Print places: QR codes that decode, /q/{code} redirects and counts, portal pages."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from campaign.reach import channels, places

from .support.app import all_leads, deliver, run, services, shipped_content
from .support.forms import click, csrf_of, hidden_fields, link_in
from .support.portal import add_user, login
from .support.portal_cases import walk_quiz

FAMILY_DATA = {"name": "Anna Beispiel", "email": "anna.beispiel@example.com", "adults": "2",
               "children": "1", "child_ages": ["3-5"], "interests": ["kita_schule"],
               "timeframe": "within_year", "municipalities": ["olpe"],
               "consents": ["municipalities", "tourism"]}


def log_in(client, org: str, role: str = "staff") -> str:
    email = add_user(client, org, role)
    client.cookies.clear()
    r = login(client, email)
    assert r.status_code == 303, r.text[:300]
    return email


def make_place(client, org: str = "winterberg", **kw) -> places.Place:
    args = {"label": "Ferienwohnung am See, Winterberg", "org": org, "target_kind": "quiz",
            "target_slug": "familie", "campaign": "Sommer 2026", "medium": "qr"}
    args.update(kw)
    return run(client, places.create_place, services(client).db, **args)  # type: ignore[no-any-return]


def scan_count(client, code: str) -> int:
    return run(client, places.scans, services(client).db, code)  # type: ignore[no-any-return]


def decode_png(body: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(body)))]


def _columns(client, table: str) -> set[str]:
    async def read() -> set[str]:
        async with services(client).db.reading() as conn:
            found = await conn.run_sync(lambda c: sa.inspect(c).get_columns(table))
        return {col["name"] for col in found}

    return run(client, read)  # type: ignore[no-any-return]


def test_qr_redirect_carries_the_campaign_and_counts_one_scan(client):
    place = make_place(client)
    assert re.fullmatch(r"[a-z2-9]{6}", place.code)
    r = client.get(f"/q/{place.code}")
    assert r.status_code == 303
    assert r.headers["cache-control"] == "no-store"
    target = urlparse(r.headers["location"])
    assert target.path == "/quiz/familie"
    assert parse_qs(target.query) == {"utm_source": [place.code], "utm_medium": ["qr"],
                                      "utm_campaign": ["sommer-2026"], "place": [place.code]}
    assert scan_count(client, place.code) == 1
    assert "set-cookie" not in r.headers  # cookie-free
    # typed off paper in capitals it still works, and a HEAD probe is no scan
    assert client.get(f"/q/{place.code.upper()}").status_code == 303
    assert client.head(f"/q/{place.code}").status_code == 303
    assert scan_count(client, place.code) == 2
    # nothing about the visitor is stored, in the database as it really is
    assert _columns(client, "place_scans") == {"place_code", "day", "count"}


@pytest.mark.parametrize("kind, slug, path, extra", [
    ("landing", "", "/", {}),
    ("municipality", "olpe", "/orte/olpe", {}),
    ("lead_form", "", "/interesse", {}),
])
def test_qr_redirect_targets(client, kind, slug, path, extra):
    place = make_place(client, target_kind=kind, target_slug=slug, medium="print")
    target = urlparse(client.get(f"/q/{place.code}").headers["location"])
    assert target.path == path
    assert parse_qs(target.query)["utm_medium"] == ["print"]
    assert parse_qs(target.query)["place"] == [place.code]


def test_qr_redirect_keeps_the_language(client):
    place = make_place(client)
    assert client.get(f"/en/q/{place.code}").headers["location"].startswith("/en/quiz/familie?")


@pytest.mark.parametrize("code", ["zzzzzz", "a b", "abc-def", "0000000"])
def test_unknown_code_is_a_friendly_404(client, code):
    r = client.get(f"/q/{code}")
    assert r.status_code == 404
    assert "Diesen Code kennen wir nicht" in unescape(r.text)
    assert 'href="/static/css/site.css"' in r.text and 'href="/"' in r.text


def test_channel_visits_count_entries_from_outside_only(client, settings):
    query = "?utm_source=facebook&utm_medium=social&utm_campaign=sommer"
    client.get("/" + query)
    client.get("/orte/olpe" + query, headers={"referer": "http://testserver/"})  # inside: no
    client.get("/orte/olpe" + query, headers={"referer": "https://m.facebook.com/"})
    # behind a proxy the Host may differ; the configured public address is ours too
    client.get("/orte/olpe" + query,
               headers={"referer": settings.base_url + "/", "host": "app:8000"})
    figures = dict(run(client, channels.channel_figures, services(client).db))
    assert figures[("social", "facebook")]["visits"] == 2


def test_portal_creates_a_place_with_downloads_and_a_print_card(client, settings):
    log_in(client, "winterberg")
    page = client.get("/partner/orte-qr")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    token = csrf_of(page.text)
    r = client.post("/partner/orte-qr", data={
        "csrf_token": token, "label": "Tourist-Info Winterberg",
        "target": "municipality:winterberg",
        "medium": "qr", "campaign": "Winter 2026", "pitch": "Hier Urlaub – und dann hier leben?"})
    assert r.status_code == 303
    code = parse_qs(urlparse(r.headers["location"]).query)["neu"][0]
    listing = client.get(r.headers["location"])
    assert "Tourist-Info Winterberg" in listing.text and f"/q/{code}" in listing.text

    url = f"{settings.base_url}/q/{code}"
    png = client.get(f"/partner/orte-qr/{code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert f'filename="qr-{code}.png"' in png.headers["content-disposition"]
    assert decode_png(png.content) == [url]
    svg = client.get(f"/partner/orte-qr/{code}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text and url in svg.text

    card = client.get(f"/partner/orte-qr/{code}/karte")
    assert card.status_code == 200
    assert 'href="/static/css/print-card.css"' in card.text
    assert f'src="/partner/orte-qr/{code}/qr.svg"' in card.text
    assert "Hier Urlaub – und dann hier leben?" in unescape(card.text)
    assert client.get("/static/css/print-card.css").status_code == 200

    client.get(f"/q/{code}")
    listing = client.get("/partner/orte-qr")
    row = re.search(r"<tr[^>]*>\s*<th scope=\"row\">Tourist-Info Winterberg.*?</tr>",
                    listing.text, re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "0", "0", "0"]


def test_portal_form_errors_are_shown_with_the_form(client):
    log_in(client, "winterberg")
    token = csrf_of(client.get("/partner/orte-qr").text)
    r = client.post("/partner/orte-qr", data={"csrf_token": token, "label": "",
                                              "target": "municipality:atlantis",
                                              "medium": "fax", "campaign": "!!!"})
    assert r.status_code == 400
    assert 'class="error-summary"' in r.text
    for field in ("label", "target", "medium", "campaign"):
        assert f'href="#{field}"' in r.text
    label = re.search(r'<input type="text" id="label"[^>]*>', r.text).group(0)
    assert 'aria-describedby="label-hint label-error"' in label
    assert 'aria-invalid="true"' in label and 'id="label-error"' in r.text
    db = services(client).db
    assert run(client, places.list_places, db) == []
    # without a CSRF token nothing is created either
    r = client.post("/partner/orte-qr", data={"label": "X", "target": "landing",
                                              "medium": "qr", "campaign": "x"})
    assert r.status_code == 400
    assert run(client, places.list_places, db) == []


@pytest.mark.parametrize("label, pitch, field", [
    ("\x00", "Hier leben?", "label"),
    ("Am See\r\nBcc: x@example.org", "", "label"),
    ("Am See", "Hier\x7fleben?", "pitch"),
])
def test_place_texts_with_control_characters_are_refused(label, pitch, field):
    """Found by the hostile-input properties: a label of only U+0000 was stored."""
    content = shipped_content()
    errors = places.validate_place(label, "landing", "", "qr", "sommer", pitch,
                                   content.quizzes, content.region.municipalities)
    assert list(errors) == [field]
    assert "Steuerzeichen" in errors[field]


def test_portal_is_scoped_to_the_organisation(client):
    mine = make_place(client, org="winterberg", label="Hütte Winterberg")
    theirs = make_place(client, org="olpe", label="Kurhaus Olpe", target_kind="landing")
    assert client.get("/partner/orte-qr").status_code == 303  # login first
    assert client.get(f"/partner/orte-qr/{mine.code}/qr.png").status_code == 303
    log_in(client, "winterberg")
    page = client.get("/partner/orte-qr").text
    assert "Hütte Winterberg" in page and "Kurhaus Olpe" not in page
    assert client.get(f"/partner/orte-qr/{theirs.code}/qr.png").status_code == 404
    assert client.get(f"/partner/orte-qr/{theirs.code}/karte").status_code == 404
    log_in(client, "suedwestfalen-agentur", role="admin")
    page = client.get("/partner/orte-qr").text
    assert "Hütte Winterberg" in page and "Kurhaus Olpe" in page
    assert client.get(f"/partner/orte-qr/{theirs.code}/karte").status_code == 200


def test_lead_through_a_qr_code_carries_the_place_to_portal_and_export(mail_client, smtp,
                                                                      smtp_settings):
    client = mail_client
    place = make_place(client, org="olpe", label="Kurhaus Olpe")
    entry = client.get(f"/q/{place.code}").headers["location"]
    _path, _, query = entry.partition("?")
    result = walk_quiz(client, "familie", query="?" + query)
    assert result.status_code == 200
    lead_link = unescape(re.search(r'href="(/interesse\?[^"]+)"', result.text).group(1))
    assert parse_qs(urlparse(lead_link).query)["place"] == [place.code]
    form = client.get(lead_link)
    hidden = hidden_fields(form.text)
    assert hidden["place"] == place.code and hidden["utm_medium"] == "qr"
    r = client.post("/interesse", data={**hidden, **FAMILY_DATA})
    assert r.status_code == 303, r.text[:500]
    assert deliver(client, smtp_settings)["sent"] == 1
    [mail] = smtp.to("anna.beispiel@example.com")
    assert click(client, link_in(mail, "bestaetigen")).status_code == 200
    [found] = all_leads(client)
    assert found.place_code == place.code and found.status == "confirmed"

    log_in(client, "olpe")
    detail = client.get(f"/partner/lead/{found.id}")
    assert detail.status_code == 200 and place.code in detail.text
    export = client.get("/partner/export.csv")
    assert export.status_code == 200 and place.code in export.text
    listing = client.get("/partner/orte-qr").text
    row = re.search(r"<tr[^>]*>\s*<th scope=\"row\">Kurhaus Olpe.*?</tr>", listing, re.S).group(0)
    # one scan, one finished quiz, one lead, confirmed
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1", "1", "1"]
