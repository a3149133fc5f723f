"""The agency's overview of leads past their response target (/partner/ueberfaellig).

Only the agency's admin sees it; it names organisation, lead number,
municipalities, days overdue and assignee, never the family's contact data.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...portal.cases import Viewer
from ...portal.overdue import overdue_leads
from .base import services
from .portal_auth import portal, render


@portal(admin=True)
async def overdue_page(request: Request, viewer: Viewer) -> Response:
    svc = services(request)
    return render(request, "partner/overdue.html",
                  {"rows": await overdue_leads(svc.db, svc.clock.now())}, viewer=viewer)
