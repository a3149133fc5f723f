"""The rules of the lead form as pure functions: what is refused, and why.

The WTForms validators of ``campaign.leads.form`` call these, so the form
that renders the page is the one that checks the POST. Messages are looked
up with ``gettext`` when a check fails, in the language of the page posted.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence

from ..content.consent import ordered
from ..core.i18n import gettext as _
from ..core.vocab import SKILLED_WORK_INTEREST

# Everything below U+0020 and DEL/C1; a message may keep its line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# A plain dot-atom address (RFC 5322 atext between dots) at a host name.
_DOT_ATOM_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_EMAIL = re.compile(
    _DOT_ATOM_LOCAL + r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_PHONE = re.compile(r"\+?[0-9 ()/.\-]{5,40}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,4}")


def line_problem(values: Iterable[object]) -> str | None:
    """No control characters and no CR/LF: the value may end up in a mail header."""
    if any(isinstance(v, str) and _CONTROL.search(v) for v in values):
        return _("Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben.")
    return None


def text_problem(values: Iterable[object]) -> str | None:
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


# -- consent ---------------------------------------------------------------------------


def receiving_groups(municipalities: Sequence[str], interests: Sequence[str]) -> list[str]:
    """Consent groups that could receive a lead with these choices (as routing does)."""
    groups = ["municipalities", "tourism"] if municipalities else ["agency"]
    if SKILLED_WORK_INTEREST in interests:
        groups.append("skilled_workers")
    return ordered(groups)


def consent_problem(municipalities: Sequence[str], interests: Sequence[str],
                    consents: Sequence[str]) -> str | None:
    """Which rule the consent choice breaks, as a code; None when fine.

    ``municipalities``: towns chosen but not the consent to tell them;
    ``nobody``: with these consents no organisation could ever contact the family.
    """
    if municipalities and "municipalities" not in consents:
        return "municipalities"
    if not set(consents) & set(receiving_groups(municipalities, interests)):
        return "nobody"
    return None


def consent_message(problem: str | None) -> str | None:
    if problem == "municipalities":
        return _("Bitte stimmen Sie der Weitergabe an die Orte zu.")
    if problem == "nobody":
        return _("Bitte kreuzen Sie mindestens eine Weitergabe an.")
    return None


def parse_list(raw: str | None, allowed: Container[str], limit: int) -> list[str]:
    """``a,b,c`` from a query string: known codes only, each once, at most ``limit``."""
    if not raw:
        return []
    out: list[str] = []
    for part in raw.split(","):
        code = part.strip().lower()
        if code in allowed and code not in out:
            out.append(code)
    return out[:limit]
