"""Links and mails of the lead lifecycle: to the family and to the recipients.

Family mails (confirmation, self-service) render in the family's language
and always carry the self-service link. Notices to recipients about a
withdrawal or erasure carry no personal data of the family — only the lead
number and a reference to the original lead mail — so they can outlive an
erasure in the outbox.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from . import i18n
from .mail import Mailer, addr_spec, address
from .mail.outbox import enqueue, enqueue_render
from .tokens import make_token

CONFIRM_PURPOSE = "confirm"
CONFIRM_MAX_AGE = 7 * 24 * 3600
SELF_SERVICE_PURPOSE = "self-service"
SELF_SERVICE_MAX_AGE = 2 * 366 * 24 * 3600
CONFIRM_PATH = "/bestaetigen/{token}"
SELF_SERVICE_PATH = "/meine-daten/{token}"

# Outbox kinds of mails addressed to the family (cleared on erasure).
FAMILY_KINDS = ("confirm", "selfservice")
NOTICE_KINDS = ("withdrawn", "erased")


def confirm_url(mailer: Mailer, public_id: str, lang: str) -> str:
    token = make_token(mailer.settings.secret_key, CONFIRM_PURPOSE, public_id)
    return mailer.url(i18n.with_language(CONFIRM_PATH.format(token=token), lang))


def self_service_url(mailer: Mailer, public_id: str, lang: str) -> str:
    token = make_token(mailer.settings.secret_key, SELF_SERVICE_PURPOSE, public_id)
    return mailer.url(i18n.with_language(SELF_SERVICE_PATH.format(token=token), lang))


def _date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return ""


def _names(mailer: Mailer, slugs: Any) -> list[str]:
    region = mailer.content.region
    return [region.municipalities[s].name for s in slugs if s in region.municipalities]


async def queue_family_mail(tx: Any, mailer: Mailer, lead: Any, template: str) -> int:
    """Queue ``templates/mail/<template>.*`` to the family in its language."""
    region = mailer.content.region
    orgs = await tx.fetchall(
        "SELECT org FROM lead_recipients WHERE lead_id = ? ORDER BY routed_at, org",
        (lead["id"],))
    msg = family_mail(mailer, lead, template, [region.organisations[r["org"]].name
                                               for r in orgs if r["org"] in region.organisations])
    kind = "confirm" if template == "confirm" else "selfservice"
    return await enqueue(tx, msg, kind=kind, lead_id=lead["id"])


async def queue_family_recipe(tx: Any, mailer: Mailer, *, lead_id: int, public_id: str,
                              email: str, lang: str, template: str = "confirm",
                              created_at: str | None = None) -> int:
    """Queue a family mail as a recipe: the worker renders it before sending
    (``render_family_recipe``), so the request pays no MIME building."""
    kind = "confirm" if template == "confirm" else "selfservice"
    return await enqueue_render(
        tx, kind=kind, recipient=addr_spec(email), message_id=mailer.new_message_id(),
        lead_id=lead_id, render={"template": template, "lang": lang, "public_id": public_id},
        created_at=created_at)


async def render_family_recipe(db: Any, mailer: Mailer, recipe: dict[str, Any],
                               message_id: str) -> bytes | None:
    """The message bytes of a queued recipe, or None when the lead or its
    personal fields are gone (erased): then nothing may go out."""
    lead = await db.fetchone("SELECT * FROM leads WHERE public_id = ?", (recipe["public_id"],))
    if lead is None or not lead["email"]:
        return None
    lead = {**dict(lead), "language": recipe.get("lang") or lead["language"]}
    msg = family_mail(mailer, lead, recipe["template"], [], message_id=message_id)
    return bytes(msg.as_bytes())


def family_mail(mailer: Mailer, lead: Any, template: str, recipients: list[str],
                message_id: str | None = None) -> Any:
    """Build (not queue) a family mail: CPU only, so a caller can do it before it
    opens a write transaction and keep the database lock short."""
    lang = lead["language"] or "de"
    ctx = {
        "lead": lead,
        "municipalities": _names(mailer, json.loads(lead["municipalities"] or "[]")),
        "recipients": recipients,
        "confirm_url": confirm_url(mailer, lead["public_id"], lang),
        "self_service_url": self_service_url(mailer, lead["public_id"], lang),
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }
    subject, text, html = mailer.render(template, ctx, lang=lang)
    return mailer.build(to=address(lead["email"], lead["name"] or ""), subject=subject,
                        text=text, html=html, message_id=message_id)


async def queue_recipient_notices(tx: Any, mailer: Mailer, lead: Any, kind: str) -> int:
    """Tell every organisation that received the lead that it was withdrawn or erased."""
    assert kind in NOTICE_KINDS
    region = mailer.content.region
    rows = await tx.fetchall(
        "SELECT org, routed_at FROM lead_recipients WHERE lead_id = ? ORDER BY org",
        (lead["id"],))
    count = 0
    for r in rows:
        org = region.organisations.get(r["org"])
        if org is None:  # organisation removed from content since routing
            continue
        ctx = {"org": org, "number": lead["id"], "created": _date(lead["created_at"]),
               "routed": _date(r["routed_at"])}
        subject, text, html = mailer.render(kind, ctx, lang="de")
        original = mailer.stable_message_id("lead", lead["public_id"], org.slug)
        msg = mailer.build(
            to=address(org.email, org.name), subject=subject, text=text, html=html,
            message_id=mailer.stable_message_id(kind, lead["public_id"], org.slug),
            headers={"In-Reply-To": original, "References": original})
        await enqueue(tx, msg, kind=kind, lead_id=lead["id"], org=org.slug)
        count += 1
    return count
