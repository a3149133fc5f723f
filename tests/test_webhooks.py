"""Signed webhooks: events queued with the change that causes them, sent by the
outbox worker to a real receiver on loopback, retried like mail, refused for
non-public addresses unless allowed."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from campaign.cli import main as cli_main
from campaign.core.schema import outbox
from campaign.core.schema import webhooks as webhook_table
from campaign.delivery import hooks_http, webhooks
from campaign.leads import followup, lifecycle, records
from campaign.portal import cases, work

from .support.api import Receiver
from .support.app import deliver, rows_in, run, services
from .support.casework import act, clerk, sign_in
from .support.leads import add_lead
from .support.portal_cases import lead


def _add(client, url: str, org: str = "olpe") -> str:
    svc = services(client)
    _id, secret = run(client, webhooks.add, svc.db, org, url, now=svc.clock.now())
    return secret


def _events(receiver: Receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received]


def _verify(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_a_routed_lead_is_posted_signed_and_sent_again_after_a_500(client, settings):
    allowed = settings.with_(webhook_allow_private=True)
    with Receiver(statuses=[500]) as receiver:
        secret = _add(client, receiver.url)
        lead_id = run(client, add_lead, services(client), ["olpe"])
        deliver(client, allowed)
        (first,) = receiver.received
        (row,) = rows_in(client, outbox, outbox.c.webhook_id.isnot(None))
        assert row.status == "queued" and row.attempts == 1 and row.last_error == "HTTP 500"
        later = services(client).clock.now() + timedelta(hours=1)
        deliver(client, allowed, now=later)
        assert len(receiver.received) == 2
    second = receiver.received[1]
    assert first.body == second.body  # the same event, the same id
    for got in (first, second):
        assert _verify(secret, got.body, got.headers["X-Campaign-Signature"])
        assert not _verify("another secret", got.body, got.headers["X-Campaign-Signature"])
        assert got.headers["Content-Type"] == "application/json"
    event = json.loads(second.body)
    assert event["event"] == "lead.routed" and event["organisation"] == "olpe"
    assert event["id"].startswith("evt_") and second.headers["X-Campaign-Event-Id"] == event["id"]
    lead = run(client, _lead, client, lead_id)
    assert event["data"]["lead"] == {"id": lead.number}
    (row,) = rows_in(client, outbox, outbox.c.webhook_id.isnot(None))
    assert row.status == "sent" and row.attempts == 2


async def _lead(client, lead_id: int) -> records.Lead:
    async with services(client).db.reading() as conn:
        (lead,) = await records.load(conn, records.leads.c.id == lead_id)
    return lead


def test_loopback_is_refused_unless_allowed(client, settings):
    with Receiver() as receiver:
        _add(client, receiver.url)
        run(client, add_lead, services(client), ["olpe"])
        counts = deliver(client, settings)
        assert receiver.received == []
    assert counts["dead"] == 1
    (row,) = rows_in(client, outbox, outbox.c.webhook_id.isnot(None))
    assert row.status == "dead" and "non-public address (127.0.0.1)" in row.last_error


def test_an_erasure_event_carries_the_lead_number_only(client, settings):
    allowed = settings.with_(webhook_allow_private=True)
    svc = services(client)
    with Receiver() as receiver:
        _add(client, receiver.url)
        lead_id = run(client, add_lead, svc, ["olpe"])
        lead = run(client, _lead, client, lead_id)
        deliver(client, allowed)
        assert run(client, lifecycle.erase, svc, lead.public_id)
        deliver(client, allowed)
    routed, erased = _events(receiver)
    assert routed["event"] == "lead.routed"
    assert erased["event"] == "lead.erased"
    assert erased["data"] == {"lead": {"id": lead.number}}
    raw = receiver.received[1].body.decode()
    for personal in (lead.name, lead.email, lead.phone, "Muster", "example.org"):
        assert personal and personal not in raw


def test_stage_changes_are_events_with_codes_and_german_words(client, settings):
    allowed = settings.with_(webhook_allow_private=True)
    svc = services(client)
    with Receiver() as receiver:
        _add(client, receiver.url)
        lead_id = run(client, add_lead, svc, ["olpe"])
        moved = run(client, work.move, svc.db, cases.Viewer("olpe", admin=False), lead_id,
                    "kontaktiert", svc.clock.now())
        assert moved.done
        deliver(client, allowed)
    routed, changed = _events(receiver)
    assert changed["event"] == "lead.stage_changed"
    assert changed["data"]["from_stage"] == "neu"
    assert changed["data"]["to_stage"] == "kontaktiert"
    assert changed["data"]["to_label"] == "kontaktiert"
    assert changed["id"] != routed["id"]


def test_an_event_is_queued_once_per_receiver(client):
    svc = services(client)
    _add(client, "https://crm.example.org/hook")
    _add(client, "https://other.example.org/hook")

    async def twice() -> None:
        async with svc.db.transaction() as conn:
            await webhooks.queue(conn, "olpe", "ping", {}, now=svc.clock.now(), event_id="evt_1")
        async with svc.db.transaction() as conn:
            await webhooks.queue(conn, "olpe", "ping", {}, now=svc.clock.now(), event_id="evt_1")

    with pytest.raises(sa.exc.IntegrityError):
        run(client, twice)
    rows = rows_in(client, outbox, outbox.c.message_id == "evt_1")
    assert sorted(r.recipient for r in rows) == ["https://crm.example.org/hook",
                                                 "https://other.example.org/hook"]


def test_only_https_in_production_and_no_credentials(settings):
    production = settings.with_(production=True)
    assert webhooks.url_problem("https://crm.example.org/hook", production) is None
    assert webhooks.url_problem("http://crm.example.org/hook", production)
    assert webhooks.url_problem("http://crm.example.org/hook", settings) is None
    for bad in ("ftp://x.example/", "https://user:pw@x.example/", "https://", "nix",
                "https://x.example:99999/", "https://x.example/ a"):
        assert webhooks.url_problem(bad, settings), bad


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254",
                                     "::1", "fe80::1", "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0"])
def test_non_public_addresses_are_refused(address):
    import ipaddress

    assert hooks_http.refused(ipaddress.ip_address(address))
    assert not hooks_http.refused(ipaddress.ip_address("93.184.215.14"))


def test_add_webhook_prints_the_secret_once(client, settings, monkeypatch, capsys):
    monkeypatch.setenv("CAMPAIGN_DATABASE", str(settings.database))
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("CAMPAIGN_PRODUCTION", "1")
    assert cli_main(["add-webhook", "--org", "olpe", "--url", "http://crm.example.org/"]) == 2
    assert "https" in capsys.readouterr().err
    assert cli_main(["add-webhook", "--org", "olpe", "--url", "https://crm.example.org/"]) == 0
    secret = capsys.readouterr().out.split()[-1]
    (row,) = rows_in(client, webhook_table)
    assert row.secret == secret and row.url == "https://crm.example.org/"


def test_a_family_that_stays_moves_the_stage_and_the_receiver_hears_of_it(client, settings):
    """The one stage change no clerk makes: the family's "yes" a year after moving in."""
    allowed = settings.with_(webhook_allow_private=True)
    svc = services(client)
    with Receiver() as receiver:
        secret = _add(client, receiver.url)
        lead_id = lead(client, ["olpe"], email="bleibt@example.org")
        token = sign_in(client, clerk(client, "olpe"))
        assert act(client, token, lead_id, "status", status="zugezogen").status_code == 303
        run(client, followup.run_due, svc)
        [public_id] = [r.public_id for r in rows_in(client, followup.leads,
                                                    followup.leads.c.id == lead_id)]
        assert run(client, followup.give_consent, svc, public_id) == "recorded"
        svc.clock.offset += timedelta(days=366)
        run(client, followup.run_due, svc)
        assert run(client, followup.record_answer, svc, public_id,
                   followup.Answer(True, 5, "Wir bleiben gern.")) == "recorded"
        deliver(client, allowed, now=svc.clock.now())
    stages = [(e["data"]["from_stage"], e["data"]["to_stage"]) for e in _events(receiver)
              if e["event"] == "lead.stage_changed"]
    assert stages == [("neu", "zugezogen"), ("zugezogen", "geblieben")]
    last = receiver.received[-1]
    assert _verify(secret, last.body, last.headers["X-Campaign-Signature"])
    assert b"bleibt@example.org" not in last.body and b"Wir bleiben" not in last.body
