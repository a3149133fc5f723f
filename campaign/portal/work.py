"""Work on a lead by an organisation: stage changes and logged calls.

Each change is one transaction and writes its history row (``portal.history``,
which also records the receipt). A stage change is a compare-and-set on the
stage it was decided from, so two clerks moving the same lead at once cannot
both apply a step decided on the same old stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database
from ..core.schema import lead_history, lead_recipients, leads
from ..core.vocab import CALL_OUTCOMES, CLOSED, STAGE_LABELS, german
from . import stages
from .accounts import audit
from .cases import MAX_ID, Viewer
from .history import record
from .stages import Refused


@dataclass(frozen=True)
class Outcome:
    """What became of a change: done, refused (with why), or no such lead for the viewer."""

    done: bool
    refused: Refused | None = None

    @property
    def missing(self) -> bool:
        return not self.done and self.refused is None


MISSING = Outcome(False)
DONE = Outcome(True)


def target_org(viewer: Viewer, org: str | None) -> str:
    """Whose row a change is for: the viewer's own; the agency's admin may name another."""
    return (org or viewer.org) if viewer.admin else viewer.org


async def own_row(conn: AsyncConnection, lead_id: int, org: str) -> Any:
    """The (lead, org) recipients row of a confirmed lead, or None."""
    if not 0 < lead_id <= MAX_ID:
        return None
    r = lead_recipients
    return (await conn.execute(
        sa.select(r).join(leads, leads.c.id == r.c.lead_id)
        .where(r.c.lead_id == lead_id, r.c.org == org, leads.c.status == "confirmed"))).first()


async def closed_from(conn: AsyncConnection, lead_id: int, org: str) -> str:
    """The stage a closed lead was closed from (where it reopens); "neu" if unknown."""
    h = lead_history
    stage = await conn.scalar(
        sa.select(h.c.from_stage)
        .where(h.c.lead_id == lead_id, h.c.org == org, h.c.event == "stage",
               h.c.to_stage == CLOSED)
        .order_by(h.c.at.desc(), h.c.id.desc()).limit(1))
    return str(stage) if stage and stage != CLOSED else "neu"


async def move(db: Database, viewer: Viewer, lead_id: int, target: str, now: datetime, *,
               reason: str = "", seen: str = "", org: str | None = None) -> Outcome:
    """Move the lead's stage for the viewer's organisation (or, for the agency's admin,
    ``org``) to ``target``, if ``stages.check`` allows it. ``seen`` is the stage the
    form showed: when someone changed it since, nothing is changed."""
    org = target_org(viewer, org)
    r = lead_recipients
    async with db.transaction() as conn:
        row = await own_row(conn, lead_id, org)
        if row is None:
            return MISSING
        if seen and seen != row.status:
            return Outcome(False, Refused(
                "Der Stand wurde inzwischen geändert, er ist jetzt „%(stage)s“. Bitte "
                "prüfen Sie ihn und wählen Sie noch einmal.",
                {"stage": german(STAGE_LABELS, row.status)}))
        reopen_to = await closed_from(conn, lead_id, org) if row.status == CLOSED else "neu"
        refused = stages.check(row.status, target, reason, reopen_to)
        if refused is not None:
            return Outcome(False, refused)
        close_reason = reason if target == CLOSED else None
        changed = await conn.execute(
            r.update().where(r.c.lead_id == lead_id, r.c.org == org, r.c.status == row.status)
            .values(status=target, close_reason=close_reason))
        if not changed.rowcount:  # only PostgreSQL gets here: a parallel change won
            return Outcome(False, Refused("Der Stand wurde gerade von jemand anderem "
                                          "geändert. Bitte prüfen Sie ihn noch einmal."))
        await record(conn, viewer.user, lead_id, org, "stage", now, from_stage=row.status,
                     to_stage=target, reason=close_reason)
        await audit(conn, viewer.user, "status", now, f"{row.status} → {target}", lead_id, org)
    return DONE


async def log_call(db: Database, viewer: Viewer, lead_id: int, outcome: str,
                   now: datetime) -> Outcome:
    """A call with the family, reached or not, in the history of the viewer's organisation."""
    if outcome not in CALL_OUTCOMES:
        return Outcome(False, Refused("Bitte geben Sie an, ob Sie die Familie erreicht "
                                      "haben."))
    async with db.transaction() as conn:
        row = await own_row(conn, lead_id, viewer.org)
        if row is None:
            return MISSING
        await record(conn, viewer.user, lead_id, viewer.org, "call", now,
                     from_stage=row.status, to_stage=row.status, reason=outcome)
        await audit(conn, viewer.user, "call", now, outcome, lead_id, viewer.org)
    return DONE
