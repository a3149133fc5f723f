"""Staying in touch after the move, with consent: one question twelve months later.

When a first organisation records that a family moved in, the family gets one
mail in its language asking whether it agrees to a single follow-up. Agreeing
is a POST on the signed page (mail scanners open links, so the GET only asks)
and is kept as a consent event. Twelve months after moving in, a family that
agreed gets one mail with three questions; the answer is stored once, and a
"yes, still here" moves the stage of every organisation that recorded the move
to "nach 12 Monaten noch hier", in the history as the family. Without consent
nothing is sent; an erasure removes the consent and the free-text answer.

Every step is a guarded UPDATE or an insert that does nothing on conflict, so a
double click, two instances or a repeated job run apply it once.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..core.db import Database, insert
from ..core.i18n import gettext, language, with_language
from ..core.i18n import lazy_gettext as _l
from ..core.schema import consent_events, followups, lead_history, lead_recipients, leads
from ..core.tokens import TokenInvalid, make_token, read_token
from ..core.vocab import MOVED_STAGES
from ..delivery.message import addr_spec, address
from ..delivery.outbox import enqueue_recipe
from . import events
from .mails import self_service_url
from .records import load
from .services import Services

CONSENT_GROUP = "followup"  # consent_events.grp of this consent
CONSENT_VERSION = "2"  # 2: the same question, in the "Sie" of every family page
CONSENT_TEXT = _l("Wir dürfen Sie in zwölf Monaten ein einziges Mal fragen, wie es Ihnen "
                  "hier geht: drei kurze Fragen per E-Mail. Danach schreiben wir Ihnen dazu "
                  "nicht mehr.")
CONSENT_PURPOSE = "followup-consent"
CONSENT_MAX_AGE = 183 * 24 * 3600  # half a year to decide
ANSWER_PURPOSE = "followup-answer"
ANSWER_MAX_AGE = 92 * 24 * 3600  # three months to answer
CONSENT_PATH = "/nachfrage/zustimmen/{token}"
ANSWER_PATH = "/nachfrage/{token}"
ASK_KIND, FOLLOWUP_KIND = "followup_ask", "followup"  # outbox kinds and recipe names
MAILS = (ASK_KIND, FOLLOWUP_KIND)
FEEDBACK_MAX = 2000
FAMILY = "Familie"  # how the history names the family's own answer
STAYED = "geblieben"


def twelve_months_before(now: datetime) -> datetime:
    """The same moment a year earlier (29 February becomes the 28th)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


def consent_hash(lang: str) -> str:
    """SHA-256 of the consent question exactly as shown in ``lang``."""
    with language(lang):
        return hashlib.sha256(gettext(CONSENT_TEXT.message).encode()).hexdigest()


def token_for(secret: str, purpose: str, public_id: str) -> str:
    return make_token(secret, purpose, public_id)


def read(secret: str, purpose: str, token: str) -> str:
    """The lead's public id; raises TokenInvalid / TokenExpired."""
    max_age = CONSENT_MAX_AGE if purpose == CONSENT_PURPOSE else ANSWER_MAX_AGE
    value = read_token(secret, purpose, token, max_age=max_age)
    if not isinstance(value, str):
        raise TokenInvalid("malformed payload")
    return value


# -- the periodic job ------------------------------------------------------------------


async def run_due(svc: Services) -> tuple[int, int]:
    """Ask families that moved in, and send the questions that are due: (asked, sent)."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        asked = await ask_moved_families(conn, svc, now)
    async with svc.db.transaction() as conn:
        sent = await send_due(conn, svc, now)
    return asked, sent


async def ask_moved_families(conn: AsyncConnection, svc: Services, now: datetime) -> int:
    """One consent question per confirmed family some organisation recorded as moved in."""
    r, h = lead_recipients, lead_history
    moved = (sa.select(leads.c.id, leads.c.public_id, leads.c.email, leads.c.language)
             .where(leads.c.status == "confirmed", leads.c.email.isnot(None),
                    sa.exists().where(r.c.lead_id == leads.c.id, r.c.status.in_(MOVED_STAGES)),
                    ~sa.exists().where(followups.c.lead_id == leads.c.id))
             .order_by(leads.c.id).limit(500))
    count = 0
    for row in (await conn.execute(moved)).all():
        moved_at = await conn.scalar(sa.select(sa.func.min(h.c.at)).where(
            h.c.lead_id == row.id, h.c.event == "stage", h.c.to_stage.in_(MOVED_STAGES)))
        added = await conn.execute(insert(conn, followups).values(
            lead_id=row.id, moved_at=moved_at or now, asked_at=now).on_conflict_do_nothing())
        if not added.rowcount:
            continue
        await _queue(conn, svc, ASK_KIND, row, now)
        count += 1
    return count


async def send_due(conn: AsyncConnection, svc: Services, now: datetime) -> int:
    """The three questions to every family that agreed and moved in twelve months ago."""
    f = followups.c
    due = (sa.select(leads.c.id, leads.c.public_id, leads.c.email, leads.c.language)
           .join(followups, f.lead_id == leads.c.id)
           .where(f.consented_at.isnot(None), f.sent_at.is_(None),
                  f.moved_at <= twelve_months_before(now), leads.c.status == "confirmed",
                  leads.c.email.isnot(None))
           .order_by(leads.c.id).limit(500))
    count = 0
    for row in (await conn.execute(due)).all():
        marked = await conn.execute(followups.update().where(
            f.lead_id == row.id, f.sent_at.is_(None)).values(sent_at=now))
        if marked.rowcount:
            await _queue(conn, svc, FOLLOWUP_KIND, row, now)
            count += 1
    return count


async def _queue(conn: AsyncConnection, svc: Services, kind: str, row: Any,
                 now: datetime) -> None:
    await enqueue_recipe(conn, kind=kind, recipient=addr_spec(row.email),
                         message_id=svc.mailer.new_message_id(),
                         recipe={"mail": kind, "lead": row.public_id, "lang": row.language},
                         lead_id=row.id, now=now)


# -- the mails ------------------------------------------------------------------------------


async def render(svc: Services, recipe: dict[str, Any], message_id: str) -> bytes | None:
    """The consent question or the three questions, in the family's language; None
    when there is nothing to send any more (erased, withdrawn, consent gone, answered)."""
    kind, public_id = recipe.get("mail"), recipe.get("lead")
    if kind not in MAILS or not isinstance(public_id, str):
        return None
    async with svc.db.reading() as conn:
        found = await load(conn, leads.c.public_id == public_id)
        lead = found[0] if found else None
        state = (await conn.execute(sa.select(followups).where(
            followups.c.lead_id == lead.id))).first() if lead else None
    if lead is None or state is None or not lead.email or lead.status != "confirmed":
        return None
    if kind == FOLLOWUP_KIND and (state.consented_at is None or state.answered_at):
        return None
    lang = lead.language
    secret, mailer = svc.settings.secret_key, svc.mailer
    purpose, path = ((CONSENT_PURPOSE, CONSENT_PATH) if kind == ASK_KIND
                     else (ANSWER_PURPOSE, ANSWER_PATH))
    link = mailer.url(with_language(path.format(token=token_for(secret, purpose, public_id)),
                                    lang))
    ctx = {"lead": lead, "link": link, "contacts": [],
           "self_service_url": self_service_url(mailer, secret, public_id, lang)}

    def build() -> bytes:
        subject, text, html = mailer.render(kind, ctx, lang=lang)
        return mailer.build(to=address(lead.email or "", lead.name or ""), subject=subject,
                            text=text, html=html, message_id=message_id).as_bytes()

    return await asyncio.to_thread(build)


# -- consent and answer ---------------------------------------------------------------------


async def _state(conn: AsyncConnection, public_id: str) -> Any:
    return (await conn.execute(
        sa.select(followups, leads.c.language)
        .join(leads, leads.c.id == followups.c.lead_id)
        .where(leads.c.public_id == public_id, leads.c.status == "confirmed"))).first()


async def consent_state(db: Database, public_id: str) -> str:
    """'open', 'given' or 'unknown' (no question asked, or the lead is gone)."""
    async with db.reading() as conn:
        row = await _state(conn, public_id)
    if row is None:
        return "unknown"
    return "given" if row.consented_at else "open"


async def give_consent(svc: Services, public_id: str) -> str:
    """'recorded' (this call did it), 'already' or 'unknown'; with its consent event."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        row = await _state(conn, public_id)
        if row is None:
            return "unknown"
        changed = await conn.execute(followups.update().where(
            followups.c.lead_id == row.lead_id, followups.c.consented_at.is_(None))
            .values(consented_at=now))
        if not changed.rowcount:
            return "already"
        await conn.execute(consent_events.insert().values(
            lead_id=row.lead_id, grp=CONSENT_GROUP, version=CONSENT_VERSION, event="given",
            text_hash=consent_hash(row.language), at=now))
    return "recorded"


@dataclass(frozen=True)
class Answer:
    still_here: bool
    satisfaction: int  # 1 (not at all) … 5 (very)
    feedback: str


NO_CHOICE = _l("Bitte wählt „ja“ oder „nein“.")
NO_SCORE = _l("Bitte wählt eine Zahl von 1 bis 5.")
TOO_LONG = _l("Bitte fassen Sie sich kürzer (höchstens 2000 Zeichen).")


def parse_answer(form: Any) -> Answer | dict[str, _l]:
    """The checked answer, or which field is wrong (field → message, translated when shown)."""
    errors: dict[str, _l] = {}
    here = str(form.get("still_here", ""))
    if here not in ("ja", "nein"):
        errors["still_here"] = NO_CHOICE
    score = str(form.get("satisfaction", ""))
    if score not in ("1", "2", "3", "4", "5"):
        errors["satisfaction"] = NO_SCORE
    feedback = str(form.get("feedback", "")).replace("\x00", "").strip()
    if len(feedback) > FEEDBACK_MAX:
        errors["feedback"] = TOO_LONG
    if errors:
        return errors
    return Answer(here == "ja", int(score), feedback)


async def answer_state(db: Database, public_id: str) -> str:
    """'open', 'answered' or 'unknown' (not asked, no consent, or the lead is gone)."""
    async with db.reading() as conn:
        row = await _state(conn, public_id)
    if row is None or row.consented_at is None or row.sent_at is None:
        return "unknown"
    return "answered" if row.answered_at else "open"


async def record_answer(svc: Services, public_id: str, answer: Answer) -> str:
    """'recorded' (stored now), 'already' or 'unknown'. A "yes" moves the stage of the
    organisations that recorded the move in, through the history, as the family."""
    now = svc.clock.now()
    f, r = followups.c, lead_recipients.c
    async with svc.db.transaction() as conn:
        row = await _state(conn, public_id)
        if row is None or row.consented_at is None or row.sent_at is None:
            return "unknown"
        stored = await conn.execute(followups.update().where(
            f.lead_id == row.lead_id, f.answered_at.is_(None)).values(
            answered_at=now, still_here=answer.still_here, satisfaction=answer.satisfaction,
            feedback=answer.feedback or None))
        if not stored.rowcount:
            return "already"
        if answer.still_here:
            orgs = (await conn.scalars(sa.select(r.org).where(
                r.lead_id == row.lead_id, r.status == "zugezogen"))).all()
            for org in orgs:
                moved = await conn.execute(lead_recipients.update().where(
                    r.lead_id == row.lead_id, r.org == org, r.status == "zugezogen")
                    .values(status=STAYED))
                if moved.rowcount:
                    await conn.execute(lead_history.insert().values(
                        lead_id=row.lead_id, org=org, event="stage", from_stage="zugezogen",
                        to_stage=STAYED, detail="", user_id=None, actor=FAMILY, at=now))
                    await events.stage_changed(conn, row.lead_id, org, "zugezogen", STAYED,
                                               None, now)
    return "recorded"


async def forget(conn: AsyncConnection, lead_id: int, at: datetime, *, erased: bool) -> None:
    """An erasure (or anonymisation) removes the consent and the free text; the yes/no
    and the score stay for the figures, anonymous like the lead. An erased consent
    leaves its anonymous "erased" event, as the lead's other consents do."""
    f = followups.c
    had = await conn.execute(followups.update().where(
        f.lead_id == lead_id, f.consented_at.isnot(None)).values(consented_at=None))
    await conn.execute(followups.update().where(f.lead_id == lead_id).values(feedback=None))
    if erased and had.rowcount:
        await conn.execute(consent_events.insert().values(
            lead_id=lead_id, grp=CONSENT_GROUP, version=CONSENT_VERSION, event="erased",
            text_hash="", at=at))


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowupFigures:
    """The answers of families an organisation saw move in (no free text)."""

    asked: int  # families asked for consent
    consented: int
    sent: int  # got the three questions
    answered: int
    still_here: int
    moved_away: int
    satisfied: int  # 4 or 5
    by_score: dict[int, int]  # satisfaction 1…5 → families


async def answers_by_org(db: Database) -> dict[str, FollowupFigures]:
    """Aggregated follow-up answers per organisation that recorded the move in."""
    f, r = followups.c, lead_recipients.c
    query = (sa.select(r.org, f.consented_at.isnot(None).label("consented"),
                       f.sent_at.isnot(None).label("sent"), f.answered_at, f.still_here,
                       f.satisfaction)
             .join(lead_recipients, r.lead_id == f.lead_id)
             .where(r.status.in_(MOVED_STAGES)))
    per: dict[str, list[Any]] = {}
    for row in await db.all(query):
        per.setdefault(row.org, []).append(row)
    out = {}
    for org, rows in per.items():
        answered = [x for x in rows if x.answered_at is not None]
        out[org] = FollowupFigures(
            asked=len(rows), consented=sum(1 for x in rows if x.consented),
            sent=sum(1 for x in rows if x.sent), answered=len(answered),
            still_here=sum(1 for x in answered if x.still_here),
            moved_away=sum(1 for x in answered if x.still_here is False),
            satisfied=sum(1 for x in answered if (x.satisfaction or 0) >= 4),
            by_score={s: sum(1 for x in answered if x.satisfaction == s) for s in range(1, 6)})
    return out
