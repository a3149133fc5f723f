"""Find user-visible text in templates that bypasses the translation function.

A template is lexed with the app's own Jinja settings; every ``{{ … }}`` and
``{% … %}`` becomes a neutral placeholder (keeping line breaks for line
numbers), text inside ``{% trans %}`` is dropped because it is translated,
and what remains is read as HTML: text nodes and the attributes people see
or hear (alt, title, placeholder, aria-label, button values) must not
contain words. Mail ``.txt`` templates are plain text and checked line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .. import TEMPLATES_DIR
from ..core.templates import make_environment

# Words that are the same in every language, kept short on purpose:
ALLOWED_WORDS = {
    # City names that are spelled alike in German, Dutch and English
    # (Köln is not: Keulen / Cologne, so it goes through _()).
    "Dortmund", "Frankfurt",
    # File format name shown on the partner portal's export button.
    "CSV",
    # Cookie names listed on the privacy page: technical identifiers.
    "csrftoken", "quiz", "session",
    # Language names are written in their own language on purpose.
    "Deutsch", "Nederlands", "English",
    # Brand names on the share links, and the time zone abbreviation.
    "WhatsApp", "Facebook", "X", "UTC",
}
_PLACEHOLDER = "\x00"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|mailto:)\S+")
# Macros that emit attributes (aria-describedby="…") for a tag at the call site.
_ATTRIBUTE = re.compile(r"""[\w:-]+=(?:"[^"]*"|'[^']*')""")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_VISIBLE_ATTRS = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}
_SKIP_ELEMENTS = {"script", "style"}


@dataclass(frozen=True)
class Finding:
    template: str
    line: int
    text: str

    def __str__(self) -> str:
        shown = re.sub(f"{_PLACEHOLDER}+", "{…}", self.text)
        return f"{self.template}:{self.line}: text outside _(): {shown!r}"


def leftover_words(text: str) -> list[str]:
    """Words in ``text`` that are neither allowed names nor addresses."""
    text = _URL.sub(" ", _EMAIL.sub(" ", text.replace(_PLACEHOLDER, " ")))
    text = _ATTRIBUTE.sub(" ", text)
    return [w for w in _WORD.findall(text) if w.strip(".-'’") not in ALLOWED_WORDS]


def skeleton(source: str, env: object | None = None) -> str:
    """The template's literal text; expressions become a placeholder, statements vanish."""
    env = env or _environment()
    out: list[str] = []
    in_trans = False
    expect_name = False
    in_variable = False
    for _lineno, kind, value in env.lex(source):  # type: ignore[attr-defined]
        if kind == "block_begin":
            expect_name = True
        elif kind == "name" and expect_name:
            expect_name = False
            if value in ("trans", "pluralize"):
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        if kind == "variable_begin":
            in_variable = True
            out.append(_PLACEHOLDER)  # an expression's output: never counted as text
        elif kind == "variable_end":
            in_variable = False
        if kind == "data" and not in_trans and not in_variable:
            out.append(value)
        else:  # statements vanish so they cannot break a tag apart
            out.append("\n" * value.count("\n"))
    return "".join(out)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_ELEMENTS:
            self._skip += 1
        a = dict(attrs)
        for name, value in attrs:
            visible = name in _VISIBLE_ATTRS or (
                name == "value" and a.get("type") in ("submit", "button", "reset"))
            if visible and value and leftover_words(value):
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and leftover_words(data):
            lead = data[: len(data) - len(data.lstrip())]
            line = self.getpos()[0] + lead.count("\n")
            self.found.append((line, " ".join(data.split())))


def scan_source(source: str, name: str, env: object | None = None) -> list[Finding]:
    text = skeleton(source, env)
    if name.endswith(".txt"):
        return [Finding(name, n, " ".join(line.split()))
                for n, line in enumerate(text.splitlines(), 1) if leftover_words(line)]
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    return [Finding(name, line, snippet) for line, snippet in collector.found]


def scan_templates(root: Path = TEMPLATES_DIR) -> list[Finding]:
    env = _environment()
    found: list[Finding] = []
    for path in _templates(root):
        name = path.relative_to(root).as_posix()
        found.extend(scan_source(path.read_text(encoding="utf-8"), name, env))
    return found


def _templates(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.suffix in (".html", ".txt") and path.is_file():
            yield path


def _environment() -> object:
    return make_environment()
