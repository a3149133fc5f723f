"""Lead capture end to end: form → confirmation mail at a real SMTP server → confirm once."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from campaign.core.schema import consent_events, lead_recipients, outbox
from campaign.core.tokens import make_token
from campaign.leads import lifecycle
from campaign.quiz.outcome import make_outcome_token
from campaign.quiz.scoring import score

from .support.app import (
    all_leads,
    count_in,
    deliver,
    funnel_in,
    rows_in,
    run,
    services,
    shipped_content,
)
from .support.forms import click, hidden_fields, link_in, submit, valid_data


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
    assert hidden["utm_campaign"] == "other"  # a line break: outside the bounds
    assert hidden["place"] == "fewo-12"
    # the honeypot is there, hidden by CSS, out of the tab order and without autofill
    assert re.search(r'<div class="honeypot">\s*<label for="website">', r.text)
    assert 'name="website" value="" autocomplete="off" tabindex="-1"' in r.text
    # every consent text is shown exactly as in content
    consent = shipped_content().consent
    for group in consent.groups.values():
        assert group.text.get("de") in r.text


def test_valid_lead_one_mail_confirm_once(mail_client, smtp, smtp_settings):
    client = mail_client
    r = submit(client, "?utm_source=newsletter&utm_medium=email&place=tourist-info-olpe")
    assert r.status_code == 303
    assert r.headers["location"] == "/interesse/danke"
    assert client.get(r.headers["location"]).status_code == 200

    found = all_leads(client)
    assert len(found) == 1
    lead = found[0]
    assert lead.status == "pending" and lead.confirmed_at is None
    assert lead.municipalities == ("olpe", "attendorn")
    assert lead.consents == ("municipalities", "tourism", "skilled_workers")
    assert lead.utm_source == "newsletter" and lead.place_code == "tourist-info-olpe"
    assert lead.language == "de" and lead.consent_version
    consent = shipped_content().consent
    assert lead.consent_hash == consent.hash_of(lead.consents, "de")
    assert count_in(client, consent_events, consent_events.c.event == "given") == 3
    assert count_in(client, lead_recipients) == 0  # nothing routed before confirmation

    assert deliver(client, smtp_settings)["sent"] == 1
    mails = smtp.to("anna.beispiel@example.com")
    assert len(mails) == 1 and len(smtp.messages) == 1
    mail = mails[0]
    assert "bestätigen Sie" in mail["Subject"]
    assert mail.get_body(preferencelist=("html",)) is not None
    confirm = link_in(mail, "bestaetigen")
    assert "/meine-daten/" in mail.get_body(preferencelist=("plain",)).get_content()
    assert lead.public_id not in confirm and str(lead.id) not in confirm.split("/")[-1][:2]

    opened = client.get(confirm)  # what a mail filter does, too: nothing changes
    assert opened.status_code == 200 and all_leads(client)[0].status == "pending"
    first = click(client, confirm)
    assert first.status_code == 200
    assert "bestätigt" in first.text
    lead = all_leads(client)[0]
    assert lead.status == "confirmed" and lead.confirmed_at
    recipients = {r.org for r in rows_in(client, lead_recipients)}
    assert {"olpe", "attendorn"} <= recipients
    assert len(recipients) >= 4  # + tourism association + skilled-worker contact
    outbox_after_first = count_in(client, outbox)
    assert count_in(client, consent_events, consent_events.c.event == "confirmed") == 3
    assert funnel_in(client) == {("", "lead_submitted", "newsletter"): 1,
                                 ("", "lead_confirmed", "newsletter"): 1}

    second = client.get(confirm)
    assert second.status_code == 200
    assert "schon bestätigt" in second.text
    assert count_in(client, lead_recipients) == len(recipients)
    assert count_in(client, outbox) == outbox_after_first
    assert all_leads(client)[0].confirmed_at == lead.confirmed_at

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
    assert len(all_leads(client)) == 1
    assert count_in(client, outbox, outbox.c.kind == "confirm") == 1
    assert count_in(client, consent_events) == 3
    assert funnel_in(client) == {("", "lead_submitted", ""): 1}
    # a corrected field makes it a submission of its own
    changed = client.post("/interesse", data={**form, "adults": "1"}, follow_redirects=False)
    assert changed.status_code == 303
    assert len(all_leads(client)) == 2
    assert count_in(client, outbox, outbox.c.kind == "confirm") == 2


def test_quiz_outcome_is_stored_with_the_lead(client):
    quiz = shipped_content().quizzes["familie"]
    ranking = score(quiz, {}, list(shipped_content().region.municipalities.values()))
    token = make_outcome_token(services(client).settings.secret_key, quiz, ranking)
    r = submit(client, f"?quiz=familie&ergebnis={token}&utm_source=poster")
    assert r.status_code == 303
    lead = all_leads(client)[0]
    assert lead.quiz == "familie" and lead.utm_source == "poster"
    assert lead.quiz_outcome and lead.quiz_outcome[0].slug == ranking[0].slug
    assert funnel_in(client) == {("familie", "lead_submitted", "poster"): 1}


def test_forged_quiz_outcome_is_ignored(client):
    r = submit(client, "?quiz=atlantis&ergebnis=forged.token.value")
    assert r.status_code == 303
    lead = all_leads(client)[0]
    assert lead.quiz is None and lead.quiz_outcome == ()


def test_dutch_page_stores_language_and_mail_is_dutch_link(client):
    page = client.get("/nl/interesse")
    assert page.status_code == 200
    r = client.post("/nl/interesse", data={**hidden_fields(page.text), **valid_data()})
    assert r.status_code == 303 and r.headers["location"].startswith("/nl/")
    lead = all_leads(client)[0]
    assert lead.language == "nl"
    consent = shipped_content().consent
    assert lead.consent_hash == consent.hash_of(lead.consents, "nl")
    assert lead.consent_hash != consent.hash_of(lead.consents, "de")
    assert deliver(client)["sent"] == 1
    [mail] = rows_in(client, outbox, outbox.c.kind == "confirm")
    assert b"http://testserver/nl/bestaetigen/" in mail.message


def test_expired_and_forged_confirm_links_explain_and_offer_a_new_mail(client):
    r = client.get("/bestaetigen/not-a-real-token")
    assert r.status_code == 400
    assert "ungültig" in r.text and 'href="/interesse/neuer-link"' in r.text
    secret = services(client).settings.secret_key
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

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 24 * 3600)

    return URLSafeTimedSerializer(secret, salt=f"campaign.{purpose}", signer=Past).dumps(payload)


def test_resend_answers_the_same_for_known_and_unknown_addresses(client):
    submit(client)
    confirms = outbox.c.kind == "confirm"
    before = count_in(client, outbox, confirms)
    answers = []
    for email in ("anna.beispiel@example.com", "nobody@example.com"):
        page = client.get("/interesse/neuer-link")
        r = client.post("/interesse/neuer-link",
                        data={**hidden_fields(page.text), "email": email})
        assert r.status_code == 303
        answers.append(client.get(r.headers["location"]).text)
    assert answers[0] == answers[1]
    deliver(client)
    assert count_in(client, outbox, confirms) == before + 1
    # without CSRF nothing is sent
    r = client.post("/interesse/neuer-link", data={"email": "anna.beispiel@example.com"})
    assert r.status_code == 400
    deliver(client)
    assert count_in(client, outbox, confirms) == before + 1


def _ask_for_link(client: TestClient, email: str) -> None:
    page = client.get("/interesse/neuer-link")
    r = client.post("/interesse/neuer-link", data={**hidden_fields(page.text), "email": email})
    assert r.status_code == 303


def test_resend_gives_confirmed_families_their_self_service_link(client):
    submit(client)
    public_id = all_leads(client)[0].public_id
    assert run(client, lifecycle.confirm, services(client), public_id) == "confirmed"
    selfservice = outbox.c.kind == "selfservice"
    before = count_in(client, outbox, selfservice)
    _ask_for_link(client, "ANNA.Beispiel@example.com")  # case does not matter
    deliver(client)  # the worker decides which link it is
    assert count_in(client, outbox, selfservice) == before + 1
    newest = max(rows_in(client, outbox, selfservice), key=lambda r: r.id)
    assert b"/meine-daten/" in newest.message and b"/bestaetigen/" not in newest.message
    # at most three links of a kind per hour, however often someone asks
    for _ in range(5):
        _ask_for_link(client, "anna.beispiel@example.com")
    deliver(client)
    assert count_in(client, outbox, selfservice) == 3


def test_two_simultaneous_confirmations_route_the_lead_once(client):
    submit(client)
    public_id = all_leads(client)[0].public_id
    svc = services(client)

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(lifecycle.confirm(svc, public_id)
                                           for _ in range(5))))

    results = client.portal.call(all_at_once)
    assert sorted(results) == ["already"] * 4 + ["confirmed"]
    routed = count_in(client, lead_recipients)
    assert routed >= 3
    assert count_in(client, outbox, outbox.c.kind == "lead") == routed
    assert count_in(client, consent_events, consent_events.c.event == "confirmed") == 3
