"""Who is asking: the client address for per-address limits, behind a reverse proxy too.

Behind a proxy every connection comes from the proxy, so per-address limits
would count all visitors together. ``X-Forwarded-For`` is used only when the
connection comes from a proxy listed in ``CAMPAIGN_TRUSTED_PROXIES``; then the
client is the last address in the header that is not itself a trusted proxy.
Anyone can write that header, so without a trusted proxy it is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from ..core.settings import Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address: the peer, or (from a trusted proxy) the forwarded one."""
    peer = peer or "unknown"
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",")[-20:] if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a forged or broken header: count the proxy's address
    return hops[0] if hops else peer


FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def direct_from_loopback(peer: str | None, headers: Mapping[str, str],
                         proxies: Sequence[Network]) -> bool:
    """The request comes from this host itself (a monitor, an operator's curl), not
    through a proxy: the connection's own peer is a loopback address that is not a
    listed proxy, and no forwarding header names someone else. A proxy on the same
    host that adds no such header must be listed in CAMPAIGN_TRUSTED_PROXIES."""
    try:
        ip = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    if not ip.is_loopback or _trusted(str(ip), proxies):
        return False
    return not any(name in headers for name in FORWARDING_HEADERS)
