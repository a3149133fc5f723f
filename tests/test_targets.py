"""Response targets: the due time of the first contact, the overdue reminders to the
assignee and then the organisation's admins, the leads list's marker and filter, and
the agency's overdue list. The clock is moved, never waited for."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

import campaign.content
from campaign.content.checks import ContentError
from campaign.content.region import load_region
from campaign.core.schema import lead_recipients, outbox
from campaign.leads.records import lead_number
from campaign.portal.overdue import queue_overdue_reminders

from .support.app import rows_in, run, services, shipped_content
from .support.casework import act, clerk, sign_in
from .support.leads import add_lead
from .support.portal import AGENCY, add_user

# Thursday before Easter 2026, 10:00 in Berlin: Good Friday and Easter Monday are
# holidays in NRW, so two working days end on Wednesday 8 April, 10:00.
ROUTED = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 4, 8, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def lead(client, orgs=("olpe",)) -> int:
    return run(client, add_lead, services(client), orgs, created_at=ROUTED)


def number(lead_id: int) -> str:
    """The number people read for a lead made by ``lead`` (L-2026-0001)."""
    return lead_number(lead_id, ROUTED)


def at(client, moment: datetime) -> None:
    services(client).clock.stop(moment)


def remind(client) -> int:
    svc = services(client)
    return run(client, queue_overdue_reminders, svc, svc.clock.now())


def mails(client, lead_id: int, kind: str) -> list:
    rows = rows_in(client, outbox, outbox.c.lead_id == lead_id, outbox.c.kind == kind)
    return [message_from_bytes(r.message, policy=policy.default) for r in rows]


def test_the_due_time_counts_nrw_working_days_from_routing(client):
    lead_id = lead(client)
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert abs(row.routed_at - ROUTED) < MINUTE  # the test clock runs on a little
    assert row.due_at - row.routed_at == DUE - ROUTED  # Wednesday after Easter, same hour
    at(client, ROUTED + timedelta(hours=1))
    token = sign_in(client, clerk(client, "olpe"))
    assert token
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "fällig bis 08.04.2026, 10:00" in page  # Berlin time, not UTC
    assert "UTC" not in page


def test_a_lead_left_alone_reminds_assignee_then_admin_and_shows_for_the_agency(client):
    lead_id = lead(client)
    anna = clerk(client, "olpe", "Anna Beispiel")
    boss = clerk(client, "olpe", "Bernd Chef", role="admin", email="chef@olpe.example.org")
    at(client, ROUTED + timedelta(hours=1))
    assert act(client, sign_in(client, anna), lead_id, "uebernehmen").status_code == 303

    at(client, DUE - MINUTE)
    assert remind(client) == 0
    at(client, DUE + MINUTE)
    assert remind(client) == 1
    assert remind(client) == 0  # once
    [first] = mails(client, lead_id, "overdue")
    assert first["To"].addresses[0].addr_spec == anna
    body = first.get_body(("plain",)).get_content()
    assert f"Anfrage Nr. {number(lead_id)}" in body and "08.04.2026, 10:00" in body
    assert f"Nr. {number(lead_id)}" in str(first["Subject"])
    assert f"http://testserver/partner/lead/{lead_id}" in body
    assert "familie@example.org" not in body and "0271 12345" not in body
    assert mails(client, lead_id, "overdue_admin") == []

    # the admin hears of it one working day after the reminder, not before
    at(client, DUE + timedelta(days=1))
    assert remind(client) == 0
    at(client, DUE + timedelta(days=1, minutes=2))
    assert remind(client) == 1
    assert remind(client) == 0
    [second] = mails(client, lead_id, "overdue_admin")
    assert second["To"].addresses[0].addr_spec == boss

    # the clerk's list marks and filters it
    sign_in(client, anna)
    listed = client.get("/partner/", params={"ueberfaellig": "1"})
    assert listed.status_code == 200
    assert f'/partner/lead/{lead_id}"' in listed.text and "überfällig" in listed.text

    # the agency sees it, without the family's contact data
    add_user(client, AGENCY, role="admin")
    sign_in(client, f"admin@{AGENCY}.example.org")
    page = client.get("/partner/ueberfaellig")
    assert page.status_code == 200
    assert f"{number(lead_id)}<" in page.text
    assert "Olpe" in page.text and "Anna Beispiel" in page.text
    for private in ("Familie Muster", "familie@example.org", "0271 12345"):
        assert private not in page.text


@pytest.mark.parametrize("work", [("anruf", {"outcome": "nicht_erreicht"}),
                                  ("status", {"status": "kontaktiert"})])
def test_a_contacted_lead_is_not_overdue(client, work):
    lead_id = lead(client)
    other = lead(client)
    anna = clerk(client, "olpe")
    at(client, DUE - timedelta(hours=2))
    action, form = work
    assert act(client, sign_in(client, anna), lead_id, action, **form).status_code == 303
    at(client, DUE + timedelta(days=3))
    assert remind(client) == 1  # only the other lead
    assert mails(client, lead_id, "overdue") == []
    assert len(mails(client, other, "overdue")) == 1
    sign_in(client, anna)
    listed = client.get("/partner/", params={"ueberfaellig": "1"}).text
    assert f'/partner/lead/{other}"' in listed and f'/partner/lead/{lead_id}"' not in listed
    add_user(client, AGENCY, role="admin")
    sign_in(client, f"admin@{AGENCY}.example.org")
    page = client.get("/partner/ueberfaellig").text
    assert f"{number(other)}<" in page and f"{number(lead_id)}<" not in page


def test_unassigned_and_without_admins_the_organisation_address_is_reminded(client):
    lead_id = lead(client)
    region = services(client).content.region
    at(client, DUE + MINUTE)
    assert remind(client) == 1
    at(client, DUE + timedelta(days=1, minutes=2))
    assert remind(client) == 1
    address = region.organisations["olpe"].email
    [first] = mails(client, lead_id, "overdue")
    [second] = mails(client, lead_id, "overdue_admin")
    assert first["To"].addresses[0].addr_spec == address
    assert second["To"].addresses[0].addr_spec == address


def test_the_overdue_list_is_the_agencys_only(client):
    sign_in(client, clerk(client, "olpe"))
    assert client.get("/partner/ueberfaellig").status_code == 403


def test_an_organisation_may_set_its_own_target_in_content(tmp_path):
    assert services_region_default() == 2
    shutil.copytree(Path(campaign.content.__file__).parent, tmp_path / "c")
    region_file = tmp_path / "c" / "region.toml"
    text = region_file.read_text().replace('email = "neubuerger@siegerland-wittgenstein',
                                           'response_days = 3\nemail = "neubuerger@siegerland-'
                                           'wittgenstein')
    region_file.write_text(text)
    assert load_region(tmp_path / "c").organisations["tvsw"].response_days == 3
    region_file.write_text(text.replace("response_days = 3", "response_days = 0"))
    with pytest.raises(ContentError):
        load_region(tmp_path / "c")


def services_region_default() -> int:
    return shipped_content().region.organisations["olpe"].response_days
