"""Hostile input against every form: arbitrary text, Unicode, huge values, missing
and repeated fields, broken bodies. Never a 5xx; never a stored lead (or status)
that the validation would have refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from campaign import auth
from campaign.app import create_app
from campaign.content import EMAIL_RE
from campaign.db import Database
from campaign.vocab import CONSENT_GROUPS, FOLLOW_UP, INTERESTS, MAX_MUNICIPALITIES

from .conftest import shipped_content

EXAMPLES = hsettings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])
NASTY = ["", " ", "\x00", "\r\nBcc: victim@example.org", "<script>alert(1)</script>",
         "' OR 1=1 --", "9" * 400, "-1", "1e309", "NaN", "😀" * 60, "a@b", "\u202e\u200b",
         "x" * 300 + "@example.org", "olpe,olpe,olpe", "../../etc/passwd", "%00", "ä" * 3000]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def hostile_text() -> st.SearchStrategy[str]:
    # huge values are a short random piece repeated: large, but cheap for hypothesis to draw
    huge = st.tuples(st.text(min_size=1, max_size=8), st.integers(300, 5000)).map(
        lambda t: t[0] * t[1])
    return st.one_of(st.sampled_from(NASTY), st.text(max_size=40), huge,
                     st.integers().map(str))


@st.composite
def hostile_form(draw: st.DrawFn, base: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``base`` with some fields dropped, some replaced (possibly repeated), some added."""
    names = sorted({k for k, _ in base})
    dropped = draw(st.sets(st.sampled_from(names), max_size=len(names)))
    changed = draw(st.dictionaries(st.sampled_from(names),
                                   st.lists(hostile_text(), min_size=1, max_size=3), max_size=4))
    form = [(k, v) for k, v in base if k not in dropped and k not in changed]
    form += [(k, v) for k, values in changed.items() for v in values]
    form += draw(st.lists(st.tuples(st.text(max_size=20), hostile_text()), max_size=2))
    return draw(st.permutations(form))


@pytest.fixture
def hclient(settings) -> Iterator[TestClient]:
    # a high limit, so that valid submissions are stored and checked too
    app = create_app(settings.with_(rate_limit_per_hour=100_000), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


def token(client: TestClient, path: str) -> str:
    m = CSRF.search(client.get(path).text)
    assert m, path
    return m.group(1)


def post(client: TestClient, path: str, form: list[tuple[str, str]]):
    """A urlencoded POST with repeated and odd field names kept exactly."""
    return client.post(path, content=urlencode(form).encode(),
                       headers={"content-type": "application/x-www-form-urlencoded"})


def rows(settings, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(settings.database)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_lead_is_valid(lead: sqlite3.Row) -> None:
    """What validation guarantees about every stored lead."""
    region = shipped_content().region
    assert lead["status"] == "pending"
    assert lead["name"] and lead["name"] == lead["name"].strip() and len(lead["name"]) <= 100
    assert not re.search(r"[\x00-\x1f\x7f]", lead["name"] + lead["email"] + (lead["phone"] or ""))
    assert EMAIL_RE.match(lead["email"]) and len(lead["email"]) <= 254
    assert 1 <= lead["adults"] <= 10 and 0 <= lead["children"] <= 12
    towns = json.loads(lead["municipalities"])
    assert set(towns) <= set(region.municipalities) and len(towns) <= MAX_MUNICIPALITIES
    assert set(json.loads(lead["interests"])) <= set(INTERESTS)
    consents = json.loads(lead["consents"])
    assert consents and set(consents) <= set(CONSENT_GROUPS)
    assert len(lead["message"] or "") <= 2000


VALID_LEAD = [("name", "Familie Muster"), ("email", "muster@example.org"), ("adults", "2"),
              ("children", "1"), ("municipalities", "olpe"), ("consents", "municipalities"),
              ("consents", "agency"), ("interests", "wohnen"), ("message", "Hallo")]


def test_hostile_lead_forms_never_fail_and_store_only_valid_leads(hclient, settings):
    csrf = token(hclient, "/interesse")
    base = [*VALID_LEAD, ("csrf_token", csrf), ("consent_version",
                                                 shipped_content().extras["consent"].version)]
    stored_before = [0]

    @EXAMPLES
    @given(form=hostile_form(base))
    def check(form: list[tuple[str, str]]) -> None:
        r = post(hclient, "/interesse", form)
        assert r.status_code < 500, r.text[:500]
        leads = rows(settings, "SELECT * FROM leads ORDER BY id")
        if r.status_code != 303:
            assert len(leads) == stored_before[0], "an invalid submission stored a lead"
        for lead in leads[stored_before[0]:]:
            assert_lead_is_valid(lead)
        stored_before[0] = len(leads)

    check()
    # the base form is valid: the property above was not vacuous (with a message of
    # its own, as the same form sent again is the lead already stored, if an
    # example happened to be the base form itself)
    fresh = [(k, "Hallo, eine neue Nachricht") if k == "message" else (k, v) for k, v in base]
    assert post(hclient, "/interesse", fresh).status_code == 303
    assert len(rows(settings, "SELECT id FROM leads")) == stored_before[0] + 1


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=xyz",
                                          "multipart/form-data", "text/plain", "application/json"])
def test_broken_bodies_never_fail(hclient, settings, content_type):
    token(hclient, "/interesse")

    @EXAMPLES
    @given(body=st.one_of(st.binary(max_size=3000),
                          st.sampled_from([b"--xyz\r\nContent-Disposition: form-data\r\n\r\n",
                                           b"a=%ZZ&b=%", b"=" * 500, b"&&&", b"\xff\xfe\x00"])))
    def check(body: bytes) -> None:
        for path in ("/interesse", "/quiz/familie", "/quiz/familie/frage/1", "/partner/login",
                     "/interesse/neuer-link"):
            r = hclient.post(path, content=body, headers={"content-type": content_type})
            assert r.status_code < 500, (path, r.status_code)

    check()
    assert rows(settings, "SELECT COUNT(*) FROM leads")[0][0] == 0


def test_hostile_quiz_answers_never_fail(hclient):
    csrf = token(hclient, "/quiz/familie")
    r = post(hclient, "/quiz/familie", [("csrf_token", csrf)])
    assert r.status_code == 303  # a run is under way: the quiz cookie is set

    @EXAMPLES
    @given(n=st.one_of(st.integers(min_value=-3, max_value=12), st.integers()),
           form=hostile_form([("answer", "a"), ("csrf_token", csrf)]))
    def check(n: int, form: list[tuple[str, str]]) -> None:
        r = post(hclient, f"/quiz/familie/frage/{n}", form)
        assert r.status_code < 500
        assert hclient.get(f"/quiz/familie/frage/{n}").status_code < 500
        assert hclient.get("/quiz/familie/ergebnis").status_code < 500

    check()


def _add_user_and_lead(app, settings) -> int:
    async def go() -> int:
        async with Database(settings.database) as db:
            await auth.create_user(db, "olpe", "staff@olpe.example.org", "Gute-Frage-2026!")
            async with db.transaction() as tx:
                lead_id = await tx.execute(
                    "INSERT INTO leads (public_id, status, created_at, name, email, municipalities,"
                    " consents) VALUES ('p1', 'confirmed', '2026-11-20T10:00:00+00:00',"
                    " 'Familie Ziel', 'ziel@example.org', '[\"olpe\"]', '[\"municipalities\"]')")
                await tx.execute("INSERT INTO lead_recipients (lead_id, org, reason, routed_at)"
                                 " VALUES (?, 'olpe', 'municipality', '2026-11-20T10:00:00+00:00')",
                                 (lead_id,))
            return lead_id

    return asyncio.run(go())


def test_hostile_logins_never_fail_and_never_sign_in(hclient, settings):
    _add_user_and_lead(hclient.app, settings)
    csrf = token(hclient, "/partner/login")

    @hsettings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.data_too_large])
    @given(form=hostile_form([("email", "staff@olpe.example.org"), ("password", "falsch"),
                              ("csrf_token", csrf)]))
    def check(form: list[tuple[str, str]]) -> None:
        r = post(hclient, "/partner/login", form)
        assert r.status_code < 500
        assert "session" not in r.cookies
        assert hclient.get("/partner/").status_code in (302, 303, 401, 403)

    check()


def test_hostile_status_changes_never_fail_and_keep_the_vocabulary(hclient, settings):
    lead_id = _add_user_and_lead(hclient.app, settings)
    csrf = token(hclient, "/partner/login")
    r = post(hclient, "/partner/login", [("email", "staff@olpe.example.org"),
                                         ("password", "Gute-Frage-2026!"), ("csrf_token", csrf)])
    assert r.status_code == 303
    csrf = token(hclient, f"/partner/lead/{lead_id}")

    @EXAMPLES
    @given(form=hostile_form([("status", "kontaktiert"), ("org", "olpe"), ("csrf_token", csrf)]),
           target=st.sampled_from([lead_id, lead_id + 1, 0, 2**62]))
    def check(form: list[tuple[str, str]], target: int) -> None:
        r = post(hclient, f"/partner/lead/{target}/status", form)
        assert r.status_code < 500
        r = post(hclient, f"/partner/lead/{target}/notiz", form)
        assert r.status_code < 500
        for row in rows(settings, "SELECT status FROM lead_recipients"):
            assert row["status"] in FOLLOW_UP

    check()
    assert hclient.get(f"/partner/lead/{lead_id}").status_code == 200
    # the base form works, so the examples above reached the real validation
    r = post(hclient, f"/partner/lead/{lead_id}/status",
             [("status", "besuch_geplant"), ("org", "olpe"), ("csrf_token", csrf)])
    assert r.status_code == 303
    assert rows(settings, "SELECT status FROM lead_recipients")[0]["status"] == "besuch_geplant"


def test_non_ascii_csrf_token_is_refused_not_a_server_error(hclient):
    """Found by the properties above: compare_digest raised TypeError on 'ä'."""
    token(hclient, "/interesse")
    for path in ("/interesse", "/quiz/familie", "/partner/login"):
        r = post(hclient, path, [*VALID_LEAD, ("csrf_token", "ä😀")])
        assert r.status_code in (400, 403), (path, r.status_code)


def test_hostile_tokens_in_links_never_fail(hclient):
    """Mail and share links carry signed tokens: forged, truncated or odd ones are refused."""
    csrf = token(hclient, "/interesse")
    forged = st.one_of(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_.", min_size=1, max_size=300),
                       st.sampled_from(["x", "a.b.c", "..", "eyJ9.eyJ9.e30", "0" * 4000]))

    @EXAMPLES
    @given(tok=forged, action=st.sampled_from(["withdraw", "erase", "", "x" * 50]))
    def check(tok: str, action: str) -> None:
        quoted = quote(tok, safe="")
        for path in (f"/bestaetigen/{quoted}", f"/meine-daten/{quoted}", f"/quittung/{quoted}",
                     f"/teilen/{quoted}", f"/q/{quoted}", f"/partner/passwort-neu/{quoted}"):
            r = hclient.get(path)
            assert r.status_code < 500, (path, r.status_code)
        r = post(hclient, f"/meine-daten/{quoted}", [("action", action), ("csrf_token", csrf)])
        assert r.status_code < 500
        assert rows(hclient.app.state.settings, "SELECT COUNT(*) FROM leads")[0][0] == 0

    check()


def test_hostile_place_resend_and_reset_forms_never_fail(hclient, settings):
    _add_user_and_lead(hclient.app, settings)
    login_csrf = token(hclient, "/partner/login")
    assert post(hclient, "/partner/login", [("email", "staff@olpe.example.org"),
                                            ("password", "Gute-Frage-2026!"),
                                            ("csrf_token", login_csrf)]).status_code == 303
    csrf = token(hclient, "/partner/orte-qr")
    place = [("label", "Ferienwohnung am See"), ("target", "municipality:olpe"),
             ("medium", "qr"), ("campaign", "sommer-2026"), ("pitch", "Hier leben?"),
             ("csrf_token", csrf)]
    email = [("email", "ziel@example.org"), ("csrf_token", csrf)]

    @EXAMPLES
    @given(place_form=hostile_form(place), email_form=hostile_form(email))
    def check(place_form: list[tuple[str, str]], email_form: list[tuple[str, str]]) -> None:
        assert post(hclient, "/partner/orte-qr", place_form).status_code < 500
        assert post(hclient, "/interesse/neuer-link", email_form).status_code < 500
        assert post(hclient, "/partner/passwort-vergessen", email_form).status_code < 500
        for row in rows(settings, "SELECT * FROM places"):
            assert row["label"].strip() and len(row["label"]) <= 120
            assert row["target_kind"] == "municipality" or row["target_slug"] in ("", "familie",
                                                                                  "pflege")
            assert not re.search(r"[\x00-\x1f\x7f]", row["label"] + row["pitch"])

    check()
    assert post(hclient, "/partner/orte-qr", place).status_code == 303  # the base is valid
