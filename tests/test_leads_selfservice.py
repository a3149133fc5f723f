"""Family self-service: see, withdraw, erase — and erased means gone from the file."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.core.schema import consent_events, lead_notes, lead_recipients, leads, outbox
from campaign.core.settings import Settings
from campaign.core.tokens import make_token
from campaign.leads.mails import NOTICE_KINDS
from campaign.portal import cases
from campaign.web.app import create_app

from .support.app import all_leads, count_in, deliver, rows_in, run, services, shipped_content
from .support.forms import click, hidden_fields, link_in, submit
from .support.smtp import SMTPCatcher

EMAIL = "anna.beispiel@example.com"
# What the family typed, as it would show in a mail or the database file.
PERSONAL = [EMAIL, "Anna Beispiel", "2761 12345", "Haus mit Garten"]


def confirmed_lead(client: TestClient, smtp: Any, settings: Any, **overrides: Any) -> str:
    """Submit, deliver, click the confirmation link; returns the self-service path."""
    assert submit(client, **overrides).status_code == 303
    deliver(client, settings)
    address = overrides.get("email", EMAIL)
    confirm = link_in(smtp.to(address)[-1], "bestaetigen")
    assert click(client, confirm).status_code == 200
    deliver(client, settings)
    return link_in(smtp.to(address)[-1], "meine-daten")


def post_action(client: TestClient, path: str, action: str, confirmed: bool) -> Any:
    page = client.get(path)
    data = {**hidden_fields(page.text), "action": action}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(path, data=data)


def recipient_emails(client: TestClient) -> dict[str, str]:
    orgs = shipped_content().region.organisations
    return {r.org: orgs[r.org].email for r in rows_in(client, lead_recipients)}


def the_lead(client: TestClient, email: str = EMAIL) -> Any:
    [lead] = [x for x in all_leads(client) if x.email == email]
    return lead


def add_note(client: TestClient, lead_id: int, org: str = "olpe") -> None:
    assert run(client, cases.add_note, services(client).db, cases.Viewer(org, admin=False),
               lead_id, "Familie Beispiel ruft Dienstag an", utcnow())


def mail_text(raw: bytes) -> str:
    """A stored mail as its readers see it: headers and every decoded text part."""
    if not raw:
        return ""
    msg = message_from_bytes(raw, policy=default_policy)
    out = [f"{k}: {v}" for k, v in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            out.append(part.get_content())
    return "\n".join(out)


def test_self_service_shows_data_and_recipients(mail_client, smtp, smtp_settings):
    path = confirmed_lead(mail_client, smtp, smtp_settings)
    r = mail_client.get(path)
    assert r.status_code == 200
    assert "Anna Beispiel" in r.text and EMAIL in r.text and "+49 2761 12345" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "Olpe" in r.text and "Attendorn" in r.text
    region = shipped_content().region
    recipients = recipient_emails(mail_client)
    assert recipients
    for org in recipients:
        assert region.organisations[org].name in r.text
    consent = shipped_content().consent
    assert consent.groups["municipalities"].text.get("de") in r.text
    # forged and wrong-purpose tokens are refused with a way forward
    bad = mail_client.get("/meine-daten/forged")
    assert bad.status_code == 400 and 'href="/interesse/neuer-link"' in bad.text
    public_id = the_lead(mail_client).public_id
    secret = services(mail_client).settings.secret_key
    wrong = mail_client.get("/meine-daten/" + make_token(secret, "confirm", public_id))
    assert wrong.status_code == 400 and 'href="/interesse/neuer-link"' in wrong.text


def test_withdraw_asks_first_then_tells_every_recipient(mail_client, smtp, smtp_settings):
    client = mail_client
    path = confirmed_lead(client, smtp, smtp_settings)
    recipients = recipient_emails(client)
    assert recipients
    lead = the_lead(client)
    add_note(client, lead.id)

    ask = post_action(client, path, "withdraw", confirmed=False)
    assert ask.status_code == 200 and "wirklich widerrufen" in ask.text
    assert the_lead(client).status == "confirmed"

    # without CSRF nothing happens
    assert client.post(path, data={"action": "withdraw", "confirmed": "yes"}).status_code == 400
    assert the_lead(client).status == "confirmed"

    done = post_action(client, path, "withdraw", confirmed=True)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Einwilligung ist widerrufen" in page.text
    lead = the_lead(client)
    assert lead.status == "withdrawn" and lead.withdrawn_at
    assert count_in(client, consent_events, consent_events.c.event == "withdrawn") == 3
    assert count_in(client, lead_notes, lead_notes.c.lead_id == lead.id) == 0

    before = len(smtp.messages)
    deliver(client, smtp_settings)
    notices = smtp.messages[before:]
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in notices) == \
        sorted(recipients.values())
    for m in notices:
        assert "widerrufen" in m["Subject"]
        assert EMAIL not in m.as_string() and "Anna" not in m.as_string()
        assert str(m["References"]).strip().startswith("<lead.")
    # a second withdrawal changes nothing and mails nobody
    post_action(client, path, "withdraw", confirmed=True)
    assert count_in(client, outbox, outbox.c.kind == "withdrawn") == len(recipients)


def test_withdraw_before_confirming_stops_the_lead(client):
    assert submit(client).status_code == 303
    public_id = the_lead(client).public_id
    secret = services(client).settings.secret_key
    path = "/meine-daten/" + make_token(secret, "self-service", public_id)
    assert post_action(client, path, "withdraw", confirmed=True).status_code == 303
    assert count_in(client, outbox) == 0  # the unsent confirmation mail is dropped
    link = "/bestaetigen/" + make_token(secret, "confirm", public_id)
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert count_in(client, lead_recipients) == 0
    assert the_lead(client).status == "withdrawn"


def erase_and_check(client: TestClient, smtp: SMTPCatcher, settings: Settings,
                    before_erase: Callable[[], None] = lambda: None) -> None:
    """Two confirmed families; one erases its data. Checks the lead, the notes and
    every stored mail."""
    # a second family stays untouched
    confirmed_lead(client, smtp, settings, email="other.family@example.com",
                   name="Bert Andere", phone="0271 999", message="Andere Familie")
    path = confirmed_lead(client, smtp, settings)
    recipients = recipient_emails(client)
    lead = the_lead(client)
    add_note(client, lead.id)
    carried = [m for m in rows_in(client, outbox) if EMAIL in mail_text(m.message)]
    assert carried, "the family's mails carry the address before the erasure"
    before_erase()

    ask = post_action(client, path, "erase", confirmed=False)
    assert ask.status_code == 200 and "wirklich löschen" in ask.text
    assert the_lead(client).status == "confirmed"
    done = post_action(client, path, "erase", confirmed=True)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Daten sind gelöscht" in page.text and EMAIL not in page.text

    [erased] = [x for x in all_leads(client) if x.status == "erased"]
    assert erased.id == lead.id and erased.erased_at
    assert all(getattr(erased, f) is None for f in ("name", "email", "phone", "message"))
    [row] = rows_in(client, leads, leads.c.id == lead.id)
    assert row.submission_key is None
    assert count_in(client, lead_notes, lead_notes.c.lead_id == lead.id) == 0
    # the anonymous proof of consent stays
    mine = consent_events.c.lead_id == lead.id
    assert count_in(client, consent_events, mine, consent_events.c.event == "given") == 3
    assert count_in(client, consent_events, mine, consent_events.c.event == "erased") == 3
    assert [x.email for x in all_leads(client) if x.status == "confirmed"] == [
        "other.family@example.com"]

    before = len(smtp.messages)
    deliver(client, settings)
    notices = smtp.messages[before:]
    assert len(notices) == len(recipients)
    assert all("gelöscht" in m["Subject"] and EMAIL not in m.as_string() for m in notices)

    # no stored mail keeps the family's data: not the ones that carried it, not the notices
    stored = rows_in(client, outbox)
    for mail in stored:
        text = mail_text(mail.message).lower()
        for value in PERSONAL:
            assert value.lower() not in text, (mail.kind, value)
            assert value.lower().encode() not in mail.message.lower(), (mail.kind, value)
        assert mail.recipient.lower() != EMAIL
        if mail.lead_id == lead.id and mail.kind not in NOTICE_KINDS:
            assert mail.message == b""
    # the scan would have found the other family's data
    assert any("Bert Andere" in mail_text(m.message) for m in stored)
    assert {m.id for m in carried} <= {m.id for m in stored}  # sent mails keep their metadata

    # the family's link still works and says the data is gone
    page = client.get(path)
    assert page.status_code == 200 and "keine persönlichen Daten" in page.text
    assert "Meine Daten löschen" not in page.text


def test_erase_removes_every_personal_field(mail_client, smtp, smtp_settings):
    erase_and_check(mail_client, smtp, smtp_settings)


def _file_bytes(db: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        f = Path(str(db) + suffix)
        if f.exists():
            data += f.read_bytes()
    return data


def test_erase_leaves_nothing_in_the_sqlite_file(tmp_path, smtp):
    """SQLite only: the bytes of the database file (and its WAL) are scanned, which
    only SQLite has; PostgreSQL's storage is the server's (VACUUM is its business)."""
    settings = Settings(database=str(tmp_path / "campaign.sqlite3"),
                        secret_key="test-secret-key-" + "x" * 32, mail_dir=tmp_path / "mail",
                        base_url="http://testserver", background=False, min_fill_seconds=0.0,
                        smtp_url=smtp.url)
    app = create_app(settings, content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        def in_the_file() -> None:
            raw = _file_bytes(tmp_path / "campaign.sqlite3")
            assert all(value.encode() in raw for value in PERSONAL[:2])

        erase_and_check(client, smtp, settings, before_erase=in_the_file)
        raw = _file_bytes(tmp_path / "campaign.sqlite3")
    for value in PERSONAL:
        assert value.encode() not in raw, value
        assert value.lower().encode() not in raw.lower(), value
    assert b"other.family@example.com" in raw  # the scan would have found it


def test_erase_of_an_unconfirmed_lead_drops_its_unsent_mail(client, settings):
    assert submit(client).status_code == 303
    lead = the_lead(client)
    path = "/meine-daten/" + make_token(settings.secret_key, "self-service", lead.public_id)
    assert post_action(client, path, "erase", confirmed=True).status_code == 303
    assert count_in(client, outbox) == 0
    [erased] = all_leads(client)
    assert erased.status == "erased" and erased.email is None and erased.name is None
    link = "/bestaetigen/" + make_token(settings.secret_key, "confirm", lead.public_id)
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert count_in(client, lead_recipients) == 0
