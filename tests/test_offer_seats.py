"""A seat on visit days that passes to the first family on the waiting list is
announced to that family by mail, in its language and with "Sie", queued in the
transaction that passes the seat on and sent through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaign.core.schema import offer_requests, outbox
from campaign.leads import lifecycle
from campaign.leads.retention import months_before, purge

from .support.app import all_leads, count_in, deliver, rows_in, run, services, shipped_content
from .support.offers import pin_offers_clock, register_visits

SEATS = shipped_content().offers.by_slug["olpe-familienwochenende-biggesee"].seats


def _full_with_one_waiting(client, lang: str) -> str:
    """Every seat taken by a German family, then one family of ``lang`` waiting;
    returns the address of the waiting family."""
    svc = services(client)
    seated = run(client, register_visits, svc, SEATS)
    waiting = run(client, register_visits, svc, 1, lang=lang, first=SEATS)
    for public_id in [*seated, *waiting]:
        assert run(client, lifecycle.confirm, svc, public_id) == "confirmed"
    places = [r.place for r in rows_in(client, offer_requests)]
    assert places.count("seat") == SEATS and places.count("waiting") == 1
    deliver(client, now=svc.clock.now())  # the lead mails; nothing about seats yet
    return f"familie{SEATS}@example.net"


@pytest.mark.parametrize("lang, subject, words", [
    ("en", "A place is free for you: Family weekend at the Biggesee",
     ["Dear Familie 12,", "You were next on the waiting list", "May 15, 2027"]),
    ("de", "Ein Platz ist frei für Sie: Familienwochenende am Biggesee",
     ["Guten Tag Familie 12,", "Sie standen als Nächste auf der Warteliste",
      "15. Mai 2027", "Wenn Sie doch nicht kommen können"]),
])
def test_the_family_that_gets_a_freed_seat_is_told_in_its_language(
        mail_client, smtp, lang, subject, words):
    client = mail_client
    pin_offers_clock(client)
    svc = services(client)
    family = _full_with_one_waiting(client, lang)
    assert not smtp.to(family) or all("Platz" not in str(m["Subject"]) for m in smtp.to(family))
    before = len(smtp.to(family))
    holder = all_leads(client)[0]
    assert run(client, lifecycle.withdraw, svc, holder.public_id)
    # queued with the seat, in the same transaction
    [waiting] = [lead for lead in all_leads(client) if lead.email == family]
    assert count_in(client, outbox, outbox.c.lead_id == waiting.id,
                    outbox.c.status == "queued") == 1
    deliver(client, now=svc.clock.now())
    [mail] = smtp.to(family)[before:]
    assert str(mail["Subject"]) == subject
    body = mail.get_body(("plain",)).get_content()
    for word in words:
        assert word in body
    assert "/meine-daten/" in body and waiting.number in body
    if lang == "de":
        assert " du " not in body and " euch" not in body and " ihr " not in body


def test_a_seat_freed_by_the_retention_purge_is_announced_too(mail_client, smtp):
    """The seated families' data reaches its retention limit before the waiting one's:
    anonymising them passes a seat on, and the waiting family is told."""
    client = mail_client
    pin_offers_clock(client)
    svc = services(client)
    start = svc.clock.now()
    for public_id in run(client, register_visits, svc, SEATS):
        assert run(client, lifecycle.confirm, svc, public_id) == "confirmed"
    svc.clock.advance(months_before(start, -6) - start)  # the waiting family comes later
    [late_id] = run(client, register_visits, svc, 1, first=SEATS)
    assert run(client, lifecycle.confirm, svc, late_id) == "confirmed"
    family = f"familie{SEATS}@example.net"
    deliver(client, now=svc.clock.now())
    before = len(smtp.to(family))

    due = months_before(start, -svc.settings.lead_retention_months) + timedelta(days=1)
    svc.clock.advance(due - svc.clock.now())
    assert run(client, purge, svc.db, svc.settings, due)["anonymised"] == SEATS
    [place] = [r.place for r in rows_in(client, offer_requests)]
    assert place == "seat"
    deliver(client, now=svc.clock.now())
    [mail] = smtp.to(family)[before:]
    assert str(mail["Subject"]) == "Ein Platz ist frei für Sie: Familienwochenende am Biggesee"
