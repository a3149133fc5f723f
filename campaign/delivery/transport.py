"""Transports: SMTP (one connection per batch) or ``.eml`` files in a folder.

A transport is opened once per batch (``async with transport.session()``)
and each message is handed over with ``send``. ``send`` returns normally only
when the message was accepted (the SMTP server said 250, or the file was
renamed into place); otherwise it raises ``TemporaryFailure`` or
``PermanentFailure`` so the worker can retry or dead-letter the row.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from ..core.files import private_dir
from ..core.settings import Settings

DEFAULT_TIMEOUT = 30.0


class DeliveryFailure(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryFailure):
    """4xx, connection refused, timeout: try again later."""


class PermanentFailure(DeliveryFailure):
    """5xx: the server will never accept this message."""


class ConnectionLost(TemporaryFailure):
    """The session is unusable; the remaining messages of the batch must wait."""


class Session(Protocol):
    async def send(self, outbox_id: int, sender: str, recipient: str, message_id: str,
                   message: bytes) -> None: ...


class Transport(Protocol):
    def session(self) -> Any: ...


def _classify(exc: BaseException) -> DeliveryFailure:
    """Map aiosmtplib's errors to retry / dead-letter decisions."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients] or [450]
        code = max(codes)
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients) or str(exc)
        return (PermanentFailure if code >= 500 else TemporaryFailure)(text, code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        cls = PermanentFailure if 500 <= exc.code < 600 else TemporaryFailure
        return cls(f"{exc.code} {exc.message}", exc.code)
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                        aiosmtplib.SMTPTimeoutError, ConnectionError, TimeoutError, OSError)):
        return ConnectionLost(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")


class SMTPTransport:
    """``smtp://user:pass@host:587`` (STARTTLS when offered) or ``smtps://…:465``;
    ``?timeout=10`` sets the seconds allowed per SMTP step (default 30)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if "timeout" in query:
            timeout = float(query["timeout"][-1])
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"unsupported mail URL scheme {parts.scheme!r} (smtp, smtps)")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host, port=self.port, username=self.username, password=self.password,
            use_tls=self.tls, start_tls=None if not self.tls else False, timeout=self.timeout,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_SMTPSession]:
        client = self._client()
        try:
            await client.connect()
        except Exception as exc:  # refused, timeout, greeting, TLS or auth: all wait
            raise ConnectionLost(_classify(exc).args[0]) from exc
        try:
            yield _SMTPSession(client)
        finally:
            try:
                if client.is_connected:
                    await client.quit()
            except (aiosmtplib.SMTPException, OSError):  # mails are accepted; QUIT is a courtesy
                client.close()


class _SMTPSession:
    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client

    async def send(self, outbox_id: int, sender: str, recipient: str, message_id: str,
                   message: bytes) -> None:
        if not self.client.is_connected:
            raise ConnectionLost("connection closed")
        try:
            errors, _ = await self.client.sendmail(sender, [recipient], message)
        except Exception as exc:
            failure = _classify(exc)
            if isinstance(failure, TemporaryFailure) and (
                    failure.code == 421 or not self.client.is_connected):
                # 421 means the server is closing this channel (RFC 5321): the
                # message was not taken, and this connection is finished.
                self.client.close()
                raise ConnectionLost(str(failure), failure.code) from exc
            raise failure from exc
        if errors:  # only one recipient: refused recipients arrive as an exception
            code, text = next(iter(errors.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {text}", code)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileTransport:
    """One ``.eml`` per message; written to a temp file and renamed into place."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, outbox_id: int, message_id: str) -> Path:
        stem = _UNSAFE.sub("_", message_id.strip("<>"))[:120]
        return self.folder / f"{outbox_id:08d}-{stem}.eml"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[FileTransport]:
        try:
            private_dir(self.folder)
        except OSError as exc:
            raise ConnectionLost(f"mail folder unusable: {exc}") from exc
        yield self

    async def send(self, outbox_id: int, sender: str, recipient: str, message_id: str,
                   message: bytes) -> None:
        """Write on a thread: a busy disk must not stall the event loop's requests."""
        await asyncio.to_thread(self._write, self.path_for(outbox_id, message_id), message)

    def _write(self, target: Path, message: bytes) -> None:
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.replace(b"\r\n", b"\n"))
            os.replace(tmp, target)
        except OSError as exc:
            if tmp is not None:  # a half-written copy must not outlive the row (erasure)
                Path(tmp).unlink(missing_ok=True)
            raise TemporaryFailure(f"could not write {target.name}: {exc}") from exc

    def discard(self, outbox_id: int, message_id: str) -> None:
        """Delete a file just written for a row that an erasure removed meanwhile."""
        self.path_for(outbox_id, message_id).unlink(missing_ok=True)


def remove_mail_files(folder: Path, outbox_ids: Collection[int]) -> int:
    """Delete the ``.eml`` files of these outbox rows (their names start with the
    row's id): after an erasure no mail with the family's data stays on disk.
    Returns how many files went."""
    wanted = set(outbox_ids)
    if not wanted or not Path(folder).is_dir():
        return 0
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            head = entry.name.partition("-")[0]
            if entry.name.endswith(".eml") and head.isdigit() and int(head) in wanted:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def transport_for(settings: Settings) -> SMTPTransport | FileTransport:
    """SMTP when ``settings.smtp_url`` is set, else files in ``settings.mail_dir``."""
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url)
    return FileTransport(settings.mail_dir)
