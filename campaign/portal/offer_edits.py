"""Partners keep their offers current: the owner organisation proposes a changed or
new offer, the agency approves it in the review queue (``portal.review``), and the
approved offer overlays the content seed (``leads.live_offers``).

Who may offer what: a tourism association its trial stays in the towns it covers,
a municipality its visit days, jobs and homes, the agency jobs anywhere. Only the
owner organisation may propose changes to an offer. Ending an offer early takes
effect at once (it only removes something from the family pages). The rules here
are pure functions; error texts are German (the portal is German).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from ..content.model import Region, Text, TextList
from ..content.offers import HOME_CATEGORIES, JOB_LINES, MAX_WEEKS, Offer, Offers
from ..core.clock import local_today
from ..core.db import Database
from ..core.i18n import LANGUAGES
from ..core.schema import page_proposals, published_pages
from ..leads import live_offers
from ..leads.live_offers import from_payload, to_payload
from . import review
from .accounts import User, audit

KIND = live_offers.KIND  # the review kind; also published_pages.kind
KINDS_BY_ORG = {"tourism": ("probewohnen",),
                "municipality": ("kennenlerntage", "jobs", "bauen-wohnen"),
                "agency": ("jobs",)}
KIND_LABELS = {"probewohnen": "Probewohnen", "kennenlerntage": "Kennenlerntage",
               "jobs": "Stelle", "bauen-wohnen": "Bauplatz oder Wohnung"}
TITLE_MAX, SUMMARY_MAX, NAME_MAX = 120, 600, 120
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # German
    kind: str = "text"  # text | textarea | date | number | select | email
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


def _texts(name: str, label: str, kind: str = "text") -> list[Field]:
    return [Field(f"{name}_de", f"{label} (Deutsch)", kind),
            Field(f"{name}_nl", f"{label} (Niederländisch, freiwillig)", kind, False),
            Field(f"{name}_en", f"{label} (Englisch, freiwillig)", kind, False)]


COMMON = [*_texts("title", "Titel"), *_texts("summary", "Kurzbeschreibung", "textarea"),
          Field("valid_from", "Sichtbar ab", "date"),
          Field("valid_until", "Sichtbar bis", "date",
                hint="Am Tag danach verschwindet das Angebot von allen Seiten.")]
FIELDS: dict[str, list[Field]] = {
    "probewohnen": [Field("host", "Gastgeber"),
                    Field("price_per_week", "Preis pro Woche (Euro)", "number"),
                    Field("weeks_min", "Mindestens Wochen", "number"),
                    Field("weeks_max", "Höchstens Wochen", "number"),
                    Field("stay_from", "Aufenthalt frühestens ab", "date"),
                    Field("stay_until", "Aufenthalt spätestens bis", "date")],
    "kennenlerntage": [Field("starts", "Erster Tag", "date"), Field("ends", "Letzter Tag", "date"),
                       Field("seats", "Plätze", "number"),
                       *_texts("programme", "Programm, ein Punkt pro Zeile", "textarea")],
    "jobs": [Field("employer", "Arbeitgeber"),
             Field("line", "Bereich", "select", options=(
                 ("medizin_pflege", "Medizin und Pflege"),
                 ("partner", "Stelle für die Partnerin oder den Partner")))],
    "bauen-wohnen": [Field("category", "Art", "select", options=(
                         ("bauplatz", "Bauplatz"), ("haus", "Haus"), ("wohnung", "Wohnung"))),
                     Field("price_from", "Preis von (Euro)", "number"),
                     Field("price_to", "Preis bis (Euro)", "number"),
                     Field("area_m2", "Fläche in m² (freiwillig)", "number", False),
                     Field("contact_name", "Ansprechperson"),
                     Field("contact_email", "E-Mail-Adresse der Ansprechperson", "email")],
}
_RANGES = {"price_per_week": (0, 10_000), "weeks_min": (1, MAX_WEEKS),
           "weeks_max": (1, MAX_WEEKS), "seats": (1, 500), "price_from": (0, 10_000_000),
           "price_to": (0, 10_000_000), "area_m2": (1, 100_000)}
_ORDER = [("valid_from", "valid_until"), ("stay_from", "stay_until"), ("starts", "ends"),
          ("weeks_min", "weeks_max"), ("price_from", "price_to")]
assert {o for opts in (JOB_LINES, HOME_CATEGORIES) for o in opts} == {
    v for f in (FIELDS["jobs"][1], FIELDS["bauen-wohnen"][0]) for v, _ in f.options}


def fields(kind: str) -> list[Field]:
    return [*COMMON, *FIELDS[kind]]


def kinds_for(region: Region, org: str) -> tuple[str, ...]:
    """The kinds of offer this organisation may add."""
    o = region.organisations.get(org)
    return KINDS_BY_ORG.get(o.kind, ()) if o else ()


def towns_for(region: Region, org: str) -> list[str]:
    """The municipalities this organisation may place an offer in."""
    o = region.organisations.get(org)
    if o is None:
        return []
    if o.kind == "agency":
        return list(region.municipalities)
    if o.kind == "municipality":
        return [o.slug] if o.slug in region.municipalities else []
    return [m for m in o.covers if m in region.municipalities]


def owned(offers: Offers, org: str, today: date) -> list[Offer]:
    """The organisation's offers that have not ended, in the pages' order."""
    return [o for o in offers.by_slug.values() if o.owner == org and o.valid_until >= today]


def form_values(offer: Offer) -> dict[str, str]:
    """The form's fields filled from an offer."""
    data = to_payload(offer)
    out: dict[str, str] = {}
    for key in ("title", "summary", "programme"):
        for lang in LANGUAGES:
            value = data[key].get(lang, "")
            out[f"{key}_{lang}"] = "\n".join(value) if isinstance(value, list) else value
    for key, value in data.items():
        if key not in ("title", "summary", "programme"):
            out[key] = "" if value is None else str(value)
    return out


def _clean(value: Any, multiline: bool) -> str:
    text = str(value or "").replace("\r\n", "\n")
    if multiline:
        return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()
    return " ".join(text.split())


def parse(kind: str, form: Mapping[str, Any], base: Offer, town_choices: list[str]
          ) -> tuple[Offer, dict[str, str], dict[str, str]]:
    """The offer as the form describes it (fields the form lacks stay as in
    ``base``), the cleaned values and the problems by field (German)."""
    values = {f.name: _clean(form.get(f.name), f.kind == "textarea") for f in fields(kind)}
    values["municipality"] = _clean(form.get("municipality"), False)
    errors: dict[str, str] = {}
    got: dict[str, Any] = {}
    for f in fields(kind):
        text = values[f.name]
        if not text:
            if f.required:
                errors[f.name] = "Bitte füllen Sie dieses Feld aus."
            continue
        limit = SUMMARY_MAX if f.kind == "textarea" else TITLE_MAX
        if len(text) > limit or not text.replace("\n", "").isprintable():
            errors[f.name] = f"Bitte höchstens {limit} Zeichen ohne Steuerzeichen."
        elif f.kind == "date":
            try:
                got[f.name] = date.fromisoformat(text)
            except ValueError:
                errors[f.name] = "Bitte ein Datum wie 2027-05-01 angeben."
        elif f.kind == "number":
            low, high = _RANGES[f.name]
            if not text.isdigit() or not low <= int(text) <= high:
                errors[f.name] = f"Bitte eine ganze Zahl von {low} bis {high} angeben."
            else:
                got[f.name] = int(text)
        elif f.kind == "select" and text not in {v for v, _ in f.options}:
            errors[f.name] = "Bitte wählen Sie einen der Einträge."
        elif f.kind == "email" and not _EMAIL_RE.match(text):
            errors[f.name] = "Bitte geben Sie eine gültige E-Mail-Adresse an."
        else:
            got[f.name] = text
    if values["municipality"] not in town_choices:
        errors["municipality"] = "Bitte wählen Sie einen Ort, für den Sie Angebote machen."
    for first, last in _ORDER:
        if first in got and last in got and got[last] < got[first]:
            errors.setdefault(last, "Dieser Wert liegt vor dem vorigen.")
    texts = {key: Text(MappingProxyType({lang: got[f"{key}_{lang}"] for lang in LANGUAGES
                                         if f"{key}_{lang}" in got}))
             for key in ("title", "summary")}
    suffixes = tuple(f"_{lang}" for lang in LANGUAGES)
    changes: dict[str, Any] = {k: v for k, v in got.items() if not k.endswith(suffixes)}
    changes.update(texts, municipality=values["municipality"], example=False)
    if kind == "bauen-wohnen":
        changes["area_m2"] = got.get("area_m2")
    if kind == "kennenlerntage":
        changes["programme"] = TextList(MappingProxyType(
            {lang: tuple(line for line in got[f"programme_{lang}"].split("\n") if line)
             for lang in LANGUAGES if f"programme_{lang}" in got}))
    return dataclasses.replace(base, **changes), values, errors


def blank(kind: str, org: str, region: Region, today: date) -> Offer:
    """The start of a new offer of ``kind`` by ``org``: it gets its own slug."""
    o = region.organisations[org]
    title = Text(MappingProxyType({"de": ""}))
    return Offer(kind=kind, slug="", title=title, summary=title, municipality="", owner=org,
                 valid_from=today, valid_until=today + timedelta(days=180), example=False,
                 tourism=org if o.kind == "tourism" else "")


def new_slug(offer: Offer, taken: set[str]) -> str:
    """A readable, unique slug from the town and the German title."""
    plain = unicodedata.normalize("NFKD", str(offer.title).replace("ß", "ss"))
    words = re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode().lower())
    base = f"{offer.municipality}-{words.strip('-')}"[:58].strip("-")
    slug = base
    while slug in taken:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def lines(payload: dict[str, Any]) -> list[str]:
    """The offer as text lines, for the reviewer's diff."""
    offer = from_payload(payload)
    data = form_values(offer)
    labels = {f.name: f.label for f in fields(offer.kind)}
    out = [f"Art: {KIND_LABELS.get(offer.kind, offer.kind)}", f"Ort: {offer.municipality}"]
    for name, label in labels.items():
        for n, line in enumerate(data.get(name, "").split("\n")):
            if line or n == 0:
                out.append(f"{label}: {line}")
    return out


review.register(review.Kind(KIND, "Angebot", lines, page="/partner/angebote"))


async def end_now(db: Database, offer: Offer, user: User, now: datetime) -> None:
    """End an offer today: it is gone from every page at once (no review needed,
    it only removes something). A proposal still waiting for it is withdrawn, so a
    later approval cannot bring the offer back."""
    yesterday = local_today(now) - timedelta(days=1)
    ended = dataclasses.replace(offer, valid_until=yesterday,
                                valid_from=min(offer.valid_from, yesterday))
    async with db.transaction() as conn:
        await conn.execute(published_pages.delete().where(
            published_pages.c.kind == KIND, published_pages.c.target == offer.slug))
        await conn.execute(published_pages.insert().values(
            kind=KIND, target=offer.slug, payload=to_payload(ended), proposal_id=None,
            published_at=now))
        await conn.execute(page_proposals.update().where(
            page_proposals.c.kind == KIND, page_proposals.c.target == offer.slug,
            page_proposals.c.status == "pending").values(
            status="rejected", decided_at=now, decided_by=user.email,
            comment="Das Angebot wurde beendet."))
        await audit(conn, user, "offer_ended", now, offer.slug)
