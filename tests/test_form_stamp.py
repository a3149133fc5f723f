"""The lead form's signed start time counts once: a bot that fetched the form one
time cannot skip the minimum fill time for every later submission, and a person
who goes back and sends the form again is told what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from campaign.core.schema import leads, outbox, used_form_stamps
from campaign.core.tokens import make_token
from campaign.leads import lifecycle, stamps
from campaign.leads.retention import purge
from campaign.leads.services import Services
from campaign.web.app import create_app

from .support.app import all_leads, count_in, run, services, shipped_content
from .support.forms import hidden_fields, valid_data
from .support.leads import new_lead

MIN_FILL = 5.0


@pytest.fixture
def stamped(settings) -> Iterator[TestClient]:
    """An app that asks for the minimum fill time (the tests' default turns it off)."""
    app = create_app(settings.with_(min_fill_seconds=MIN_FILL), content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _form(client: TestClient) -> dict[str, str]:
    """The hidden fields of a freshly fetched form, after a person's time to fill it in."""
    page = client.get("/interesse")
    assert page.status_code == 200
    services(client).clock.advance(timedelta(seconds=MIN_FILL + 1))
    return hidden_fields(page.text)


def test_a_start_stamp_stores_one_lead_only(stamped):
    client = stamped
    hidden = _form(client)
    first = {**hidden, **valid_data()}
    assert client.post("/interesse", data=first).status_code == 303
    assert count_in(client, used_form_stamps) == 1

    # a bot sends other data with the same stamp: the form again, a notice, nothing stored
    bot = client.post("/interesse", data={**hidden, **valid_data(
        email="bot@example.com", name="Bot Beispiel")})
    assert bot.status_code == 409
    assert "Dieses Formular haben Sie schon abgeschickt" in bot.text
    assert 'value="bot@example.com"' in bot.text  # the data is kept
    fresh = hidden_fields(bot.text)["started"]
    assert fresh and fresh != hidden["started"]
    assert [x.email for x in all_leads(client)] == ["anna.beispiel@example.com"]
    assert count_in(client, outbox, outbox.c.kind == "confirm") == 1

    # the same bytes again (an answer got lost) still find the lead they made
    assert client.post("/interesse", data=first).status_code == 303
    assert len(all_leads(client)) == 1

    # a person who went back and changed something sends the refused form again
    services(client).clock.advance(timedelta(seconds=MIN_FILL + 1))
    again = client.post("/interesse", data={**hidden_fields(bot.text), **valid_data(
        email="anna.neu@example.com")})
    assert again.status_code == 303
    assert [x.email for x in all_leads(client)] == ["anna.beispiel@example.com",
                                                    "anna.neu@example.com"]
    assert count_in(client, used_form_stamps) == 2


def test_a_reused_stamp_is_refused_in_the_pages_language(stamped):
    client = stamped
    page = client.get("/en/interesse")
    services(client).clock.advance(timedelta(seconds=MIN_FILL + 1))
    hidden = hidden_fields(page.text)
    assert client.post("/en/interesse", data={**hidden, **valid_data()}).status_code == 303
    r = client.post("/en/interesse", data={**hidden, **valid_data(email="b@example.com")})
    assert r.status_code == 409 and "You have already sent this form" in r.text


def test_two_submissions_with_one_stamp_at_once_store_one_lead(stamped):
    client = stamped
    hidden = _form(client)
    bodies = [{**hidden, **valid_data(email=f"family{i}@example.com")} for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda data: client.post("/interesse", data=data), bodies))
    assert sorted(a.status_code for a in answers) == [303, 409]
    assert len(all_leads(client)) == 1
    assert count_in(client, outbox, outbox.c.kind == "confirm") == 1


async def _at_once(svc: Services, n: int) -> list[object]:
    return await asyncio.gather(*(
        lifecycle.create_pending(svc, new_lead(email=f"family{i}@example.com",
                                               submission=f"submission-{i}", stamp="one-stamp"))
        for i in range(n)), return_exceptions=True)


def test_many_transactions_with_one_stamp_store_exactly_one_lead(client):
    results = run(client, _at_once, services(client), 5)
    stored = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, lifecycle.StampUsed)]
    assert len(stored) == 1 and len(refused) == 4, results
    assert [x.public_id for x in all_leads(client)] == stored
    assert count_in(client, outbox) == 1 and count_in(client, used_form_stamps) == 1


def test_the_purge_forgets_expired_stamps(stamped, settings):
    client = stamped
    assert client.post("/interesse", data={**_form(client), **valid_data()}).status_code == 303
    svc = services(client)
    now = svc.clock.now()
    run(client, purge, svc.db, settings, now + timedelta(hours=23))
    assert count_in(client, used_form_stamps) == 1  # still valid: still remembered
    run(client, purge, svc.db, settings, now + timedelta(days=1, minutes=1))
    assert count_in(client, used_form_stamps) == 0
    assert count_in(client, leads) == 1


def test_stamps_of_one_moment_differ_and_only_old_enough_ones_count():
    secret, now = "s" * 40, datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    a, b = stamps.make_stamp(secret, now), stamps.make_stamp(secret, now)
    later = now + timedelta(seconds=MIN_FILL)
    digests = {stamps.accepted(secret, s, later, MIN_FILL) for s in (a, b)}
    assert None not in digests and len(digests) == 2
    assert stamps.accepted(secret, a, later, MIN_FILL) == stamps.accepted(secret, a, later,
                                                                          MIN_FILL)
    assert stamps.accepted(secret, a, later - timedelta(seconds=1), MIN_FILL) is None
    assert stamps.accepted("t" * 40, a, later, MIN_FILL) is None
    for payload in (True, "1.5", [True, "x"], {"t": 1.0}):
        forged = make_token(secret, stamps.PURPOSE, payload)
        assert stamps.accepted(secret, forged, later, MIN_FILL) is None, payload
    # a bare time, as forms rendered before the nonce carry it, still counts
    bare = make_token(secret, stamps.PURPOSE, round(now.timestamp(), 3))
    assert stamps.accepted(secret, bare, later, MIN_FILL)
