"""SMTP transport details against real servers: STARTTLS + AUTH, smtps, timeouts."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from campaign.mail.transport import FileTransport, SMTPTransport
from campaign.mail.worker import deliver_once

from .conftest import free_port
from .test_delivery import add_lead, database, mailer_for_settings


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Recorder:
    def __init__(self) -> None:
        self.messages: list = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"kampagne" and auth_data.password == b"p@ss:wort"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # False: the server answers 535


def _deliver(settings, **lead):
    mailer = mailer_for_settings(settings)

    async def go():
        async with database(settings) as db:
            await add_lead(db, mailer, municipalities=["olpe"], consents=["municipalities"],
                           **lead)
            counts = await deliver_once(db, settings)
            return counts, await db.fetchone("SELECT * FROM outbox")

    return asyncio.run(go())


def test_starttls_and_auth_from_the_url(settings, certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = Recorder()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                        require_starttls=True, auth_required=True,
                        authenticator=handler.authenticate)
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust our test certificate only
    try:
        good = settings.with_(smtp_url=f"smtp://kampagne:p%40ss%3Awort@127.0.0.1:{port}")
        counts, row = _deliver(good)
        assert counts["sent"] == 1 and row["status"] == "sent"
        assert handler.logins == ["kampagne"] and len(handler.messages) == 1

        bad = settings.with_(smtp_url=f"smtp://kampagne:falsch@127.0.0.1:{port}",
                             database=settings.database.with_name("other.sqlite3"))
        counts, row = _deliver(bad)
        assert counts["retried"] == 1 and row["status"] == "queued"
        assert "535" in row["last_error"]
        assert len(handler.messages) == 1
    finally:
        server.stop()


def test_smtps_implicit_tls(settings, certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = Recorder()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        counts, row = _deliver(settings.with_(smtp_url=f"smtps://127.0.0.1:{port}"))
        assert counts["sent"] == 1 and row["status"] == "sent" and len(handler.messages) == 1
    finally:
        server.stop()


def test_a_server_that_never_answers_times_out_and_the_mail_waits(settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        counts, row = _deliver(settings.with_(smtp_url=f"smtp://127.0.0.1:{port}?timeout=0.5"))
        assert time.monotonic() - started < 10
        assert counts["retried"] == 1 and row["status"] == "queued" and row["attempts"] == 1
        assert "imeout" in row["last_error"]
    finally:
        for s in accepted:
            s.close()
        listener.close()


def test_url_parts():
    t = SMTPTransport("smtps://user%40x:se%2Fcret@mail.example.org?timeout=7")
    assert (t.tls, t.host, t.port, t.username, t.password, t.timeout) == (
        True, "mail.example.org", 465, "user@x", "se/cret", 7.0)
    plain = SMTPTransport("smtp://mail.example.org:587")
    assert (plain.tls, plain.port, plain.username) == (False, 587, None)
    with pytest.raises(ValueError):
        SMTPTransport("http://mail.example.org")


def test_eml_files_are_written_atomically(tmp_path):
    transport = FileTransport(tmp_path / "mail")

    async def go():
        async with transport.session() as session:
            await session.send(7, "a@example.org", "b@example.org", "<x.y/z@example.org>",
                               b"Subject: hi\r\n\r\nbody\r\n")

    asyncio.run(go())
    files = list((tmp_path / "mail").iterdir())
    assert [f.name for f in files] == ["00000007-x.y_z_example.org.eml"]
    assert files[0].read_bytes() == b"Subject: hi\n\nbody\n"  # no temp files left behind


def test_a_per_connection_message_limit_costs_no_attempt(settings):
    class Limited:
        """Accepts two messages per connection, then answers 421 and closes."""

        def __init__(self) -> None:
            self.per_session: dict[int, int] = {}
            self.accepted = 0

        async def handle_DATA(self, server, session, envelope):
            n = self.per_session.get(id(session), 0)
            if n >= 2:
                return "421 4.7.0 too many messages on this connection"
            self.per_session[id(session)] = n + 1
            self.accepted += 1
            return "250 OK"

    handler = Limited()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings = settings.with_(smtp_url=f"smtp://127.0.0.1:{port}")
        mailer = mailer_for_settings(settings)

        async def go():
            async with database(settings) as db:
                await add_lead(db, mailer)  # six recipients
                counts = await deliver_once(db, settings)
                return counts, await db.fetchall("SELECT status, attempts FROM outbox")

        counts, rows = asyncio.run(go())
    finally:
        server.stop()
    assert counts == {"sent": 6, "retried": 0, "dead": 0, "claimed": 6}
    assert handler.accepted == 6 and len(handler.per_session) == 3
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}
