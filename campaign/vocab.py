"""Codes shared by the lead form, routing, mails and the portal.

Codes are stored in the database and never shown; labels are translated
where they are displayed (the German label is the msgid).
"""

from __future__ import annotations

# What interests the family (lead form). "medizin_pflege" routes to the
# skilled-worker contact.
INTERESTS = ("kita_schule", "wohnen", "arbeit", "medizin_pflege", "freizeit", "natur")
SKILLED_WORK_INTEREST = "medizin_pflege"

TIMEFRAMES = ("within_year", "one_to_three_years", "just_curious")
CHILD_AGES = ("0-2", "3-5", "6-9", "10-13", "14-17")

# Consent groups: one checkbox each on the lead form. A recipient is only
# included when the family consented to its group.
CONSENT_GROUPS = ("municipalities", "tourism", "skilled_workers", "agency")
ORG_KIND_TO_CONSENT = {
    "municipality": "municipalities",
    "tourism": "tourism",
    "skilled_workers": "skilled_workers",
    "agency": "agency",
}

# Follow-up workflow per (lead, organisation) in the partner portal.
FOLLOW_UP = ("neu", "kontaktiert", "besuch_geplant", "zugezogen", "kein_interesse")

MAX_MUNICIPALITIES = 5
