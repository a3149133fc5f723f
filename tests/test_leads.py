"""Lead capture end to end: form → confirmation mail at a real SMTP server → confirm once."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.testclient import TestClient

from campaign.mail.worker import deliver_once

from .conftest import shipped_content

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
LINK = re.compile(r"http://testserver((?:/[a-z]{2})?/(?:bestaetigen|meine-daten)/[A-Za-z0-9._-]+)")


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


def valid_data(**overrides: Any) -> dict[str, Any]:
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


def submit(client: TestClient, query: str = "", **overrides: Any):
    """GET the form (cookie + hidden fields), then POST it like a browser does."""
    page = client.get("/interesse" + query)
    assert page.status_code == 200
    return client.post("/interesse", data={**hidden_fields(page.text), **valid_data(**overrides)})


def run(client: TestClient, fn: Any, *args: Any) -> Any:
    async def call() -> Any:
        return await fn(*args)

    return client.portal.call(call)


def rows(client: TestClient, sql: str, params: tuple = ()) -> list[Any]:
    return run(client, client.app.state.db.fetchall, sql, params)


def count(client: TestClient, table: str, where: str = "1", params: tuple = ()) -> int:
    return rows(client, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params)[0]["n"]


def deliver(client: TestClient, settings: Any) -> dict[str, int]:
    return run(client, deliver_once, client.app.state.db, settings)


def link_in(message: Any, kind: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    for path in LINK.findall(text):
        if f"/{kind}/" in path:
            return path
    raise AssertionError(f"no {kind} link in {text!r}")


def test_form_preselects_towns_and_interests_and_keeps_attribution(client):
    r = client.get("/interesse?orte=olpe,atlantis,winterberg&interessen=medizin_pflege"
                   "&utm_source=Instagram&utm_campaign=sommer%0A2026&place=fewo-12")
    assert r.status_code == 200
    assert re.search(r'value="olpe" checked', r.text)
    assert re.search(r'value="winterberg" checked', r.text)
    assert 'value="atlantis"' not in r.text
    assert re.search(r'value="medizin_pflege" checked', r.text)
    hidden = hidden_fields(r.text)
    assert hidden["utm_source"] == "instagram"
    assert "\n" not in hidden["utm_campaign"] and hidden["utm_campaign"].startswith("sommer")
    assert hidden["place"] == "fewo-12"
    # the honeypot is there, hidden by CSS, out of the tab order and without autofill
    assert re.search(r'<div class="honeypot">\s*<label for="website">', r.text)
    assert 'name="website" value="" autocomplete="off" tabindex="-1"' in r.text
    # every consent text is shown exactly as in content
    consent = shipped_content().extras["consent"]
    for group in consent.groups.values():
        assert group.text.get("de") in r.text


def test_valid_lead_one_mail_confirm_once(mail_client, smtp, smtp_settings):
    client = mail_client
    r = submit(client, "?utm_source=newsletter&utm_medium=email&place=tourist-info-olpe")
    assert r.status_code == 303
    assert r.headers["location"] == "/interesse/danke"
    assert client.get(r.headers["location"]).status_code == 200

    lead = rows(client, "SELECT * FROM leads")
    assert len(lead) == 1
    lead = lead[0]
    assert lead["status"] == "pending" and lead["confirmed_at"] is None
    assert json.loads(lead["municipalities"]) == ["olpe", "attendorn"]
    assert json.loads(lead["consents"]) == ["municipalities", "tourism", "skilled_workers"]
    assert lead["utm_source"] == "newsletter" and lead["place_code"] == "tourist-info-olpe"
    assert lead["language"] == "de" and lead["consent_version"]
    consent = shipped_content().extras["consent"]
    assert lead["consent_hash"] == consent.hash_of(json.loads(lead["consents"]), "de")
    assert count(client, "consent_events", "event = 'given'") == 3
    assert count(client, "lead_recipients") == 0  # nothing routed before confirmation

    assert deliver(client, smtp_settings)["sent"] == 1
    mails = smtp.to("anna.beispiel@example.com")
    assert len(mails) == 1 and len(smtp.messages) == 1
    mail = mails[0]
    assert "bestätigt" in mail["Subject"]
    assert mail.get_body(preferencelist=("html",)) is not None
    confirm = link_in(mail, "bestaetigen")
    assert "/meine-daten/" in mail.get_body(preferencelist=("plain",)).get_content()
    assert lead["public_id"] not in confirm and str(lead["id"]) not in confirm.split("/")[-1][:2]

    first = client.get(confirm)
    assert first.status_code == 200
    assert "bestätigt" in first.text
    lead = rows(client, "SELECT * FROM leads")[0]
    assert lead["status"] == "confirmed" and lead["confirmed_at"]
    recipients = {r["org"] for r in rows(client, "SELECT org FROM lead_recipients")}
    assert {"olpe", "attendorn"} <= recipients
    assert len(recipients) >= 4  # + tourism association + skilled-worker contact
    outbox_after_first = count(client, "outbox")
    assert count(client, "consent_events", "event = 'confirmed'") == 3
    funnel = {r["step"]: r["count"] for r in rows(client, "SELECT step, count FROM funnel_counts")}
    assert funnel == {"lead_submitted": 1, "lead_confirmed": 1}

    second = client.get(confirm)
    assert second.status_code == 200
    assert "schon bestätigt" in second.text
    assert count(client, "lead_recipients") == len(recipients)
    assert count(client, "outbox") == outbox_after_first
    assert rows(client, "SELECT confirmed_at FROM leads")[0]["confirmed_at"] == lead["confirmed_at"]

    deliver(client, smtp_settings)
    for org in recipients:
        email = shipped_content().region.organisations[org].email
        assert len(smtp.to(email)) == 1, org
    # the family gets a receipt with its self-service link
    family = smtp.to("anna.beispiel@example.com")
    assert len(family) == 2
    assert link_in(family[1], "meine-daten")


def test_the_same_submission_sent_again_is_one_lead_and_one_mail(client):
    """A double click or a retry after a lost answer sends the same bytes again."""
    page = client.get("/interesse")
    form = {**hidden_fields(page.text), **valid_data()}
    answers = [client.post("/interesse", data=form, follow_redirects=False) for _ in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert {a.headers["location"] for a in answers} == {"/interesse/danke"}
    assert count(client, "leads") == 1
    assert count(client, "outbox", "kind = 'confirm'") == 1
    assert count(client, "consent_events") == 3
    funnel = {r["step"]: r["count"] for r in rows(client, "SELECT step, count FROM funnel_counts")}
    assert funnel == {"lead_submitted": 1}
    # a corrected field makes it a submission of its own
    changed = client.post("/interesse", data={**form, "adults": "1"}, follow_redirects=False)
    assert changed.status_code == 303
    assert count(client, "leads") == 2
    assert count(client, "outbox", "kind = 'confirm'") == 2


def test_quiz_outcome_is_stored_with_the_lead(client):
    from campaign.quiz import make_outcome_token, score

    quiz = shipped_content().extras["quizzes"]["familie"]
    ranking = score(quiz, {}, list(shipped_content().region.municipalities.values()))
    token = make_outcome_token(client.app.state.settings.secret_key, quiz, ranking)
    r = submit(client, f"?quiz=familie&ergebnis={token}&utm_source=poster")
    assert r.status_code == 303
    lead = rows(client, "SELECT quiz, quiz_outcome, utm_source FROM leads")[0]
    assert lead["quiz"] == "familie" and lead["utm_source"] == "poster"
    outcome = json.loads(lead["quiz_outcome"])
    assert outcome and outcome[0]["slug"] == ranking[0].slug
    funnel = rows(client, "SELECT quiz, step, utm_source FROM funnel_counts")
    assert [tuple(r) for r in funnel] == [("familie", "lead_submitted", "poster")]


def test_forged_quiz_outcome_is_ignored(client):
    r = submit(client, "?quiz=atlantis&ergebnis=forged.token.value")
    assert r.status_code == 303
    lead = rows(client, "SELECT quiz, quiz_outcome FROM leads")[0]
    assert lead["quiz"] is None and lead["quiz_outcome"] is None


def test_dutch_page_stores_language_and_mail_is_dutch_link(client):
    page = client.get("/nl/interesse")
    assert page.status_code == 200
    r = client.post("/nl/interesse", data={**hidden_fields(page.text), **valid_data()})
    assert r.status_code == 303 and r.headers["location"].startswith("/nl/")
    lead = rows(client, "SELECT language, consent_hash, consents FROM leads")[0]
    assert lead["language"] == "nl"
    consent = shipped_content().extras["consent"]
    assert lead["consent_hash"] == consent.hash_of(json.loads(lead["consents"]), "nl")
    assert lead["consent_hash"] != consent.hash_of(json.loads(lead["consents"]), "de")
    # The request queues a recipe; the worker renders the mail and keeps its bytes.
    assert deliver(client, client.app.state.settings)["sent"] == 1
    message = rows(client, "SELECT message FROM outbox WHERE kind = 'confirm'")[0]["message"]
    assert b"http://testserver/nl/bestaetigen/" in message


def test_expired_and_forged_confirm_links_explain_and_offer_a_new_mail(client):
    from campaign.tokens import make_token

    r = client.get("/bestaetigen/not-a-real-token")
    assert r.status_code == 400
    assert "ungültig" in r.text and 'href="/interesse/neuer-link"' in r.text
    secret = client.app.state.settings.secret_key
    r = client.get(f"/bestaetigen/{old_token(secret, 'confirm', 'some-id', days=8)}")
    assert r.status_code == 410
    assert "abgelaufen" in r.text and 'href="/interesse/neuer-link"' in r.text
    # a valid token for a lead that does not exist (e.g. purged) is 410 too
    r = client.get("/bestaetigen/" + make_token(secret, "confirm", "gone-id"))
    assert r.status_code == 410
    # a self-service token does not confirm
    r = client.get("/bestaetigen/" + make_token(secret, "self-service", "gone-id"))
    assert r.status_code == 400


def old_token(secret: str, purpose: str, payload: Any, days: float) -> str:
    """A correctly signed token issued ``days`` ago."""
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 24 * 3600)

    return URLSafeTimedSerializer(secret, salt=f"campaign.{purpose}", signer=Past).dumps(payload)


def test_resend_answers_the_same_for_known_and_unknown_addresses(client):
    submit(client)
    before = count(client, "outbox", "kind = 'confirm'")
    answers = []
    for email in ("anna.beispiel@example.com", "nobody@example.com"):
        page = client.get("/interesse/neuer-link")
        r = client.post("/interesse/neuer-link",
                        data={**hidden_fields(page.text), "email": email})
        assert r.status_code == 303
        answers.append(client.get(r.headers["location"]).text)
    assert answers[0] == answers[1]
    assert count(client, "outbox", "kind = 'confirm'") == before + 1
    # without CSRF nothing is sent
    r = client.post("/interesse/neuer-link", data={"email": "anna.beispiel@example.com"})
    assert r.status_code == 400
    assert count(client, "outbox", "kind = 'confirm'") == before + 1


def _ask_for_link(client: TestClient, email: str) -> None:
    page = client.get("/interesse/neuer-link")
    r = client.post("/interesse/neuer-link", data={**hidden_fields(page.text), "email": email})
    assert r.status_code == 303


def test_resend_gives_confirmed_families_their_self_service_link(client):
    from campaign.leads import confirm
    from campaign.mail import mailer_for

    submit(client)
    public_id = rows(client, "SELECT public_id FROM leads")[0]["public_id"]
    assert run(client, confirm, client.app.state.db, mailer_for(client.app), public_id) \
        == "confirmed"
    before = count(client, "outbox", "kind = 'selfservice'")
    _ask_for_link(client, "ANNA.Beispiel@example.com")  # case does not matter
    assert count(client, "outbox", "kind = 'selfservice'") == before + 1
    message = rows(client, "SELECT message FROM outbox WHERE kind = 'selfservice'"
                   " ORDER BY id DESC LIMIT 1")[0]["message"]
    assert b"/meine-daten/" in message and b"/bestaetigen/" not in message
    # at most three links of a kind per hour, however often someone asks
    for _ in range(5):
        _ask_for_link(client, "anna.beispiel@example.com")
    assert count(client, "outbox", "kind = 'selfservice'") == 3


def test_two_simultaneous_confirmations_route_the_lead_once(client):
    import asyncio

    from campaign.leads import confirm
    from campaign.mail import mailer_for

    submit(client)
    public_id = rows(client, "SELECT public_id FROM leads")[0]["public_id"]
    db, mailer = client.app.state.db, mailer_for(client.app)

    async def both() -> list[str]:
        return list(await asyncio.gather(*(confirm(db, mailer, public_id) for _ in range(5))))

    results = client.portal.call(both)
    assert sorted(results) == ["already"] * 4 + ["confirmed"]
    routed = count(client, "lead_recipients")
    assert routed >= 3
    assert count(client, "outbox", "kind = 'lead'") == routed
    assert count(client, "consent_events", "event = 'confirmed'") == 3
