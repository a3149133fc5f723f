"""Shared fixtures: a real SQLite file per test, a real SMTP server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from campaign.app import create_app
from campaign.content import load_content
from campaign.settings import Settings

_CONTENT = None


def shipped_content():  # loaded once per test session: it is immutable
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_content(Settings().content_dir)
    return _CONTENT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database=tmp_path / "campaign.sqlite3",
        secret_key="test-secret-key-" + "x" * 32,
        mail_dir=tmp_path / "mail",
        base_url="http://testserver",
        background=False,
        min_fill_seconds=0.0,
    )


@pytest.fixture
def app(settings: Settings):
    return create_app(settings, content=shipped_content())


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


# -- SMTP ---------------------------------------------------------------------


@dataclass
class SMTPCatcher:
    """An aiosmtpd server on loopback that records what it accepts.

    ``fail_codes`` is a list of SMTP replies to give to the next DATA commands
    (e.g. ["451 4.3.0 try later"]), consumed one per message.
    """

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    fail_codes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: object = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self.lock:
            if self.fail_codes:
                return self.fail_codes.pop(0)
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if not self.port:
            self.port = free_port()
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()  # type: ignore[attr-defined]
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[SMTPCatcher]:
    catcher = SMTPCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp: SMTPCatcher) -> Settings:
    """The test settings, sending through the loopback SMTP server."""
    return settings.with_(smtp_url=smtp.url)


@pytest.fixture
def mail_client(smtp_settings: Settings) -> Iterator[TestClient]:
    """A client of an app whose outbox delivers to the ``smtp`` fixture."""
    app = create_app(smtp_settings, content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c
