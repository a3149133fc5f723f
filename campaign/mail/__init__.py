"""Mail rendering and message building; delivery goes through the outbox.

Templates live in ``templates/mail/<name>.subject.txt``, ``<name>.txt`` and
``<name>.html``; they render in the recipient's language. Header values are
only ever set through ``EmailMessage`` so CR/LF in user data cannot add a
header (the policy raises instead, and we strip line breaks before that).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import jinja2

from .. import i18n

_LINEBREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


def header_safe(value: str) -> str:
    """One line, no control characters: safe to hand to the header API."""
    return _LINEBREAKS.sub(" ", value).strip()


def address(email: str, name: str = "") -> Address:
    """An Address object; display names go through the header API, never string-joined."""
    email = header_safe(email)
    local, _, domain = email.rpartition("@")
    return Address(display_name=header_safe(name), username=local, domain=domain)


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
              headers: Mapping[str, str] | None = None) -> EmailMessage:
        msg = EmailMessage()
        name, addr = parseaddr(self.settings.mail_from)
        msg["From"] = address(addr, name)
        msg["To"] = to if isinstance(to, Address) else address(to)
        if reply_to is not None:
            msg["Reply-To"] = reply_to
        msg["Subject"] = header_safe(subject)
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = message_id or make_msgid(domain=self.domain())
        for key, value in (headers or {}).items():
            msg[key] = header_safe(value)
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        return msg

    def stable_message_id(self, *parts: object) -> str:
        """The same (lead, recipient, kind) always gets the same Message-ID."""
        local = ".".join(re.sub(r"[^A-Za-z0-9-]", "-", str(p)) for p in parts)
        return f"<{local}@{self.domain()}>"

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
