"""Family self-service: see, withdraw, erase — and erased means gone from the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from .conftest import shipped_content
from .test_leads import count, deliver, hidden_fields, link_in, rows, submit

EMAIL = "anna.beispiel@example.com"


def confirmed_lead(client: TestClient, smtp: Any, settings: Any, **overrides: Any) -> str:
    """Submit, deliver, click the confirmation link; returns the self-service path."""
    assert submit(client, **overrides).status_code == 303
    deliver(client, settings)
    address = overrides.get("email", EMAIL)
    confirm = link_in(smtp.to(address)[-1], "bestaetigen")
    assert client.get(confirm).status_code == 200
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
    return {r["org"]: orgs[r["org"]].email for r in rows(client, "SELECT org FROM lead_recipients")}


def test_self_service_shows_data_and_recipients(mail_client, smtp, smtp_settings):
    path = confirmed_lead(mail_client, smtp, smtp_settings)
    r = mail_client.get(path)
    assert r.status_code == 200
    assert "Anna Beispiel" in r.text and EMAIL in r.text and "+49 2761 12345" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "Olpe" in r.text and "Attendorn" in r.text
    region = shipped_content().region
    for org in recipient_emails(mail_client):
        assert region.organisations[org].name in r.text
    consent = shipped_content().extras["consent"]
    assert consent.groups["municipalities"].text.get("de") in r.text
    # forged and wrong-purpose tokens are refused with a way forward
    bad = mail_client.get("/meine-daten/forged")
    assert bad.status_code == 400 and 'href="/interesse/neuer-link"' in bad.text


def test_withdraw_asks_first_then_tells_every_recipient(mail_client, smtp, smtp_settings):
    client = mail_client
    path = confirmed_lead(client, smtp, smtp_settings)
    recipients = recipient_emails(client)
    assert recipients

    ask = post_action(client, path, "withdraw", confirmed=False)
    assert ask.status_code == 200 and "wirklich widerrufen" in ask.text
    assert rows(client, "SELECT status FROM leads")[0]["status"] == "confirmed"

    # without CSRF nothing happens
    assert client.post(path, data={"action": "withdraw", "confirmed": "yes"}).status_code == 400
    assert rows(client, "SELECT status FROM leads")[0]["status"] == "confirmed"

    done = post_action(client, path, "withdraw", confirmed=True)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Einwilligung ist widerrufen" in page.text
    lead = rows(client, "SELECT * FROM leads")[0]
    assert lead["status"] == "withdrawn" and lead["withdrawn_at"]
    assert count(client, "consent_events", "event = 'withdrawn'") == 3

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
    assert count(client, "outbox", "kind = 'withdrawn'") == len(recipients)


def test_withdraw_before_confirming_stops_the_lead(client):
    submit(client)
    lead = rows(client, "SELECT public_id FROM leads")[0]
    from campaign.tokens import make_token

    secret = client.app.state.settings.secret_key
    path = "/meine-daten/" + make_token(secret, "self-service", lead["public_id"])
    assert post_action(client, path, "withdraw", confirmed=True).status_code == 303
    assert count(client, "outbox") == 0  # the unsent confirmation mail is dropped
    r = client.get("/bestaetigen/" + make_token(secret, "confirm", lead["public_id"]))
    assert r.status_code == 410
    assert count(client, "lead_recipients") == 0


def _file_bytes(db: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        f = Path(str(db) + suffix)
        if f.exists():
            data += f.read_bytes()
    return data


def _compact(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_erase_removes_every_personal_field_from_the_file(mail_client, smtp, smtp_settings):
    client = mail_client
    db = Path(smtp_settings.database)
    # a second family stays untouched
    confirmed_lead(client, smtp, smtp_settings, email="other.family@example.com",
                   name="Bert Andere", phone="0271 999", message="Andere Familie")
    path = confirmed_lead(client, smtp, smtp_settings)
    recipients = recipient_emails(client)
    secrets = [EMAIL.encode(), b"Anna Beispiel", b"2761 12345", b"Haus mit Garten"]
    assert all(s in _file_bytes(db) for s in secrets[:1])

    ask = post_action(client, path, "erase", confirmed=False)
    assert ask.status_code == 200 and "wirklich löschen" in ask.text
    done = post_action(client, path, "erase", confirmed=True)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Daten sind gelöscht" in page.text and EMAIL not in page.text

    lead = rows(client, "SELECT * FROM leads WHERE status = 'erased'")
    assert len(lead) == 1
    lead = lead[0]
    assert lead["erased_at"]
    assert all(lead[f] is None for f in ("name", "email", "phone", "message", "submission_key"))
    # the anonymous proof of consent stays
    assert count(client, "consent_events", "lead_id = ? AND event = 'given'", (lead["id"],)) == 3
    assert count(client, "consent_events", "lead_id = ? AND event = 'erased'", (lead["id"],)) == 3
    other = rows(client, "SELECT email FROM leads WHERE status = 'confirmed'")
    assert [r["email"] for r in other] == ["other.family@example.com"]

    before = len(smtp.messages)
    deliver(client, smtp_settings)
    notices = smtp.messages[before:]
    assert len(notices) == len(recipients)
    assert all("gelöscht" in m["Subject"] and EMAIL not in m.as_string() for m in notices)

    _compact(db)
    raw = _file_bytes(db)
    for s in secrets:
        assert s not in raw, s
        assert s.lower() not in raw.lower(), s
    assert b"other.family@example.com" in raw  # the scan would have found it
    # the family's link still works and says the data is gone
    page = client.get(path)
    assert page.status_code == 200 and "keine persönlichen Daten" in page.text
    assert "Meine Daten löschen" not in page.text


def test_erase_of_an_unconfirmed_lead_drops_its_unsent_mail(client, settings):
    submit(client)
    from campaign.tokens import make_token

    public_id = rows(client, "SELECT public_id FROM leads")[0]["public_id"]
    path = "/meine-daten/" + make_token(settings.secret_key, "self-service", public_id)
    assert post_action(client, path, "erase", confirmed=True).status_code == 303
    assert count(client, "outbox") == 0
    assert rows(client, "SELECT status, email FROM leads")[0]["email"] is None
