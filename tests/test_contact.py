"""The named contact, on both databases: taking a lead (first come, also when clerks
click at once), assignment by the organisation's admin, the staff profile, what
the family sees and gets once it has a contact, and work as receipt."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from campaign.core.schema import lead_history, lead_recipients, outbox
from campaign.leads import forwarding
from campaign.portal import accounts, assignment
from campaign.portal.cases import Viewer

from .support.app import count_in, deliver, rows_in, run, services, shipped_content
from .support.casework import act, clerk, history_of, self_service_path, sign_in
from .support.forms import hidden_fields
from .support.portal_cases import lead

OLPE = shipped_content().region.organisations["olpe"]


def _assignee(client, lead_id: int, org: str = "olpe") -> int | None:
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id,
                    lead_recipients.c.org == org)
    return row.assignee_id  # type: ignore[no-any-return]


def _contact_mails(client, lead_id: int) -> list:
    return rows_in(client, outbox, outbox.c.lead_id == lead_id, outbox.c.kind == "contact")


def test_clerks_taking_the_same_lead_at_once_get_exactly_one_assignee(client):
    lead_id = lead(client, ["olpe"])
    names = [f"Kollegin {n}" for n in "ABCDEF"]
    emails = [clerk(client, "olpe", name, email=f"k{i}@olpe.example.org")
              for i, name in enumerate(names)]
    svc = services(client)

    async def all_at_once() -> list:
        viewers = [Viewer("olpe", False, await accounts.user_by_email(svc.db, e))
                   for e in emails]
        return await asyncio.gather(*(assignment.take(svc, v, lead_id, svc.clock.now())
                                      for v in viewers))

    outcomes = run(client, all_at_once)
    winners = [i for i, o in enumerate(outcomes) if o.done]
    assert len(winners) == 1
    winner = names[winners[0]]
    for o in outcomes:
        if not o.done:
            assert o.refused.params == {"name": winner}
    users = {u.email: u.id for u in [run(client, accounts.user_by_email, svc.db, e)
                                     for e in emails]}
    assert _assignee(client, lead_id) == users[emails[winners[0]]]
    assert [h.detail for h in history_of(client, lead_id) if h.event == "assign"] == [winner]
    assert len(_contact_mails(client, lead_id)) == 1


def test_the_second_clerk_is_told_who_took_the_lead(client):
    lead_id = lead(client, ["olpe"])
    first = clerk(client, "olpe", "Anna Beispiel", email="anna@olpe.example.org")
    second = clerk(client, "olpe", "Bernd Muster", email="bernd@olpe.example.org")
    token = sign_in(client, first)
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Noch niemand aus Ihrer Organisation ist Ansprechperson" in page
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    assert act(client, token, lead_id, "uebernehmen").status_code == 303  # a double click
    page = client.get(f"/partner/lead/{lead_id}?saved=taken").text
    assert "Sie sind jetzt die Ansprechperson dieser Familie." in page
    assert "Anna Beispiel, Willkommenslotsin" in page
    token = sign_in(client, second)
    r = act(client, token, lead_id, "uebernehmen")
    assert r.status_code == 409
    assert "Anna Beispiel hat diesen Interessenten schon übernommen." in r.text
    assert len(_contact_mails(client, lead_id)) == 1
    assert [h.actor for h in history_of(client, lead_id)] == ["Anna Beispiel"]


def test_taking_a_lead_needs_a_name_in_the_profile(client):
    lead_id = lead(client, ["olpe"])
    token = sign_in(client, clerk(client, "olpe", None))
    r = act(client, token, lead_id, "uebernehmen")
    assert r.status_code == 409 and "Bitte tragen Sie zuerst Ihren Namen" in r.text
    assert _assignee(client, lead_id) is None
    bad = client.post("/partner/profil", data={"csrf_token": token, "display_name": " ",
                                               "phone": "ruf mich an"})
    assert bad.status_code == 400
    assert "Bitte geben Sie Ihren Namen ein" in bad.text
    assert "Bitte geben Sie eine Telefonnummer aus Ziffern an" in bad.text
    assert 'value="ruf mich an"' in bad.text  # what was typed stays
    ok = client.post("/partner/profil", data={
        "csrf_token": token, "display_name": "  Clara   Neu ", "job_title": "Willkommenslotsin",
        "phone": "+49 (0)2761 8090", "photo_alt": ""})
    assert ok.status_code == 303
    page = client.get("/partner/profil?saved=1").text
    assert "Ihr Profil wurde gespeichert." in page and 'value="Clara Neu"' in page
    assert OLPE.email in page  # families are told the organisation's address
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    assert [h.detail for h in history_of(client, lead_id)] == ["Clara Neu"]


def test_the_organisations_admin_assigns_and_reassigns_among_colleagues(client):
    lead_id = lead(client, ["olpe"])
    admin = clerk(client, "olpe", "Leitung Olpe", role="admin", email="leitung@olpe.example.org")
    clerk(client, "olpe", "Anna Beispiel", email="anna@olpe.example.org")
    clerk(client, "olpe", "Bernd Muster", email="bernd@olpe.example.org")
    clerk(client, "olpe", None, email="ohne@olpe.example.org")
    ids = {u.email: u.id for u in [run(client, accounts.user_by_email, services(client).db, e)
                                   for e in ("anna@olpe.example.org", "bernd@olpe.example.org",
                                             "ohne@olpe.example.org")]}
    token = sign_in(client, admin)
    page = client.get(f"/partner/lead/{lead_id}").text
    assert '<label for="assignee">Zuweisen an</label>' in page
    assert "ohne@olpe.example.org – ohne Namen im Profil" in page
    r = act(client, token, lead_id, "zuweisen", assignee=str(ids["ohne@olpe.example.org"]))
    assert r.status_code == 409 and "noch keinen Namen im Profil" in r.text
    for bad in ("", "x", "0", "99999999999"):
        assert act(client, token, lead_id, "zuweisen", assignee=bad).status_code == 400
    assert act(client, token, lead_id, "zuweisen",
               assignee=str(ids["anna@olpe.example.org"])).status_code == 303
    assert act(client, token, lead_id, "zuweisen",
               assignee=str(ids["bernd@olpe.example.org"])).status_code == 303
    assert _assignee(client, lead_id) == ids["bernd@olpe.example.org"]
    assigned = [(h.actor, h.detail) for h in history_of(client, lead_id) if h.event == "assign"]
    assert assigned == [("Leitung Olpe", "Anna Beispiel"), ("Leitung Olpe", "Bernd Muster")]
    assert len(_contact_mails(client, lead_id)) == 1  # the first assignment only
    family = client.get(self_service_path(client, lead_id)).text
    assert "Bernd Muster" in family and "Anna Beispiel" not in family


def test_the_family_sees_its_contact_once_assigned_and_not_before(mail_client, smtp):
    client = mail_client
    email = "jan@example.nl"
    lead_id = lead(client, ["olpe"], language="nl", email=email, name="Familie de Vries")
    deliver(client)
    path = self_service_path(client, lead_id, "nl")
    before = client.get(path).text
    assert "Jullie contactpersoon" not in before
    assert all("contactpersoon" not in m.get_body(("plain",)).get_content()
               for m in smtp.to(email))
    staff = clerk(client, "olpe", "Anna Beispiel", email="anna.privat@olpe.example.org")
    token = sign_in(client, staff)
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    deliver(client)
    [mail] = [m for m in smtp.to(email) if "contactpersoon" in str(m["Subject"])]
    assert str(mail["Subject"]) == f"Jullie contactpersoon bij {OLPE.name}"
    assert mail["Reply-To"].addresses[0].addr_spec == OLPE.email  # answers reach Olpe
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert "vanaf nu zorgt Anna Beispiel van" in body
        assert "Willkommenslotsin" in body and "02761 94 12-0" in body
        assert OLPE.email in body
        assert "anna.privat@olpe.example.org" not in body  # never the login address
        assert "/nl/meine-daten/" in body
    page = client.get(path).text
    assert "<h2>Jullie contactpersoon</h2>" in page
    assert "Anna Beispiel" in page and "02761 94 12-0" in page
    assert f'href="mailto:{OLPE.email}"' in page
    assert "anna.privat@olpe.example.org" not in page
    # a family mail sent later (a new link) names the contact too
    form = client.get("/nl/interesse/neuer-link")
    client.post("/nl/interesse/neuer-link", data={**hidden_fields(form.text), "email": email})
    deliver(client)
    later = smtp.to(email)[-1].get_body(("plain",)).get_content()
    assert "Jullie contactpersoon:" in later and "Anna Beispiel, Willkommenslotsin" in later


def test_a_withdrawn_family_gets_no_contact_mail(client):
    lead_id = lead(client, ["olpe"])
    token = sign_in(client, clerk(client, "olpe"))
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    page = client.get(self_service_path(client, lead_id))
    client.post(self_service_path(client, lead_id), data={
        **hidden_fields(page.text), "action": "withdraw", "confirmed": "yes"})
    deliver(client)
    assert _contact_mails(client, lead_id) == []  # dropped with the withdrawal
    assert "Anna Beispiel" not in client.get(self_service_path(client, lead_id)).text


WORK = {
    "take": ("uebernehmen", {}),
    "stage": ("status", {"status": "kontaktiert"}),
    "note": ("notiz", {"note": "Rückruf vereinbart"}),
    "call": ("anruf", {"outcome": "nicht_erreicht"}),
}


@pytest.mark.parametrize("work", [*WORK, None])
def test_any_work_on_a_lead_counts_as_its_receipt(client, work):
    svc = services(client)
    lead_id = lead(client, ["olpe"])
    if work is not None:
        token = sign_in(client, clerk(client, "olpe"))
        action, form = WORK[work]
        assert act(client, token, lead_id, action, **form).status_code == 303
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert (row.acknowledged_at is not None) == (work is not None)
    later = svc.clock.now() + timedelta(days=shipped_content().region.ack_reminder_days + 1)
    reminded = run(client, forwarding.queue_reminders, svc, later)
    assert reminded == (0 if work else 1)
    assert count_in(client, outbox, outbox.c.kind == "reminder") == (0 if work else 1)
    if work is not None:
        assert count_in(client, lead_history, lead_history.c.lead_id == lead_id) == 1
