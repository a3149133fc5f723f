"""How ``uvicorn_run.py`` serves the app: slow or idle clients cannot lock others out.

Without a proxy in front, every open connection holds a file descriptor, and
uvicorn waits for a request head forever (its keep-alive timeout starts only
after a response). A thousand silent connections would use up the common limit
of 1,024 open files and nobody else would be served. So the service closes a
connection whose request head is not complete within ``head_timeout`` seconds,
raises its open-file limit as far as the system allows, and answers a fast 503
(uvicorn's ``limit_concurrency``) before the descriptors run out.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..core.settings import Settings

# Descriptors kept free for the database, mail, static files and the listening socket.
RESERVED_FILES = 64


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection that has not sent a whole
    request head ``head_timeout`` seconds after it opened or after its last response,
    however slowly it trickles bytes (a keep-alive wait is cut short too)."""

    head_timeout: float = 10.0
    head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._expect_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is complete
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may already start a pipelined request
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _expect_head(self) -> None:
        self._cancel_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def protocol_with_head_timeout(seconds: float) -> type[HeadTimeoutProtocol]:
    """The protocol class for uvicorn's ``http`` option (uvicorn instantiates it)."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": seconds})


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # e.g. macOS caps below an unlimited hard limit
            return soft
        return target
    return soft if soft != resource.RLIM_INFINITY else 65536


def concurrency_limit(open_files: int) -> int:
    """Connections (and requests) served at once before new ones get a fast 503:
    what the open-file limit leaves after a reserve for the service's own files."""
    reserve = max(RESERVED_FILES, open_files // 10)
    return max(open_files - reserve, 1)


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration of ``uvicorn_run.py``; raises the open-file limit."""
    open_files = raise_open_file_limit()
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, proxy_headers=False,
        log_level="info", access_log=False,
        http=protocol_with_head_timeout(settings.head_timeout),
        limit_concurrency=concurrency_limit(open_files),
    )
