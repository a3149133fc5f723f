"""Mail rendering and message building; delivery goes through the outbox.

Templates live in ``templates/mail/<name>.subject.txt``, ``<name>.txt`` and
``<name>.html``; they render in the recipient's language. Every header value
goes through ``header_safe`` (one line, no control characters) and names and
subjects become RFC 2047 words, so CR/LF in user data can never add a header.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

import jinja2

from .. import i18n
from .mime import POLICY, encoded_words, new_boundary, plain_ascii, text_part

_LINEBREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


def header_safe(value: str) -> str:
    """One line, no control characters: safe to hand to the header API."""
    return _LINEBREAKS.sub(" ", value).strip()


def address(email: str, name: str = "") -> Address:
    """An Address object; display names go through the header API, never string-joined."""
    email = header_safe(email)
    local, _, domain = email.rpartition("@")
    return Address(display_name=header_safe(name), username=local, domain=domain)


# The local part of a plain dot-atom address (RFC 5322 atext between dots). The
# lead form accepts only such addresses, and their envelope form is the text
# itself, so no Address object needs to be built for them.
DOT_ATOM_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOT_ATOM_ADDRESS = re.compile(DOT_ATOM_LOCAL + r"@[A-Za-z0-9.-]+")


def addr_spec(email: str) -> str:
    """The address as it goes into the envelope (``local@domain``, quoted if needed)."""
    if _DOT_ATOM_ADDRESS.fullmatch(email):
        return email
    return address(email).addr_spec


def _mailbox(addr: Address) -> str:
    """``Name <local@domain>``, the name quoted or encoded as it needs."""
    # runs of blanks in a name would not survive an unquoted phrase anyway
    name, spec = " ".join(header_safe(addr.display_name).split()), header_safe(addr.addr_spec)
    if plain_ascii(name):
        return formataddr((name, spec))
    return f"{encoded_words(name, split=False)} <{spec}>"


@dataclass(frozen=True)
class Mailer:
    """What every mail needs: settings (sender, base URL), the Jinja env, content."""

    settings: Any
    env: jinja2.Environment
    content: Any

    def url(self, path: str) -> str:
        return self.settings.base_url + path

    def render(self, name: str, context: Mapping[str, Any], lang: str = "de"
               ) -> tuple[str, str, str]:
        """(subject, text, html) of ``templates/mail/<name>.*`` in ``lang``."""
        token = i18n.current_language.set(lang)
        try:
            ctx = {"lang": lang, "base_url": self.settings.base_url, **context}
            subject = self.env.get_template(f"mail/{name}.subject.txt").render(ctx)
            text = self.env.get_template(f"mail/{name}.txt").render(ctx)
            html = self.env.get_template(f"mail/{name}.html").render(ctx)
        finally:
            i18n.current_language.reset(token)
        return header_safe(subject), text, html

    def build(self, *, to: Address | str, subject: str, text: str, html: str | None = None,
              reply_to: Address | None = None, message_id: str | None = None,
              headers: Mapping[str, str] | None = None) -> Message:
        """A text mail, with an HTML alternative when ``html`` is given.

        Built with the classic MIME classes (``EmailMessage``'s header registry
        parses every header it is given), with headers, boundary and bodies
        written by ``campaign.mail.mime``: the outbox worker pays this once per
        mail. Bodies are quoted-printable UTF-8; names and subjects go in as
        RFC 2047 words.
        """
        if html is None:
            msg: Message = text_part(text, "plain")
        else:
            msg = MIMEMultipart("alternative", boundary=new_boundary(), policy=POLICY)
            msg.attach(text_part(text, "plain"))
            msg.attach(text_part(html, "html"))
        name, addr = parseaddr(self.settings.mail_from)
        msg["From"] = _mailbox(address(addr, name))
        msg["To"] = _mailbox(to if isinstance(to, Address) else address(to))
        if reply_to is not None:
            msg["Reply-To"] = _mailbox(reply_to)
        msg["Subject"] = encoded_words(header_safe(subject))
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = message_id or self.new_message_id()
        for key, value in (headers or {}).items():
            msg[key] = encoded_words(header_safe(value))
        return msg

    def stable_message_id(self, *parts: object) -> str:
        """The same (lead, recipient, kind) always gets the same Message-ID."""
        local = ".".join(re.sub(r"[^A-Za-z0-9-]", "-", str(p)) for p in parts)
        return f"<{local}@{self.domain()}>"

    def new_message_id(self) -> str:
        """A fresh, unguessable Message-ID (96 random bits) in the sender's domain."""
        return f"<{secrets.token_hex(12)}@{self.domain()}>"

    def domain(self) -> str:
        """The sender's domain: right-hand side of every Message-ID we make."""
        return _domain_of(self.settings.mail_from)


@functools.lru_cache(maxsize=8)
def _domain_of(mail_from: str) -> str:
    """Parsed once per sender address (parseaddr is slow and the sender fixed)."""
    _, addr = parseaddr(mail_from)
    return addr.rpartition("@")[2] or "localhost"


def mailer_for(app: Any) -> Mailer:
    """The Mailer of a running app (views) — CLI code builds one from settings."""
    return Mailer(app.state.settings, app.state.render.env, app.state.content)
