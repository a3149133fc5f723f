"""The lead mail, the receipt link, reminders and the .eml transport."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes, policy

from campaign.core.clock import utcnow
from campaign.core.schema import lead_recipients, leads, outbox
from campaign.core.tokens import make_token
from campaign.leads import forwarding, lifecycle
from campaign.leads.mails import FAMILY_KINDS, SELF_SERVICE_PURPOSE, receipt_token
from campaign.leads.records import Lead, by_public_id, load, recipients
from campaign.leads.routing import route
from campaign.leads.services import Services

from .support.app import count_in, deliver, rows_in, run, services, shipped_content
from .support.delivery import DE_VRIES, DE_VRIES_ORGS, de_vries_in, outbox_in
from .support.forms import click
from .support.leads import store_lead

SENDER = "kampagne@suedwestfalen.example.org"


def _email(org: str) -> str:
    return shipped_content().region.organisations[org].email


def test_lead_mail_reaches_every_recipient_with_the_family_details(mail_client, smtp):
    lead = de_vries_in(mail_client)
    region = shipped_content().region
    assert [r.org for r in route(lead.municipalities, lead.interests, lead.consents,
                                 region)] == DE_VRIES_ORGS
    routed = run(mail_client, recipients, services(mail_client).db, lead.id)
    assert sorted(d.org for d in routed) == sorted(DE_VRIES_ORGS)
    # six lead mails, and to the family its confirmation request and self-service mail
    assert deliver(mail_client)["sent"] == 8 and len(smtp.messages) == 8
    assert len(smtp.to("jan@example.nl")) == 2
    message_key = lead.public_id.replace("_", "-")  # Message-IDs keep [A-Za-z0-9-]
    for slug in DE_VRIES_ORGS:
        [msg] = smtp.to(_email(slug))
        assert msg["Message-ID"].strip() == f"<lead.{message_key}.{slug}@{SENDER.split('@')[1]}>"
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
            assert "Welcher Ort passt zu Ihrer Familie?" in part  # … and the quiz's title
            assert "Übereinstimmung: 12 %" in part
            assert "Wir kommen im Mai." in part
            assert "/quittung/" in part
        assert "Anfrage erhalten" in html
        assert msg["Subject"].strip().startswith("Neue Anfrage einer Familie")
    # Each recipient sees the consent of its own group.
    town = smtp.to(_email("olpe"))[0].get_body(("plain",)).get_content()
    tourism = smtp.to(_email("tvsw"))[0].get_body(("plain",)).get_content()
    assert "Willkommens-Ansprechpersonen der von mir gewählten Orte" in town
    assert "an den Tourismusverband weitergegeben" in tourism
    assert "an den Tourismusverband weitergegeben" not in town


def test_cr_lf_in_name_or_email_cannot_add_a_header(mail_client, smtp):
    # The form refuses these values; the mails must be safe without it, too.
    de_vries_in(mail_client, name="Eve\r\nBcc: victim@example.com\r\nX-Evil: 1",
                email="eve@example.org\r\nCc: other@example.com",
                municipalities=("olpe",), consents=("municipalities",))
    deliver(mail_client)
    [msg] = smtp.to(_email("olpe"))
    assert msg["Bcc"] is None and msg["Cc"] is None and msg["X-Evil"] is None
    assert set(msg.keys()) == {"From", "To", "Reply-To", "Subject", "Date", "Message-ID",
                               "MIME-Version", "Content-Type"}
    assert "\n" not in str(msg["Reply-To"]) and "\n" not in msg["Subject"]
    # The envelope of the lead goes to the municipality only, whatever the family typed;
    # no mail gets a second recipient.
    assert (SENDER, [_email("olpe")]) in smtp.envelopes
    assert all(sender == SENDER and len(rcpts) == 1 for sender, rcpts in smtp.envelopes)
    assert not {"other@example.com", "victim@example.com"} & {
        r for _, rcpts in smtp.envelopes for r in rcpts}
    for mail in smtp.messages:
        assert mail["Bcc"] is None and mail["Cc"] is None and mail["X-Evil"] is None


async def _route(svc: Services, lead: Lead, *, then_fail: bool = False) -> int:
    """Route ``lead`` in a transaction of its own, as confirming does; with
    ``then_fail`` the confirmation fails after routing. Returns the recipients."""
    try:
        async with svc.db.transaction() as conn:
            (fresh,) = await load(conn, leads.c.id == lead.id)
            routed = await forwarding.queue_routed_lead(conn, svc, fresh, utcnow())
            if then_fail:
                raise RuntimeError("confirmation failed after routing")
    except RuntimeError:
        pass
    return len(routed)


def _routed(client) -> tuple[int, int]:
    return count_in(client, outbox, outbox.c.kind == "lead"), count_in(client, lead_recipients)


def test_routing_is_part_of_the_confirming_transaction(client):
    svc = services(client)
    lead = de_vries_in(client, confirm=False)
    assert run(client, _route, svc, lead, then_fail=True) == 6
    assert _routed(client) == (0, 0)  # rolled back with the failed confirmation
    assert run(client, lifecycle.confirm, svc, lead.public_id) == "confirmed"
    assert _routed(client) == (6, 6)
    # confirming (or routing) twice routes nothing new
    assert run(client, lifecycle.confirm, svc, lead.public_id) == "already"
    assert run(client, _route, svc, lead) == 6  # the recipients, but …
    assert _routed(client) == (6, 6)  # … no row and no mail more


def _ack(client, lead_id: int, org: str) -> datetime | None:
    found = run(client, recipients, services(client).db, lead_id)
    return next((d.acknowledged_at for d in found if d.org == org), None)


def test_receipt_link_records_once_and_rejects_forgeries(client, settings):
    lead = de_vries_in(client)
    token = receipt_token(settings.secret_key, lead.public_id, "olpe")
    r = click(client, f"/quittung/{token}")
    assert r.status_code == 200 and "Vielen Dank" in r.text
    first = _ack(client, lead.id, "olpe")
    assert first is not None
    assert _ack(client, lead.id, "siegen") is None  # only this organisation
    again = client.get(f"/quittung/{token}")
    assert again.status_code == 200 and "bereits bestätigt" in again.text
    assert _ack(client, lead.id, "olpe") == first

    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    bad = client.get(f"/quittung/{forged}")
    assert bad.status_code == 400 and "nicht gültig" in bad.text
    other_purpose = make_token(settings.secret_key, SELF_SERVICE_PURPOSE,
                               {"l": lead.public_id, "o": "olpe"})
    assert client.get(f"/quittung/{other_purpose}").status_code == 400
    wrong_key = receipt_token("another-secret-" + "y" * 30, lead.public_id, "siegen")
    assert client.get(f"/quittung/{wrong_key}").status_code == 400
    assert _ack(client, lead.id, "siegen") is None
    brilon = receipt_token(settings.secret_key, lead.public_id, "brilon")
    unknown = client.get(f"/quittung/{brilon}")
    assert unknown.status_code == 404 and "gibt es nicht mehr" in unknown.text


async def _acknowledge(svc: Services, lead: Lead, org: str, at: datetime) -> str:
    return await forwarding.acknowledge(svc.db, lead.public_id, org, at)


def test_one_reminder_and_one_agency_note_for_unacknowledged_leads(mail_client, smtp):
    client = mail_client
    svc = services(client)
    days = shipped_content().region.ack_reminder_days
    old = utcnow() - timedelta(days=days, hours=1)
    lead = run(client, store_lead, svc, at=old, **{
        **DE_VRIES, "municipalities": ("olpe", "siegen"), "consents": ("municipalities",)})
    assert run(client, _acknowledge, svc, lead, "olpe", old) == "recorded"
    deliver(client)
    # A fresh lead is not due yet.
    run(client, store_lead, svc, **{**DE_VRIES, "municipalities": ("brilon",),
                                    "consents": ("municipalities",)})
    deliver(client)
    now = utcnow()
    first = run(client, forwarding.queue_reminders, svc, now)
    second = run(client, forwarding.queue_reminders, svc, now)
    later = run(client, forwarding.queue_reminders, svc, now + timedelta(days=1))
    deliver(client)
    assert (first, second, later) == (1, 0, 0)
    reminded = rows_in(client, lead_recipients, lead_recipients.c.reminded_at.isnot(None))
    assert [r.org for r in reminded] == ["siegen"]
    kinds = Counter((r.kind, r.org) for r in outbox_in(client)
                    if r.kind not in FAMILY_KINDS)
    assert kinds == {("lead", "olpe"): 1, ("lead", "siegen"): 1, ("lead", "brilon"): 1,
                     ("reminder", "siegen"): 1, ("agency_note", "siegen"): 1}
    region = shipped_content().region
    siegen = smtp.to(_email("siegen"))
    assert [m["Subject"].strip().startswith("Erinnerung") for m in siegen] == [False, True]
    expected_id = f"<reminder.{lead.public_id.replace('_', '-')}.siegen@suedwestfalen.example.org>"
    assert siegen[1]["Message-ID"].strip() == expected_id
    assert "/quittung/" in siegen[1].get_body(("plain",)).get_content()
    [note] = smtp.to(_email("suedwestfalen-agentur"))
    body = note.get_body(("plain",)).get_content()
    assert region.organisations["siegen"].name in body
    assert "jan@example.nl" not in body  # the agency note carries no contact data
    assert not smtp.to(_email("olpe"))[1:]  # acknowledged: no reminder


def test_without_smtp_url_each_mail_is_an_eml_file(client, settings):
    lead = de_vries_in(client, municipalities=("olpe",), consents=("municipalities", "tourism"))
    counts = deliver(client)
    rows = outbox_in(client)
    assert counts["sent"] == len(rows) == 4  # request, two lead mails, self-service mail
    files = sorted(settings.mail_dir.iterdir())
    assert [f.name.split("-", 1)[0] for f in files] == [f"{r.id:08d}" for r in rows]
    assert all(f.suffix == ".eml" for f in files)
    by_kind = {(r.kind, r.org): f for r, f in zip(rows, files, strict=True)}
    assert {k for k in by_kind if k[0] == "lead"} == {("lead", "olpe"),
                                                      ("lead", "sauerland-tourismus")}
    olpe = by_kind["lead", "olpe"]
    assert f"lead.{lead.public_id.replace('_', '-')}.olpe" in olpe.name.replace("_", ".")
    msg = message_from_bytes(olpe.read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == _email("olpe")
    assert msg.get_body(("plain",)).get_content().startswith("Guten Tag")
    assert run(client, by_public_id, services(client).db, lead.public_id).status == "confirmed"
