"""The region model: frozen dataclasses loaded from the content files.

Content is data edited by people (region, municipalities with sourced facts,
organisations and who covers what); it is immutable while the service runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.i18n import DEFAULT_LANGUAGE

SIZE_CLASSES = ("landgemeinde", "kleinstadt", "mittelstadt", "grossstadt")
LANDSCAPES = ("lakes", "forest", "mountains", "rivers", "fields")
SCHOOLS = ("gymnasium", "realschule", "gesamtschule", "sekundarschule", "hauptschule")
CITIES = ("dortmund", "koeln", "frankfurt")


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
    """What a family can check about a town. A fact that is ``None`` is not known yet:
    pages show nothing for it and the quiz does not count it, until the town fills it in."""

    size_class: str
    landscape: tuple[str, ...]
    winter_sports: bool
    rail_station: bool
    secondary_schools: tuple[str, ...]
    hospital: bool
    university_nearby: bool
    swimming_pool: bool
    # by car; computed from the coordinates unless the content gives them (travel_estimated)
    travel_minutes: Mapping[str, int]
    population: int | None = None
    area_km2: float | None = None
    kitas: int | None = None
    playgrounds: int | None = None
    motorway_exit: str | None = None
    # What a family can look up, as the town states it: one Kita with its opening
    # hours, the train from the town's station (line, destination, travel time).
    kita_named: str | None = None
    train: str | None = None
    distance_km: Mapping[str, int] = field(default_factory=dict)
    travel_estimated: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def nearest_city(self) -> tuple[str, int]:
        city = min(self.travel_minutes, key=lambda c: (self.travel_minutes[c], c))
        return city, self.travel_minutes[city]


# Facts a content file may give; the optional ones may be left out (unknown).
FACT_NAMES = tuple(f for f in Facts.__dataclass_fields__
                   if f not in ("sources", "distance_km", "travel_estimated"))
OPTIONAL_FACTS = ("population", "area_km2", "kitas", "playgrounds", "motorway_exit",
                  "kita_named", "train", "travel_minutes")
# The source named for travel times computed from coordinates (region.toml [sources]).
COMPUTED_SOURCE = "luftlinie"


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
    # Town centre (WGS84 degrees), where the region map puts the municipality.
    lat: float = 0.0
    lon: float = 0.0


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    intro: Text
    municipalities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organisation:
    slug: str
    kind: str  # municipality | tourism | agency | skilled_workers
    name: str
    email: str
    covers: tuple[str, ...] = ()  # municipality slugs this organisation covers
    # Working days (NRW) within which a routed lead should get its first contact.
    response_days: int = 2


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

    def agency(self) -> Organisation | None:
        return next(iter(self.orgs_of_kind("agency")), None)

    def municipality_names(self, slugs: tuple[str, ...] | list[str]) -> list[str]:
        return [self.municipalities[s].name for s in slugs if s in self.municipalities]
