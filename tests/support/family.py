"""What families see and read, for the wording tests: the public pages, the text of a
page or mail without markup, and the words that would break the campaign's one voice
(German "Sie", Dutch "jullie/je" on the ordinary pages) or show demo labels."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html import unescape

from campaign.content.offers import KINDS

from .app import shipped_content

DEMO_WORDS = re.compile(r"\bDemo\b|Demo-|Beispieldaten|Voorbeeldgegevens|Sample data", re.I)
# German: the informal address ("du" or "ihr") in any form, and the plural imperatives
# of the verbs the pages use ("Klickt", "Schaut" …).
INFORMAL_DE = re.compile(
    r"\b(du|dich|dir|dein|deine[nmrs]?|ihr|euch|euer|eure[nmrs]?|habt|seid|könnt|"
    r"wollt|möchtet|müsst|dürft|Klickt|Schaut|Kopiert|Kreuzt|Wählt|Gebt|Startet|Meldet euer)\b")
# Dutch: the pages say "jullie/je"; the formal "u/uw" is the Leichte-Sprache pages' own.
FORMAL_NL = re.compile(r"(?<!/)\b(u|uw|U|Uw|kunt|hebt)\b")


def family_pages() -> list[str]:
    """Every public page type with each of its shipped entries. The offer pages need the
    service clock inside the shipped offers' validity (``offers.pin_offers_clock``)."""
    c = shipped_content()
    paths = ["/", "/datenschutz", "/impressum", "/leichte-sprache", "/leichte-sprache/interesse",
             "/leichte-sprache/datenschutz", "/interesse", "/interesse/neuer-link"]
    paths += [f"/region/{d}" for d in c.region.districts]
    paths += [f"/orte/{m}" for m in c.region.municipalities]
    paths += [f"/quiz/{q}" for q in c.quizzes]
    paths += ["/angebote"] + [f"/angebote/{kind}" for kind in KINDS]
    paths += [f"/angebote/{o.kind}/{o.slug}" for o in c.offers.by_slug.values()]
    return paths


def visible_text(html: str) -> str:
    """The words of a page or HTML mail: no tags, scripts, styles or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def mail_text(message: EmailMessage) -> str:
    """Subject, plain text and HTML text of a mail."""
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            parts.append(part.get_content())
        elif part.get_content_type() == "text/html":
            parts.append(visible_text(part.get_content()))
    return "\n".join(parts)


def other_voice(text: str, lang: str) -> list[str]:
    """The words of ``text`` that break the language's one form of address."""
    pattern = {"de": INFORMAL_DE, "nl": FORMAL_NL}.get(lang)
    return sorted(set(pattern.findall(text))) if pattern else []
