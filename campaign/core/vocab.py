"""Codes shared by the lead form, content, routing, mails and the portal.

Codes are stored in the database and never shown; labels are translated
where they are displayed (the German label is the msgid, so ``german()``
gives the wording for mails and exports to German offices).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .i18n import lazy_gettext as _l

# What interests the family (lead form). "medizin_pflege" routes to the
# skilled-worker contact.
INTERESTS = ("kita_schule", "wohnen", "arbeit", "medizin_pflege", "freizeit", "natur")
SKILLED_WORK_INTEREST = "medizin_pflege"
TIMEFRAMES = ("within_year", "one_to_three_years", "just_curious")
CHILD_AGES = ("0-2", "3-5", "6-9", "10-13", "14-17")

# Consent groups: one checkbox each on the lead form. A recipient is only
# included when the family consented to its group.
CONSENT_GROUPS = ("municipalities", "tourism", "skilled_workers", "agency")
# Consent purposes of offer applications (``consent.toml`` [purposes]): one
# checkbox on the offer's own form; its recipients are named by the offer.
OFFER_PURPOSES = ("trial_stay", "visit_days", "job_interest")
ORG_KINDS = ("municipality", "tourism", "agency", "skilled_workers")
ORG_KIND_TO_CONSENT = {
    "municipality": "municipalities",
    "tourism": "tourism",
    "skilled_workers": "skilled_workers",
    "agency": "agency",
}

# The stages of a lead per (lead, organisation), in the order that leads to the
# campaign's goal, and "geschlossen" (closed, with a reason) beside them.
# ``portal.stages`` decides which changes are allowed.
OPEN_STAGES = ("neu", "kontaktiert", "termin_vereinbart", "vor_ort", "umzug_geplant",
               "zugezogen", "geblieben")
CLOSED = "geschlossen"
STAGES = (*OPEN_STAGES, CLOSED)
MOVED_STAGES = ("zugezogen", "geblieben")  # the family lives here (the campaign's goal)
CLOSE_REASONS = ("anderer_ort", "plaene_geaendert", "keine_antwort", "anderes")
CALL_OUTCOMES = ("erreicht", "nicht_erreicht")
# The older name of the stages (the portal's filters and the CSV use it).
FOLLOW_UP = STAGES

MAX_MUNICIPALITIES = 5

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
STAGE_LABELS = {
    "neu": _l("neu"),
    "kontaktiert": _l("kontaktiert"),
    "termin_vereinbart": _l("Gespräch oder Besuch vereinbart"),
    "vor_ort": _l("vor Ort (Besuch oder Probewohnen)"),
    "umzug_geplant": _l("Umzug geplant"),
    "zugezogen": _l("zugezogen"),
    "geblieben": _l("nach 12 Monaten noch hier"),
    "geschlossen": _l("geschlossen"),
}
FOLLOW_UP_LABELS = STAGE_LABELS
CLOSE_REASON_LABELS = {
    "anderer_ort": _l("anderen Ort gewählt"),
    "plaene_geaendert": _l("Pläne geändert"),
    "keine_antwort": _l("keine Antwort"),
    "anderes": _l("anderes"),
}
CALL_OUTCOME_LABELS = {
    "erreicht": _l("erreicht"),
    "nicht_erreicht": _l("nicht erreicht"),
}
LANGUAGE_LABELS_DE = {"de": "Deutsch", "nl": "Niederländisch", "en": "Englisch"}


def german(labels: Mapping[str, _l], code: str | None) -> str:
    """The German label of a code (its msgid); the code itself if unknown."""
    if code is None:
        return ""
    label = labels.get(code)
    return label.message if label is not None else code


def german_list(labels: Mapping[str, _l], codes: Iterable[str]) -> list[str]:
    return [german(labels, c) for c in codes]
