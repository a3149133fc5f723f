"""The portal's mail: "Passwort vergessen", queued as a recipe and built by the worker.

The request only counts itself (per client address and per account) and
queues a recipe with the address as typed, the same for known and unknown
addresses: its answer and its timing tell nobody which accounts exist. The
outbox worker looks the account up and builds the mail, or drops the row
(deleting it, address and all) when there is no such account. ``recipes``
is the worker's renderer for every recipe: the portal's, then the lead
workflow's.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from ..core import jobs
from ..delivery.outbox import enqueue_recipe, note_recipe
from ..leads import followup, invitations
from ..leads.mails import recipes as lead_recipes
from ..leads.services import Services
from . import accounts, team

RESET_PATH = "/partner/passwort-neu/{token}"  # the route "partner_reset"
RESET_RECIPE = "password_reset"
RESET_LIMIT = 5  # reset requests per hour, per client address and per account
HOUR = timedelta(hours=1)

Render = Callable[[dict[str, Any], str], Awaitable[bytes | None]]


def _reset_key(email: str) -> str:
    """The per-account counter's key: a hash, as for logins, so the table never
    holds an address someone typed (known or not)."""
    digest = hashlib.sha256(accounts.normalise_email(email).encode()).hexdigest()
    return f"reset-acct:{digest}"


async def request_reset(svc: Services, email: str, address: str) -> bool:
    """Count the request and queue the reset recipe; False when over a limit."""
    now = svc.clock.now()
    email = accounts.normalise_email(email)
    by_address = jobs.Limit(f"reset-addr:{address}", RESET_LIMIT, HOUR)
    by_account = jobs.Limit(_reset_key(email), RESET_LIMIT, HOUR)
    async with svc.db.transaction() as conn:
        allowed = [await jobs.hit_in(conn, limit, now) for limit in (by_address, by_account)]
        if not all(allowed):
            return False
        await enqueue_recipe(conn, kind="password_reset", recipient=email,
                             message_id=svc.mailer.new_message_id(),
                             recipe={"mail": RESET_RECIPE, "email": email}, now=now)
    return True


async def render_reset(svc: Services, recipe: dict[str, Any], message_id: str
                       ) -> bytes | None:
    """The reset mail with a fresh link (valid from now), or None: no such account."""
    email = recipe.get("email")
    user = await accounts.user_by_email(svc.db, email) if isinstance(email, str) else None
    if user is None:
        return None
    async with svc.db.transaction() as conn:
        await note_recipe(conn, message_id, org=user.org)
        await accounts.audit(conn, user, "password_reset_requested", svc.clock.now())
    token = accounts.reset_token(svc.settings.secret_key, user)
    link = svc.mailer.url(RESET_PATH.format(token=token))

    def build() -> bytes:
        subject, text, html = svc.mailer.render(
            "password_reset", {"link": link, "email": user.email,
                               "minutes": accounts.RESET_MAX_AGE // 60}, "de")
        return svc.mailer.build(to=user.email, subject=subject, text=text, html=html,
                                message_id=message_id).as_bytes()

    return await asyncio.to_thread(build)


def recipes(svc: Services) -> Render:
    """What the outbox worker calls to build a recipe row's message (every kind)."""
    for_leads = lead_recipes(svc)

    async def render(recipe: dict[str, Any], message_id: str) -> bytes | None:
        if recipe.get("mail") == RESET_RECIPE:
            return await render_reset(svc, recipe, message_id)
        if recipe.get("mail") == invitations.RECIPE:
            return await invitations.render(svc, recipe, message_id)
        if recipe.get("mail") == team.INVITE_RECIPE:
            return await team.render_invite(svc, recipe, message_id)
        if recipe.get("mail") in followup.MAILS:
            return await followup.render(svc, recipe, message_id)
        return await for_leads(recipe, message_id)

    return render
