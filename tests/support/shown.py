"""What a person reads: the text of a page, a mail or a CSV (not markup, link
targets or addresses), and which stored codes of the service leak into it.

``internal_codes`` takes the vocabularies from ``campaign.core.vocab`` and the
content (municipality and organisation slugs, quiz slugs), so a code added
there is checked without touching a test.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from email import policy
from html.parser import HTMLParser

from campaign.content import Content
from campaign.core import vocab

URL = re.compile(r"https?://\S+")
ADDRESS = re.compile(r"[\w.+%\"'-]+@[\w.-]+")
# Outbox kinds that are no word a reader would use (``lead`` or ``confirm`` are).
MAIL_KINDS = ("agency_note", "new_link", "selfservice", "selfservice_confirmed",
              "selfservice_link", "password_reset", "booking_offer", "booking_invite",
              "booking_cancel", "booking_reminder", "followup_ask", "overdue_admin")
# Other stored codes shown through a label and no word of the English pages (the slot
# kinds "phone" and "video" and the roles "staff" and "admin" are).
OTHER_CODES = ("onsite",)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The text nodes of an HTML page or mail part (what is read, not its attributes)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def mail_text(raw: bytes) -> str:
    """Subject, plain text and the HTML part's text of a stored mail."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    parts = [str(msg["Subject"])]
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        parts.append(plain.get_content())  # type: ignore[attr-defined]
    html = msg.get_body(preferencelist=("html",))
    if html is not None:
        parts.append(page_text(html.get_content()))  # type: ignore[attr-defined]
    return "\n".join(parts)


def internal_codes(content: Content, extra: Iterable[str] = ()) -> list[str]:
    """Codes stored by the service that a person must never read: every code of the
    vocabularies whose German label differs from it ("neu" is its own label), the
    consent groups and organisation kinds that are no plain word, the municipality,
    organisation and quiz slugs, the outbox kinds and other codes above."""
    labelled = [(vocab.INTEREST_LABELS, vocab.INTERESTS), (vocab.TIMEFRAME_LABELS,
                vocab.TIMEFRAMES), (vocab.CHILD_AGE_LABELS, vocab.CHILD_AGES),
                (vocab.FOLLOW_UP_LABELS, vocab.FOLLOW_UP),
                (vocab.CLOSE_REASON_LABELS, vocab.CLOSE_REASONS),
                (vocab.CALL_OUTCOME_LABELS, vocab.CALL_OUTCOMES)]
    codes = [c for labels, all_codes in labelled for c in all_codes
             if vocab.german(labels, c) != c]
    codes += [c for c in (*vocab.CONSENT_GROUPS, *vocab.ORG_KINDS) if not c.isalpha()]
    region = content.region
    codes += [*region.municipalities, *region.organisations, *content.quizzes, *MAIL_KINDS,
              *OTHER_CODES, *extra]
    return sorted(set(codes))


def codes_in(text: str, codes: Iterable[str]) -> list[str]:
    """The codes that stand as words in ``text`` once links and addresses are taken
    out (a slug inside ``/orte/olpe`` or ``olpe@…`` is no text); case matters, so
    the name "Olpe" is no leak of the slug "olpe"."""
    plain = URL.sub(" ", ADDRESS.sub(" ", text))
    return [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", plain)]
