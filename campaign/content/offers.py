"""Offers that bridge holiday and life (``angebote/<kind>.toml``): trial living,
visit days, jobs, building plots and homes.

Every offer belongs to an organisation of the content, lies in one municipality
and is valid from one day to another (Europe/Berlin). Pages read offers only
through ``current_offers`` / ``current_offer``, so an offer disappears everywhere
the day after it ends, and partner edits (a database overlay) can later come in
at this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.clock import local_today
from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from .checks import Checker, ContentError, read_toml
from .model import Region, Text, TextList

FOLDER = "angebote"
# Offer kinds, in the order pages list them; the code is also the page's path.
KINDS = ("probewohnen", "kennenlerntage", "jobs", "bauen-wohnen")
JOB_LINES = ("medizin_pflege", "partner")
HOME_CATEGORIES = ("bauplatz", "haus", "wohnung")
MAX_WEEKS = 4

COMMON = {"slug", "title", "summary", "municipality", "owner", "valid_from", "valid_until",
          "example"}
FIELDS = {
    "probewohnen": {"host", "tourism", "price_per_week", "weeks_min", "weeks_max",
                    "stay_from", "stay_until"},
    "kennenlerntage": {"starts", "ends", "programme", "seats"},
    "jobs": {"employer", "line"},
    "bauen-wohnen": {"category", "price_from", "price_to", "area_m2", "contact_name",
                     "contact_email"},
}


@dataclass(frozen=True)
class Offer:
    """One offer; the fields after ``example`` belong to some kinds only."""

    kind: str
    slug: str
    title: Text
    summary: Text
    municipality: str
    owner: str  # organisation slug
    valid_from: date
    valid_until: date
    example: bool  # shipped to show what an offer looks like, until a partner replaces it
    # probewohnen
    host: str = ""
    tourism: str = ""  # organisation slug of the tourism association
    price_per_week: int = 0
    weeks_min: int = 1
    weeks_max: int = MAX_WEEKS
    stay_from: date | None = None
    stay_until: date | None = None
    # kennenlerntage
    starts: date | None = None
    ends: date | None = None
    programme: TextList = TextList(MappingProxyType({}))
    seats: int = 0
    # jobs
    employer: str = ""
    line: str = ""
    # bauen-wohnen
    category: str = ""
    price_from: int = 0
    price_to: int = 0
    area_m2: int | None = None
    contact_name: str = ""
    contact_email: str = ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until


@dataclass(frozen=True)
class Offers:
    """All offers of the content files, by slug (slugs are unique across kinds)."""

    by_slug: Mapping[str, Offer]


def current_offers(offers: Offers, now: datetime, *, kind: str | None = None,
                   municipality: str | None = None) -> list[Offer]:
    """The offers valid today in Berlin, optionally of one kind or one municipality,
    in the order of the content files. The one way pages read offers."""
    today = local_today(now)
    return [o for o in offers.by_slug.values()
            if o.valid_on(today) and (kind is None or o.kind == kind)
            and (municipality is None or o.municipality == municipality)]


def current_offer(offers: Offers, now: datetime, kind: str, slug: str) -> Offer | None:
    """One offer of ``kind`` if it is valid today, else None (its page is gone)."""
    offer = offers.by_slug.get(slug)
    if offer is None or offer.kind != kind or not offer.valid_on(local_today(now)):
        return None
    return offer


# -- loading ---------------------------------------------------------------------------


def _date(c: Checker, data: Mapping[str, Any], key: str) -> date:
    value = c.get(data, key, date)
    if isinstance(value, datetime):
        raise c.fail(key, "expected a date (YYYY-MM-DD) without a time")
    return value  # type: ignore[no-any-return]


def _whole(c: Checker, data: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value: int = c.get(data, key, int)
    if not low <= value <= high:
        raise c.fail(key, f"expected a whole number from {low} to {high}")
    return value


def _one_of(c: Checker, data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value: str = c.get(data, key, str)
    if value not in allowed:
        raise c.fail(key, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
    return value


def _org(c: Checker, data: Mapping[str, Any], key: str, region: Region,
         kind: str | None = None) -> str:
    slug: str = c.get(data, key, str)
    org = region.organisations.get(slug)
    if org is None:
        raise c.fail(key, f"unknown organisation {slug!r}")
    if kind is not None and org.kind != kind:
        raise c.fail(key, f"{slug!r} is no organisation of kind {kind!r}")
    return slug


def _programme(c: Checker, data: Mapping[str, Any]) -> TextList:
    value = c.get(data, "programme", dict)
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            raise c.fail(f"programme.{lang}", "unknown language")
        if not isinstance(items, list) or not items or \
                not all(isinstance(i, str) and i.strip() for i in items):
            raise c.fail(f"programme.{lang}", "expected a list of non-empty strings")
        out[lang] = tuple(i.strip() for i in items)
    if DEFAULT_LANGUAGE not in out:
        raise c.fail(f"programme.{DEFAULT_LANGUAGE}", "missing (German is required)")
    return TextList(MappingProxyType(out))


def _ordered(c: Checker, first: date, last: date, names: tuple[str, str]) -> None:
    if last < first:
        raise c.fail(names[1], f"is before {names[0]}")


def _kind_fields(kind: str, c: Checker, item: Mapping[str, Any], region: Region
                 ) -> dict[str, Any]:
    if kind == "probewohnen":
        out: dict[str, Any] = {
            "host": c.get(item, "host", str),
            "tourism": _org(c, item, "tourism", region, "tourism"),
            "price_per_week": _whole(c, item, "price_per_week", 0, 10_000),
            "weeks_min": _whole(c, item, "weeks_min", 1, MAX_WEEKS),
            "weeks_max": _whole(c, item, "weeks_max", 1, MAX_WEEKS),
            "stay_from": _date(c, item, "stay_from"), "stay_until": _date(c, item, "stay_until")}
        if out["weeks_max"] < out["weeks_min"]:
            raise c.fail("weeks_max", "is smaller than weeks_min")
        _ordered(c, out["stay_from"], out["stay_until"], ("stay_from", "stay_until"))
        return out
    if kind == "kennenlerntage":
        out = {"starts": _date(c, item, "starts"), "ends": _date(c, item, "ends"),
               "programme": _programme(c, item), "seats": _whole(c, item, "seats", 1, 500)}
        _ordered(c, out["starts"], out["ends"], ("starts", "ends"))
        return out
    if kind == "jobs":
        return {"employer": c.get(item, "employer", str),
                "line": _one_of(c, item, "line", JOB_LINES)}
    out = {"category": _one_of(c, item, "category", HOME_CATEGORIES),
           "price_from": _whole(c, item, "price_from", 0, 10_000_000),
           "price_to": _whole(c, item, "price_to", 0, 10_000_000),
           "area_m2": _whole(c, item, "area_m2", 1, 100_000) if "area_m2" in item else None,
           "contact_name": c.get(item, "contact_name", str),
           "contact_email": c.email(item, "contact_email")}
    if out["price_to"] < out["price_from"]:
        raise c.fail("price_to", "is smaller than price_from")
    return out


def _offer(kind: str, c: Checker, item: Mapping[str, Any], region: Region) -> Offer:
    c.unknown_keys(item, COMMON | FIELDS[kind])
    municipality: str = c.get(item, "municipality", str)
    if municipality not in region.municipalities:
        raise c.fail("municipality", f"unknown municipality {municipality!r}")
    example = item.get("example", False)
    if not isinstance(example, bool):
        raise c.fail("example", "expected true or false")
    valid_from, valid_until = _date(c, item, "valid_from"), _date(c, item, "valid_until")
    _ordered(c, valid_from, valid_until, ("valid_from", "valid_until"))
    return Offer(kind=kind, slug=c.slug(item), title=c.text(item, "title"),
                 summary=c.text(item, "summary"), municipality=municipality,
                 owner=_org(c, item, "owner", region), valid_from=valid_from,
                 valid_until=valid_until, example=example, **_kind_fields(kind, c, item, region))


def load_offers(content_dir: Path, region: Region) -> Offers:
    """Every ``angebote/<kind>.toml`` (a file of an unknown kind is an error), the
    offers in the order of ``KINDS`` and then of their file."""
    folder = Path(content_dir) / FOLDER
    out: dict[str, Offer] = {}
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    order = {kind: n for n, kind in enumerate(KINDS)}  # pages list the kinds in this order
    for path in sorted(files, key=lambda p: (order.get(p.stem, -1), p.name)):
        rel = f"{FOLDER}/{path.name}"
        if path.stem not in KINDS:
            raise ContentError(rel, "", "", f"unknown offer kind (files: {', '.join(KINDS)})")
        data = read_toml(path, rel)
        Checker(rel).unknown_keys(data, {"offer"})
        items = data.get("offer", [])
        if not isinstance(items, list):
            raise ContentError(rel, "", "offer", "expected [[offer]] entries")
        for n, item in enumerate(items, 1):
            entry = f"offer {item.get('slug', n)!s}" if isinstance(item, dict) else f"offer {n}"
            c = Checker(rel, entry)
            if not isinstance(item, dict):
                raise c.fail("", "expected a table")
            offer = _offer(path.stem, c, item, region)
            if offer.slug in out:
                raise c.fail("slug", "duplicate slug (slugs are unique across all offers)")
            out[offer.slug] = offer
    return Offers(MappingProxyType(out))
