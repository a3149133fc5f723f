"""Sending webhook events over HTTP (httpx), for the outbox worker.

The receiver's name is resolved at every delivery and each address checked:
loopback, private, link-local and other non-public addresses are refused
(unless ``CAMPAIGN_WEBHOOK_ALLOW_PRIVATE``), and the request goes to the very
address that was checked, with the name kept for ``Host`` and TLS (SNI and the
certificate check), so a name that changes its answer between the check and
the connection (DNS rebinding) cannot point the request inward.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..core.db import Database
from ..core.settings import Settings
from . import outbox, webhooks
from .transport import DeliveryFailure, PermanentFailure, TemporaryFailure

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_STATUS = {408, 409, 425, 429}  # 4xx that mean "later", like every 5xx
Note = Callable[..., Awaitable[None]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def refused(address: Address) -> bool:
    """True for an address a webhook must not reach without the private switch."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


async def resolve(host: str, port: int) -> list[Address]:
    """Every address of ``host``, looked up without blocking the event loop."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TemporaryFailure(f"cannot resolve {host}: {exc}") from exc
    found: list[Address] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    if not found:
        raise TemporaryFailure(f"cannot resolve {host}")
    return found


async def post(client: httpx.AsyncClient, url: str, secret: str, event_id: str, body: bytes,
               *, allow_private: bool) -> None:
    """POST one signed event; returns on 2xx, raises a ``DeliveryFailure`` otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    bad = [str(a) for a in addresses if refused(a)]
    if bad and not allow_private:
        raise PermanentFailure(f"{host} resolves to a non-public address ({', '.join(bad)})")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    try:
        event = str(json.loads(body).get("event", ""))
    except ValueError:
        event = ""
    headers = {"Host": parts.netloc.rpartition("@")[2], "Content-Type": "application/json",
               "User-Agent": "campaign-webhooks/1", webhooks.SIGNATURE_HEADER:
               webhooks.sign(secret, body), "X-Campaign-Event": event,
               "X-Campaign-Event-Id": event_id}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        async with client.stream("POST", target, content=body, headers=headers,
                                 extensions=extensions) as response:
            status = response.status_code  # the body is never read
    except httpx.TimeoutException as exc:
        raise TemporaryFailure(f"timeout: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}"[:300]) from exc
    if 200 <= status < 300:
        return
    if 400 <= status < 500 and status not in RETRY_STATUS:
        raise PermanentFailure(f"HTTP {status}", status)
    raise TemporaryFailure(f"HTTP {status}", status)


async def deliver(db: Database, settings: Settings, worker_id: str,
                  rows: Sequence[outbox.Queued], note: Note, *, stop_at: float
                  ) -> list[int]:
    """Send claimed webhook rows one by one, noting each outcome as it happens;
    returns the ids left unsent because the lease is nearly over (``stop_at``,
    on the monotonic clock)."""
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                 trust_env=False) as client:
        for index, row in enumerate(rows):
            if time.monotonic() >= stop_at:
                return [r.id for r in rows[index:]]
            if row.webhook_id is None or not await outbox.held(db, worker_id, row.id):
                continue  # dropped meanwhile (an erasure, a removed receiver)
            found = await webhooks.receiver(db, row.webhook_id)
            if found is None:
                await note("dead", row, "webhook removed")
                continue
            url, secret = found
            try:
                await post(client, url, secret, row.message_id, row.message,
                           allow_private=settings.webhook_allow_private)
            except PermanentFailure as exc:
                await note("dead", row, str(exc))
            except DeliveryFailure as exc:
                await note("temporary", row, str(exc))
            else:
                await note("sent", row)
    return []
