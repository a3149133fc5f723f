"""The family's named contacts: per organisation, the staff member the lead is
assigned to, as the family sees them on ``/meine-daten`` and in its mails.

Families reach a contact by the work phone of the profile and the
organisation's own e-mail address (from the content), never by the
person's login address: that one is an account name, not a way in for
families, and the organisation's mailbox is read by colleagues too when
the person is away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..content.model import Region
from ..core.db import Database
from ..core.schema import lead_recipients, users
from ..delivery.message import addr_spec
from ..delivery.outbox import enqueue_recipe
from .services import Services

CONTACT_KIND = "contact"  # the outbox kind of "your contact person" mails


@dataclass(frozen=True)
class Contact:
    """One organisation's contact person for a family."""

    org: str
    org_name: str
    org_email: str
    name: str
    title: str
    phone: str
    photo: str | None  # the photo's file name (its address on the site), if any
    photo_alt: str


async def contacts_of(conn: AsyncConnection, lead_id: int, region: Region) -> list[Contact]:
    """The active, named contacts of a lead, in the order the lead was routed."""
    r = lead_recipients
    rows = await conn.execute(
        sa.select(r.c.org, users.c.display_name, users.c.job_title, users.c.phone,
                  users.c.photo, users.c.photo_alt)
        .join(users, users.c.id == r.c.assignee_id)
        .where(r.c.lead_id == lead_id, users.c.active, users.c.display_name.isnot(None))
        .order_by(r.c.routed_at, r.c.org))
    found = []
    for row in rows:
        org = region.organisations.get(row.org)
        if org is None:  # the organisation left the content since routing
            continue
        found.append(Contact(org.slug, org.name, org.email, row.display_name,
                             row.job_title or "", row.phone or "", row.photo,
                             row.photo_alt or ""))
    return found


async def lead_contacts(db: Database, lead_id: int, region: Region) -> list[Contact]:
    async with db.reading() as conn:
        return await contacts_of(conn, lead_id, region)


async def queue_contact_mail(conn: AsyncConnection, svc: Services, *, lead_id: int,
                             public_id: str, email: str, lang: str, org: str,
                             now: datetime) -> int:
    """Queue "your contact person" to the family, as a recipe the worker builds in the
    family's language when it sends it (so it names whoever is the contact then)."""
    return await enqueue_recipe(
        conn, kind=CONTACT_KIND, recipient=addr_spec(email),
        message_id=svc.mailer.new_message_id(),
        recipe={"mail": "family", "template": "contact", "lang": lang, "lead": public_id,
                "org": org},
        lead_id=lead_id, now=now)
