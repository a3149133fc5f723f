"""Mail rendering and message building with the standard library.

Templates live in ``templates/mail/<name>.subject.txt``, ``<name>.txt`` and
``<name>.html`` and render in the recipient's language. Messages are
``email.message.EmailMessage`` objects under ``email.policy.SMTP``: the
header registry encodes names and subjects (RFC 2047) and refuses CR/LF in
values, so user data can never add a header; ``header_safe`` makes values
one line before that.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import jinja2

from ..core.clock import utcnow
from ..core.i18n import language

_LINEBREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")
POLICY = policy.SMTP


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
        return msg

    def stable_message_id(self, *parts: object) -> str:
        """The same (kind, lead, recipient) always gets the same Message-ID."""
        local = ".".join(re.sub(r"[^A-Za-z0-9-]", "-", str(p)) for p in parts)
        return f"<{local}@{self.domain()}>"

    def new_message_id(self) -> str:
        """A fresh, unguessable Message-ID (96 random bits) in the sender's domain."""
        return f"<{secrets.token_hex(12)}@{self.domain()}>"

    def domain(self) -> str:
        """The sender's domain: right-hand side of every Message-ID we make."""
        return parseaddr(self.mail_from)[1].rpartition("@")[2] or "localhost"


def mailer_for(settings: Any, env: jinja2.Environment) -> Mailer:
    return Mailer(env, settings.base_url, settings.mail_from)
