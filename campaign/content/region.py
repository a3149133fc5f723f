"""``region.toml`` and ``orte/*.toml`` into the Region: districts, municipalities
with sourced facts, organisations and who covers what."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from ..core.vocab import ORG_KINDS
from .checks import SLUG_RE, Checker, ContentError, read_toml
from .distances import distances_km, travel_minutes
from .model import (
    CITIES,
    COMPUTED_SOURCE,
    FACT_NAMES,
    LANDSCAPES,
    OPTIONAL_FACTS,
    SCHOOLS,
    SIZE_CLASSES,
    District,
    Facts,
    Municipality,
    Organisation,
    Region,
    Source,
    TextList,
)

# Südwestfalen with a margin: Burbach lies at 50.74° N, Marsberg at 8.85° E.
LAT_BOUNDS = (50.7, 51.8)
LON_BOUNDS = (7.3, 9.0)

# -- facts: one check per fact ------------------------------------------------------


def _nonneg_int(c: Checker, v: Any, fld: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise c.fail(fld, "expected a whole number ≥ 0")
    return v


def _boolean(c: Checker, v: Any, fld: str) -> bool:
    if not isinstance(v, bool):
        raise c.fail(fld, "expected true or false")
    return v


def _size(c: Checker, v: Any, fld: str) -> str:
    if v not in SIZE_CLASSES:
        raise c.fail(fld, f"unknown size class {v!r} (allowed: {', '.join(SIZE_CLASSES)})")
    return str(v)


def _landscape(c: Checker, v: Any, fld: str) -> tuple[str, ...]:
    out = c.choice_list(v, fld, LANDSCAPES)
    if not out:
        raise c.fail(fld, "name at least one landscape")
    return out


def _schools(c: Checker, v: Any, fld: str) -> tuple[str, ...]:
    return c.choice_list(v, fld, SCHOOLS)


def _travel(c: Checker, v: Any, fld: str) -> Mapping[str, int]:
    if not isinstance(v, dict):
        raise c.fail(fld, "expected a table of city = minutes")
    missing = [city for city in CITIES if city not in v]
    if missing:
        raise c.fail(fld, f"missing cities: {', '.join(missing)}")
    for city, minutes in v.items():
        if city not in CITIES:
            raise c.fail(f"{fld}.{city}", f"unknown city (allowed: {', '.join(CITIES)})")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 600:
            raise c.fail(f"{fld}.{city}", "expected minutes between 1 and 600")
    return MappingProxyType(dict(v))


def _area(c: Checker, v: Any, fld: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 10_000:
        raise c.fail(fld, "expected square kilometres, e.g. 85.9")
    return float(v)


def _line(c: Checker, v: Any, fld: str) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > 100:
        raise c.fail(fld, "expected a short text")
    return v.strip()


FACT_CHECKS: dict[str, Callable[[Checker, Any, str], Any]] = {
    "area_km2": _area, "motorway_exit": _line, "kita_named": _line, "train": _line,
    "population": _nonneg_int, "kitas": _nonneg_int, "playgrounds": _nonneg_int,
    "winter_sports": _boolean, "rail_station": _boolean, "hospital": _boolean,
    "university_nearby": _boolean, "swimming_pool": _boolean,
    "size_class": _size, "landscape": _landscape, "secondary_schools": _schools,
    "travel_minutes": _travel,
}


def _facts(c: Checker, data: Any, sources: Mapping[str, Source],
           lat: float, lon: float) -> Facts:
    """The checked facts; travel times not given are computed from the coordinates."""
    if not isinstance(data, dict):
        raise c.fail("facts", "missing (add an [ort.facts] table)")
    values: dict[str, Any] = {"distance_km": MappingProxyType(distances_km(lat, lon))}
    srcs: dict[str, str] = {}
    if "travel_minutes" not in data:
        values["travel_minutes"] = MappingProxyType(travel_minutes(lat, lon))
        values["travel_estimated"] = True
        if COMPUTED_SOURCE in sources:
            srcs["travel_minutes"] = COMPUTED_SOURCE
    for name in FACT_NAMES:
        fld = f"facts.{name}"
        if name not in data and name in OPTIONAL_FACTS:
            continue
        if name not in data:
            raise c.fail(fld, "missing")
        item = data[name]
        if not isinstance(item, dict) or "value" not in item:
            raise c.fail(fld, "expected { value = …, source = … }")
        source = item.get("source")
        if not isinstance(source, str) or source not in sources:
            raise c.fail(f"{fld}.source", f"unknown source {source!r} (define it under [sources])")
        values[name] = FACT_CHECKS[name](c, item["value"], f"{fld}.value")
        srcs[name] = source
    unknown = sorted(set(data) - set(FACT_NAMES))
    if unknown:
        raise c.fail(f"facts.{unknown[0]}", f"unknown fact (known: {', '.join(FACT_NAMES)})")
    return Facts(**values, sources=MappingProxyType(srcs))


def _text_list(c: Checker, data: Mapping[str, Any], key: str) -> tuple[TextList, str]:
    value = c.get(data, key, dict)
    out: dict[str, tuple[str, ...]] = {}
    source = value.get("source", "")
    for lang, items in value.items():
        if lang == "source":
            continue
        if lang not in LANGUAGES:
            raise c.fail(f"{key}.{lang}", "unknown language")
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise c.fail(f"{key}.{lang}", "expected a list of non-empty strings")
        out[lang] = tuple(items)
    if DEFAULT_LANGUAGE not in out:
        raise c.fail(f"{key}.de", "missing (German is required)")
    return TextList(MappingProxyType(out)), str(source)


def _entries(data: dict[str, Any], key: str, c: Checker) -> Iterator[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise c.fail(key, "expected an array of tables ([[" + key + "]])")
    for item in items:
        if not isinstance(item, dict):
            raise c.fail(key, "expected tables")
        yield item


# -- the region --------------------------------------------------------------------


def load_region(content_dir: Path) -> Region:
    rel = "region.toml"
    data = read_toml(content_dir / rel, rel)
    top = Checker(rel, "[campaign]")
    campaign = top.get(data, "campaign", dict)
    title = top.text(campaign, "title")
    tagline = top.text(campaign, "tagline")
    reminder_days = top.get(campaign, "ack_reminder_days", int)
    if reminder_days < 1:
        raise top.fail("ack_reminder_days", "must be at least 1")
    agency_fallback = campaign.get("agency_fallback_when_unrouted", True)
    if not isinstance(agency_fallback, bool):
        raise top.fail("agency_fallback_when_unrouted", "expected true or false")

    sources: dict[str, Source] = {}
    for slug, item in Checker(rel).get(data, "sources", dict).items():
        c = Checker(rel, f"source '{slug}'")
        if not SLUG_RE.match(slug) or not isinstance(item, dict):
            raise c.fail("", "expected [sources.<slug>] with label and demo")
        sources[slug] = Source(slug, c.text(item, "label"), bool(c.get(item, "demo", bool)))

    districts: dict[str, dict[str, Any]] = {}
    for item in _entries(data, "district", Checker(rel)):
        c = Checker(rel, f"district '{item.get('slug', '?')}'")
        slug = c.slug(item)
        if slug in districts:
            raise c.fail("slug", "duplicate slug")
        districts[slug] = {"name": c.get(item, "name", str), "intro": c.text(item, "intro")}

    contacts: dict[str, tuple[Checker, dict[str, Any]]] = {}
    municipalities, members = _load_municipalities(content_dir, districts, sources, contacts)
    for slug, members_of in members.items():
        if not members_of:
            raise ContentError(rel, f"district '{slug}'", "", "has no municipalities in orte/")
    default_days = _response_days(top, campaign, 2)
    orgs = _load_organisations(data, rel, municipalities, districts, members, default_days)
    for slug, (c, contact) in contacts.items():
        if "response_days" in contact:
            orgs[slug] = replace(orgs[slug], response_days=_response_days(
                c, contact, default_days, "contact."))

    return Region(
        title=title,
        tagline=tagline,
        ack_reminder_days=reminder_days,
        sources=MappingProxyType(sources),
        districts=MappingProxyType({
            s: District(s, d["name"], d["intro"], tuple(members[s])) for s, d in districts.items()
        }),
        municipalities=MappingProxyType(municipalities),
        organisations=MappingProxyType(orgs),
        agency_fallback_when_unrouted=agency_fallback,
    )


def _load_municipalities(content_dir: Path, districts: Mapping[str, Any],
                         sources: Mapping[str, Source],
                         contacts: dict[str, tuple[Checker, dict[str, Any]]]
                         ) -> tuple[dict[str, Municipality], dict[str, list[str]]]:
    municipalities: dict[str, Municipality] = {}
    members: dict[str, list[str]] = {d: [] for d in districts}
    for path in sorted((content_dir / "orte").glob("*.toml")):
        frel = f"orte/{path.name}"
        odata = read_toml(path, frel)
        fc = Checker(frel)
        district = fc.get(odata, "district", str)
        if district not in districts:
            raise fc.fail("district", f"unknown district {district!r}")
        for item in _entries(odata, "ort", fc):
            c = Checker(frel, f"ort '{item.get('slug', '?')}'")
            slug = c.slug(item)
            if slug in municipalities or slug in districts:
                raise c.fail("slug", "duplicate slug")
            contact = c.get(item, "contact", dict)
            contacts[slug] = (c, contact)
            highlights, hsource = _text_list(c, item, "highlights")
            if hsource not in sources:
                raise c.fail("highlights.source", f"unknown source {hsource!r}")
            lat = c.coordinate(item, "lat", *LAT_BOUNDS)
            lon = c.coordinate(item, "lon", *LON_BOUNDS)
            municipalities[slug] = Municipality(
                slug=slug,
                name=c.get(item, "name", str),
                district=district,
                welcome=c.text(item, "welcome"),
                highlights=highlights,
                highlights_source=hsource,
                contact_name=c.get(contact, "name", str, "contact."),
                contact_email=c.email(contact, "email", "contact."),
                facts=_facts(c, item.get("facts"), sources, lat, lon),
                lat=lat,
                lon=lon,
            )
            members[district].append(slug)
    return municipalities, members


def _response_days(c: Checker, item: dict[str, Any], default: int, prefix: str = "") -> int:
    """An organisation's response target in working days (1 to 20), or ``default``."""
    days = item.get("response_days", default)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 20:
        raise c.fail(f"{prefix}response_days", "expected whole working days from 1 to 20")
    return days


def _load_organisations(data: dict[str, Any], rel: str,
                        municipalities: Mapping[str, Municipality],
                        districts: Mapping[str, Any], members: Mapping[str, list[str]],
                        default_days: int = 2) -> dict[str, Organisation]:
    """Every municipality is an organisation (its welcome contact); the others
    (tourism associations, agency, skilled-worker contact) come from region.toml."""
    orgs: dict[str, Organisation] = {}
    for m in municipalities.values():
        orgs[m.slug] = Organisation(m.slug, "municipality", m.contact_name, m.contact_email,
                                    (m.slug,), default_days)
    for item in _entries(data, "organisation", Checker(rel)):
        c = Checker(rel, f"organisation '{item.get('slug', '?')}'")
        slug = c.slug(item)
        if slug in orgs:
            raise c.fail("slug", "duplicate slug (municipalities are organisations too)")
        kind = c.get(item, "kind", str)
        if kind not in ORG_KINDS or kind == "municipality":
            raise c.fail("kind", f"unknown kind {kind!r} (tourism, agency, skilled_workers)")
        covers: list[str] = []
        for d in item.get("covers_districts", []):
            if d not in districts:
                raise c.fail("covers_districts", f"unknown district {d!r}")
            covers.extend(members[d])
        for m_slug in item.get("covers_municipalities", []):
            if m_slug not in municipalities:
                raise c.fail("covers_municipalities", f"unknown municipality {m_slug!r}")
            covers.append(m_slug)
        orgs[slug] = Organisation(slug, kind, c.get(item, "name", str), c.email(item, "email"),
                                  tuple(dict.fromkeys(covers)),
                                  _response_days(c, item, default_days))
    for kind in ("agency", "skilled_workers"):
        if len([o for o in orgs.values() if o.kind == kind]) != 1:
            raise ContentError(rel, "organisation", "kind", f"exactly one '{kind}' is required")
    return orgs
