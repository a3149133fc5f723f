"""Hostile input against every form: arbitrary text, Unicode, huge values, missing
and repeated fields, broken bodies. Never a 5xx; never a stored lead (or status)
that the validation would have refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.datastructures import MultiDict
from starlette.testclient import TestClient

from campaign.content import EMAIL_RE
from campaign.core.schema import lead_history, lead_recipients, leads, places, users
from campaign.core.tokens import make_token
from campaign.core.vocab import (
    CALL_OUTCOMES,
    CHILD_AGES,
    CLOSE_REASONS,
    CONSENT_GROUPS,
    FOLLOW_UP,
    INTERESTS,
    MAX_MUNICIPALITIES,
    TIMEFRAMES,
)
from campaign.leads import records
from campaign.leads.form import LeadForm
from campaign.leads.mails import SELF_SERVICE_PURPOSE
from campaign.quiz.outcome import make_outcome_token
from campaign.quiz.scoring import score
from campaign.web.app import create_app

from .support.app import all_leads, count_in, rows_in, run, services, shipped_content
from .support.forms import hidden_fields
from .support.leads import add_lead, store_lead
from .support.portal import add_user

EXAMPLES = hsettings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])
NASTY = ["", " ", "\x00", "\r\nBcc: victim@example.org", "<script>alert(1)</script>",
         "' OR 1=1 --", "9" * 400, "-1", "1e309", "NaN", "😀" * 60, "a@b", "\u202e\u200b",
         "x" * 300 + "@example.org", "olpe,olpe,olpe", "../../etc/passwd", "%00", "ä" * 3000]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STAFF, PASSWORD = "staff@olpe.example.org", "Gute-Frage-2026!"


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


def post(client: TestClient, path: str, form: list[tuple[str, str]]) -> Any:
    """A urlencoded POST with repeated and odd field names kept exactly."""
    return client.post(path, content=urlencode(form).encode(),
                       headers={"content-type": "application/x-www-form-urlencoded"})


def assert_lead_is_valid(lead: Any) -> None:
    """What validation guarantees about every stored lead."""
    region = shipped_content().region
    assert lead.status == "pending"
    assert lead.name and lead.name == lead.name.strip() and len(lead.name) <= 100
    single_line = lead.name + lead.email + (lead.phone or "")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", single_line)
    assert EMAIL_RE.match(lead.email) and len(lead.email) <= 254
    assert 1 <= lead.adults <= 10 and 0 <= lead.children <= 12
    assert set(lead.child_ages) <= set(CHILD_AGES)
    assert lead.timeframe is None or lead.timeframe in TIMEFRAMES
    towns = lead.municipalities
    assert set(towns) <= set(region.municipalities) and len(towns) <= MAX_MUNICIPALITIES
    assert len(set(towns)) == len(towns)
    assert set(lead.interests) <= set(INTERESTS)
    assert lead.consents and set(lead.consents) <= set(CONSENT_GROUPS)
    assert len(lead.message or "") <= 2000
    for value in (lead.utm_source, lead.utm_medium, lead.utm_campaign, lead.place_code):
        assert value is None or re.fullmatch(r"[a-z0-9._-]{1,64}", value), value
    assert lead.quiz is None or lead.quiz in shipped_content().quizzes
    assert set(item.slug for item in lead.quiz_outcome) <= set(region.municipalities)


def assert_form_accepts(form: list[tuple[str, str]], lead: Any) -> None:
    """The form, fed the same fields, accepts them and cleans them into the stored lead."""
    towns = [(m.slug, m.name) for m in shipped_content().region.municipalities.values()]
    checked = LeadForm(MultiDict(form), municipalities=towns)
    assert checked.validate(), checked.errors
    data = checked.cleaned()
    stored = {name: getattr(lead, name) for name in data.__dataclass_fields__}
    assert stored == {name: getattr(data, name) for name in data.__dataclass_fields__}


VALID_LEAD = [("name", "Familie Muster"), ("email", "muster@example.org"), ("adults", "2"),
              ("children", "1"), ("municipalities", "olpe"), ("consents", "municipalities"),
              ("consents", "agency"), ("interests", "wohnen"), ("message", "Hallo")]


def test_hostile_lead_forms_never_fail_and_store_only_valid_leads(hclient):
    quiz = shipped_content().quizzes["familie"]
    ranking = score(quiz, {}, list(shipped_content().region.municipalities.values()))
    outcome = make_outcome_token(services(hclient).settings.secret_key, quiz, ranking)
    page = hclient.get(f"/interesse?quiz=familie&ergebnis={outcome}&utm_source=instagram"
                       "&utm_medium=social&utm_campaign=sommer&place=fewo-12")
    hidden = hidden_fields(page.text)
    assert hidden["ergebnis"] == outcome and hidden["quiz"] == "familie"
    # every field of the page: the visible ones, and the hidden ones a bot may change too
    base = [*VALID_LEAD, *hidden.items()]
    stored_before = [0]

    @EXAMPLES
    @given(form=hostile_form(base))
    def check(form: list[tuple[str, str]]) -> None:
        r = post(hclient, "/interesse", form)
        assert r.status_code < 500, r.text[:500]
        found = all_leads(hclient)
        if r.status_code != 303:
            assert len(found) == stored_before[0], "an invalid submission stored a lead"
        assert len(found) - stored_before[0] in (0, 1)
        for lead in found[stored_before[0]:]:
            assert_lead_is_valid(lead)
            assert_form_accepts(form, lead)
        stored_before[0] = len(found)

    check()
    # the base form is valid: the property above was not vacuous (with a message of
    # its own, as the same form sent again is the lead already stored, if an
    # example happened to be the base form itself)
    fresh = [(k, "Hallo, eine neue Nachricht") if k == "message" else (k, v) for k, v in base]
    assert post(hclient, "/interesse", fresh).status_code == 303
    found = all_leads(hclient)
    assert len(found) == stored_before[0] + 1
    assert_lead_is_valid(found[-1])
    assert_form_accepts(fresh, found[-1])
    assert found[-1].quiz == "familie" and found[-1].quiz_outcome
    assert (found[-1].utm_source, found[-1].place_code) == ("instagram", "fewo-12")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=xyz",
                                          "multipart/form-data", "text/plain", "application/json"])
def test_broken_bodies_never_fail(hclient, content_type):
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
    assert count_in(hclient, leads) == 0


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


def _add_user_and_lead(client: TestClient) -> int:
    """A staff account of Olpe and a confirmed lead routed to Olpe; the lead's id."""
    add_user(client, "olpe", email=STAFF, password=PASSWORD)
    return run(client, add_lead, services(client), ["olpe"])  # type: ignore[no-any-return]


def _login(client: TestClient) -> None:
    csrf = token(client, "/partner/login")
    r = post(client, "/partner/login", [("email", STAFF), ("password", PASSWORD),
                                        ("csrf_token", csrf)])
    assert r.status_code == 303


def test_hostile_logins_never_fail_and_never_sign_in(hclient):
    _add_user_and_lead(hclient)
    csrf = token(hclient, "/partner/login")

    @hsettings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.data_too_large])
    @given(form=hostile_form([("email", STAFF), ("password", "falsch"), ("csrf_token", csrf)]))
    def check(form: list[tuple[str, str]]) -> None:
        r = post(hclient, "/partner/login", form)
        assert r.status_code < 500
        assert "session" not in r.cookies
        assert hclient.get("/partner/").status_code in (302, 303, 401, 403)

    check()


def test_hostile_status_changes_never_fail_and_keep_the_vocabulary(hclient):
    lead_id = _add_user_and_lead(hclient)
    _login(hclient)
    csrf = token(hclient, f"/partner/lead/{lead_id}")

    @EXAMPLES
    @given(form=hostile_form([("status", "kontaktiert"), ("org", "olpe"), ("csrf_token", csrf)]),
           target=st.sampled_from([lead_id, lead_id + 1, 0, 2**62]))
    def check(form: list[tuple[str, str]], target: int) -> None:
        r = post(hclient, f"/partner/lead/{target}/status", form)
        assert r.status_code < 500
        r = post(hclient, f"/partner/lead/{target}/notiz", form)
        assert r.status_code < 500
        for row in rows_in(hclient, lead_recipients):
            assert row.status in FOLLOW_UP

    check()
    assert hclient.get(f"/partner/lead/{lead_id}").status_code == 200
    # the base form works, so the examples above reached the real validation
    r = post(hclient, f"/partner/lead/{lead_id}/status",
             [("status", "termin_vereinbart"), ("org", "olpe"), ("csrf_token", csrf)])
    assert r.status_code == 303
    [row] = rows_in(hclient, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert row.status == "termin_vereinbart"


def test_hostile_case_work_and_profiles_never_fail_and_keep_the_vocabulary(hclient):
    """Taking, assigning, calls, stage changes with reasons and the profile forms."""
    lead_id = _add_user_and_lead(hclient)
    _login(hclient)
    csrf = token(hclient, f"/partner/lead/{lead_id}")
    base = [("status", "geschlossen"), ("reason", "anderes"), ("seen", "neu"),
            ("outcome", "erreicht"), ("assignee", "1"), ("display_name", "Anna Beispiel"),
            ("job_title", "Lotsin"), ("phone", "0271 1"), ("photo_alt", "Foto"),
            ("remove", "1"), ("csrf_token", csrf)]

    @EXAMPLES
    @given(form=hostile_form(base), target=st.sampled_from([lead_id, lead_id + 1, 0]))
    def check(form: list[tuple[str, str]], target: int) -> None:
        for action in ("uebernehmen", "zuweisen", "anruf", "status"):
            r = post(hclient, f"/partner/lead/{target}/{action}", form)
            assert r.status_code < 500, action
        for path in ("/partner/profil", "/partner/profil/foto"):
            assert post(hclient, path, form).status_code < 500, path
        for row in rows_in(hclient, lead_recipients):
            assert row.status in FOLLOW_UP and row.close_reason in (None, *CLOSE_REASONS)
        for h in rows_in(hclient, lead_history):
            assert h.reason in (None, *CLOSE_REASONS, *CALL_OUTCOMES)
        for u in rows_in(hclient, users):
            assert u.display_name is None or (0 < len(u.display_name) <= 80
                                              and u.display_name.isprintable())
            assert u.phone is None or len(u.phone) <= 30

    check()
    assert hclient.get(f"/partner/lead/{lead_id}").status_code == 200
    assert hclient.get("/partner/profil").status_code == 200


def test_non_ascii_csrf_token_is_refused_not_a_server_error(hclient):
    """Found by the properties above: compare_digest raised TypeError on 'ä'."""
    token(hclient, "/interesse")
    for path in ("/interesse", "/quiz/familie", "/partner/login"):
        r = post(hclient, path, [*VALID_LEAD, ("csrf_token", "ä😀")])
        assert r.status_code in (400, 403), (path, r.status_code)
    assert count_in(hclient, leads) == 0


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
        r = post(hclient, f"/meine-daten/{quoted}", [("action", action), ("confirmed", "yes"),
                                                     ("csrf_token", csrf)])
        assert r.status_code < 500
        assert count_in(hclient, leads) == 0

    check()


def test_hostile_self_service_posts_change_a_lead_only_as_asked(hclient):
    """With a valid link, a lead is withdrawn or erased only by a POST that carries the
    CSRF token, the action and the confirmation; nothing else changes it."""
    svc = services(hclient)
    csrf = token(hclient, "/interesse")
    current: dict[str, Any] = {"made": 0}

    def fresh_lead() -> None:
        current["made"] += 1
        lead = run(hclient, store_lead, svc, email=f"familie{current['made']}@example.org")
        current.update(lead=lead, path="/meine-daten/" + make_token(
            svc.settings.secret_key, SELF_SERVICE_PURPOSE, lead.public_id))

    fresh_lead()
    done = {"withdraw": "withdrawn", "erase": "erased"}

    @EXAMPLES
    @given(form=hostile_form([("action", "withdraw"), ("confirmed", "yes"),
                              ("csrf_token", csrf)]))
    def check(form: list[tuple[str, str]]) -> None:
        if current["lead"].status != "confirmed":
            fresh_lead()
        lead = current["lead"]
        r = post(hclient, current["path"], form)
        assert r.status_code < 500
        after = run(hclient, records.by_public_id, svc.db, lead.public_id)
        assert after is not None
        if after.status != "confirmed":
            sent = {k: {v for k2, v in form if k2 == k} for k in ("action", "confirmed")}
            assert r.status_code == 303
            assert ("csrf_token", csrf) in form and "yes" in sent["confirmed"]
            assert after.status in {done[a] for a in sent["action"] if a in done}
            if after.status == "erased":
                assert after.name is None and after.email is None
        current["lead"] = after
        assert hclient.get(current["path"]).status_code == 200

    check()
    # the base form works, so the examples above reached the real action
    if current["lead"].status != "confirmed":
        fresh_lead()
    r = post(hclient, current["path"], [("action", "erase"), ("confirmed", "yes"),
                                        ("csrf_token", csrf)])
    assert r.status_code == 303
    erased = run(hclient, records.by_public_id, svc.db, current["lead"].public_id)
    assert erased is not None and erased.status == "erased" and erased.email is None


def test_hostile_place_resend_and_reset_forms_never_fail(hclient):
    _add_user_and_lead(hclient)
    _login(hclient)
    csrf = token(hclient, "/partner/orte-qr")
    place = [("label", "Ferienwohnung am See"), ("target", "municipality:olpe"),
             ("medium", "qr"), ("campaign", "sommer-2026"), ("pitch", "Hier leben?"),
             ("csrf_token", csrf)]
    email = [("email", "ziel@example.org"), ("csrf_token", csrf)]
    region = shipped_content().region
    quizzes = shipped_content().quizzes

    @EXAMPLES
    @given(place_form=hostile_form(place), email_form=hostile_form(email))
    def check(place_form: list[tuple[str, str]], email_form: list[tuple[str, str]]) -> None:
        assert post(hclient, "/partner/orte-qr", place_form).status_code < 500
        assert post(hclient, "/interesse/neuer-link", email_form).status_code < 500
        assert post(hclient, "/partner/passwort-vergessen", email_form).status_code < 500
        for row in rows_in(hclient, places):
            assert row.label.strip() and len(row.label) <= 120
            if row.target_kind == "municipality":
                assert row.target_slug in region.municipalities
            elif row.target_kind == "quiz":
                assert row.target_slug in quizzes
            else:
                assert row.target_kind in ("landing", "lead_form") and row.target_slug == ""
            assert not re.search(r"[\x00-\x1f\x7f]", row.label + row.pitch)

    check()
    assert post(hclient, "/partner/orte-qr", place).status_code == 303  # the base is valid
