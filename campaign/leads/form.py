"""The interest form and the new-link form (WTForms): rendering and checking are one.

Each field's validators call the pure rules of ``campaign.leads.rules`` in a
fixed order and stop at the first problem, so a field shows one message; the
error summary lists them in the order of the form. The municipality choices
come from content, per form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
from wtforms.validators import StopValidation

from ..core.i18n import lazy_gettext as _l
from ..core.vocab import (
    CHILD_AGE_LABELS,
    CHILD_AGES,
    CONSENT_GROUPS,
    INTEREST_LABELS,
    INTERESTS,
    MAX_MUNICIPALITIES,
    TIMEFRAME_LABELS,
    TIMEFRAMES,
)
from . import rules

Check = Callable[[Form, Any], None]


def _stop(problem: str | None | bool) -> None:
    if isinstance(problem, str) and problem:
        raise StopValidation(problem)


def single_line(form: Form, field: Any) -> None:
    """No control characters, no CR/LF: the value may end up in a mail header."""
    _stop(rules.line_problem(field.raw_data or ()))


def multi_line(form: Form, field: Any) -> None:
    _stop(rules.text_problem(field.raw_data or ()))


def required(message: str) -> Check:
    """``message`` is a lazy_gettext string: translated when the check fails."""
    def check(form: Form, field: Any) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(str(message))
    return check


def max_length(limit: int) -> Check:
    def check(form: Form, field: Any) -> None:
        _stop(rules.length_problem(field.data, limit))
    return check


def email_syntax(form: Form, field: Any) -> None:
    _stop(rules.email_problem(field.data))


def phone_syntax(form: Form, field: Any) -> None:
    _stop(rules.phone_problem(field.data))


def number_syntax(form: Form, field: Any) -> None:
    _stop(field.number_problem)


def in_range(low: int, high: int) -> Check:
    def check(form: Form, field: Any) -> None:
        _stop(rules.range_problem(field.data, low, high))
    return check


def offered(form: Form, field: Any) -> None:
    """Every chosen value is one the form offered."""
    _stop(rules.unknown_problem(field.data or [], [c.value for c in field.choices]))


def one_of(codes: Sequence[str]) -> Check:
    def check(form: Form, field: Any) -> None:
        if field.data is not None and field.data not in codes:
            raise StopValidation(str(_l("Bitte eine der angebotenen Möglichkeiten wählen.")))
    return check


def at_most(limit: int) -> Check:
    def check(form: Form, field: Any) -> None:
        chosen = field.data or []
        if len(chosen) > limit:
            raise StopValidation(
                str(_l("Bitte wählen Sie höchstens %(max)s Orte (Sie haben %(now)s gewählt)."))
                % {"max": limit, "now": len(chosen)})
    return check


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(StringField):
    """A number input that shows back exactly what was typed."""

    number_problem: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data, self.number_problem = rules.whole_number(
            str(valuelist[0]) if valuelist else None)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class Choices(SelectMultipleField):
    """Several checkboxes of one name, each value once."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = list(dict.fromkeys(str(v) for v in valuelist))

    def pre_validate(self, form: Form) -> None:
        """Unknown values are one of our own checks (with our own message)."""


class OneChoice(RadioField):
    def pre_validate(self, form: Form) -> None:
        """Checked by ``one_of`` with our own message."""


def _checked(number: int | None) -> int:
    """A required number after validation (``required`` refused None)."""
    if number is None:
        raise ValueError("cleaned() before validate()")
    return number


def _choices(codes: tuple[str, ...], labels: Mapping[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


@dataclass(frozen=True)
class LeadData:
    """A submission that passed every rule, cleaned."""

    name: str
    email: str
    phone: str | None
    adults: int
    children: int
    child_ages: tuple[str, ...]
    interests: tuple[str, ...]
    timeframe: str | None
    municipalities: tuple[str, ...]
    message: str | None
    consents: tuple[str, ...]


class ContactFields(Form):
    """Who the family is and how to reach it: the first fields of every family form
    that makes a lead (the interest form and the offers' forms)."""

    name = StringField(_l("Name"), [
        single_line, required(_l("Bitte geben Sie Ihren Namen an.")), max_length(100)],
        filters=[_strip])
    email = EmailField(_l("E-Mail-Adresse"), [
        single_line, required(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")), max_length(254),
        email_syntax], filters=[_strip])
    phone = TelField(_l("Telefon (freiwillig)"), [single_line, max_length(40), phone_syntax],
                     filters=[_strip])


class LeadForm(ContactFields):
    """The family's interest form."""

    adults = WholeNumberField(_l("Erwachsene"), [
        number_syntax, single_line,
        required(_l("Bitte geben Sie an, wie viele Erwachsene umziehen würden.")), in_range(1, 10)],
        default=2)
    children = WholeNumberField(_l("Kinder"), [
        number_syntax, single_line,
        required(_l("Bitte geben Sie die Zahl der Kinder an (0, wenn keine).")), in_range(0, 12)],
        default=0)
    child_ages = Choices(_l("Alter der Kinder"), [offered, single_line],
                         choices=_choices(CHILD_AGES, CHILD_AGE_LABELS))
    interests = Choices(_l("Was interessiert Sie?"), [offered, single_line],
                        choices=_choices(INTERESTS, INTEREST_LABELS))
    timeframe = OneChoice(_l("Wann könnte ein Umzug anstehen?"),
                          [one_of(TIMEFRAMES), single_line],
                          choices=_choices(TIMEFRAMES, TIMEFRAME_LABELS))
    municipalities = Choices(_l("Orte, von denen Sie hören möchten"),
                             [offered, single_line, at_most(MAX_MUNICIPALITIES)])
    message = TextAreaField(_l("Nachricht (freiwillig)"), [multi_line, max_length(2000)])
    consents = Choices(_l("Einwilligung"), [offered, single_line],
                       choices=[SelectChoice(g) for g in CONSENT_GROUPS])
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
    # The visible fields in the order of the form (and of the error summary).
    VISIBLE = ("name", "email", "phone", "adults", "children", "child_ages", "interests",
               "timeframe", "municipalities", "message", "consents")

    def __init__(self, formdata: Any = None, *, municipalities: Sequence[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.municipalities.choices = [SelectChoice(slug, name) for slug, name in municipalities]

    def validate_consents(self, field: Any) -> None:
        """The consent choice must let the chosen places (or someone) answer."""
        problem = rules.consent_problem(self.municipalities.data or [],
                                        self.interests.data or [], field.data or [])
        _stop(rules.consent_message(problem))

    def cleaned(self) -> LeadData:
        """The submission as stored (call after ``validate()`` returned True)."""
        return LeadData(
            name=self.name.data,
            email=self.email.data,
            phone=self.phone.data or None,
            adults=_checked(self.adults.data),
            children=_checked(self.children.data),
            child_ages=tuple(c for c in CHILD_AGES if c in self.child_ages.data),
            interests=tuple(c for c in INTERESTS if c in self.interests.data),
            timeframe=self.timeframe.data or None,
            municipalities=tuple(self.municipalities.data),
            message=(self.message.data or "").replace("\r\n", "\n").strip() or None,
            consents=tuple(g for g in CONSENT_GROUPS if g in self.consents.data),
        )

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, label, first message) of every visible field with an error."""
        out = []
        for name in self.VISIBLE:
            field = self[name]
            if field.errors:
                out.append((self.anchor(name), str(field.label.text), str(field.errors[0])))
        return out

    @staticmethod
    def anchor(name: str) -> str:
        """Where the error summary links: the input, or the first checkbox of a group."""
        if name in ("child_ages", "interests", "timeframe", "consents"):
            return f"{name}-0"
        if name == "municipalities":
            return "municipalities-group"
        return name


class ResendForm(Form):
    email = EmailField(_l("E-Mail-Adresse"), [
        single_line, required(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")), max_length(254),
        email_syntax], filters=[_strip])
