"""Reply templates on both databases: a template shared by one municipality is seen by
another, copied, used to answer a family from the lead page, and the answer reaches
the family through the outbox and a real SMTP server; placeholders are checked."""

from __future__ import annotations

import re

import pytest

from campaign.core.schema import lead_recipients, leads, outbox, reply_templates, template_uses
from campaign.leads import lifecycle
from campaign.portal import replies
from campaign.portal.replies import Draft

from .support.app import count_in, deliver, rows_in, run, services
from .support.casework import act, clerk, history_of, sign_in
from .support.forms import csrf_of
from .support.portal_cases import lead

TEMPLATE = {"title": "Erste Antwort", "category": "erstantwort",
            "subject": "Willkommen in {ort}",
            "body": "Hallo {name},\n\nich bin {kontakt} und melde mich gern bei Ihnen.\n"}


def _save(client, token: str, path: str = "/partner/vorlagen", **fields: str):
    return client.post(path, data={"csrf_token": token, **{**TEMPLATE, **fields}})


def test_a_shared_template_is_copied_used_and_the_reply_reaches_the_family(mail_client, smtp):
    client = mail_client
    token = sign_in(client, clerk(client, "olpe", "Olga Olpe", email="olga@olpe.example.org"))
    assert _save(client, token, shared="1").status_code == 303
    [shared] = rows_in(client, reply_templates)
    assert shared.org == "olpe" and shared.shared

    lead_id = lead(client, ["attendorn"], name="Familie Sommer", email="sommer@example.org")
    token = sign_in(client, clerk(client, "attendorn", "Tim Attendorn",
                                  email="tim@attendorn.example.org"))
    page = client.get("/partner/vorlagen").text
    assert "Erste Antwort" in page and "Olpe" in page  # visible to another municipality
    copied = client.post(f"/partner/vorlagen/{shared.id}/kopieren", data={"csrf_token": token})
    assert copied.status_code == 303
    [mine] = rows_in(client, reply_templates, reply_templates.c.org == "attendorn")
    assert (mine.origin_id, mine.origin_org, mine.shared) == (shared.id, "olpe", False)
    adapted = _save(client, token, f"/partner/vorlagen/{mine.id}",
                    body="Hallo {name},\n\nhier ist {kontakt} aus {ort}. Wir haben Kitaplätze.")
    assert adapted.status_code == 303

    page = client.get(f"/partner/lead/{lead_id}?vorlage={mine.id}").text
    assert "Willkommen in Attendorn" in page  # filled in for this family
    assert "Hallo Familie Sommer," in page and "hier ist Tim Attendorn aus Attendorn" in page
    sent = client.post(f"/partner/lead/{lead_id}/antwort", data={
        "csrf_token": csrf_of(page), "template": str(mine.id),
        "subject": "Willkommen in Attendorn",
        "body": "Hallo Familie Sommer,\n\nhier ist Tim. Wir haben Kitaplätze frei."})
    assert sent.status_code == 303 and "saved=reply" in sent.headers["location"]
    assert count_in(client, outbox, outbox.c.kind == "reply", outbox.c.lead_id == lead_id) == 1
    [entry] = [h for h in history_of(client, lead_id) if h.event == "reply"]
    assert (entry.org, entry.actor, entry.detail) == ("attendorn", "Tim Attendorn",
                                                       "Erste Antwort")
    assert "Antwort an die Familie gesendet" in client.get(f"/partner/lead/{lead_id}").text

    deliver(client)
    [mail] = [m for m in smtp.to("sommer@example.org")
              if m["Subject"] == "Willkommen in Attendorn"]
    assert "tim@attendorn.example.org" in str(mail["Reply-To"])
    assert mail["Message-ID"] and mail["Date"]
    assert "Wir haben Kitaplätze frei." in mail.get_body(("plain",)).get_content()
    listing = client.get("/partner/vorlagen").text
    row = re.search(r"Erste Antwort.*?</tr>", listing, re.S)
    assert row and "<td>1</td>" in row.group(0)  # used once


def test_unknown_placeholders_are_shown_on_the_form_never_a_500(client):
    token = sign_in(client, clerk(client, "olpe"))
    for body in ("Hallo {vorname}", "Hallo {name", "Hallo {name!r}", "Hallo {0}",
                 "Hallo {name.__class__}"):
        r = _save(client, token, body=body)
        assert r.status_code == 400, body
        assert "Platzhalter" in r.text or "Klammer" in r.text
    assert count_in(client, reply_templates) == 0
    assert _save(client, token, category="sonstwas").status_code == 400


def test_a_reply_needs_an_own_template_and_a_lead_routed_here(client):
    token = sign_in(client, clerk(client, "olpe", email="o@olpe.example.org"))
    assert _save(client, token).status_code == 303
    [own] = rows_in(client, reply_templates)
    elsewhere = lead(client, ["attendorn"])
    data = {"csrf_token": token, "template": str(own.id), "subject": "Hallo", "body": "Text"}
    assert client.post(f"/partner/lead/{elsewhere}/antwort", data=data).status_code == 404
    here = lead(client, ["olpe"])
    empty = client.post(f"/partner/lead/{here}/antwort", data={**data, "body": ""})
    assert empty.status_code == 400 and "Bitte schreiben Sie einen Text." in empty.text
    token = sign_in(client, clerk(client, "attendorn", email="a@attendorn.example.org"))
    foreign = client.post(f"/partner/lead/{elsewhere}/antwort",
                          data={**data, "csrf_token": token})
    assert foreign.status_code == 400  # not a template of this organisation
    assert count_in(client, template_uses) == 0


def test_uses_count_leads_that_reached_a_later_stage(client):
    email = clerk(client, "olpe", "Olga Olpe", email="olga@olpe.example.org")
    token = sign_in(client, email)
    assert _save(client, token).status_code == 303
    [template] = rows_in(client, reply_templates)
    first, second = lead(client, ["olpe"]), lead(client, ["olpe"])
    for lead_id in (first, second):
        r = client.post(f"/partner/lead/{lead_id}/antwort", data={
            "csrf_token": token, "template": str(template.id), "subject": "S", "body": "B"})
        assert r.status_code == 303
    assert act(client, token, first, "status", status="termin_vereinbart").status_code == 303
    assert {use.stage for use in rows_in(client, template_uses)} == {"neu"}
    [answered] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == second)
    assert answered.first_contact_at is not None  # a written reply is a first contact
    [shown] = run(client, replies.listing, services(client).db, "olpe")
    assert (shown.uses, shown.advanced) == (2, 1)


@pytest.mark.parametrize("text, problem", [
    ("Hallo {name}, {kontakt} aus {ort}", False), ("{{name}} in Klammern", False),
    ("Hallo {Name}", True), ("}", True), ("{name:>10}", True), ("{}", True)])
def test_placeholder_rule(text, problem):
    assert (replies.placeholder_problem(text) is not None) is problem
    if not problem:
        assert replies.fill(text, {"name": "A", "kontakt": "B", "ort": "C"})


def test_a_reply_draft_is_not_checked_for_placeholders():
    assert replies.problems(Draft(subject="Preis {in Euro}", body="x"), template=False) == {}



def test_an_erasure_clears_the_reply_and_keeps_the_count(client):
    token = sign_in(client, clerk(client, "olpe", email="o@olpe.example.org"))
    assert _save(client, token).status_code == 303
    [template] = rows_in(client, reply_templates)
    lead_id = lead(client, ["olpe"], name="Familie Weg", email="weg@example.org")
    r = client.post(f"/partner/lead/{lead_id}/antwort", data={
        "csrf_token": token, "template": str(template.id), "subject": "Hallo Familie Weg",
        "body": "Liebe Familie Weg"})
    assert r.status_code == 303
    deliver(client)
    [lead_row] = rows_in(client, leads, leads.c.id == lead_id)
    assert run(client, lifecycle.erase, services(client), lead_row.public_id)
    [mail] = rows_in(client, outbox, outbox.c.kind == "reply")
    assert b"Weg" not in bytes(mail.message) and mail.recipient == ""
    assert count_in(client, template_uses) == 1  # no personal data: the figure stays


def test_an_organisation_deletes_its_own_template_and_copies_stay(client):
    token = sign_in(client, clerk(client, "olpe", email="o@olpe.example.org"))
    assert _save(client, token, shared="1").status_code == 303
    [original] = rows_in(client, reply_templates)
    token = sign_in(client, clerk(client, "attendorn", email="a@attendorn.example.org"))
    copied = client.post(f"/partner/vorlagen/{original.id}/kopieren", data={"csrf_token": token})
    assert copied.status_code == 303
    # nobody deletes another organisation's template
    assert client.post(f"/partner/vorlagen/{original.id}/loeschen", data={
        "csrf_token": token, "confirm": "1"}).status_code == 404

    token = sign_in(client, "o@olpe.example.org")
    assert "Vorlage löschen" in client.get(f"/partner/vorlagen/{original.id}").text
    unsure = client.post(f"/partner/vorlagen/{original.id}/loeschen", data={"csrf_token": token})
    assert unsure.status_code == 400 and 'aria-invalid="true"' in unsure.text
    r = client.post(f"/partner/vorlagen/{original.id}/loeschen",
                    data={"csrf_token": token, "confirm": "1"})
    assert r.status_code == 303 and "deleted=1" in r.headers["location"]
    [kept] = rows_in(client, reply_templates)
    assert (kept.org, kept.origin_id, kept.origin_org) == ("attendorn", None, "olpe")
    assert "Die Vorlage ist gelöscht." in client.get("/partner/vorlagen?deleted=1").text
