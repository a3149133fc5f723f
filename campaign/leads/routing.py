"""Who receives a confirmed lead: a pure function of the lead and the content.

Coverage (which tourism association covers which municipality, who is the
agency and the skilled-worker contact) is content in ``region.toml``; this
module only applies the rules, so it is tested without any I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..content.model import Region
from ..core.vocab import ORG_KIND_TO_CONSENT, SKILLED_WORK_INTEREST

REASONS = ("municipality", "tourism", "skilled_workers", "fallback",
           "trial_stay", "visit_days", "job_interest")  # the last three: offers


@dataclass(frozen=True)
class Recipient:
    org: str  # organisation slug from content
    reason: str  # one of REASONS


def route(municipalities: Sequence[str], interests: Collection[str],
          consents: Collection[str], region: Region) -> list[Recipient]:
    """Recipients of one lead, in a stable order, each organisation once.

    - every chosen municipality (consent group "municipalities");
    - the tourism association(s) covering the chosen municipalities, once
      each even when one covers several of them (group "tourism");
    - the skilled-worker contact when the family is interested in medicine
      and care (group "skilled_workers");
    - the agency when no municipality was chosen (group "agency", reason
      "fallback"); with ``agency_fallback_when_unrouted`` in content also
      when the family's consents would otherwise leave the lead with nobody.

    Unknown municipality slugs are ignored (the form validates them; content
    may have changed since the lead was stored).
    """
    chosen = [m for m in dict.fromkeys(municipalities) if m in region.municipalities]
    out: list[Recipient] = []
    seen: set[str] = set()

    def add(org: str, reason: str) -> None:
        organisation = region.organisations.get(org)
        if organisation is None or org in seen:
            return
        if ORG_KIND_TO_CONSENT[organisation.kind] not in consents:
            return
        seen.add(org)
        out.append(Recipient(org, reason))

    for slug in chosen:
        add(slug, "municipality")
    for slug in chosen:
        for org in region.covering(slug, "tourism"):
            add(org.slug, "tourism")
    if SKILLED_WORK_INTEREST in interests:
        for org in region.orgs_of_kind("skilled_workers"):
            add(org.slug, "skilled_workers")
    if not chosen or (not out and region.agency_fallback_when_unrouted):
        for org in region.orgs_of_kind("agency"):
            add(org.slug, "fallback")
    return out


# What an offer application is, by the offer's kind, and the consent it needs.
OFFER_PURPOSE = {"probewohnen": "trial_stay", "kennenlerntage": "visit_days",
                 "jobs": "job_interest"}


def route_offer(kind: str, municipality: str, consents: Collection[str], region: Region,
                partner: str | None = None) -> list[Recipient]:
    """Recipients of an application to an offer, each once, with the offer's purpose
    as reason; nobody without the purpose's consent.

    - trial stay: the municipality and the tourism association of the offer
      (``partner``; the one covering the municipality if the offer is gone);
    - visit days: the municipality and the organiser (``partner``) if another;
    - job interest: the skilled-worker contact.
    """
    purpose = OFFER_PURPOSE.get(kind)
    if purpose is None or purpose not in consents:
        return []
    orgs: list[str] = []
    if kind == "jobs":
        orgs = [o.slug for o in region.orgs_of_kind("skilled_workers")]
    else:
        orgs = [municipality]
        if partner:
            orgs.append(partner)
        elif kind == "probewohnen":
            orgs += [o.slug for o in region.covering(municipality, "tourism")]
    return [Recipient(org, purpose) for org in dict.fromkeys(orgs)
            if org in region.organisations]
