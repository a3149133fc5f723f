"""The form of an offer (trial stay, visit days, job): short, one consent, and
the same checks as the interest form (``leads.form``'s validators).

It makes a ``LeadData`` like the interest form does, so the application is
stored, confirmed and routed as a lead, plus the ``applications.Choice``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from wtforms.fields import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation

from ..content.offers import Offer
from ..core.i18n import lazy_gettext as _l
from .applications import Choice
from .form import (
    ContactFields,
    LeadData,
    WholeNumberField,
    _checked,
    _strip,
    in_range,
    max_length,
    multi_line,
    number_syntax,
    required,
    single_line,
)
from .routing import OFFER_PURPOSE

# What a lead made by an offer's form says the family is interested in.
INTERESTS_OF = {"probewohnen": ("wohnen",), "kennenlerntage": ("kita_schule",)}


class OfferForm(ContactFields):
    """Name, address, family size, the dates (trial stay only) and one consent."""

    adults = WholeNumberField(_l("Erwachsene"), [
        number_syntax, single_line,
        required(_l("Bitte geben Sie an, wie viele Erwachsene kommen.")), in_range(1, 10)],
        default=2)
    children = WholeNumberField(_l("Kinder"), [
        number_syntax, single_line,
        required(_l("Bitte geben Sie die Zahl der Kinder an (0, wenn keine).")),
        in_range(0, 12)], default=0)
    starts = StringField(_l("Anreise am"), [single_line], filters=[_strip])
    weeks = SelectField(_l("Wie viele Wochen?"), [single_line], choices=[], validate_choice=False)
    message = TextAreaField(_l("Nachricht (freiwillig)"), [multi_line, max_length(2000)])
    consent = BooleanField(_l("Einwilligung"))
    website = StringField(_l("Bitte dieses Feld leer lassen"))
    started = HiddenField()
    consent_version = HiddenField()  # the texts shown: a changed text is shown again

    def __init__(self, formdata: Any = None, *, offer: Offer, today: date, **kw: Any) -> None:
        super().__init__(formdata, **kw)
        self.offer, self.today = offer, today
        self.weeks.choices = [(str(n), str(n))
                              for n in range(offer.weeks_min, offer.weeks_max + 1)]
        self.visible = ["name", "email", "phone", "adults", "children", "message", "consent"]
        if offer.kind == "probewohnen":
            self.visible[5:5] = ["starts", "weeks"]

    def validate_starts(self, field: Any) -> None:
        """A day the offer can be lived in, from tomorrow on, the stay inside its period."""
        if self.offer.kind != "probewohnen":
            return
        if not field.data:
            raise StopValidation(str(_l("Bitte wählen Sie den Tag der Anreise.")))
        try:
            day = date.fromisoformat(field.data)
        except ValueError:
            raise StopValidation(str(_l("Bitte geben Sie ein Datum an, z. B. 2027-05-01."))
                                 ) from None
        first = max(self.offer.stay_from or day, self.today + timedelta(days=1))
        last = self.offer.stay_until or day
        if not first <= day <= last or day + timedelta(weeks=self._weeks() or 1) > last \
                + timedelta(days=1):
            raise StopValidation(str(_l(
                "Bitte wählen Sie eine Anreise, bei der der ganze Aufenthalt zwischen "
                "%(first)s und %(last)s liegt.")) % {"first": first.strftime("%d.%m.%Y"),
                                                     "last": last.strftime("%d.%m.%Y")})

    def validate_weeks(self, field: Any) -> None:
        if self.offer.kind == "probewohnen" and self._weeks() is None:
            raise StopValidation(str(_l("Bitte wählen Sie eine der angebotenen Wochenzahlen.")))

    def validate_consent(self, field: Any) -> None:
        if not field.data:
            raise StopValidation(str(_l(
                "Ohne Ihre Einwilligung können wir die Angaben nicht weitergeben.")))

    def _weeks(self) -> int | None:
        allowed = range(self.offer.weeks_min, self.offer.weeks_max + 1)
        value = str(self.weeks.data or "")
        return int(value) if value.isdigit() and int(value) in allowed else None

    def cleaned(self) -> tuple[LeadData, Choice]:
        """The lead and what it chose (call after ``validate()`` returned True)."""
        o = self.offer
        trial = o.kind == "probewohnen"
        interests = INTERESTS_OF.get(o.kind) or (
            ("medizin_pflege",) if o.line == "medizin_pflege" else ("arbeit",))
        data = LeadData(
            name=self.name.data, email=self.email.data, phone=self.phone.data or None,
            adults=_checked(self.adults.data), children=_checked(self.children.data),
            child_ages=(), interests=interests, timeframe=None, municipalities=(o.municipality,),
            message=(self.message.data or "").replace("\r\n", "\n").strip() or None,
            consents=(OFFER_PURPOSE[o.kind],))
        choice = Choice(o.slug, o.kind, date.fromisoformat(self.starts.data) if trial else None,
                        self._weeks() if trial else None)
        return data, choice

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, label, first message) of every visible field with an error."""
        return [(name, str(self[name].label.text), str(self[name].errors[0]))
                for name in self.visible if self[name].errors]
