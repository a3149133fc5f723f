"""What every view uses: the services, rendering, forms and redirects."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...content import Content
from ...leads.services import Services
from ..clients import client_ip
from ..templating import path_for

# Pages reached through a personal link: never cached, never indexed.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def content(request: Request) -> Content:
    return services(request).content


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return request.app.state.render(request, name, context,  # type: ignore[no-any-return]
                                    status_code=status_code, headers=headers)


def see_other(request: Request, name: str, query: dict[str, Any] | None = None,
              **params: Any) -> RedirectResponse:
    """303 to a named route in the page's language (post/redirect/get)."""
    return RedirectResponse(path_for(request, name, query, **params), status_code=303)


async def read_form(request: Request) -> MultiDict:
    """The posted fields, text values only: a file in a form field is ignored.
    The body is read first, so a view can still see its bytes (submission key)."""
    await request.body()
    form = await request.form()
    return MultiDict([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


def client_address(request: Request) -> str:
    """The visitor's address, for per-address limits (see ``web.clients``)."""
    return client_ip(request.client.host if request.client else None,
                     request.headers.get("x-forwarded-for"),
                     services(request).settings.trusted_proxies)
