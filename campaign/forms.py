"""WTForms forms and their labels; every message is translated when shown.

The checks behind the validators are the pure functions of campaign.lead_rules;
they call ``gettext`` when a check fails (not at import), so an error appears
in the language of the page that was posted.
"""

from __future__ import annotations

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

from .i18n import lazy_gettext as _l
from .lead_rules import VISIBLE, email_problem, length_problem, line_problem, whole_number
from .vocab import CHILD_AGES, CONSENT_GROUPS, INTERESTS, TIMEFRAMES

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

Validator = Callable[[Form, Any], None]


# WTForms validators over the pure checks of campaign.lead_rules (one rule, one place).

def single_line(form: Form, field: Any) -> None:
    """No control characters, no CR/LF: the value may end up in a mail header."""
    problem = line_problem(field.raw_data or ())
    if problem:
        raise StopValidation(problem)


def max_length(limit: int) -> Validator:
    def check(form: Form, field: Any) -> None:
        problem = length_problem(field.data, limit)
        if problem:
            raise StopValidation(problem)
    return check


def required(message: str) -> Validator:
    """``message`` is a lazy_gettext string: translated when the check fails."""
    def check(form: Form, field: Any) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(str(message))
    return check


def email_syntax(form: Form, field: Any) -> None:
    problem = email_problem(field.data)
    if problem:
        raise ValidationError(problem)


class WholeNumberField(StringField):
    """A number input that shows back exactly what was typed (checked in lead_rules)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = whole_number(str(valuelist[0]) if valuelist else None)[0]

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class Choices(SelectMultipleField):
    """Several checkboxes of one name, each value once."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = list(dict.fromkeys(str(v) for v in valuelist))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _choices(codes: tuple[str, ...], labels: Mapping[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


class LeadForm(Form):
    """Renders the family's interest form; the rules are in campaign.lead_rules.

    Municipality choices come from content per instance."""

    name = StringField(_l("Name"), filters=[_strip])
    email = EmailField(_l("E-Mail-Adresse"), filters=[_strip])
    phone = TelField(_l("Telefon (freiwillig)"), filters=[_strip])
    adults = WholeNumberField(_l("Erwachsene"), default=2)
    children = WholeNumberField(_l("Kinder"), default=0)
    child_ages = Choices(_l("Alter der Kinder"), choices=_choices(CHILD_AGES, CHILD_AGE_LABELS))
    interests = Choices(_l("Was interessiert euch?"), choices=_choices(INTERESTS, INTEREST_LABELS))
    timeframe = RadioField(_l("Wann könnte ein Umzug anstehen?"),
                           choices=_choices(TIMEFRAMES, TIMEFRAME_LABELS), validate_choice=False)
    municipalities = Choices(_l("Orte, von denen ihr hören möchtet"))
    message = TextAreaField(_l("Nachricht (freiwillig)"))
    consents = Choices(_l("Einwilligung"), choices=[SelectChoice(g) for g in CONSENT_GROUPS])
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
    VISIBLE = VISIBLE

    def __init__(self, formdata: Any = None, *,
                 municipality_choices: list[tuple[str, str]] | list[SelectChoice],
                 **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        # Prebuilt SelectChoice lists are shared between requests (never mutated).
        self.municipalities.choices = [
            c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in municipality_choices]

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Attach what campaign.lead_rules.check_lead found, field by field."""
        for name, message in errors.items():
            self[name].errors = [message]

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
