"""Reply templates: written by an organisation's staff, shared with all, copied and
adapted by others, used to answer a family from the lead page.

Placeholders are ``{name}`` (the family), ``{kontakt}`` (who sends the reply) and
``{ort}`` (the municipality, or the organisation's name); any other name, or a stray
brace, is a mistake the form shows, so filling a stored template never fails. A reply
is queued in the outbox in the same transaction that records it in the lead's history
and counts the template's use (with the lead's stage then, to tell later whether it
moved on); an erasure clears it like every mail to the family.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from typing import Any

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import (
    TEMPLATE_CATEGORIES,
    lead_recipients,
    leads,
    reply_templates,
    template_uses,
)
from ..core.vocab import CLOSED, OPEN_STAGES
from ..delivery.outbox import enqueue
from ..leads.services import Services
from . import history, profiles
from .accounts import User

PLACEHOLDERS = ("name", "kontakt", "ort")
CATEGORY_LABELS = {"erstantwort": "Erstantwort", "kita": "Kita-Plätze",
                   "wohnen": "Wohnungsmarkt", "jobsuche": "Jobsuche Partner/in",
                   "probewohnen": "Probewohnen"}
assert tuple(CATEGORY_LABELS) == TEMPLATE_CATEGORIES
TITLE_MAX, SUBJECT_MAX, BODY_MAX = 120, 200, 8000
REPLY_KIND = "reply"


@dataclass(frozen=True)
class Draft:
    """What the form holds (a template, or a reply about to be sent)."""

    title: str = ""
    category: str = "erstantwort"
    subject: str = ""
    body: str = ""
    shared: bool = False


@dataclass(frozen=True)
class Template:
    id: int
    org: str
    category: str
    title: str
    subject: str
    body: str
    shared: bool
    origin_org: str | None
    uses: int  # replies sent with it
    advanced: int  # of the leads answered with it, how many reached a later stage since

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


def placeholder_problem(text: str) -> str | None:
    """None when ``text`` fills without fail; else why not (a German msgid)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return ("Geschweifte Klammern stehen nur um einen Platzhalter, z. B. {name}. "
                "Bitte prüfen Sie die Klammern.")
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            return "Unbekannter Platzhalter. Erlaubt sind {name}, {kontakt} und {ort}."
    return None


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its placeholders filled (``text`` passed ``placeholder_problem``)."""
    return text.format_map({key: values.get(key, "") for key in PLACEHOLDERS})


def problems(draft: Draft, *, template: bool = True) -> dict[str, str]:
    """Field → German msgid for what is missing or wrong in a template or a reply."""
    errors: dict[str, str] = {}
    if template and not draft.title:
        errors["title"] = "Bitte geben Sie der Vorlage einen Titel."
    elif len(draft.title) > TITLE_MAX:
        errors["title"] = "Der Titel darf höchstens 120 Zeichen lang sein."
    if template and draft.category not in TEMPLATE_CATEGORIES:
        errors["category"] = "Bitte wählen Sie eine Art aus der Liste."
    for field, value, limit, missing, too_long in (
            ("subject", draft.subject, SUBJECT_MAX, "Bitte geben Sie einen Betreff ein.",
             "Der Betreff darf höchstens 200 Zeichen lang sein."),
            ("body", draft.body, BODY_MAX, "Bitte schreiben Sie einen Text.",
             "Der Text darf höchstens 8000 Zeichen lang sein.")):
        problem = (missing if not value else too_long if len(value) > limit
                   else placeholder_problem(value) if template else None)
        if problem:
            errors[field] = problem
    if "\n" in draft.subject or "\r" in draft.subject:
        errors["subject"] = "Der Betreff ist eine Zeile."
    return errors


def _listing(org: str) -> sa.Select[Any]:
    t, u = reply_templates, template_uses
    later = sa.case(*[(u.c.stage == stage, i) for i, stage in enumerate(OPEN_STAGES)], else_=99)
    now_stage = sa.case(*[(lead_recipients.c.status == stage, i)
                          for i, stage in enumerate(OPEN_STAGES)], else_=-1)
    uses = sa.select(sa.func.count()).where(u.c.template_id == t.c.id).scalar_subquery()
    advanced = (sa.select(sa.func.count(sa.distinct(u.c.lead_id)))
                .select_from(u.join(lead_recipients, sa.and_(
                    lead_recipients.c.lead_id == u.c.lead_id, lead_recipients.c.org == u.c.org)))
                .where(u.c.template_id == t.c.id, lead_recipients.c.status != CLOSED,
                       now_stage > later).scalar_subquery())
    return (sa.select(t, uses.label("uses"), advanced.label("advanced"))
            .where(sa.or_(t.c.org == org, t.c.shared.is_(True)))
            .order_by(t.c.org != org, t.c.category, t.c.title, t.c.id))


def _template(row: Any) -> Template:
    return Template(row.id, row.org, row.category, row.title, row.subject, row.body,
                    bool(row.shared), row.origin_org, int(row.uses), int(row.advanced))


async def listing(db: Database, org: str) -> list[Template]:
    """The organisation's own templates, then the ones others share."""
    return [_template(row) for row in await db.all(_listing(org))]


async def one(db: Database, org: str, template_id: int) -> Template | None:
    """A template ``org`` may see (its own, or a shared one)."""
    row = await db.one(_listing(org).where(reply_templates.c.id == template_id))
    return _template(row) if row is not None else None


async def save(db: Database, user: User, draft: Draft, now: datetime,
               template_id: int | None = None) -> int | None:
    """A new template of the user's organisation, or an edit of one of its own
    (None: no such template of this organisation)."""
    values = {"category": draft.category, "title": draft.title, "subject": draft.subject,
              "body": draft.body, "shared": draft.shared, "updated_at": now}
    t = reply_templates
    async with db.transaction() as conn:
        if template_id is None:
            return int((await conn.execute(t.insert().values(
                org=user.org, created_by=user.id, created_at=now, **values)
                .returning(t.c.id))).scalar_one())
        done = await conn.execute(t.update().where(t.c.id == template_id, t.c.org == user.org)
                                  .values(**values))
        return template_id if done.rowcount else None


async def delete(db: Database, org: str, template_id: int) -> bool:
    """Delete one of ``org``'s templates with its count of uses; copies others made of it
    stay theirs (they only forget the original). False: no such template of ``org``."""
    async with db.transaction() as conn:
        gone = await conn.execute(reply_templates.delete().where(
            reply_templates.c.id == template_id, reply_templates.c.org == org))
    return bool(gone.rowcount == 1)


async def copy(db: Database, user: User, template_id: int, now: datetime) -> int | None:
    """A copy of another organisation's shared template for the user's organisation to
    adapt (not shared itself); it remembers where it came from."""
    original = await one(db, user.org, template_id)
    if original is None or original.org == user.org:
        return None
    t = reply_templates
    async with db.transaction() as conn:
        return int((await conn.execute(t.insert().values(
            org=user.org, category=original.category, title=original.title,
            subject=original.subject, body=original.body, shared=False,
            origin_id=original.id, origin_org=original.org, created_by=user.id,
            created_at=now, updated_at=now).returning(t.c.id))).scalar_one())


async def values_for(svc: Services, user: User, lead_name: str | None) -> dict[str, str]:
    """What the placeholders stand for when ``user`` answers a family."""
    profile = await profiles.get(svc.db, user.id)
    region = svc.content.region
    org = region.organisations.get(user.org)
    town = region.municipalities.get(user.org)  # a municipality's own office: the town
    place = town.name if town else org.name if org else user.org
    return {"name": lead_name or "", "kontakt": profile.display_name or user.email,
            "ort": place}


async def send(svc: Services, user: User, lead_id: int, template_id: int, draft: Draft,
               now: datetime) -> bool:
    """Queue the reply to the family, record it on the lead and count the template's
    use, in one transaction; False when the lead did not go to the user's
    organisation, has no address (any more) or the template is not the organisation's."""
    template = await one(svc.db, user.org, template_id)
    if template is None or template.org != user.org:
        return False
    profile = await profiles.get(svc.db, user.id)
    org = svc.content.region.organisations.get(user.org)
    sender = profile.display_name or (org.name if org else user.org)
    async with svc.db.transaction() as conn:
        row = (await conn.execute(
            sa.select(leads.c.email, leads.c.name, lead_recipients.c.status)
            .join(lead_recipients, lead_recipients.c.lead_id == leads.c.id)
            .where(leads.c.id == lead_id, lead_recipients.c.org == user.org,
                   leads.c.status == "confirmed"))).first()
        if row is None or not row.email:
            return False
        message = svc.mailer.build(to=Address(row.name or "", addr_spec=row.email),
                                   subject=draft.subject, text=draft.body,
                                   reply_to=Address(sender, addr_spec=user.email))
        await enqueue(conn, message, kind=REPLY_KIND, lead_id=lead_id, org=user.org)
        await conn.execute(template_uses.insert().values(
            template_id=template.id, lead_id=lead_id, org=user.org, stage=row.status,
            user_id=user.id, at=now))
        await history.record(conn, user, lead_id, user.org, "reply", now,
                             detail=template.title)
    return True
