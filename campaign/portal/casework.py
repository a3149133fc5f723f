"""What the lead page shows of the work on a lead: each organisation's stage and
contact person, what the forms may offer, and the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..core.db import Database
from ..core.schema import lead_recipients
from ..core.vocab import CLOSED
from . import stages
from .assignment import Person, colleagues, person
from .cases import Viewer
from .history import HistoryEntry, entries
from .work import closed_from


@dataclass(frozen=True)
class Track:
    """One organisation's stage of the lead and its contact person."""

    org: str
    stage: str
    close_reason: str | None
    reopen_to: str  # where a closed lead reopens
    targets: tuple[str, ...]  # the open stages the form offers
    assignee: Person | None
    assigned_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.stage == CLOSED


@dataclass(frozen=True)
class CaseWork:
    tracks: tuple[Track, ...]  # the viewer's organisation's, or every one for the agency
    own: Track | None  # the viewer's organisation's, if the lead went to it
    history: tuple[HistoryEntry, ...]
    colleagues: tuple[Person, ...]  # whom the viewer (an organisation's admin) may assign
    me: Person | None


async def case_work(db: Database, viewer: Viewer, lead_id: int) -> CaseWork:
    r = lead_recipients
    where = [r.c.lead_id == lead_id] + ([] if viewer.admin else [r.c.org == viewer.org])
    tracks = []
    async with db.reading() as conn:
        rows = (await conn.execute(sa.select(r).where(*where).order_by(r.c.org))).all()
        for row in rows:
            reopen_to = await closed_from(conn, lead_id, row.org) if row.status == CLOSED \
                else "neu"
            tracks.append(Track(row.org, row.status, row.close_reason, reopen_to,
                                tuple(stages.targets(row.status, reopen_to)),
                                await person(conn, row.assignee_id), row.assigned_at))
        done = await entries(conn, lead_id, None if viewer.admin else viewer.org)
        me = await person(conn, viewer.user.id) if viewer.user else None
    own = next((t for t in tracks if t.org == viewer.org), None)
    mates = await colleagues(db, viewer.org) \
        if own is not None and viewer.user is not None and viewer.user.is_admin else []
    return CaseWork(tuple(tracks), own, tuple(done), tuple(mates), me)
