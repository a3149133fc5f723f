"""Links in mails only show a page: mail filters open every link before a person
does, so a GET or HEAD never confirms a lead or records a receipt. The page's
one button (a POST) does it, once, and works on a first visit without cookies."""

from __future__ import annotations

from starlette.testclient import TestClient

from campaign.core.schema import consent_events, lead_recipients, outbox
from campaign.core.tokens import make_token
from campaign.leads.mails import CONFIRM_PURPOSE, SELF_SERVICE_PURPOSE, receipt_token

from .support.app import all_leads, count_in, funnel_in, rows_in, run, services
from .support.forms import click, hidden_fields, submit_buttons, the_button
from .support.leads import store_lead
from .support.pages import head


def _lead(client: TestClient, **kwargs):
    return run(client, store_lead, services(client), **kwargs)


def _confirm_link(client: TestClient, public_id: str, prefix: str = "") -> str:
    secret = services(client).settings.secret_key
    return f"{prefix}/bestaetigen/" + make_token(secret, CONFIRM_PURPOSE, public_id)


def _nothing_routed(client: TestClient) -> bool:
    [lead] = all_leads(client)
    return (lead.status == "pending" and lead.confirmed_at is None
            and count_in(client, lead_recipients) == 0
            and count_in(client, outbox, outbox.c.kind != "confirm") == 0
            and count_in(client, consent_events, consent_events.c.event == "confirmed") == 0)


def test_a_scanner_opening_the_confirm_link_confirms_nothing(client):
    lead = _lead(client, confirm=False)
    link = _confirm_link(client, lead.public_id)
    assert client.head(link).status_code == 200
    for _ in range(3):
        page = client.get(link)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
    assert _nothing_routed(client)
    assert ("familie", "lead_confirmed", "instagram") not in funnel_in(client)
    # one clear button, posting to the same address, and nothing else to press
    assert "<h1>Anfrage bestätigen</h1>" in page.text
    action, fields = the_button(page.text)
    assert action == link and fields == {}
    assert submit_buttons(page.text) == 1


def test_the_button_confirms_once_without_a_cookie_and_a_second_press_is_harmless(client):
    lead = _lead(client, confirm=False, municipalities=("olpe",), consents=("municipalities",))
    link = _confirm_link(client, lead.public_id)
    client.get(link)
    client.cookies.clear()  # a mail link's first visit: no cookie is needed
    done = client.post(link)
    assert done.status_code == 303 and done.headers["location"] == link + "?bestaetigt=1"
    [confirmed] = all_leads(client)
    assert confirmed.status == "confirmed" and confirmed.confirmed_at
    assert [r.org for r in rows_in(client, lead_recipients)] == ["olpe"]
    page = client.get(done.headers["location"])
    assert "Wir haben Ihre Angaben jetzt weitergegeben" in page.text
    assert submit_buttons(page.text) == 0
    mails = count_in(client, outbox)

    again = client.post(link)
    assert again.status_code == 303 and again.headers["location"] == link
    assert "schon bestätigt" in client.get(link).text
    assert all_leads(client)[0].confirmed_at == confirmed.confirmed_at
    assert count_in(client, outbox) == mails and count_in(client, lead_recipients) == 1
    assert count_in(client, consent_events, consent_events.c.event == "confirmed") == 1


def test_the_confirm_page_is_in_the_links_language(client):
    lead = _lead(client, confirm=False, language="nl")
    link = _confirm_link(client, lead.public_id, "/nl")
    page = client.get(link)
    assert page.status_code == 200 and head(page.text).lang == "nl"
    assert _nothing_routed(client)
    done = click(client, link)
    assert head(done.text).lang == "nl" and "Bedankt, jullie aanvraag is bevestigd" in done.text
    assert all_leads(client)[0].status == "confirmed"


def test_bad_and_gone_confirm_links_explain_on_get_and_post(client):
    assert client.post("/bestaetigen/kaputt").status_code == 400
    link = _confirm_link(client, "no-such-lead")
    assert client.get(link).status_code == 410 and client.post(link).status_code == 410


def test_a_scanner_opening_the_receipt_link_records_nothing(client):
    lead = _lead(client, municipalities=("olpe",), consents=("municipalities",))
    link = "/quittung/" + receipt_token(services(client).settings.secret_key,
                                        lead.public_id, "olpe")
    assert client.head(link).status_code == 200
    page = client.get(link)
    assert page.status_code == 200 and client.get(link).status_code == 200
    [row] = rows_in(client, lead_recipients)
    assert row.acknowledged_at is None
    action, fields = the_button(page.text)
    assert action == link and fields == {}
    assert "Eingang bestätigen" in page.text

    client.cookies.clear()
    done = client.post(link)
    assert done.status_code == 303 and done.headers["location"] == link + "?erfasst=1"
    [row] = rows_in(client, lead_recipients)
    assert row.acknowledged_at is not None
    thanks = client.get(done.headers["location"])
    assert "Vielen Dank" in thanks.text and submit_buttons(thanks.text) == 0

    again = client.post(link)
    assert again.status_code == 303 and again.headers["location"] == link
    assert "bereits bestätigt" in client.get(link).text
    assert rows_in(client, lead_recipients)[0].acknowledged_at == row.acknowledged_at


def test_a_scanner_opening_the_self_service_link_changes_nothing(client):
    lead = _lead(client)
    secret = services(client).settings.secret_key
    link = "/meine-daten/" + make_token(secret, SELF_SERVICE_PURPOSE, lead.public_id)
    assert client.head(link).status_code == 200
    for query in ("", "?action=erase&confirmed=yes", "?erledigt=erase"):
        assert client.get(link + query).status_code == 200
    assert all_leads(client)[0].status == "confirmed"
    assert all_leads(client)[0].email == lead.email


def _self_service_act(client: TestClient, public_id: str, action: str) -> None:
    secret = services(client).settings.secret_key
    link = "/meine-daten/" + make_token(secret, SELF_SERVICE_PURPOSE, public_id)
    page = client.get(link)
    data = {**hidden_fields(page.text), "action": action, "confirmed": "yes"}
    assert client.post(link, data=data).status_code == 303



def test_a_receipt_for_an_erased_or_withdrawn_lead_is_refused_politely(client):
    secret = services(client).settings.secret_key
    for action, status in (("erase", "erased"), ("withdraw", "withdrawn")):
        lead = _lead(client, email=f"{action}@example.org",
                     municipalities=("olpe",), consents=("municipalities",))
        link = "/quittung/" + receipt_token(secret, lead.public_id, "olpe")
        _self_service_act(client, lead.public_id, action)
        assert next(x for x in all_leads(client) if x.id == lead.id).status == status
        for answer in (client.get(link), client.post(link), client.head(link)):
            assert answer.status_code == 410, (action, answer.request.method)
        page = client.get(link)
        assert "<h1>Die Familie hat ihre Anfrage zurückgezogen</h1>" in page.text
        assert "löschen lassen" in page.text and submit_buttons(page.text) == 0
        assert rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead.id)[0] \
            .acknowledged_at is None
