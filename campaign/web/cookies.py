"""Names of the service's own cookies: ``__Host-`` on https.

A browser accepts a ``__Host-`` cookie only with Secure, ``Path=/`` and no
Domain, and no other site (nor a subdomain, nor plain http) can set or
overwrite one; so the CSRF and session cookies cannot be planted from a
sibling host. Over plain http (tests, a laptop) browsers refuse the prefix,
so the names stay plain there.
"""

from __future__ import annotations

from starlette.requests import Request

HOST_PREFIX = "__Host-"


def cookie_name(request: Request, name: str) -> str:
    """The name ``name`` has on this service: prefixed when the base URL is https."""
    return HOST_PREFIX + name if request.app.state.settings.https else name
