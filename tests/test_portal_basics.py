"""Portal basics: search by name, e-mail or number; an organisation's own municipalities
in the filter; changing one's own password; notes only for the organisation."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.testclient import TestClient

from campaign.core.schema import audit_log, sessions
from campaign.leads.records import by_id

from .support.app import count_in, rows_in, run, services, shipped_content
from .support.portal import AGENCY, PASSWORD, add_user, csrf, login
from .support.portal_cases import lead

NEW_PASSWORD = "ein-ganz-neues-passwort"


def _names(html: str) -> list[str]:
    """The names in the list's rows, top to bottom."""
    return re.findall(r'<th scope="row"><a href="/partner/lead/\d+">([^<]*)</a></th>', html)


def _number(client: TestClient, lead_id: int) -> str:
    found = run(client, by_id, services(client).db, lead_id)
    return str(found.number)


def test_search_by_name_address_or_number_in_any_case(client):
    ids = {
        "Jörg Größe": lead(client, ["olpe"], name="Jörg Größe", email="joerg@example.org"),
        "ÖZTÜRK, Ayşe": lead(client, ["olpe"], name="ÖZTÜRK, Ayşe", email="a.oz@example.org"),
        "Anna Müller": lead(client, ["olpe"], name="Anna Müller",
                            email="Anna.Mueller@Example.org"),
        "100%_Sicher": lead(client, ["olpe"], name="100%_Sicher", email="s@example.org"),
        "Otto Normal": lead(client, ["olpe"], name="Otto Normal", email="otto@example.org",
                            created_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
    }
    elsewhere = lead(client, ["wenden"], name="Anna Müller-Wenden", email="anna@wenden.example")
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")

    def found(q: str) -> list[str]:
        r = client.get("/partner/", params={"q": q})
        assert r.status_code == 200, (q, r.status_code)
        return sorted(_names(r.text))

    assert found("größe") == ["Jörg Größe"]
    assert found("öztürk") == found("ÖzTüRk") == ["ÖZTÜRK, Ayşe"]  # not only A-Z
    assert found("ayşe") == ["ÖZTÜRK, Ayşe"]
    assert found("müller anna") == ["Anna Müller"]  # every word, any order
    assert found("ANNA.MUELLER@example") == ["Anna Müller"]
    assert found("%") == found("_sicher") == ["100%_Sicher"]  # no pattern characters
    assert found("müller") == ["Anna Müller"]  # another organisation's lead stays hidden
    assert found("nobody") == [] and found("' OR 1=1 --") == []
    number = _number(client, ids["Anna Müller"])
    assert number.startswith("L-2026-")
    short = str(ids["Anna Müller"])
    for typed in (number, number.lower(), number.replace("-", " "),
                  number.removeprefix("L-"), short):
        assert found(typed) == ["Anna Müller"], typed
    # the year of a number is the year the lead came in, in Berlin: 00:30 on 1 January
    otto = _number(client, ids["Otto Normal"])
    assert otto.startswith("L-2026-") and found(otto) == ["Otto Normal"]
    assert found(otto.replace("2026", "2025")) == []
    assert found(f"L-2026-{elsewhere:04d}") == []  # a number only finds what one may see
    # the CSV carries the search
    export = client.get("/partner/export.csv", params={"q": "joerg"}).content.decode("utf-8-sig")
    assert "Jörg Größe" in export and "Anna" not in export
    [logged] = rows_in(client, audit_log, audit_log.c.action == "export")
    assert "joerg" not in logged.detail  # the log outlives an erasure: no names in it
    # the agency's admin searches every organisation's leads
    add_user(client, AGENCY, role="admin")
    client.cookies.clear()
    login(client, f"admin@{AGENCY}.example.org")
    assert found("müller") == ["Anna Müller", "Anna Müller-Wenden"]


def test_bad_search_input_is_a_clear_400_never_a_500(client):
    lead(client, ["olpe"], name="Familie Muster")
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    for bad in ("a\x00b", "x" * 101, "zeile\nzwei", "\x1b[31m"):
        r = client.get("/partner/", params={"q": bad})
        assert r.status_code == 400, repr(bad)
        assert 'href="#q"' in r.text and "Ohne Steuerzeichen" in r.text.replace("ohne", "Ohne")
        assert "Familie Muster" in r.text  # the list without the bad search
        assert client.get("/partner/export.csv", params={"q": bad}).status_code == 400
    for odd in ("99999999999", "L-9999-99999999", "L-0000-1", "%%%", "\\", "'", "ä" * 100,
                "L-2026-2147483648", "2147483647"):
        assert client.get("/partner/", params={"q": odd}).status_code == 200, odd


def _municipality_options(html: str) -> list[str]:
    select = re.search(r'<select id="municipality".*?</select>', html, re.S)
    assert select
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(0)) if v]


def test_an_organisation_sees_its_own_municipalities_in_the_filter(client):
    region = shipped_content().region
    add_user(client, "olpe")
    add_user(client, "sauerland-tourismus")
    add_user(client, AGENCY, role="admin")
    login(client, "staff@olpe.example.org")
    page = client.get("/partner/").text
    assert _municipality_options(page) == ["olpe"]
    every = client.get("/partner/", params={"alle_gemeinden": "1"}).text
    assert len(_municipality_options(every)) == len(region.municipalities) == 59
    assert 'name="alle_gemeinden" value="1"' in every  # filtering keeps the long list
    link = re.search(r'href="(/partner/\?[^"]*alle_gemeinden=1[^"]*)"', page)
    assert link and client.get(link.group(1).replace("&amp;", "&")).status_code == 200
    # a place chosen from the long list stays selectable in the short one
    chosen = client.get("/partner/", params={"municipality": "wenden"}).text
    assert _municipality_options(chosen) == ["olpe", "wenden"]
    client.cookies.clear()
    login(client, "staff@sauerland-tourismus.example.org")
    covered = _municipality_options(client.get("/partner/").text)
    assert covered == [s for d in region.districts.values() for s in d.municipalities
                       if s in region.organisations["sauerland-tourismus"].covers]
    assert "winterberg" in covered and "siegen" not in covered
    client.cookies.clear()
    login(client, f"admin@{AGENCY}.example.org")
    assert len(_municipality_options(client.get("/partner/").text)) == 59
    assert "alle_gemeinden" not in client.get("/partner/").text


def _change(client: TestClient, current: str, new: str, repeat: str | None = None,
            token: str | None = None):
    return client.post("/partner/passwort", data={
        "csrf_token": token or csrf(client), "current_password": current, "password": new,
        "password_repeat": new if repeat is None else repeat})


def test_staff_change_their_own_password_and_other_sessions_end(client):
    email = add_user(client, "olpe")
    login(client, email)
    elsewhere = dict(client.cookies)  # the same account signed in on another computer
    client.cookies.clear()
    login(client, email)
    here = dict(client.cookies)

    def on(jar: dict[str, str]) -> TestClient:
        client.cookies.clear()
        client.cookies.update(jar)
        return client

    form = client.get("/partner/passwort")
    assert form.status_code == 200 and 'autocomplete="current-password"' in form.text
    assert 'href="/partner/passwort"' in client.get("/partner/").text
    for current, new, repeat, field in (
            ("falsch-falsch-falsch", NEW_PASSWORD, None, "current_password"),
            (PASSWORD, "kurz", None, "password"),
            (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "password_repeat"),
            (PASSWORD, PASSWORD, None, "password"),
            ("", NEW_PASSWORD, None, "current_password")):
        r = _change(client, current, new, repeat)
        assert r.status_code == 400 and f'href="#{field}"' in r.text, (current, new)
    assert client.post("/partner/passwort", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD}).status_code == 400  # no CSRF token
    assert on(elsewhere).get("/partner/").status_code == 200  # nothing changed so far
    done = _change(on(here), PASSWORD, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == "/partner/passwort?gespeichert=1"
    saved = client.get(done.headers["location"])  # this browser stays signed in
    assert saved.status_code == 200 and "neues Passwort ist gespeichert" in saved.text
    assert count_in(client, sessions) == 1
    assert on(elsewhere).get("/partner/").status_code == 303  # the other session ended
    assert count_in(client, audit_log, audit_log.c.action == "password_change") == 1
    client.cookies.clear()
    assert login(client, email).status_code == 400  # the old password is gone
    assert login(client, email, NEW_PASSWORD).status_code == 303


def test_guessing_the_current_password_is_throttled(client):
    email = add_user(client, "olpe")
    login(client, email)
    token = csrf(client)
    codes = [_change(client, f"geraten-{n:02d}-xxxxx", NEW_PASSWORD, token=token).status_code
             for n in range(7)]
    assert codes[:4] == [400] * 4 and codes[-1] == 429
    r = _change(client, PASSWORD, NEW_PASSWORD, token=token)  # right, but still waiting
    assert r.status_code == 429 and "Zu viele Versuche" in r.text
    client.cookies.clear()
    assert login(client, email, NEW_PASSWORD).status_code != 303  # unchanged


def test_notes_are_seen_by_the_writing_organisation_only(client):
    lead_id = lead(client, ["olpe", "sauerland-tourismus"], municipalities=("olpe",),
                   consents=("municipalities", "tourism", "agency"))
    writers = {"olpe": add_user(client, "olpe"),
               "sauerland-tourismus": add_user(client, "sauerland-tourismus"),
               AGENCY: add_user(client, AGENCY, role="admin")}
    texts = {org: f"Vertraulich von {org}" for org in writers}
    for org, email in writers.items():
        client.cookies.clear()
        login(client, email)
        page = client.get(f"/partner/lead/{lead_id}").text
        name = shipped_content().region.organisations[org].name
        if org == AGENCY:
            assert "Notizen hier sieht nur die Südwestfalen Agentur" in page
        else:  # the label names who sees a note, and who does not
            assert (f"Notizen hier sehen nur die Mitarbeitenden von {name} – nicht die "
                    "Familie, nicht die anderen Stellen") in page
            assert "nicht die Südwestfalen Agentur" in page
            assert f"Neue Notiz (nur für {name})" in page
        r = client.post(f"/partner/lead/{lead_id}/notiz",
                        data={"csrf_token": csrf(client), "note": texts[org]})
        assert r.status_code == 303
    for org, email in writers.items():
        client.cookies.clear()
        login(client, email)
        page = client.get(f"/partner/lead/{lead_id}").text
        assert [t for t in texts.values() if t in page] == [texts[org]], org
