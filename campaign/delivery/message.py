"""Mail rendering and message building with the standard library.

Templates live in ``templates/mail/<name>.subject.txt``, ``<name>.txt`` and
``<name>.html`` and render in the recipient's language. Messages are
``email.message.EmailMessage`` objects under ``email.policy.SMTP``: the
header registry refuses CR/LF in values, so user data can never add a header;
``header_safe`` makes values one line before that.

Other mail readers (GMime, the parser of notmuch; mblaze; Python's own parser
and ``mailbox``; see tests/test_mail_readers.py) showed where what the standard
library writes is read wrong, and only that is changed here:

- a subject with non-ASCII text goes out as Q words made by ``email.header``:
  the header registry splits long text into base64 words, and GMime joins the
  words before decoding, so "=" padding inside cut the rest off; and it puts a
  space between two words at a fold, where every reader drops it (CPython
  gh-92081);
- a display name goes out as one word (``Charset.header_encode``): split into
  several, Python's own parser reads a space between them;
- ASCII that looks like an encoded word ("=?utf-8?q?…?=") is encoded too: the
  registry writes it as it stands and every reader decodes it;
- lines stay within 76 characters: quoted-printable bodies may not be longer
  (RFC 2045), and ``policy.SMTP`` would make them 78;
- a body where quoted-printable would start a line with "From " goes out in
  base64: an mbox (Python's ``mailbox``, many MTAs) stores that line as
  ">From " and every reader then shows the ">".
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import (
    Address,
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, parseaddr
from typing import Any

import jinja2

from ..core.clock import utcnow
from ..core.i18n import language
from ..core.settings import Settings

_LINEBREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")
_WORDS = Charset("utf-8")
_WORDS.header_encoding = QP  # Q words: readers that join them first still decode them
_NAME = Charset("utf-8")  # one word, "B" or "Q", whichever is shorter
_FROM_LINE = re.compile(r"^From ", re.MULTILINE)


def _plain(text: str) -> bool:
    """ASCII that no reader takes for an encoded word: the registry writes it as is."""
    return text.isascii() and "=?" not in text


class _Text(UnstructuredHeader, BaseHeader):
    """Subject and other free text: taken as the text it is, written as Q words by
    ``email.header`` unless plain."""

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)
        kwds["decoded"] = value  # our values are text, never encoded words already

    def fold(self, *, policy: Policy) -> str:
        if _plain(str(self)):
            return super().fold(policy=policy)
        words = Header(str(self), _WORDS, policy.max_line_length, self.name)
        return f"{self.name}: {words.encode(linesep=policy.linesep)}{policy.linesep}"


class _Subject(_Text):
    max_count = 1


class _Mailbox(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]  # stubs vs runtime
    """From, To, Reply-To: a display name that is not plain goes out as one word."""

    def fold(self, *, policy: Policy) -> str:
        if all(_plain(a.display_name) for a in self.addresses):
            return super().fold(policy=policy)
        boxes = [str(a) if _plain(a.display_name)
                 else f"{_NAME.header_encode(a.display_name)} <{a.addr_spec}>"
                 for a in self.addresses]
        return f"{self.name}: {', '.join(boxes)}{policy.linesep}"


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry(default_class=_Text)
    registry.map_to_type("subject", _Subject)
    for name in ("from", "to", "reply-to"):
        registry.map_to_type(name, _Mailbox)
    return registry


POLICY = policy.SMTP.clone(max_line_length=76, header_factory=_registry())


def header_safe(value: str) -> str:
    """One line, no control characters: safe to hand to the header API."""
    return _LINEBREAKS.sub(" ", value).strip()


def address(email: str, name: str = "") -> Address:
    """An Address object; display names go through the header API, never string-joined."""
    email = header_safe(email)
    local, _, domain = email.rpartition("@")
    return Address(display_name=" ".join(header_safe(name).split()), username=local,
                   domain=domain)


def addr_spec(email: str) -> str:
    """The address as it goes into the envelope (``local@domain``, quoted if needed)."""
    return address(email).addr_spec


def sender_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def new_message_id(mail_from: str) -> str:
    """A fresh Message-ID in the sender's domain, for code that queues a mail
    without a ``Mailer`` at hand (a seat passed on during a retention purge)."""
    return f"<{secrets.token_hex(12)}@{sender_domain(mail_from)}>"


@dataclass(frozen=True)
class Mailer:
    """What every mail needs: the sender, the base URL for links, the templates."""

    env: jinja2.Environment
    base_url: str
    mail_from: str

    def url(self, path: str) -> str:
        return self.base_url + path

    def render(self, name: str, context: Mapping[str, Any], lang: str = "de"
               ) -> tuple[str, str, str]:
        """(subject, text, html) of ``templates/mail/<name>.*`` in ``lang``."""
        with language(lang) as lang:
            ctx = {"lang": lang, "base_url": self.base_url, **context}
            subject = self.env.get_template(f"mail/{name}.subject.txt").render(ctx)
            text = self.env.get_template(f"mail/{name}.txt").render(ctx)
            html = self.env.get_template(f"mail/{name}.html").render(ctx)
        return header_safe(subject), text, html

    def build(self, *, to: Address | str, subject: str, text: str, html: str | None = None,
              reply_to: Address | None = None, message_id: str | None = None,
              headers: Mapping[str, str] | None = None) -> EmailMessage:
        """A text mail, with an HTML alternative when ``html`` is given."""
        msg = EmailMessage(policy=POLICY)
        name, addr = parseaddr(self.mail_from)
        msg["From"] = address(addr, name)
        msg["To"] = to if isinstance(to, Address) else address(to)
        if reply_to is not None:
            msg["Reply-To"] = reply_to
        msg["Subject"] = header_safe(subject)
        msg["Date"] = format_datetime(utcnow())
        msg["Message-ID"] = message_id or self.new_message_id()
        for key, value in (headers or {}).items():
            msg[key] = header_safe(value)
        msg.set_content(text, cte="quoted-printable")
        if html is not None:
            msg.add_alternative(html, subtype="html", cte="quoted-printable")
        for part in msg.walk():
            if not part.is_multipart() and _FROM_LINE.search(str(part.get_payload())):
                # An mbox keeps a "From " line start as ">From " for good, and
                # quoted-printable leaves it as it stands: base64 has none. (Of
                # the text's bytes, so that its line ends stay "\n" as in QP.)
                part.set_content(part.get_content().encode(), "text",
                                 part.get_content_subtype(), cte="base64",
                                 params={"charset": "utf-8"})
        return msg

    def stable_message_id(self, *parts: object) -> str:
        """The same (kind, lead, recipient) always gets the same Message-ID."""
        local = ".".join(re.sub(r"[^A-Za-z0-9-]", "-", str(p)) for p in parts)
        return f"<{local}@{self.domain()}>"

    def new_message_id(self) -> str:
        """A fresh, unguessable Message-ID (96 random bits) in the sender's domain."""
        return new_message_id(self.mail_from)

    def domain(self) -> str:
        """The sender's domain: right-hand side of every Message-ID we make."""
        return sender_domain(self.mail_from)


def mailer_for(settings: Settings, env: jinja2.Environment) -> Mailer:
    return Mailer(env, settings.base_url, settings.mail_from)
