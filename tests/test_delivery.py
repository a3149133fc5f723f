"""The lead mail, the receipt link, reminders and the .eml transport."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

from campaign.db import Database
from campaign.delivery import queue_reminders, queue_routed_lead, receipt_token
from campaign.mail import Mailer
from campaign.mail.worker import deliver_once
from campaign.templating import Renderer
from campaign.tokens import make_token

from .conftest import shipped_content

FAMILY = {
    "status": "confirmed", "language": "nl", "name": "Familie de Vries",
    "email": "jan@example.nl", "phone": "+31 6 1234 5678", "message": "Wir kommen im Mai.",
    "adults": 2, "children": 2, "child_ages": ["3-5", "6-9"],
    "interests": ["medizin_pflege", "natur"], "timeframe": "within_year",
    "municipalities": ["winterberg", "olpe", "siegen"],
    "consents": ["municipalities", "tourism", "skilled_workers"],
    "consent_version": "2026-11-1", "quiz": "familie",
    "quiz_outcome": [{"slug": "winterberg", "score": 12, "reasons": ["Wintersport vor Ort"]}],
}


def mailer_for_settings(settings: Any) -> Mailer:
    return Mailer(settings, Renderer(settings).env, shipped_content())


def database(settings: Any) -> Database:
    """A Database on the test's SQLite file; ``async with`` opens and closes it."""
    return Database(settings.database)


async def add_lead(db: Database, mailer: Mailer, **changes: Any) -> tuple[int, str, list]:
    """Insert a confirmed lead and route it in the same transaction, as the lead module does."""
    data = {**FAMILY, **changes}
    public_id = secrets.token_hex(8)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    cols = {k: json.dumps(v) if isinstance(v, list) else v for k, v in data.items()}
    cols.update(public_id=public_id, created_at=now, confirmed_at=now)
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    async with db.transaction() as tx:
        lead_id = await tx.execute(f"INSERT INTO leads ({names}) VALUES ({marks})",
                                   tuple(cols.values()))
        lead = await tx.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))
        recipients = await queue_routed_lead(tx, mailer, lead)
    return lead_id, public_id, recipients


def test_lead_mail_reaches_every_recipient_with_the_family_details(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            _, public_id, recipients = await add_lead(db, mailer)
            counts = await deliver_once(db, settings)
            return public_id, recipients, counts

    public_id, recipients, counts = asyncio.run(go())
    assert [r.org for r in recipients] == ["winterberg", "olpe", "siegen",
                                           "sauerland-tourismus", "tvsw", "fachkraefte"]
    assert counts["sent"] == 6 and len(smtp.messages) == 6
    region = shipped_content().region
    for r in recipients:
        org = region.organisations[r.org]
        [msg] = smtp.to(org.email)
        assert msg["Message-ID"].strip() == f"<lead.{public_id}.{r.org}@suedwestfalen.example.org>"
        assert msg["Reply-To"].addresses[0].addr_spec == "jan@example.nl"
        assert "Familie de Vries" in str(msg["Reply-To"])
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for part in (text, html):
            assert "Familie de Vries" in part and "+31 6 1234 5678" in part
            assert "Die Familie spricht" in part and "Niederländisch" in part
            assert "Arbeit in Medizin/Pflege" in part and "Winterberg, Olpe, Siegen" in part
            assert "3–5 Jahre, 6–9 Jahre" in part and "innerhalb eines Jahres" in part
            assert "Wintersport vor Ort" in part  # quiz outcome with its reason …
            assert "Welcher Ort passt zu eurer Familie?" in part  # … and the quiz's title
            assert "Übereinstimmung: 12 %" in part
            assert "Wir kommen im Mai." in part
            assert "/quittung/" in part
        assert "Anfrage erhalten" in html
        assert msg["Subject"].strip().startswith("Neue Anfrage einer Familie")
    # Each recipient sees the consent of its own group.
    town = smtp.to(region.organisations["olpe"].email)[0].get_body(("plain",)).get_content()
    tourism = smtp.to(region.organisations["tvsw"].email)[0].get_body(("plain",)).get_content()
    assert "Willkommens-Ansprechpersonen der von mir gewählten Orte" in town
    assert "an den Tourismusverband weitergegeben" in tourism
    assert "an den Tourismusverband weitergegeben" not in town


def test_cr_lf_in_name_or_email_cannot_add_a_header(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, name="Eve\r\nBcc: victim@example.com\r\nX-Evil: 1",
                           email="eve@example.org\r\nCc: other@example.com",
                           municipalities=["olpe"], consents=["municipalities"])
            await deliver_once(db, settings)

    asyncio.run(go())
    [msg] = smtp.messages
    assert msg["Bcc"] is None and msg["Cc"] is None and msg["X-Evil"] is None
    assert set(msg.keys()) == {"From", "To", "Reply-To", "Subject", "Date", "Message-ID",
                               "MIME-Version", "Content-Type"}
    assert "\n" not in str(msg["Reply-To"]) and "\n" not in msg["Subject"]
    # The envelope goes to the municipality only, whatever the family typed.
    assert smtp.envelopes == [("kampagne@suedwestfalen.example.org",
                               [shipped_content().region.organisations["olpe"].email])]


def test_routing_is_part_of_the_confirming_transaction(settings):
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            try:
                async with db.transaction() as tx:
                    lead_id = await tx.execute(
                        "INSERT INTO leads (public_id, status, created_at, municipalities,"
                        " consents) VALUES ('p1', 'confirmed', '2026-01-01', '[\"olpe\"]',"
                        " '[\"municipalities\"]')")
                    lead = await tx.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))
                    assert len(await queue_routed_lead(tx, mailer, lead)) == 1
                    raise RuntimeError("confirmation failed after routing")
            except RuntimeError:
                pass
            rolled_back = (await db.fetchval("SELECT COUNT(*) FROM outbox"),
                           await db.fetchval("SELECT COUNT(*) FROM lead_recipients"))
            lead_id, _, _ = await add_lead(db, mailer)
            async with db.transaction() as tx:  # confirming twice routes nothing new
                lead = await tx.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))
                await queue_routed_lead(tx, mailer, lead)
            kept = (await db.fetchval("SELECT COUNT(*) FROM outbox"),
                    await db.fetchval("SELECT COUNT(*) FROM lead_recipients"))
            return rolled_back, kept

    rolled_back, kept = asyncio.run(go())
    assert rolled_back == (0, 0)
    assert kept == (6, 6)


def _ack(settings, public_id, org):
    async def go():
        async with database(settings) as db:
            return await db.fetchval(
                "SELECT r.acknowledged_at FROM lead_recipients r JOIN leads l ON l.id = r.lead_id"
                " WHERE l.public_id = ? AND r.org = ?", (public_id, org))
    return asyncio.run(go())


def test_receipt_link_records_once_and_rejects_forgeries(settings, client):
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            return await add_lead(db, mailer)

    _, public_id, _ = asyncio.run(go())
    token = receipt_token(settings.secret_key, public_id, "olpe")
    r = client.get(f"/quittung/{token}")
    assert r.status_code == 200 and "Vielen Dank" in r.text
    first = _ack(settings, public_id, "olpe")
    assert first is not None
    assert _ack(settings, public_id, "siegen") is None  # only this organisation
    again = client.get(f"/quittung/{token}")
    assert again.status_code == 200 and "bereits bestätigt" in again.text
    assert _ack(settings, public_id, "olpe") == first

    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    bad = client.get(f"/quittung/{forged}")
    assert bad.status_code == 400 and "nicht gültig" in bad.text
    other_purpose = make_token(settings.secret_key, "selfservice", {"l": public_id, "o": "olpe"})
    assert client.get(f"/quittung/{other_purpose}").status_code == 400
    wrong_key = receipt_token("another-secret-" + "y" * 30, public_id, "siegen")
    assert client.get(f"/quittung/{wrong_key}").status_code == 400
    assert _ack(settings, public_id, "siegen") is None
    unknown = client.get(f"/quittung/{receipt_token(settings.secret_key, public_id, 'brilon')}")
    assert unknown.status_code == 404 and "gibt es nicht mehr" in unknown.text


def test_one_reminder_and_one_agency_note_for_unacknowledged_leads(settings, smtp):
    settings = settings.with_(smtp_url=smtp.url)
    mailer = mailer_for_settings(settings)
    days = shipped_content().region.ack_reminder_days

    async def go():
        async with database(settings) as db:
            _, public_id, _ = await add_lead(db, mailer, municipalities=["olpe", "siegen"],
                                             consents=["municipalities"])
            await deliver_once(db, settings)
            old = (datetime.now(UTC) - timedelta(days=days, hours=1)).isoformat()
            async with db.transaction() as tx:
                await tx.execute("UPDATE lead_recipients SET routed_at = ?", (old,))
                await tx.execute("UPDATE lead_recipients SET acknowledged_at = ?"
                                 " WHERE org = 'olpe'",
                                 (old,))
            # A fresh lead is not due yet.
            await add_lead(db, mailer, municipalities=["brilon"], consents=["municipalities"])
            await deliver_once(db, settings)
            first = await queue_reminders(db, mailer)
            second = await queue_reminders(db, mailer)
            later = await queue_reminders(db, mailer,
                                          now=datetime.now(UTC) + timedelta(days=1))
            await deliver_once(db, settings)
            reminded = await db.fetchall(
                "SELECT org FROM lead_recipients WHERE reminded_at IS NOT NULL")
            kinds = await db.fetchall("SELECT kind, org FROM outbox WHERE kind != 'lead'")
            return public_id, first, second, later, reminded, kinds

    public_id, first, second, later, reminded, kinds = asyncio.run(go())
    assert (first, second, later) == (1, 0, 0)
    assert [r["org"] for r in reminded] == ["siegen"]
    assert sorted((k["kind"], k["org"]) for k in kinds) == [("agency_note", "siegen"),
                                                            ("reminder", "siegen")]
    region = shipped_content().region
    siegen = smtp.to(region.organisations["siegen"].email)
    assert [m["Subject"].strip().startswith("Erinnerung") for m in siegen] == [False, True]
    expected_id = f"<reminder.{public_id}.siegen@suedwestfalen.example.org>"
    assert siegen[1]["Message-ID"].strip() == expected_id
    assert "/quittung/" in siegen[1].get_body(("plain",)).get_content()
    [note] = smtp.to(region.organisations["suedwestfalen-agentur"].email)
    body = note.get_body(("plain",)).get_content()
    assert region.organisations["siegen"].name in body
    assert "jan@example.nl" not in body  # the agency note carries no contact data
    assert not smtp.to(region.organisations["olpe"].email)[1:]  # acknowledged: no reminder


def test_without_smtp_url_each_mail_is_an_eml_file(settings):
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities",
                                                                          "tourism"])
            return await deliver_once(db, settings)

    counts = asyncio.run(go())
    assert counts["sent"] == 2
    files = sorted(settings.mail_dir.iterdir())
    assert [f.name.split("-", 1)[0] for f in files] == ["00000001", "00000002"]
    assert all(f.suffix == ".eml" and ".lead." in f.name.replace("-lead.", ".lead.")
               for f in files)
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == shipped_content().region.organisations[
        "olpe"].email
    assert msg.get_body(("plain",)).get_content().startswith("Guten Tag")
