"""After an erasure (by the family, or by the retention purge) the family's name,
address and phone are in no file of the service: not in the SQLite file, its WAL
or shared-memory file, not in a stored mail of the file transport, in no encoding.

SQLite only: these are the files the service itself keeps. PostgreSQL keeps its
data in the server's files (dead tuples until VACUUM, WAL until recycled)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.delivery.transport import FileTransport
from campaign.leads import lifecycle
from campaign.leads.retention import months_before, purge
from campaign.web.app import create_app

from .support.app import all_leads, deliver, run, services, shipped_content
from .support.files import mails_in, traces
from .support.forms import click, hidden_fields, link_in, submit

NAME = "Zoë Spurlos-Wüstenrot"
EMAIL = "zoe.spurlos.4711@example.net"
PHONE = "02761 4711 0815"
OTHER = ["Bert Bleibtgern", "bert.bleibtgern@example.net"]


def _link(mail_dir: Path, email: str, kind: str) -> str:
    mails = [m for m in mails_in(mail_dir) if email in str(m["To"])]
    return next(link_in(m, kind) for m in reversed(mails) if f"/{kind}/" in str(m.get_body(
        preferencelist=("plain",)).get_content()))


def _erase(client: TestClient, mail_dir: Path) -> None:
    path = _link(mail_dir, EMAIL, "meine-daten")
    page = client.get(path)
    data = {**hidden_fields(page.text), "action": "erase", "confirmed": "yes"}
    assert client.post(path, data=data).status_code == 303


@pytest.mark.parametrize("how", ["self-service", "retention", "unconfirmed"])
def test_an_erased_family_leaves_no_trace_in_any_file(tmp_path, how):
    data = tmp_path / "data"
    settings = Settings(database=str(data / "campaign.sqlite3"), files_dir=data,
                        mail_dir=data / "mail", secret_key="test-secret-key-" + "x" * 32,
                        base_url="http://testserver", background=False, min_fill_seconds=0.0)
    mail_dir = settings.mail_dir
    with TestClient(create_app(settings, content=shipped_content()),
                    follow_redirects=False) as client:
        svc = services(client)
        submitted = svc.clock.now()
        assert submit(client, name=NAME, email=EMAIL, phone=PHONE).status_code == 303
        svc.clock.advance(timedelta(days=60))  # another family, two months later
        assert submit(client, name=OTHER[0], email=OTHER[1]).status_code == 303
        deliver(client, now=svc.clock.now())
        families = [OTHER[1]] if how == "unconfirmed" else [EMAIL, OTHER[1]]
        for email in families:
            assert click(client, _link(mail_dir, email, "bestaetigen")).status_code == 200
        deliver(client, now=svc.clock.now())  # lead mails, receipts
        before = traces(data, [NAME, EMAIL, PHONE])
        assert set(before) == {NAME, EMAIL, PHONE}, "the scan finds the data before"
        assert any(p.startswith("mail/") for p in before[EMAIL])
        assert any(p.startswith("campaign.sqlite3") for p in before[EMAIL])

        if how == "self-service":
            _erase(client, mail_dir)
            expected = "erased"
        elif how == "retention":
            late = months_before(submitted, -24) + timedelta(days=1)
            assert run(client, purge, svc.db, settings, late)["anonymised"] == 1
            expected = "anonymised"
        else:
            assert run(client, purge, svc.db, settings, svc.clock.now())["deleted_pending"] == 1
            expected = None
        deliver(client, now=svc.clock.now())  # the notices to the organisations
        statuses = sorted(x.status for x in all_leads(client))
        assert statuses == sorted(["confirmed"] + ([expected] if expected else []))

        assert traces(data, [NAME, EMAIL, PHONE]) == {}
        left = traces(data, OTHER)  # the scan would have found the other family
        assert set(left) == set(OTHER) and any(p.startswith("mail/") for p in left[OTHER[1]])
    assert traces(data, [NAME, EMAIL, PHONE]) == {}  # and after the service stopped


class ErasedWhileWriting(FileTransport):
    """A file transport during whose first write the family erases its data."""

    def __init__(self, folder: Path, erase: Callable[[], Awaitable[object]]) -> None:
        super().__init__(folder)
        self.erase: Callable[[], Awaitable[object]] | None = erase

    async def send(self, outbox_id: int, sender: str, recipient: str, message_id: str,
                   message: bytes) -> None:
        if self.erase is not None:
            await self.erase()
            self.erase = None
        await super().send(outbox_id, sender, recipient, message_id, message)


def test_a_mail_written_while_its_family_erased_its_data_is_deleted(client, settings):
    assert submit(client, name=NAME, email=EMAIL).status_code == 303
    svc = services(client)
    [lead] = all_leads(client)
    transport = ErasedWhileWriting(settings.mail_dir,
                                   lambda: lifecycle.erase(svc, lead.public_id))
    deliver(client, transport=transport)
    assert transport.erase is None and all_leads(client)[0].status == "erased"
    assert mails_in(settings.mail_dir) == []
    assert traces(settings.mail_dir, [NAME, EMAIL]) == {}
