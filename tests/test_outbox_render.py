"""Mails are built in the request and queued whole: the worker sends exactly the
queued bytes. And the standard library's messages read back as they were built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.delivery.message import addr_spec, address, header_safe
from campaign.delivery.transport import SMTPTransport
from campaign.leads import lifecycle
from campaign.leads.records import load
from campaign.leads.services import Services
from campaign.web.app import create_app

from .support.app import all_leads, deliver, run, services, shipped_content
from .support.delivery import outbox_in, plain_mailer
from .support.forms import link_in, submit


def test_the_request_queues_a_recipe_without_personal_data(client):
    """The request that stores a lead queues only what the worker needs to build
    the confirmation mail (the mail costs milliseconds of CPU): no name, no text."""
    assert submit(client, name="Eva Muster", email="eva@example.org").status_code == 303
    [row] = outbox_in(client)
    assert row.kind == "confirm" and row.recipient == "eva@example.org"
    assert row.status == "queued" and row.message_id.startswith("<")
    assert row.message == b""
    [lead] = all_leads(client)
    assert row.recipe == {"mail": "family", "template": "confirm", "lang": "de",
                          "lead": lead.public_id}
    assert "Eva" not in str(row.recipe)


def test_worker_builds_the_mail_sends_it_and_keeps_its_bytes(mail_client, smtp):
    assert submit(mail_client, name="Eva Muster", email="eva@example.org").status_code == 303
    [queued] = outbox_in(mail_client)
    assert deliver(mail_client)["sent"] == 1
    [mail] = smtp.to("eva@example.org")
    assert str(mail["Message-ID"]).strip() == queued.message_id
    assert mail["To"].addresses[0].display_name == "Eva Muster"
    assert link_in(mail, "bestaetigen").startswith("/bestaetigen/")
    [row] = outbox_in(mail_client)
    assert row.status == "sent" and row.recipe is None
    assert smtp.raw == [row.message]  # byte for byte what the worker kept
    stored = message_from_bytes(row.message, policy=policy.default)
    assert str(stored["Message-ID"]).strip() == row.message_id


def test_a_worker_without_a_renderer_leaves_recipes_for_one_that_has_one(mail_client, smtp):
    assert submit(mail_client, email="eva@example.org").status_code == 303
    counts = deliver(mail_client, render=None)
    assert counts["claimed"] == 1 and counts["sent"] == 0 and not smtp.messages
    [row] = outbox_in(mail_client)
    assert row.status == "queued" and row.lease_owner is None and row.recipe
    assert deliver(mail_client)["sent"] == 1


def test_a_retry_sends_the_same_bytes(mail_client, smtp):
    assert submit(mail_client, email="eva@example.org").status_code == 303
    smtp.fail_codes = ["451 4.3.0 try again later"]
    assert deliver(mail_client)["retried"] == 1
    [first] = outbox_in(mail_client)
    assert first.message and first.attempts == 1 and first.status == "queued"
    assert deliver(mail_client, now=utcnow() + timedelta(hours=1))["sent"] == 1
    [again] = outbox_in(mail_client)
    assert again.message == first.message and smtp.raw == [first.message]


def _erase_all(client: TestClient) -> None:
    svc = services(client)
    for lead in all_leads(client):
        assert run(client, lifecycle.erase, svc, lead.public_id)


def test_the_mail_of_an_erased_lead_is_not_sent(mail_client, smtp):
    """Erase deletes the family's unsent mails."""
    assert submit(mail_client, email="eva@example.org").status_code == 303
    _erase_all(mail_client)
    counts = deliver(mail_client)
    assert counts["sent"] == 0 and counts["claimed"] == 0
    assert smtp.to("eva@example.org") == [] and outbox_in(mail_client) == []


class _EraseAfterClaim:
    """A transport that lets the family erase its data once the worker has
    claimed the mail, before it is sent."""

    def __init__(self, client: TestClient, url: str) -> None:
        self.client, self.inner = client, SMTPTransport(url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        svc = services(self.client)
        for lead in await _leads(svc):
            assert await lifecycle.erase(svc, lead.public_id)
        async with self.inner.session() as session:
            yield session


async def _leads(svc: Services) -> list[Any]:
    async with svc.db.reading() as conn:
        return await load(conn, sa.true())


def test_a_mail_the_worker_holds_is_not_sent_once_the_lead_is_erased(mail_client, smtp):
    """The worker holds the claimed bytes; the family's data are gone before
    their turn comes, and so the mail must not go out either."""
    assert submit(mail_client, email="eva@example.org").status_code == 303
    counts = deliver(mail_client, transport=_EraseAfterClaim(mail_client, smtp.url))
    assert counts["claimed"] == 1 and counts["sent"] == 0
    assert smtp.to("eva@example.org") == [] and outbox_in(mail_client) == []


def test_links_in_mails_use_the_configured_base_url(settings, smtp):
    given_settings = settings.with_(base_url="http://given.example", smtp_url=smtp.url)
    with TestClient(create_app(given_settings, content=shipped_content()),
                    follow_redirects=False) as client:
        assert submit(client, email="eva@example.org").status_code == 303
        assert deliver(client)["sent"] == 1
    [mail] = smtp.to("eva@example.org")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "http://given.example/bestaetigen/" in text
    assert "http://testserver" not in text


def _stored(raw: bytes) -> Any:
    """A message as a mailbox on disk keeps it (and as our .eml files hold it): with
    "\n" line ends, which Python's parser gives back as they are."""
    return message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)


def test_built_mails_round_trip_names_subjects_and_bodies():
    msg = plain_mailer().build(to=address("juergen@example.org", "Jürgen „Jo“ Müller, Olpe"),
                               subject="Bitte bestätigt eure Anfrage – Südwestfalen " * 3,
                               text="Hallo Jürgen,\n\nGrüße aus Olpe\n", html="<p>Grüße</p>",
                               message_id="<m1@suedwestfalen.example.org>",
                               headers={"X-Campaign-Kind": "bestätigung"})
    raw = msg.as_bytes()
    assert raw.isascii()  # quoted-printable bodies, RFC 2047 words: 7-bit clean
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = _stored(raw)
    assert parsed["From"].addresses[0].display_name == "Südwestfalen Agentur"
    assert parsed["To"].addresses[0].display_name == "Jürgen „Jo“ Müller, Olpe"
    assert parsed["To"].addresses[0].addr_spec == "juergen@example.org"
    assert parsed["Subject"] == ("Bitte bestätigt eure Anfrage – Südwestfalen " * 3).strip()
    assert parsed["X-Campaign-Kind"] == "bestätigung"
    assert parsed["Message-ID"] == "<m1@suedwestfalen.example.org>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content() == "Hallo Jürgen,\n\nGrüße aus Olpe\n"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Grüße</p>"


@pytest.mark.parametrize("email", ["anna@example.org", "a.b+c@sub.example.org",
                                   "o'neil@example.org", "x!#$%&*/=?^_`{|}~-@example.org",
                                   "a b@example.org", "\"a..b\"@example.org", "a..b@example.org",
                                   "x@@example.org"])
def test_the_envelope_address_is_the_one_the_header_api_makes(email):
    """The envelope goes to exactly the address the To header names."""
    msg = plain_mailer().build(to=email, subject="x", text="x")
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert addr_spec(email) == address(email).addr_spec == parsed["To"].addresses[0].addr_spec
    assert parseaddr(str(msg["To"]))[1] == addr_spec(email)  # what the outbox records


def test_new_message_ids_are_unique_and_in_the_senders_domain():
    mailer = plain_mailer()
    ids = {mailer.new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    for mid in list(ids)[:20]:
        assert mid.startswith("<") and mid.endswith(">")
        assert parseaddr(mid)[1].rpartition("@")[2] == mailer.domain()


def test_line_breaks_in_names_subjects_and_headers_never_add_a_header():
    msg = plain_mailer().build(
        to=address("eva@example.org", "Eva\r\nBcc: victim@example.org"),
        subject="Hallo\r\nBcc: victim@example.org", text="x",
        headers={"X-Note": "a\nBcc: victim@example.org"})
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eva@example.org"]
    assert parsed.get_content_type() == "text/plain"


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t "),
                max_size=300)
_LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=120)


@hypothesis_settings(max_examples=150, deadline=None)
@given(name=_LINE, subject=_LINE, text=_TEXT, html=_TEXT,
       lead=st.sampled_from(["", "From ", ".", "From the lake\n.\n"]))
def test_any_text_survives_the_message_writer(name, subject, text, html, lead):
    """Whatever a name, subject or body holds, a standard parser reads back exactly
    it, and the message stays 7-bit with lines the mail system accepts."""
    text, html = lead + text, lead + html
    msg = plain_mailer().build(to=address("eva@example.org", name), subject=subject, text=text,
                               html=html, message_id="<p1@suedwestfalen.example.org>")
    raw = msg.as_bytes()
    assert raw.isascii()
    head, body = raw.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))  # RFC 2045, parts and bodies
    assert not any(line.startswith(b"From ") for line in body.split(b"\r\n"))  # mbox-safe
    # RFC 2047: lines with encoded words within 76 characters; only a name (one
    # word, see campaign.delivery.message) or a long plain word may make a line longer
    assert all(len(line) <= 76 or b" " not in line.split(b": ", 1)[-1].strip()
               or line.startswith((b"To: ", b"From: ")) for line in head.split(b"\r\n"))
    parsed = _stored(raw)
    assert parsed["To"].addresses[0].display_name == " ".join(header_safe(name).split())
    assert parsed["To"].addresses[0].addr_spec == "eva@example.org"
    assert str(parsed["Subject"]) == header_safe(subject)
    lf = {"\r\n": "\n", "\r": "\n"}
    for kind, sent in (("plain", text), ("html", html)):
        for old, new in lf.items():
            sent = sent.replace(old, new)
        if not sent.endswith("\n"):
            sent += "\n"  # the standard library ends every text part with a line end
        assert parsed.get_body((kind,)).get_content() == sent


def _body_lines(text: str) -> tuple[list[bytes], Any]:
    msg = plain_mailer().build(to="eva@example.org", subject="x", text=text)
    assert _stored(msg.as_bytes()).get_content() == text
    return msg.as_bytes().split(b"\r\n\r\n", 1)[1].split(b"\r\n"), msg


@pytest.mark.parametrize("before", range(68, 80))
def test_quoted_printable_lines_stay_within_76(before):
    """RFC 2045 allows quoted-printable lines of 76 characters; ``policy.SMTP``
    writes 78."""
    lines, msg = _body_lines("x" * before + " here and more text " * 4 + "\n" + "ä" * 80 + "\n")
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert max(len(line) for line in lines) <= 76


@pytest.mark.parametrize("before", range(68, 80))
def test_no_body_line_starts_with_from(before):
    """A body line starting "From " – written so, or where a long line is broken –
    becomes ">From " in an mbox (see test_mail_readers); lines stay within 76."""
    lines, _ = _body_lines("x" * before + "From here and more text " * 4 + "\nFrom " + "ä" * 40
                           + "\n")
    assert not any(line.startswith(b"From ") for line in lines)
    assert max(len(line) for line in lines) <= 76
