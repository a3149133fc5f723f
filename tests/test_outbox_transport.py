"""SMTP transport details against real servers: STARTTLS + AUTH, smtps, timeouts, and the
.eml files written without SMTP."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from campaign.delivery.transport import FileTransport, SMTPTransport, TemporaryFailure

from .support.app import deliver
from .support.delivery import outbox_in, queue_mails_in
from .support.smtp import free_port


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


def _deliver(client, settings):
    """Queue one mail and run the worker once with ``settings``: its counts and its row."""
    [row_id] = queue_mails_in(client, 1)
    counts = deliver(client, settings)
    return counts, next(r for r in outbox_in(client) if r.id == row_id)


def test_starttls_and_auth_from_the_url(client, settings, certificate, monkeypatch):
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
        counts, row = _deliver(client, good)
        assert counts["sent"] == 1 and row.status == "sent"
        assert handler.logins == ["kampagne"] and len(handler.messages) == 1

        bad = settings.with_(smtp_url=f"smtp://kampagne:falsch@127.0.0.1:{port}")
        counts, row = _deliver(client, bad)
        assert counts["retried"] == 1 and row.status == "queued"
        assert "535" in row.last_error
        assert len(handler.messages) == 1
    finally:
        server.stop()


def test_smtps_implicit_tls(client, settings, certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = Recorder()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        counts, row = _deliver(client, settings.with_(smtp_url=f"smtps://127.0.0.1:{port}"))
        assert counts["sent"] == 1 and row.status == "sent" and len(handler.messages) == 1
    finally:
        server.stop()


def test_a_server_that_never_answers_times_out_and_the_mail_waits(client, settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        port = listener.getsockname()[1]
        url = f"smtp://127.0.0.1:{port}?timeout=0.5"
        assert SMTPTransport(url).timeout == 0.5
        counts, row = _deliver(client, settings.with_(smtp_url=url))
        assert counts["retried"] == 1 and row.status == "queued" and row.attempts == 1
        assert "imeout" in row.last_error
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


def test_a_failed_eml_write_leaves_no_copy_behind(tmp_path):
    """A half-written temporary file would keep a family's data outside the outbox,
    where no erasure finds it."""
    transport = FileTransport(tmp_path / "mail")
    (tmp_path / "mail").mkdir()
    transport.path_for(8, "<x@example.org>").mkdir()  # the rename cannot succeed

    async def go():
        async with transport.session() as session:
            await session.send(8, "a@example.org", "b@example.org", "<x@example.org>",
                               b"Subject: hi\r\n\r\nAnna Beispiel\r\n")

    with pytest.raises(TemporaryFailure):
        asyncio.run(go())
    assert [f.name for f in (tmp_path / "mail").iterdir()] == ["00000008-x_example.org.eml"]


def test_a_per_connection_message_limit_costs_no_attempt(client, settings):
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
        queue_mails_in(client, 6)
        counts = deliver(client, settings.with_(smtp_url=f"smtp://127.0.0.1:{port}"))
        rows = outbox_in(client)
    finally:
        server.stop()
    assert counts == {"sent": 6, "retried": 0, "dead": 0, "claimed": 6}
    assert handler.accepted == 6 and len(handler.per_session) == 3
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
