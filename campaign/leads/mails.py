"""The mails of a lead's life: to the family, and to the organisations that receive it.

Family mails (confirmation, self-service) render in the family's language
and always carry the self-service link. The lead mail to an organisation is
German, names the reason it was chosen and carries a receipt link. Notices
about a withdrawal or erasure carry no personal data of the family – only
the lead number and a reference to the original mail – so they can outlive
an erasure in the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Organisation
from ..content.offers import Offer
from ..core.formatting import format_date
from ..core.i18n import with_language
from ..core.schema import leads, outbox
from ..core.tokens import TokenInvalid, make_token, read_token
from ..core.vocab import (
    CHILD_AGE_LABELS,
    INTEREST_LABELS,
    LANGUAGE_LABELS_DE,
    OFFER_PURPOSES,
    ORG_KIND_TO_CONSENT,
    TIMEFRAME_LABELS,
    german,
    german_list,
)
from ..delivery.message import Mailer, addr_spec, address, header_safe
from ..delivery.outbox import enqueue, enqueue_recipe, note_recipe
from . import live_offers
from .applications import SEAT, SEAT_MAIL, describe, request_of
from .contacts import CONTACT_KIND, Contact, contacts_of
from .records import Lead, deliveries, latest_by_email, load
from .services import Services

CONFIRM_PURPOSE = "confirm"
CONFIRM_MAX_AGE = 7 * 24 * 3600
SELF_SERVICE_PURPOSE = "self-service"
SELF_SERVICE_MAX_AGE = 2 * 366 * 24 * 3600
RECEIPT_PURPOSE = "receipt"
RECEIPT_MAX_AGE = 365 * 24 * 3600  # a partner may click weeks later; a year is plenty
CONFIRM_PATH = "/bestaetigen/{token}"
SELF_SERVICE_PATH = "/meine-daten/{token}"
RECEIPT_PATH = "/quittung/{token}"
PORTAL_LEAD_PATH = "/partner/lead/{id}"  # the portal's route "partner_lead"

# A lead gets at most this many mails of one kind per hour through "new link".
MAX_FAMILY_MAILS_PER_HOUR = 3

# Outbox kinds of mails addressed to the family (cleared on erasure), and the
# notices to organisations that hold no personal data (kept on erasure).
FAMILY_KINDS = ("confirm", "selfservice", CONTACT_KIND)
NOTICE_KINDS = ("withdrawn", "erased")

CONSENT_LABELS = {
    "municipalities": "Weitergabe an die gewählten Städte und Gemeinden",
    "tourism": "Weitergabe an den zuständigen Tourismusverband",
    "skilled_workers": "Weitergabe an den Fachkräfte-Service Medizin und Pflege",
    "agency": "Weitergabe an die Südwestfalen Agentur",
    "trial_stay": "Bewerbung zum Probewohnen: Weitergabe an Tourismusverband und Ort des Angebots",
    "visit_days": "Anmeldung zu Kennenlerntagen: Weitergabe an Veranstalter und Ort",
    "job_interest": "Interesse an einer Stelle: Weitergabe an die Ansprechstelle für Fachkräfte",
}
REASON_LABELS = {
    "municipality": "Die Familie hat Ihre Stadt oder Gemeinde ausgewählt.",
    "tourism": "Ihr Verband ist für eine der gewählten Städte und Gemeinden zuständig.",
    "skilled_workers": "Die Familie interessiert sich für Arbeit in Medizin und Pflege.",
    "fallback": "Die Familie hat keinen bestimmten Ort gewählt.",
    "trial_stay": "Die Familie bewirbt sich um Probewohnen in einem Angebot, an dem Sie "
                  "beteiligt sind.",
    "visit_days": "Die Familie meldet sich zu Kennenlerntagen an, an denen Sie beteiligt sind.",
    "job_interest": "Die Familie interessiert sich für eine Stelle aus den Angeboten.",
}


# -- links -------------------------------------------------------------------------------


def confirm_url(mailer: Mailer, secret: str, public_id: str, lang: str) -> str:
    token = make_token(secret, CONFIRM_PURPOSE, public_id)
    return mailer.url(with_language(CONFIRM_PATH.format(token=token), lang))


def self_service_url(mailer: Mailer, secret: str, public_id: str, lang: str) -> str:
    token = make_token(secret, SELF_SERVICE_PURPOSE, public_id)
    return mailer.url(with_language(SELF_SERVICE_PATH.format(token=token), lang))


def receipt_token(secret: str, public_id: str, org: str) -> str:
    return make_token(secret, RECEIPT_PURPOSE, {"l": public_id, "o": org})


def read_receipt_token(secret: str, token: str) -> tuple[str, str]:
    """(public_id, org); raises TokenInvalid / TokenExpired."""
    data = read_token(secret, RECEIPT_PURPOSE, token, max_age=RECEIPT_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("l"), str) \
            or not isinstance(data.get("o"), str):
        raise TokenInvalid("malformed receipt payload")
    return data["l"], data["o"]


def german_date(moment: datetime | None) -> str:
    """``01.07.2026``: the day in Berlin, for the German mails to organisations."""
    return format_date(moment, "medium", lang="de") if moment else ""


def portal_url(svc: Services, lead: Lead) -> str:
    """The lead's page in the partner portal (a clerk who is not signed in signs in
    first and lands there)."""
    return svc.mailer.url(PORTAL_LEAD_PATH.format(id=lead.id))


# -- to the family -------------------------------------------------------------------------


def family_mail(svc: Services, lead: Lead, template: str, recipients: list[str],
                lang: str | None = None, message_id: str | None = None,
                contacts: Sequence[Contact] = (), new_contact: Contact | None = None,
                offer: Offer | None = None) -> EmailMessage:
    """Build (not queue) a family mail in the family's language; it names the
    family's contact persons once the lead has any (``contacts``)."""
    lang = lang or lead.language or "de"
    secret, mailer = svc.settings.secret_key, svc.mailer
    ctx = {
        "lead": lead,
        "municipalities": svc.content.region.municipality_names(lead.municipalities),
        "recipients": recipients,
        "confirm_url": confirm_url(mailer, secret, lead.public_id, lang),
        "self_service_url": self_service_url(mailer, secret, lead.public_id, lang),
        "valid_days": CONFIRM_MAX_AGE // 86400,
        "contacts": list(contacts),
        "new_contact": new_contact,
        "offer": offer,
    }
    subject, text, html = mailer.render(template, ctx, lang=lang)
    # An answer to "your contact person" goes to the contact's organisation.
    reply_to = address(new_contact.org_email, new_contact.org_name) if new_contact else None
    return mailer.build(to=address(lead.email or "", lead.name or ""), subject=subject,
                        text=text, html=html, message_id=message_id, reply_to=reply_to)


async def queue_family_mail(conn: AsyncConnection, svc: Services, lead: Lead,
                            template: str) -> int:
    """Queue ``templates/mail/<template>.*`` to the family in its language."""
    orgs = svc.content.region.organisations
    names = [orgs[d.org].name for d in await deliveries(conn, lead.id) if d.org in orgs]
    msg = family_mail(svc, lead, template, names,
                      contacts=await contacts_of(conn, lead.id, svc.content.region))
    kind = "confirm" if template == "confirm" else "selfservice"
    return await enqueue(conn, msg, kind=kind, lead_id=lead.id)


async def queue_family_recipe(conn: AsyncConnection, svc: Services, *, lead_id: int,
                              public_id: str, email: str, lang: str, now: datetime,
                              template: str = "confirm") -> int:
    """Queue a family mail the worker builds (``render_recipe``): the request that
    stores a lead does not spend milliseconds of CPU on rendering a mail."""
    kind = "confirm" if template == "confirm" else "selfservice"
    return await enqueue_recipe(
        conn, kind=kind, recipient=addr_spec(email), message_id=svc.mailer.new_message_id(),
        recipe={"mail": "family", "template": template, "lang": lang, "lead": public_id},
        lead_id=lead_id, now=now)


async def queue_org_recipe(conn: AsyncConnection, svc: Services, lead: Lead,
                           org: Organisation, reason: str, now: datetime) -> int:
    """Queue the lead mail to ``org`` for the worker to build (the confirming
    request neither renders it nor holds the write lock while doing so)."""
    return await enqueue_recipe(
        conn, kind="lead", recipient=addr_spec(org.email),
        message_id=svc.mailer.stable_message_id("lead", lead.public_id, org.slug),
        recipe={"mail": "org", "lead": lead.public_id, "org": org.slug, "reason": reason},
        lead_id=lead.id, org=org.slug, now=now)


async def queue_new_link_recipe(conn: AsyncConnection, svc: Services, email: str,
                                now: datetime) -> int:
    """Queue "send me my link again" for the address as typed, known or not: the
    request does the same work either way, and the worker decides (``render_recipe``)."""
    return await enqueue_recipe(
        conn, kind="new_link", recipient=email.strip(), message_id=svc.mailer.new_message_id(),
        recipe={"mail": "new_link", "email": email.strip()}, now=now)


async def _new_link(svc: Services, email: str, message_id: str) -> dict[str, Any] | None:
    """Which family mail a new-link recipe becomes: a pending lead gets a new
    confirmation link, a confirmed or withdrawn one its self-service link (a family
    that withdrew may still want to erase). None for an unknown address, or when
    the lead had ``MAX_FAMILY_MAILS_PER_HOUR`` of that kind in the last hour; else
    the row is noted as that mail of that lead and the family recipe is returned."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        lead = await latest_by_email(conn, email)
        if lead is None:
            return None
        template, kind = (("confirm", "confirm") if lead.status == "pending"
                          else ("selfservice_link", "selfservice"))
        recent = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox)
            .where(outbox.c.lead_id == lead.id, outbox.c.kind == kind,
                   outbox.c.created_at >= now - timedelta(hours=1)))
        if recent and recent >= MAX_FAMILY_MAILS_PER_HOUR:
            return None
        await note_recipe(conn, message_id, kind=kind, lead_id=lead.id)
    return {"mail": "family", "template": template, "lead": lead.public_id}


async def render_recipe(svc: Services, recipe: dict[str, Any], message_id: str
                        ) -> bytes | None:
    """The message of a queued recipe, or None when there is nothing to send (the
    lead or its address is gone: an erasure came first; nobody has that address).
    The mail is built on a worker thread, so that rendering never holds up the
    event loop."""
    if recipe.get("mail") == "new_link":
        email = recipe.get("email")
        family = await _new_link(svc, email, message_id) if isinstance(email, str) else None
        if family is None:
            return None
        recipe = family
    if not isinstance(recipe.get("lead"), str):
        return None
    async with svc.db.reading() as conn:
        found = await load(conn, leads.c.public_id == recipe["lead"])
        if not found or not found[0].email:
            return None
        lead = found[0]
        delivered = await deliveries(conn, lead.id)
        contacts = await contacts_of(conn, lead.id, svc.content.region)
        applied = await request_of(conn, lead.id)
        offers = await live_offers.merged_in(conn, svc.content.offers) if applied else None
    orgs = svc.content.region.organisations
    if recipe.get("mail") == "family":
        names = [orgs[d.org].name for d in delivered if d.org in orgs]
        template = str(recipe.get("template", "confirm"))
        lang = str(recipe.get("lang") or lead.language)
        new = next((c for c in contacts if c.org == recipe.get("org")), None)
        if template == "contact" and (new is None or lead.status != "confirmed"):
            return None  # nobody to name any more, or the family withdrew meanwhile
        seat = offers.by_slug.get(applied.offer) if applied and offers else None
        if template == SEAT_MAIL and (seat is None or applied is None or applied.place != SEAT
                                      or lead.status != "confirmed"):
            return None  # the seat went elsewhere meanwhile, or the family withdrew

        def build() -> bytes:
            msg = family_mail(svc, lead, template, names, lang=lang, message_id=message_id,
                              contacts=contacts, new_contact=new, offer=seat)
            return msg.as_bytes()
    elif recipe.get("mail") == "org" and recipe.get("org") in orgs:
        org = orgs[str(recipe["org"])]
        reason = str(recipe.get("reason", ""))

        offer = describe(applied, offers, svc.content.region) if applied and offers else []

        def build() -> bytes:
            ctx = {**lead_context(svc, lead, org, reason), "offer": offer}
            return org_mail(svc, "lead", lead, org, org, ctx).as_bytes()
    else:
        return None
    return await asyncio.to_thread(build)


def recipes(svc: Services) -> Callable[[dict[str, Any], str], Awaitable[bytes | None]]:
    """What the outbox worker calls to build a recipe row's message."""
    async def render(recipe: dict[str, Any], message_id: str) -> bytes | None:
        return await render_recipe(svc, recipe, message_id)
    return render


# -- to the organisations ------------------------------------------------------------------


def lead_context(svc: Services, lead: Lead, org: Organisation, reason: str
                 ) -> dict[str, Any]:
    """What the lead, reminder and agency mails show about a family (in German)."""
    content = svc.content
    region = content.region
    # An offer application was consented to for its purpose, not for a group.
    group = next((g for g in lead.consents if g in OFFER_PURPOSES), ORG_KIND_TO_CONSENT[org.kind])
    agreed = content.consent.entry(group)
    outcome = [{"name": region.municipalities[i.slug].name
                if i.slug in region.municipalities else i.slug,
                "score": i.score, "reasons": list(i.reasons)} for i in lead.quiz_outcome]
    quiz = content.quizzes.get(lead.quiz or "")
    token = receipt_token(svc.settings.secret_key, lead.public_id, org.slug)
    return {
        "lead": lead,
        "org": org,
        "reason": REASON_LABELS.get(reason, ""),
        "municipalities": region.municipality_names(lead.municipalities),
        "interests": german_list(INTEREST_LABELS, lead.interests),
        "child_ages": german_list(CHILD_AGE_LABELS, lead.child_ages),
        "timeframe": german(TIMEFRAME_LABELS, lead.timeframe) if lead.timeframe else "",
        "language": LANGUAGE_LABELS_DE.get(lead.language, lead.language),
        "name": header_safe(lead.name or ""),
        "consent": CONSENT_LABELS.get(group, group),
        "consent_text": str(agreed.text) if agreed is not None else "",
        "consent_version": lead.consent_version or "",
        "confirmed_at": german_date(lead.confirmed_at),
        "quiz": str(quiz.title) if quiz is not None else (lead.quiz or ""),
        "outcome": outcome,
        "receipt_url": svc.mailer.url(RECEIPT_PATH.format(token=token)),
        "portal_url": portal_url(svc, lead),
    }


def family_address(lead: Lead) -> Address | None:
    """Reply-To the family; name and address only through the header API."""
    return address(lead.email, lead.name or "") if lead.email else None


def org_mail(svc: Services, kind: str, lead: Lead, org: Organisation, to: Organisation,
             ctx: Mapping[str, Any]) -> EmailMessage:
    """The lead mail (kind "lead"), its reminder, or the agency's note about it."""
    subject, text, html = svc.mailer.render(kind, ctx, lang="de")
    return svc.mailer.build(
        to=address(to.email, to.name), subject=subject, text=text, html=html,
        reply_to=family_address(lead) if kind in ("lead", "reminder") else None,
        message_id=svc.mailer.stable_message_id(kind, lead.public_id, org.slug))


async def queue_recipient_notices(conn: AsyncConnection, svc: Services, lead: Lead,
                                  kind: str) -> int:
    """Tell every organisation that received the lead that it was withdrawn or erased."""
    assert kind in NOTICE_KINDS
    region, mailer = svc.content.region, svc.mailer
    count = 0
    for delivery in sorted(await deliveries(conn, lead.id), key=lambda d: d.org):
        org = region.organisations.get(delivery.org)
        if org is None:  # organisation removed from content since routing
            continue
        ctx = {"org": org, "number": lead.number, "created": german_date(lead.created_at),
               "routed": german_date(delivery.routed_at), "portal_url": portal_url(svc, lead)}
        subject, text, html = mailer.render(kind, ctx, lang="de")
        original = mailer.stable_message_id("lead", lead.public_id, org.slug)
        msg = mailer.build(
            to=address(org.email, org.name), subject=subject, text=text, html=html,
            message_id=mailer.stable_message_id(kind, lead.public_id, org.slug),
            headers={"In-Reply-To": original, "References": original})
        await enqueue(conn, msg, kind=kind, lead_id=lead.id, org=org.slug)
        count += 1
    return count
