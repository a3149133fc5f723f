"""A real uvicorn server on a free loopback port, for browser and socket-level tests.

The app runs in a background thread with its own event loop, on a real
database (SQLite or PostgreSQL), so requests travel through real HTTP just as
in production.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Self

import uvicorn

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .app import shipped_content
from .smtp import free_port


class _Server(uvicorn.Server):
    """Keeps the event loop it serves on, so tests can run the app's coroutines there."""

    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class LiveServer:
    """``with LiveServer(settings) as server: server.url + "/"`` — stops on exit."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        # Links in mails point back at this server.
        self.settings = settings.with_(port=self.port, base_url=f"http://127.0.0.1:{self.port}")
        self.app = create_app(self.settings, content=shipped_content())
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False, lifespan="on")
        self.server = _Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    @property
    def services(self) -> Any:
        """The app's services (its database, clock, mailer): move ``services.clock``
        to make the live server's jobs see another day."""
        return self.app.state.services

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``await fn(*args, **kwargs)`` on the server's own event loop (its database
        pool belongs to that loop) and return the result; e.g. a periodic job now."""
        assert self.server.loop is not None, "the server is not running"
        future = asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), self.server.loop)
        return future.result(timeout=30)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """A plain GET through the socket (no redirects followed)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(self.url + path, timeout=10) as r:
                return r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll until ``predicate()`` is truthy; returns its value or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)
