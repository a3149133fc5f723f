"""Applying to an offer like a family does: GET the offer's page, POST its form; and
pinning the service clock to a day on which the shipped offers are current."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from campaign.core.clock import utcnow

from .forms import hidden_fields

TRIAL = "/angebote/probewohnen/winterberg-ferienwohnung-am-kahlen-asten"
VISIT = "/angebote/kennenlerntage/olpe-familienwochenende-biggesee"
JOB = "/angebote/jobs/meschede-pflegefachkraft-klinikum"


# A day inside the validity of every shipped offer (they run 2026-11-01 to 2027-04 … 12)
# and before the trial stays' dates the tests apply for, 10:00 in Berlin.
OFFERS_DAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def pin_offers_clock(target: Any, at: datetime = OFFERS_DAY) -> None:
    """Move the service clock of a TestClient's app (or of ``Services``, e.g. a
    ``LiveServer``'s) to ``at``; it keeps running from there, so leases, retries and
    "later" moves of the tests still work. Tests that need shipped offers to be
    current call this, so they do not depend on today's date."""
    svc = getattr(getattr(target, "app", None), "state", None)
    svc = svc.services if svc is not None else getattr(target, "services", target)
    svc.clock.offset = at - utcnow()


def offer_data(**overrides: Any) -> dict[str, Any]:
    """An application every check accepts (dates only matter for a trial stay)."""
    data: dict[str, Any] = {
        "name": "Maarten Proef", "email": "maarten.proef@example.nl",
        "phone": "+31 30 123 4567", "adults": "2", "children": "1",
        "starts": "2027-05-03", "weeks": "2", "message": "Wij komen graag in mei.",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def apply(client: TestClient, path: str, prefix: str = "", **overrides: Any) -> Any:
    page = client.get(prefix + path)
    assert page.status_code == 200, (path, page.status_code)
    return client.post(prefix + path, data={**hidden_fields(page.text), **offer_data(**overrides)})


async def register_visits(svc: Any, count: int,
                          offer: str = "olpe-familienwochenende-biggesee", *, lang: str = "de",
                          first: int = 0) -> list[str]:
    """``count`` pending visit-day registrations made as the offer form makes them
    (``lifecycle.create_pending`` with an application); their public ids."""
    from campaign.leads import applications, lifecycle
    from campaign.leads.form import LeadData

    ids = []
    for n in range(first, first + count):
        data = LeadData(name=f"Familie {n}", email=f"familie{n}@example.net", phone=None,
                        adults=2, children=1, child_ages=(), interests=("kita_schule",),
                        timeframe=None, municipalities=("olpe",), message=None,
                        consents=("visit_days",))
        new = lifecycle.NewLead(data, lang, offer=applications.Choice(offer, "kennenlerntage"))
        ids.append(await lifecycle.create_pending(svc, new))
    return ids
