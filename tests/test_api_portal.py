"""``/partner/api``: the organisation's admin lists and revokes tokens, adds webhooks
(secret shown once), sends a test event and sees recent deliveries."""

from __future__ import annotations

import json
import re

from campaign.core.schema import outbox

from .support.api import Receiver, bearer, token_for
from .support.app import deliver, rows_in
from .support.forms import csrf_of
from .support.portal import add_user, login


def _admin(client, org: str = "olpe") -> str:
    page = client.get("/partner/api") if login(client, add_user(
        client, org, role="admin")).status_code == 303 else None
    assert page is not None and page.status_code == 200
    return csrf_of(page.text)


def test_staff_without_the_admin_role_are_turned_away(client):
    login(client, add_user(client, "olpe"))
    assert client.get("/partner/api").status_code == 403


def test_the_admin_adds_a_webhook_sees_the_secret_once_and_sends_a_test(client, settings):
    token = _admin(client)
    refused = client.post("/partner/api/webhook", data={"csrf_token": token, "url": "ftp://x"})
    assert refused.status_code == 400 and "Nur https://-Adressen" in refused.text
    with Receiver() as receiver:
        added = client.post("/partner/api/webhook", data={"csrf_token": token,
                                                          "url": receiver.url})
        assert added.status_code == 200
        (secret,) = re.findall(r"whsec_[0-9a-f]{64}", added.text)
        page = client.get("/partner/api")
        assert receiver.url in page.text and secret not in page.text
        hook_id = re.search(r'name="id" value="(\d+)"', page.text)[1]
        sent = client.post("/partner/api/webhook-test", data={"csrf_token": token,
                                                              "id": hook_id})
        assert sent.status_code == 303
        deliver(client, settings.with_(webhook_allow_private=True))
        (got,) = receiver.received
    assert json.loads(got.body)["event"] == "ping"
    page = client.get("/partner/api").text
    assert "<code>ping</code>" in page and "zugestellt" in page and secret not in page
    (row,) = rows_in(client, outbox, outbox.c.webhook_id.isnot(None))
    assert row.org == "olpe" and row.status == "sent"


def test_the_admin_revokes_a_token_of_its_own_organisation_only(client):
    own = token_for(client, "olpe", name="CRM Olpe")
    other = token_for(client, "attendorn", name="CRM Attendorn")
    csrf = _admin(client)
    page = client.get("/partner/api").text
    assert "CRM Olpe" in page and "CRM Attendorn" not in page
    own_id = re.search(r'name="id" value="(\d+)"', page)[1]
    other_id = str(int(own_id) + 1)
    assert client.post("/partner/api/zugang-widerrufen",
                       data={"csrf_token": csrf, "id": other_id}).status_code == 404
    assert client.post("/partner/api/zugang-widerrufen",
                       data={"csrf_token": csrf, "id": "x"}).status_code == 400
    assert client.post("/partner/api/zugang-widerrufen",
                       data={"csrf_token": csrf, "id": own_id}).status_code == 303
    assert client.get("/api/v1/leads", headers=bearer(own)).status_code == 401
    assert client.get("/api/v1/leads", headers=bearer(other)).status_code == 200
    assert "widerrufen" in client.get("/partner/api").text
