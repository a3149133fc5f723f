"""Leads made the way the service makes them: submitted, then confirmed (routed).

``store_lead`` goes through ``campaign.leads.lifecycle`` with the app's clock
moved to the wanted moment, so every row a lead has (consent events, recipients,
outbox) is there exactly as in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from campaign.content.model import Region
from campaign.core.clock import utcnow
from campaign.core.vocab import SKILLED_WORK_INTEREST
from campaign.leads import forwarding, lifecycle, records
from campaign.leads.form import LeadData
from campaign.leads.services import Services
from campaign.portal import cases, work

FAMILY: dict[str, Any] = {
    "name": "Familie Muster", "email": "familie@example.org", "phone": "0271 12345",
    "adults": 2, "children": 2, "child_ages": ("3-5", "6-9"), "interests": ("wohnen",),
    "timeframe": "within_year", "municipalities": ("olpe",), "message": None,
    "consents": ("municipalities", "tourism", "skilled_workers", "agency"),
}


def choices_for(orgs: Iterable[str], region: Region) -> dict[str, Any]:
    """Municipalities, interests and consents whose routing reaches exactly ``orgs``
    (as far as the routing rules allow: a tourism association needs a town it covers)."""
    orgs = list(orgs)
    kinds = {o: region.organisations[o].kind for o in orgs}
    towns = [o for o in orgs if kinds[o] == "municipality"]
    for o in orgs:
        if kinds[o] == "tourism" and not any(t in region.organisations[o].covers for t in towns):
            towns.append(region.organisations[o].covers[0])
    consents = []
    if towns:
        consents.append("municipalities")
    if any(k == "tourism" for k in kinds.values()):
        consents.append("tourism")
    interests = ["wohnen"]
    if any(k == "skilled_workers" for k in kinds.values()):
        consents.append("skilled_workers")
        interests.append(SKILLED_WORK_INTEREST)
    if any(k == "agency" for k in kinds.values()) or not consents:
        consents.append("agency")
    return {"municipalities": tuple(towns), "consents": tuple(consents),
            "interests": tuple(interests)}


def new_lead(language: str = "de", **data: Any) -> lifecycle.NewLead:
    """A checked submission of the family (``data`` overrides its fields), as the
    lead form hands it to ``lifecycle.create_pending``; ``submission``/``stamp``
    set the submission key and the digest of the form's start stamp."""
    keys = {k: data.pop(k) for k in ("submission", "stamp") if k in data}
    values = {**FAMILY, **data}
    lead = LeadData(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    return lifecycle.NewLead(lead, language, **keys)


async def store_lead(svc: Services, *, at: datetime | None = None, confirm: bool = True,
                     language: str = "de", attribution: dict[str, str] | None = None,
                     quiz: str = "familie", outcome: Sequence[Any] | None = None,
                     **data: Any) -> records.Lead:
    """A lead submitted at ``at`` (now if None) and, with ``confirm``, confirmed then."""
    values = {**FAMILY, **data}
    lead = LeadData(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    if outcome is None:
        outcome = [{"slug": "olpe", "score": 7, "reasons": ["See in der Nähe"]}]
    saved = svc.clock.offset
    if at is not None:
        svc.clock.offset = at - utcnow()
    try:
        public_id = await lifecycle.create_pending(svc, lifecycle.NewLead(
            lead, language, attribution or {"utm_source": "instagram", "utm_medium": "social",
                                            "utm_campaign": "sommer"}, quiz, outcome))
        if confirm:
            await lifecycle.confirm(svc, public_id)
    finally:
        svc.clock.offset = saved
    found = await records.by_public_id(svc.db, public_id)
    assert found is not None
    return found


async def add_lead(svc: Services, orgs: Iterable[str] = ("olpe",), *, status: str = "confirmed",
                   follow_up: str = "neu", acknowledged: bool = False,
                   created_at: datetime | None = None, **data: Any) -> int:
    """A lead routed to ``orgs``, its stage set (``follow_up``; closed with the reason
    "anderes") and maybe acknowledged; its id."""
    orgs = list(orgs)
    choices = choices_for(orgs, svc.content.region) if orgs else {}
    at = created_at or datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    lead = await store_lead(svc, at=at, confirm=status != "pending", **{**choices, **data})
    now = svc.clock.now()
    for org in orgs:
        if follow_up != "neu":
            viewer = cases.Viewer(org, admin=False)
            moved = await work.move(svc.db, viewer, lead.id, follow_up, now, reason="anderes")
            assert moved.done, moved
        if acknowledged:
            await forwarding.acknowledge(svc.db, lead.public_id, org, at)
    if status == "withdrawn":
        await lifecycle.withdraw(svc, lead.public_id)
    elif status == "erased":
        await lifecycle.erase(svc, lead.public_id)
    return lead.id
