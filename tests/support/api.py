"""API tokens and webhook receivers for the tests: tokens made as the command
line makes them, and a receiver on loopback that records what it is sent."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Any, Self

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.portal import api

from .app import run, services


def token_for(client: TestClient, org: str, name: str = "test") -> str:
    return run(client, api.create_token, services(client).db, org, name=name,  # type: ignore[no-any-return]
               now=utcnow())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def all_pages(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    """Every lead the token sees, following next_cursor."""
    found: list[dict[str, Any]] = []
    query = {"limit": "100", **params}
    while True:
        answer = client.get("/api/v1/leads", params=query, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["data"]
        if body["next_cursor"] is None:
            return found
        query["cursor"] = body["next_cursor"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on loopback; answers each POST with the next of ``statuses``
    (then 200) and records it."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def __enter__(self) -> Self:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", "0"))
                owner.received.append(Received(self.path, dict(self.headers.items()),
                                               self.rfile.read(length)))
                status = owner.statuses.pop(0) if owner.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
