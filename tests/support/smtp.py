"""An aiosmtpd server on loopback that records what it accepts."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SMTPCatcher:
    """``fail_codes`` is a list of SMTP replies to give to the next DATA commands
    (e.g. ["451 4.3.0 try later"]), consumed one per message."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
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
            self.raw.append(bytes(envelope.content))
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
