"""WTForms forms and their labels; every message is translated when shown.

Validators here call ``gettext`` at validation time (not at import), so an
error appears in the language of the page that was posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from wtforms import Form
from wtforms.fields import (
    EmailField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .vocab import CHILD_AGES, CONSENT_GROUPS, INTERESTS, MAX_MUNICIPALITIES, TIMEFRAMES

INTEREST_LABELS = {
    "kita_schule": _l("Kita und Schule"),
    "wohnen": _l("Wohnen"),
    "arbeit": _l("Arbeit"),
    "medizin_pflege": _l("Arbeit in Medizin/Pflege"),
    "freizeit": _l("Freizeit"),
    "natur": _l("Natur"),
}
TIMEFRAME_LABELS = {
    "within_year": _l("innerhalb eines Jahres"),
    "one_to_three_years": _l("in ein bis drei Jahren"),
    "just_curious": _l("wir sind erst einmal neugierig"),
}
CHILD_AGE_LABELS = {
    "0-2": _l("0–2 Jahre"),
    "3-5": _l("3–5 Jahre"),
    "6-9": _l("6–9 Jahre"),
    "10-13": _l("10–13 Jahre"),
    "14-17": _l("14–17 Jahre"),
}

# Everything below U+0020 and DEL/C1; the message may keep line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE = re.compile(r"\+?[0-9 ()/.\-]{5,40}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,4}")

Validator = Callable[[Form, Any], None]


def single_line(form: Form, field: Any) -> None:
    """No control characters, no CR/LF: the value may end up in a mail header."""
    if any(_CONTROL.search(v) for v in field.raw_data or () if isinstance(v, str)):
        raise StopValidation(_("Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben."))


def multi_line(form: Form, field: Any) -> None:
    if any(_CONTROL_BUT_NEWLINES.search(v) for v in field.raw_data or () if isinstance(v, str)):
        raise StopValidation(_("Bitte ohne Steuerzeichen eingeben."))


def max_length(limit: int) -> Validator:
    def check(form: Form, field: Any) -> None:
        if field.data and len(field.data) > limit:
            raise StopValidation(
                _("Bitte höchstens %(max)s Zeichen eingeben (jetzt: %(now)s).")
                % {"max": limit, "now": len(field.data)})
    return check


def required(message: str) -> Validator:
    """``message`` is a lazy_gettext string: translated when the check fails."""
    def check(form: Form, field: Any) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(str(message))
    return check


def email_syntax(form: Form, field: Any) -> None:
    value = field.data or ""
    local = value.rpartition("@")[0]
    if not _EMAIL.fullmatch(value) or len(local) > 64:
        raise ValidationError(
            _("Bitte eine gültige E-Mail-Adresse eingeben, z. B. name@beispiel.de."))


def phone_syntax(form: Form, field: Any) -> None:
    if field.data and not _PHONE.fullmatch(field.data):
        raise ValidationError(_("Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden."))


def number_range(low: int, high: int) -> Validator:
    def check(form: Form, field: Any) -> None:
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(_("Bitte eine Zahl von %(low)s bis %(high)s eingeben.")
                                  % {"low": low, "high": high})
    return check


class WholeNumberField(StringField):
    """An integer input that reports bad input in the page's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        raw = str(valuelist[0]).strip()
        if not _NUMBER.fullmatch(raw):
            self.data = None
            raise ValueError(_("Bitte eine ganze Zahl eingeben."))
        self.data = int(raw)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class Choices(SelectMultipleField):
    """Several checkboxes of one name; unknown values are named in the error."""

    def pre_validate(self, form: Form) -> None:
        known = {c.value for c in self.choices or ()}
        unknown = [v for v in self.data or () if v not in known]
        if unknown:
            raise StopValidation(_("Unbekannte Auswahl: %(value)s") % {"value": unknown[0][:40]})

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = list(dict.fromkeys(str(v) for v in valuelist))


class OneChoice(RadioField):
    def pre_validate(self, form: Form) -> None:
        if self.data is not None and self.data not in {c.value for c in self.choices or ()}:
            raise StopValidation(_("Bitte eine der angebotenen Möglichkeiten wählen."))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _choices(codes: tuple[str, ...], labels: Mapping[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


class LeadForm(Form):
    """The family's interest; municipality choices come from content per instance."""

    name = StringField(_l("Name"), filters=[_strip], validators=[
        single_line, required(_l("Bitte gebt euren Namen an.")), max_length(100)])
    email = EmailField(_l("E-Mail-Adresse"), filters=[_strip], validators=[
        single_line, required(_l("Bitte gebt eure E-Mail-Adresse an.")), max_length(254),
        email_syntax])
    phone = TelField(_l("Telefon (freiwillig)"), filters=[_strip], validators=[
        single_line, max_length(40), phone_syntax])
    adults = WholeNumberField(_l("Erwachsene"), default=2, validators=[
        single_line, required(_l("Bitte gebt an, wie viele Erwachsene umziehen würden.")),
        number_range(1, 10)])
    children = WholeNumberField(_l("Kinder"), default=0, validators=[
        single_line, required(_l("Bitte gebt die Zahl der Kinder an (0, wenn keine).")),
        number_range(0, 12)])
    child_ages = Choices(_l("Alter der Kinder"), choices=_choices(CHILD_AGES, CHILD_AGE_LABELS),
                         validators=[single_line])
    interests = Choices(_l("Was interessiert euch?"),
                        choices=_choices(INTERESTS, INTEREST_LABELS), validators=[single_line])
    timeframe = OneChoice(_l("Wann könnte ein Umzug anstehen?"),
                          choices=_choices(TIMEFRAMES, TIMEFRAME_LABELS), validate_choice=False,
                          validators=[single_line])
    municipalities = Choices(_l("Orte, von denen ihr hören möchtet"), validators=[single_line])
    message = TextAreaField(_l("Nachricht (freiwillig)"), validators=[multi_line, max_length(2000)])
    consents = Choices(_l("Einwilligung"), choices=[SelectChoice(g) for g in CONSENT_GROUPS],
                       validators=[single_line])
    # Honeypot: hidden from people by CSS; bots fill every field they see.
    website = StringField(_l("Bitte dieses Feld leer lassen"))
    started = HiddenField()
    consent_version = HiddenField()
    quiz = HiddenField()
    ergebnis = HiddenField()
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()
    place = HiddenField()

    HIDDEN = ("started", "consent_version", "quiz", "ergebnis", "utm_source", "utm_medium",
              "utm_campaign", "place")
    VISIBLE = ("name", "email", "phone", "adults", "children", "child_ages", "interests",
               "timeframe", "municipalities", "message", "consents")

    def __init__(self, formdata: Any = None, *,
                 municipality_choices: list[tuple[str, str]] | list[SelectChoice],
                 **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        # Prebuilt SelectChoice lists are shared between requests (never mutated).
        self.municipalities.choices = [
            c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in municipality_choices]

    def validate_municipalities(self, field: Any) -> None:
        if len(field.data or ()) > MAX_MUNICIPALITIES:
            raise ValidationError(
                _("Bitte wählt höchstens %(max)s Orte (ihr habt %(now)s gewählt).")
                % {"max": MAX_MUNICIPALITIES, "now": len(field.data)})

    def validate_consents(self, field: Any) -> None:
        from .consent import consent_problem

        problem = consent_problem(self.municipalities.data or [], self.interests.data or [],
                                  field.data or [])
        if problem == "municipalities":
            raise ValidationError(_(
                "Ihr habt Orte gewählt: bitte stimmt der Weitergabe an diese Orte zu, "
                "sonst können sie sich nicht bei euch melden (oder nehmt die Orte heraus)."))
        if problem == "nobody":
            raise ValidationError(_(
                "Bitte stimmt mindestens einer Weitergabe zu, sonst kann sich niemand bei "
                "euch melden. Ohne gewählten Ort ist das die Südwestfalen Agentur."))

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, label, first message) of every visible field with an error."""
        out = []
        for name in self.VISIBLE:
            field = self[name]
            if field.errors:
                out.append((self.anchor(name), str(field.label.text), str(field.errors[0])))
        return out

    def anchor(self, name: str) -> str:
        """Where the error summary links: the input, or the first checkbox of a group."""
        if name in ("child_ages", "interests", "timeframe", "consents"):
            return f"{name}-0"
        if name == "municipalities":
            return "municipalities-group"
        return name

    def lead_data(self) -> dict[str, Any]:
        """The cleaned visible values, ready for the lead store."""
        return {
            "name": self.name.data.strip(),
            "email": self.email.data.strip(),
            "phone": (self.phone.data or "").strip() or None,
            "adults": self.adults.data,
            "children": self.children.data,
            "child_ages": [c for c in CHILD_AGES if c in (self.child_ages.data or ())],
            "interests": [c for c in INTERESTS if c in (self.interests.data or ())],
            "timeframe": self.timeframe.data or None,
            "municipalities": list(self.municipalities.data or ()),
            "message": (self.message.data or "").replace("\r\n", "\n").strip() or None,
            "consents": [g for g in CONSENT_GROUPS if g in (self.consents.data or ())],
        }


class ResendForm(Form):
    email = EmailField(_l("E-Mail-Adresse"), filters=[_strip], validators=[
        single_line, required(_l("Bitte gebt eure E-Mail-Adresse an.")), max_length(254),
        email_syntax])


def parse_list(raw: str | None, allowed: Any, limit: int) -> list[str]:
    """``a,b,c`` from a query string: known codes only, each once, at most ``limit``."""
    if not raw:
        return []
    out: list[str] = []
    for part in raw.split(","):
        code = part.strip().lower()
        if code in allowed and code not in out:
            out.append(code)
    return out[:limit]
