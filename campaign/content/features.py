"""What a quiz may weigh: features of a municipality derived from its facts.

A feature is a fact, or one value of a fact such as ``landscape:lakes``;
each maps the facts to a number between 0 and 1. Quiz files name features
(checked on load) and the scoring in ``campaign.quiz`` adds them up. Reasons
are kept as codes and translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.i18n import N_
from .model import CITIES, LANDSCAPES, SCHOOLS, SIZE_CLASSES, Facts

# Travel time counts fully up to 30 minutes and nothing from 120 minutes on.
TRAVEL_FULL, TRAVEL_NONE = 30, 120
KITA_TARGET, PLAYGROUND_TARGET = 10, 20

BOOLEAN_FEATURES = {
    "winter_sports": N_("Wintersport direkt vor Ort"),
    "rail_station": N_("Bahnhof im Ort"),
    "hospital": N_("Krankenhaus im Ort"),
    "university_nearby": N_("Hochschule in der Nähe"),
    "swimming_pool": N_("Schwimmbad im Ort"),
}
VALUE_FEATURES: dict[str, dict[str, str]] = {
    "landscape": dict(zip(LANDSCAPES, (
        N_("See in der Nähe"), N_("Wald vor der Haustür"), N_("Berge ringsum"),
        N_("Am Fluss gelegen"), N_("Weite Felder ringsum")))),
    "secondary_schools": dict(zip(SCHOOLS, (
        N_("Gymnasium im Ort"), N_("Realschule im Ort"), N_("Gesamtschule im Ort"),
        N_("Sekundarschule im Ort"), N_("Hauptschule im Ort")))),
    "size_class": dict(zip(SIZE_CLASSES, (
        N_("Gemeinde auf dem Land"), N_("Überschaubare Kleinstadt"),
        N_("Mittelstadt mit allem Nötigen"), N_("Großstadt")))),
}
ANY_SCHOOL = N_("Weiterführende Schulen im Ort: %(schools)s")
SCHOOL_NAMES = dict(zip(SCHOOLS, (N_("Gymnasium"), N_("Realschule"), N_("Gesamtschule"),
                                  N_("Sekundarschule"), N_("Hauptschule"))))
TRAVEL_TARGETS = (*CITIES, "nearest")
TRAVEL_TEXT = N_("nach %(city)s etwa %(minutes)s Minuten mit dem Auto")
TRAVEL_ESTIMATED_TEXT = N_("nach %(city)s etwa %(minutes)s Minuten mit dem Auto (geschätzt)")
CITY_NAMES = {"dortmund": N_("Dortmund"), "koeln": N_("Köln"), "frankfurt": N_("Frankfurt")}
COUNT_FEATURES = {
    "kitas": (KITA_TARGET, N_("%(num)s Kitas im Ort")),
    "playgrounds": (PLAYGROUND_TARGET, N_("%(num)s Spielplätze")),
}
# A reason names what a family can look up when the town has stated it (its own words,
# in German): one Kita with its opening hours, the train from its station.
NAMED_TEXT = {
    "kitas": ("kita_named", N_("%(num)s Kitas im Ort, zum Beispiel: %(named)s")),
    "rail_station": ("train", N_("Bahnhof im Ort: %(named)s")),
}


def feature_names() -> list[str]:
    names = list(BOOLEAN_FEATURES) + list(COUNT_FEATURES) + ["secondary_schools"]
    for fact, values in VALUE_FEATURES.items():
        names += [f"{fact}:{v}" for v in values]
    return names + [f"travel_minutes:{t}" for t in TRAVEL_TARGETS]


def check_feature(name: str) -> str | None:
    """None when ``name`` is a known feature, else why not (for content errors)."""
    fact, _, sub = name.partition(":")
    if fact in BOOLEAN_FEATURES or fact in COUNT_FEATURES:
        return f"{fact} takes no ':value'" if sub else None
    if fact == "secondary_schools" and not sub:
        return None
    if fact in VALUE_FEATURES:
        allowed = tuple(VALUE_FEATURES[fact])
    elif fact == "travel_minutes":
        allowed = TRAVEL_TARGETS
    else:
        known = sorted({*BOOLEAN_FEATURES, *COUNT_FEATURES, *VALUE_FEATURES, "travel_minutes"})
        return f"unknown fact {fact!r} (known: {', '.join(known)})"
    if not sub:
        return f"{fact} needs a value, e.g. {fact}:{allowed[0]}"
    if sub not in allowed:
        return f"unknown value {sub!r} for {fact} (allowed: {', '.join(allowed)})"
    return None


def _travel(facts: Facts, target: str) -> tuple[str, int]:
    return facts.nearest_city if target == "nearest" else (target, facts.travel_minutes[target])


def feature_value(name: str, facts: Facts) -> float:
    """How much of the feature a municipality has, between 0 and 1."""
    fact, _, sub = name.partition(":")
    if fact in BOOLEAN_FEATURES:
        return 1.0 if getattr(facts, fact) else 0.0
    if fact in COUNT_FEATURES:
        target = COUNT_FEATURES[fact][0]
        count: int | None = getattr(facts, fact)
        return 0.0 if count is None else min(count, target) / target
    if fact == "travel_minutes":
        minutes = _travel(facts, sub)[1]
        share = (TRAVEL_NONE - minutes) / (TRAVEL_NONE - TRAVEL_FULL)
        return max(0.0, min(1.0, share))
    if fact == "secondary_schools" and not sub:
        return 1.0 if facts.secondary_schools else 0.0
    value = getattr(facts, fact)
    present = sub in value if isinstance(value, tuple) else value == sub
    return 1.0 if present else 0.0


@dataclass(frozen=True)
class Reason:
    """Why a municipality fits: a feature and the facts to name (minutes, a count)."""

    feature: str
    params: Mapping[str, Any]

    def text(self, gettext: Callable[[str], str] = N_) -> str:
        """The reason in the language of ``gettext`` (German by default)."""
        fact, _, sub = self.feature.partition(":")
        if self.params.get("named"):
            return gettext(NAMED_TEXT[fact][1]) % dict(self.params)
        if fact in BOOLEAN_FEATURES:
            return gettext(BOOLEAN_FEATURES[fact])
        if fact in COUNT_FEATURES:
            return gettext(COUNT_FEATURES[fact][1]) % dict(self.params)
        if fact == "travel_minutes":
            city = gettext(CITY_NAMES[self.params["city"]])
            text = TRAVEL_ESTIMATED_TEXT if self.params.get("estimated") else TRAVEL_TEXT
            return gettext(text) % {"minutes": self.params["minutes"], "city": city}
        if fact == "secondary_schools" and not sub:
            schools = ", ".join(gettext(SCHOOL_NAMES[s]) for s in self.params["schools"])
            return gettext(ANY_SCHOOL) % {"schools": schools}
        return gettext(VALUE_FEATURES[fact][sub])


def reason(feature: str, facts: Facts) -> Reason:
    fact, _, sub = feature.partition(":")
    named = getattr(facts, NAMED_TEXT[fact][0]) if fact in NAMED_TEXT else None
    if fact in COUNT_FEATURES:
        return Reason(feature, {"num": getattr(facts, fact), **({"named": named} if named else {})})
    if named:
        return Reason(feature, {"named": named})
    if fact == "travel_minutes":
        city, minutes = _travel(facts, sub)
        return Reason(feature, {"city": city, "minutes": minutes,
                                "estimated": facts.travel_estimated})
    if fact == "secondary_schools" and not sub:
        return Reason(feature, {"schools": facts.secondary_schools})
    return Reason(feature, {})
