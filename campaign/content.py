"""Load and validate the content files into frozen dataclasses.

Content (region, municipalities, organisations, routing, quizzes, consent
texts) is data edited by people; every error names the file, the entry and
the field so that an editor can fix it without reading a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

LANGUAGES = ("de", "nl", "en")
DEFAULT_LANGUAGE = "de"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
SIZE_CLASSES = ("landgemeinde", "kleinstadt", "mittelstadt", "grossstadt")
LANDSCAPES = ("lakes", "forest", "mountains", "rivers", "fields")
SCHOOLS = ("gymnasium", "realschule", "gesamtschule", "sekundarschule", "hauptschule")
CITIES = ("dortmund", "koeln", "frankfurt")
ORG_KINDS = ("municipality", "tourism", "agency", "skilled_workers")


class ContentError(ValueError):
    """A content file is wrong; the message names file, entry and field."""

    def __init__(self, file: str, entry: str, fld: str, message: str) -> None:
        self.file, self.entry, self.field = file, entry, fld
        where = f"{file}: {entry}" if entry else file
        if fld:
            where += f": field '{fld}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Text:
    """A text in several languages; a missing language falls back to German."""

    values: Mapping[str, str]

    def get(self, lang: str) -> str:
        return self.values.get(lang) or self.values.get(DEFAULT_LANGUAGE, "")

    def has(self, lang: str) -> bool:
        return bool(self.values.get(lang))

    def __str__(self) -> str:
        return self.get(DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class TextList:
    values: Mapping[str, tuple[str, ...]]

    def get(self, lang: str) -> tuple[str, ...]:
        return self.values.get(lang) or self.values.get(DEFAULT_LANGUAGE, ())

    def has(self, lang: str) -> bool:
        return bool(self.values.get(lang))


@dataclass(frozen=True)
class Source:
    slug: str
    label: Text
    demo: bool


@dataclass(frozen=True)
class Facts:
    population: int
    size_class: str
    landscape: tuple[str, ...]
    winter_sports: bool
    rail_station: bool
    secondary_schools: tuple[str, ...]
    hospital: bool
    university_nearby: bool
    travel_minutes: Mapping[str, int]
    kitas: int
    playgrounds: int
    swimming_pool: bool
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def nearest_city(self) -> tuple[str, int]:
        city = min(self.travel_minutes, key=lambda c: (self.travel_minutes[c], c))
        return city, self.travel_minutes[city]


FACT_NAMES = tuple(f for f in Facts.__dataclass_fields__ if f != "sources")


@dataclass(frozen=True)
class Municipality:
    slug: str
    name: str
    district: str
    welcome: Text
    highlights: TextList
    highlights_source: str
    contact_name: str
    contact_email: str
    facts: Facts


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    intro: Text
    municipalities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organisation:
    slug: str
    kind: str
    name: str
    email: str
    covers: tuple[str, ...] = ()  # municipality slugs this organisation covers


@dataclass(frozen=True)
class Region:
    title: Text
    tagline: Text
    ack_reminder_days: int
    sources: Mapping[str, Source]
    districts: Mapping[str, District]
    municipalities: Mapping[str, Municipality]
    organisations: Mapping[str, Organisation]
    # Routing: the agency also receives a lead whose consents would leave it
    # with no recipient at all (content: [campaign] agency_fallback_when_unrouted).
    agency_fallback_when_unrouted: bool = True

    def district_of(self, slug: str) -> District:
        return self.districts[self.municipalities[slug].district]

    def in_district(self, district: str) -> list[Municipality]:
        return [self.municipalities[s] for s in self.districts[district].municipalities]

    def orgs_of_kind(self, kind: str) -> list[Organisation]:
        return [o for o in self.organisations.values() if o.kind == kind]

    def covering(self, municipality: str, kind: str) -> list[Organisation]:
        return [o for o in self.orgs_of_kind(kind) if municipality in o.covers]


@dataclass(frozen=True)
class Content:
    """Everything the service reads from content files, loaded once at start-up."""

    region: Region
    extras: Mapping[str, Any] = field(default_factory=dict)


# -- validation helpers -----------------------------------------------------


class _Checker:
    def __init__(self, file: str, entry: str = "") -> None:
        self.file, self.entry = file, entry

    def fail(self, fld: str, message: str) -> ContentError:
        return ContentError(self.file, self.entry, fld, message)

    def get(self, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
            prefix: str = "") -> Any:
        name = prefix + key
        if key not in data:
            raise self.fail(name, "missing")
        value = data[key]
        if isinstance(value, bool) and kind in (int, float):
            raise self.fail(name, f"expected {kind.__name__}, got true/false")
        if not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(name, f"expected {want}, got {type(value).__name__}")
        return value

    def slug(self, data: Mapping[str, Any], key: str = "slug") -> str:
        value = self.get(data, key, str)
        if not SLUG_RE.match(value):
            raise self.fail(key, f"{value!r} is not a slug (lowercase letters, digits, hyphens)")
        return value

    def email(self, data: Mapping[str, Any], key: str, prefix: str = "") -> str:
        value = self.get(data, key, str, prefix)
        if not EMAIL_RE.match(value):
            raise self.fail(prefix + key, f"{value!r} is not a valid e-mail address")
        return value

    def text(self, data: Mapping[str, Any], key: str, required: bool = True) -> Text:
        if key not in data and not required:
            return Text(MappingProxyType({}))
        value = self.get(data, key, (str, dict))
        if isinstance(value, str):
            value = {DEFAULT_LANGUAGE: value}
        out: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.fail(f"{key}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{key}.{lang}", "expected a non-empty string")
            out[lang] = text.strip()
        if DEFAULT_LANGUAGE not in out:
            raise self.fail(f"{key}.{DEFAULT_LANGUAGE}", "missing (German is required)")
        return Text(MappingProxyType(out))

    def choice_list(self, value: Any, fld: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(fld, "expected a list of strings")
        for v in value:
            if v not in allowed:
                raise self.fail(fld, f"unknown value {v!r} (allowed: {', '.join(allowed)})")
        if len(set(value)) != len(value):
            raise self.fail(fld, "contains a value twice")
        return tuple(value)


def read_toml(path: Path, rel: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ContentError(rel, "", "", "file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(rel, "", "", f"not valid TOML: {exc}") from None


# -- facts ------------------------------------------------------------------

_FACT_KINDS: dict[str, Callable[[_Checker, Any, str], Any]] = {}


def _fact(name: str) -> Callable[[Callable[[_Checker, Any, str], Any]], Callable[..., Any]]:
    def register(fn: Callable[[_Checker, Any, str], Any]) -> Callable[..., Any]:
        _FACT_KINDS[name] = fn
        return fn

    return register


def _nonneg_int(c: _Checker, v: Any, fld: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise c.fail(fld, "expected a whole number ≥ 0")
    return v


def _boolean(c: _Checker, v: Any, fld: str) -> bool:
    if not isinstance(v, bool):
        raise c.fail(fld, "expected true or false")
    return v


for _name in ("population", "kitas", "playgrounds"):
    _FACT_KINDS[_name] = _nonneg_int
for _name in ("winter_sports", "rail_station", "hospital", "university_nearby", "swimming_pool"):
    _FACT_KINDS[_name] = _boolean


@_fact("size_class")
def _size(c: _Checker, v: Any, fld: str) -> str:
    if v not in SIZE_CLASSES:
        raise c.fail(fld, f"unknown size class {v!r} (allowed: {', '.join(SIZE_CLASSES)})")
    return str(v)


@_fact("landscape")
def _landscape(c: _Checker, v: Any, fld: str) -> tuple[str, ...]:
    out = c.choice_list(v, fld, LANDSCAPES)
    if not out:
        raise c.fail(fld, "name at least one landscape")
    return out


@_fact("secondary_schools")
def _schools(c: _Checker, v: Any, fld: str) -> tuple[str, ...]:
    return c.choice_list(v, fld, SCHOOLS)


@_fact("travel_minutes")
def _travel(c: _Checker, v: Any, fld: str) -> Mapping[str, int]:
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


def _facts(c: _Checker, data: Any, sources: Mapping[str, Source]) -> Facts:
    if not isinstance(data, dict):
        raise c.fail("facts", "missing (add an [ort.facts] table)")
    values: dict[str, Any] = {}
    srcs: dict[str, str] = {}
    for name in FACT_NAMES:
        fld = f"facts.{name}"
        if name not in data:
            raise c.fail(fld, "missing")
        item = data[name]
        if not isinstance(item, dict) or "value" not in item:
            raise c.fail(fld, "expected { value = …, source = … }")
        source = item.get("source")
        if not isinstance(source, str) or source not in sources:
            raise c.fail(f"{fld}.source", f"unknown source {source!r} (define it under [sources])")
        values[name] = _FACT_KINDS[name](c, item["value"], f"{fld}.value")
        srcs[name] = source
    unknown = sorted(set(data) - set(FACT_NAMES))
    if unknown:
        raise c.fail(f"facts.{unknown[0]}", f"unknown fact (known: {', '.join(FACT_NAMES)})")
    return Facts(**values, sources=MappingProxyType(srcs))


def _text_list(c: _Checker, data: Mapping[str, Any], key: str) -> tuple[TextList, str]:
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


# -- loading ----------------------------------------------------------------


def _iter_entries(data: dict[str, Any], key: str, c: _Checker) -> Iterator[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise c.fail(key, "expected an array of tables ([[" + key + "]])")
    for item in items:
        if not isinstance(item, dict):
            raise c.fail(key, "expected tables")
        yield item


def load_region(content_dir: Path) -> Region:
    rel = "region.toml"
    data = read_toml(content_dir / rel, rel)
    top = _Checker(rel, "[campaign]")
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
    for slug, item in _Checker(rel).get(data, "sources", dict).items():
        c = _Checker(rel, f"source '{slug}'")
        if not SLUG_RE.match(slug) or not isinstance(item, dict):
            raise c.fail("", "expected [sources.<slug>] with label and demo")
        sources[slug] = Source(slug, c.text(item, "label"), bool(c.get(item, "demo", bool)))

    districts: dict[str, dict[str, Any]] = {}
    for item in _iter_entries(data, "district", _Checker(rel)):
        c = _Checker(rel, f"district '{item.get('slug', '?')}'")
        slug = c.slug(item)
        if slug in districts:
            raise c.fail("slug", "duplicate slug")
        districts[slug] = {"name": c.get(item, "name", str), "intro": c.text(item, "intro")}

    municipalities: dict[str, Municipality] = {}
    members: dict[str, list[str]] = {d: [] for d in districts}
    for path in sorted((content_dir / "orte").glob("*.toml")):
        frel = f"orte/{path.name}"
        odata = read_toml(path, frel)
        fc = _Checker(frel)
        district = fc.get(odata, "district", str)
        if district not in districts:
            raise fc.fail("district", f"unknown district {district!r}")
        for item in _iter_entries(odata, "ort", fc):
            c = _Checker(frel, f"ort '{item.get('slug', '?')}'")
            slug = c.slug(item)
            if slug in municipalities or slug in districts:
                raise c.fail("slug", "duplicate slug")
            contact = c.get(item, "contact", dict)
            highlights, hsource = _text_list(c, item, "highlights")
            if hsource not in sources:
                raise c.fail("highlights.source", f"unknown source {hsource!r}")
            municipalities[slug] = Municipality(
                slug=slug,
                name=c.get(item, "name", str),
                district=district,
                welcome=c.text(item, "welcome"),
                highlights=highlights,
                highlights_source=hsource,
                contact_name=c.get(contact, "name", str, "contact."),
                contact_email=c.email(contact, "email", "contact."),
                facts=_facts(c, item.get("facts"), sources),
            )
            members[district].append(slug)
    for slug, members_of in members.items():
        if not members_of:
            raise ContentError(rel, f"district '{slug}'", "", "has no municipalities in orte/")

    orgs: dict[str, Organisation] = {}
    for m in municipalities.values():
        orgs[m.slug] = Organisation(m.slug, "municipality", m.contact_name, m.contact_email,
                                    (m.slug,))
    for item in _iter_entries(data, "organisation", _Checker(rel)):
        c = _Checker(rel, f"organisation '{item.get('slug', '?')}'")
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
                                  tuple(dict.fromkeys(covers)))
    for kind in ("agency", "skilled_workers"):
        if len([o for o in orgs.values() if o.kind == kind]) != 1:
            raise ContentError(rel, "organisation", "kind", f"exactly one '{kind}' is required")

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


# Other content (quizzes, consent texts) registers a loader here so that
# check-content and start-up validate everything in one pass.
ExtraLoader = Callable[[Path, Region], Any]
EXTRA_LOADERS: dict[str, ExtraLoader] = {}


def register_loader(name: str) -> Callable[[ExtraLoader], ExtraLoader]:
    def wrap(fn: ExtraLoader) -> ExtraLoader:
        EXTRA_LOADERS[name] = fn
        return fn

    return wrap


def load_content(content_dir: Path) -> Content:
    """Load and validate every content file; raises ContentError on the first problem."""
    _import_extra_loaders()
    region = load_region(Path(content_dir))
    extras = {name: loader(Path(content_dir), region) for name, loader in EXTRA_LOADERS.items()}
    return Content(region=region, extras=MappingProxyType(extras))


def _import_extra_loaders() -> None:
    """Modules that own a kind of content register their loader on import."""
    from . import consent, quiz  # noqa: F401  (they register their loaders)
