"""The rules of the lead form as pure functions: what is refused, and why.

A POST is checked by ``check_lead`` alone. Building WTForms fields for the
twenty inputs of the form cost more CPU than storing the lead (bench/load.py),
so the WTForms ``LeadForm`` only renders the form and, after a refused
submission, shows the messages found here. ``ResendForm``'s validators call
the same single-field checks, so every rule lives once.

Messages are looked up with ``gettext`` when a check fails, in the language
of the page that was posted. Each field reports its first problem only; the
order of the checks decides which one that is.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .consent import consent_problem
from .i18n import gettext as _
from .mail import DOT_ATOM_LOCAL
from .vocab import CHILD_AGES, CONSENT_GROUPS, INTERESTS, MAX_MUNICIPALITIES, TIMEFRAMES

# Everything below U+0020 and DEL/C1; a message may keep its line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_EMAIL = re.compile(
    DOT_ATOM_LOCAL + r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE = re.compile(r"\+?[0-9 ()/.\-]{5,40}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,4}")

Values = Mapping[str, Sequence[str]]  # field name -> every value sent under it

# The visible fields in the order of the form (and of the error summary).
VISIBLE = ("name", "email", "phone", "adults", "children", "child_ages", "interests",
           "timeframe", "municipalities", "message", "consents")
SINGLE_LINE = tuple(name for name in VISIBLE if name != "message")


# -- single-value checks (shared with the WTForms validators in campaign.forms) ----

def line_problem(values: Iterable[Any]) -> str | None:
    """No control characters and no CR/LF: the value may end up in a mail header."""
    if any(isinstance(v, str) and _CONTROL.search(v) for v in values):
        return _("Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben.")
    return None


def text_problem(values: Iterable[Any]) -> str | None:
    """Control characters in a multi-line text (line breaks are fine)."""
    if any(isinstance(v, str) and _CONTROL_BUT_NEWLINES.search(v) for v in values):
        return _("Bitte ohne Steuerzeichen eingeben.")
    return None


def length_problem(value: str | None, limit: int) -> str | None:
    if value and len(value) > limit:
        return (_("Bitte höchstens %(max)s Zeichen eingeben (jetzt: %(now)s).")
                % {"max": limit, "now": len(value)})
    return None


def email_problem(value: str | None) -> str | None:
    value = value or ""
    if not _EMAIL.fullmatch(value) or len(value.rpartition("@")[0]) > 64:
        return _("Bitte eine gültige E-Mail-Adresse eingeben, z. B. name@beispiel.de.")
    return None


def phone_problem(value: str | None) -> str | None:
    if value and not _PHONE.fullmatch(value):
        return _("Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden.")
    return None


def whole_number(raw: str | None) -> tuple[int | None, str | None]:
    """(number, problem) of a number input; blank is (None, None)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not _NUMBER.fullmatch(text):
        return None, _("Bitte eine ganze Zahl eingeben.")
    return int(text), None


def range_problem(number: int | None, low: int, high: int) -> str | None:
    if number is not None and not low <= number <= high:
        return (_("Bitte eine Zahl von %(low)s bis %(high)s eingeben.")
                % {"low": low, "high": high})
    return None


def unknown_problem(chosen: Sequence[str], known: Container[str]) -> str | None:
    """A checkbox value the form never offered (a bot, or an outdated page)."""
    for value in chosen:
        if value not in known:
            return _("Unbekannte Auswahl: %(value)s") % {"value": value[:40]}
    return None


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


# -- the whole lead form -------------------------------------------------------------

@dataclass(frozen=True)
class Checked:
    """The cleaned lead (meaningful only when ``errors`` is empty) and the first
    problem of each visible field, by field name, in the order of the form."""

    data: dict[str, Any]
    errors: dict[str, str]


def group_values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs (as sent, repeated names allowed) grouped by name."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def first(values: Values, name: str) -> str | None:
    """The first value sent under ``name`` (what a single input shows), or None."""
    got = values.get(name)
    return got[0] if got else None


def check_lead(values: Values, municipalities: Container[str]) -> Checked:
    """Check a lead submission; ``municipalities`` are the slugs the form offers."""
    errors: dict[str, str] = {}

    def problem(name: str, *checks: str | bool | None) -> None:
        """The first check that found something (a message) names the field's problem."""
        for found in checks:
            if isinstance(found, str) and found:
                errors[name] = found
                return

    raw = {name: list(values.get(name) or ()) for name in VISIBLE}
    # One search over all single-line values; only a hit looks field by field.
    line = line_problem if _CONTROL.search("".join(
        v for name in SINGLE_LINE for v in raw[name] if isinstance(v, str))) else _fine
    name = _stripped(first(values, "name"))
    email = _stripped(first(values, "email"))
    phone = _stripped(first(values, "phone"))
    message = first(values, "message")
    adults, adults_error = whole_number(first(values, "adults"))
    children, children_error = whole_number(first(values, "children"))
    child_ages = _distinct(raw["child_ages"])
    interests = _distinct(raw["interests"])
    towns = _distinct(raw["municipalities"])
    consents = _distinct(raw["consents"])
    timeframe = first(values, "timeframe")

    problem("name", line(raw["name"]),
            _blank(name) and _("Bitte gebt euren Namen an."), length_problem(name, 100))
    problem("email", line(raw["email"]),
            _blank(email) and _("Bitte gebt eure E-Mail-Adresse an."),
            length_problem(email, 254), email_problem(email))
    problem("phone", line(raw["phone"]), length_problem(phone, 40), phone_problem(phone))
    problem("adults", adults_error, line(raw["adults"]),
            adults is None and _("Bitte gebt an, wie viele Erwachsene umziehen würden."),
            range_problem(adults, 1, 10))
    problem("children", children_error, line(raw["children"]),
            children is None and _("Bitte gebt die Zahl der Kinder an (0, wenn keine)."),
            range_problem(children, 0, 12))
    problem("child_ages", unknown_problem(child_ages, CHILD_AGES), line(raw["child_ages"]))
    problem("interests", unknown_problem(interests, INTERESTS), line(raw["interests"]))
    problem("timeframe",
            timeframe is not None and timeframe not in TIMEFRAMES
            and _("Bitte eine der angebotenen Möglichkeiten wählen."),
            line(raw["timeframe"]))
    problem("municipalities", unknown_problem(towns, municipalities),
            line(raw["municipalities"]),
            len(towns) > MAX_MUNICIPALITIES
            and _("Bitte wählt höchstens %(max)s Orte (ihr habt %(now)s gewählt).")
            % {"max": MAX_MUNICIPALITIES, "now": len(towns)})
    problem("message", text_problem(raw["message"]), length_problem(message, 2000))
    problem("consents", unknown_problem(consents, CONSENT_GROUPS), line(raw["consents"]),
            _consent_message(consent_problem(towns, interests, consents)))

    data = {
        "name": name,
        "email": email,
        "phone": phone or None,
        "adults": adults,
        "children": children,
        "child_ages": [c for c in CHILD_AGES if c in child_ages],
        "interests": [c for c in INTERESTS if c in interests],
        "timeframe": timeframe or None,
        "municipalities": towns,
        "message": (message or "").replace("\r\n", "\n").strip() or None,
        "consents": [g for g in CONSENT_GROUPS if g in consents],
    }
    return Checked(data, {k: errors[k] for k in VISIBLE if k in errors})


def _fine(values: Iterable[Any]) -> None:
    return None


def _stripped(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _consent_message(problem: str | None) -> str | None:
    if problem == "municipalities":
        return _("Ihr habt Orte gewählt: bitte stimmt der Weitergabe an diese Orte zu, "
                 "sonst können sie sich nicht bei euch melden (oder nehmt die Orte heraus).")
    if problem == "nobody":
        return _("Bitte stimmt mindestens einer Weitergabe zu, sonst kann sich niemand bei "
                 "euch melden. Ohne gewählten Ort ist das die Südwestfalen Agentur.")
    return None
