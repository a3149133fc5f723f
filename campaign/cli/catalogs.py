"""Message catalogs: extract msgids from code and templates, merge, check.

    python -m campaign i18n extract   # write campaign/locale/messages.pot
    python -m campaign i18n update    # extract and merge into de, nl, en .po
    python -m campaign i18n check     # exit 1 naming every gap

The tests call the same functions on the source tree, so CI fails as soon as
a msgid lacks a Dutch or English translation or a template shows German text
outside ``_()``. No .mo files are written: campaign.core.i18n compiles the .po
files in memory at start-up, so there is no compiled binary that can drift.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from babel.util import pathmatch

from .. import PROJECT_DIR
from ..core.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR
from .template_scan import scan_templates

CONFIG = LOCALE_DIR / "babel.cfg"
POT = LOCALE_DIR / "messages.pot"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)
# Folders that never hold shipped msgids (tests may contain German on purpose).
_SKIP_DIRS = {"node_modules", "var", "tests", "bench", "static", "__pycache__", "locale"}
# Sources only ever shown in German: the partner portal (staff of the
# municipalities and tourism associations, decided German-only) and the mails
# to organisations. Their msgids live in the German catalog only; a msgid
# that is also used anywhere else must be translated like every other.
GERMAN_ONLY = (
    "templates/partner/**",
    "campaign/web/views/portal.py",
    "campaign/web/views/portal_*.py",
    "campaign/web/views/places.py",  # QR places: managed in the portal
    "campaign/portal/**",
    "campaign/reach/places.py",
    "templates/share/places.html",
    "templates/share/card.html",
    # the receipt link is only sent in (German) mails to organisations
    "campaign/web/views/receipt.py",
    "templates/delivery/**",
    # mails to organisations (and the family block they include)
    "templates/mail/_family.*",
    "templates/mail/lead.*",
    "templates/mail/reminder.*",
    "templates/mail/overdue*",
    "templates/mail/_overdue.*",
    "templates/mail/agency_note.*",
    "templates/mail/erased.*",
    "templates/mail/withdrawn.*",
    "templates/mail/password_reset.*",
    "templates/mail/booking_staff.*",
    "templates/mail/invite.*",
    "templates/mail/page_review.*",  # the agency's answer to a partner's proposal
)
# Header lines that change on every run; ignored when deciding whether to write.
_VOLATILE = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def po_path(lang: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / "messages.po"


def _keep_dir(dirpath: str) -> bool:
    name = os.path.basename(dirpath)
    return not (name.startswith(".") or name in _SKIP_DIRS or name.endswith(".egg-info"))


def extract(root: Path = PROJECT_DIR, config: Path = CONFIG) -> Catalog:
    """Every msgid in campaign/**.py and templates/** as a template catalog."""
    with config.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(config))  # type: ignore[no-untyped-call]
    catalog = Catalog(project="campaign", version="1", charset="utf-8",
                      msgid_bugs_address="kampagne@suedwestfalen-agentur.example.org",
                      copyright_holder="Südwestfalen Agentur", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=DEFAULT_KEYWORDS,
        comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
        directory_filter=_keep_dir,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def german_only(message: Message) -> bool:
    """True when every place that uses this msgid is German-only (portal, mails to orgs)."""
    return bool(message.locations) and all(
        any(pathmatch(pattern, filename) for pattern in GERMAN_ONLY)
        for filename, _line in message.locations)


def for_language(template: Catalog, lang: str) -> Catalog:
    """The msgids a language must translate: all for German, visitor-facing for others."""
    if lang == DEFAULT_LANGUAGE:
        return template
    subset = Catalog(project=template.project, version=template.version, charset="utf-8",
                     fuzzy=False)
    for msg in template:
        if msg.id and not german_only(msg):
            subset[msg.id] = msg
    return subset


def read_catalog(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalog | None:
    path = po_path(lang, locale_dir)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def _serialise(catalog: Catalog) -> bytes:
    buf = BytesIO()
    write_po(buf, catalog, width=100, ignore_obsolete=True, include_lineno=False)
    return buf.getvalue()


def _same(a: bytes, b: bytes) -> bool:
    def strip(data: bytes) -> list[bytes]:
        return [line for line in data.splitlines() if not line.startswith(_VOLATILE)]

    return strip(a) == strip(b)


def write_if_changed(path: Path, catalog: Catalog) -> bool:
    """Write only real changes, so re-running ``update`` leaves git clean."""
    data = _serialise(catalog)
    if path.exists() and _same(path.read_bytes(), data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def update(template: Catalog | None = None, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Merge the extracted msgids into every language; returns the files written.

    New msgids arrive empty, vanished ones are dropped, and a changed msgid
    keeps its old translation marked fuzzy, which the check rejects until a
    translator has looked at it.
    """
    template = template or extract()
    written = []
    for lang in LANGUAGES:
        catalog = read_catalog(lang, locale_dir) or Catalog(
            locale=lang, project="campaign", version="1", charset="utf-8", fuzzy=False)
        catalog.update(for_language(template, lang), update_header_comment=False)
        catalog.fuzzy = False
        if write_if_changed(po_path(lang, locale_dir), catalog):
            written.append(lang)
    return written


@dataclass(frozen=True)
class Gap:
    lang: str
    msgid: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.lang}] {self.reason}: {self.msgid!r}"


def _msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else str(message.id)


def gaps(template: Catalog | None = None, langs: Iterable[str] = TRANSLATED,
         locale_dir: Path = LOCALE_DIR) -> list[Gap]:
    """Every msgid without a usable translation (missing, empty, fuzzy, bad placeholders)."""
    template = template or extract()
    found: list[Gap] = []
    for lang in langs:
        catalog = read_catalog(lang, locale_dir)
        for msg in for_language(template, lang):
            if not msg.id:
                continue
            tr = catalog.get(msg.id, context=msg.context) if catalog is not None else None
            strings: tuple[str, ...] = ()
            if tr is not None:
                strings = (tuple(tr.string) if isinstance(tr.string, (tuple, list))
                           else (tr.string or "",))
            if tr is None:
                reason = "missing"
            elif tr.fuzzy:
                reason = "fuzzy"
            elif not strings or not all(s and s.strip() for s in strings):
                reason = "untranslated"
            else:
                probe = Message(msg.id, tr.string, flags=msg.flags, context=msg.context)
                errors = probe.check(catalog)
                reason = "; ".join(str(e) for e in errors)
            if reason:
                found.append(Gap(lang, _msgid(msg), reason))
    return found


def coverage(template: Catalog | None = None, locale_dir: Path = LOCALE_DIR
             ) -> dict[str, tuple[int, int]]:
    """(translated, total) msgids per translated language."""
    template = template or extract()
    found = gaps(template, locale_dir=locale_dir)
    out = {}
    for lang in TRANSLATED:
        total = sum(1 for m in for_language(template, lang) if m.id)
        out[lang] = (total - sum(1 for g in found if g.lang == lang), total)
    return out


def catalog_coverage() -> dict[str, tuple[int, int]]:
    """(translated, total) msgids per translated language, from the catalogs as they are."""
    source = read_catalog(DEFAULT_LANGUAGE)
    out: dict[str, tuple[int, int]] = {}
    if source is None:
        return out
    for lang in TRANSLATED:
        catalog = read_catalog(lang)
        ids = [(m.id, m.context) for m in for_language(source, lang) if m.id]
        done = 0
        for msgid, context in ids:
            msg = catalog.get(msgid, context=context) if catalog is not None else None
            strings = (msg.string if isinstance(msg.string, tuple) else (msg.string,)
                       ) if msg is not None else ()
            if msg is not None and not msg.fuzzy and strings and all(strings):
                done += 1
        out[lang] = (done, len(ids))
    return out


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["extract", "update", "check"])


def command(args: argparse.Namespace, settings: object) -> int:
    """``python -m campaign i18n extract|update|check``."""
    template = extract()
    if args.action == "extract":
        write_if_changed(POT, template)
        print(f"{POT.relative_to(PROJECT_DIR)}: {sum(1 for m in template if m.id)} msgids")
        return 0
    if args.action == "update":
        written = update(template)
        print("updated: " + (", ".join(written) if written else "nothing changed"))
        return 0
    problems = [str(g) for g in gaps(template)] + [str(f) for f in scan_templates()]
    for line in problems:
        print(line)
    for lang, (done, total) in coverage(template).items():
        print(f"{lang}: {done}/{total} msgids translated")
    return 1 if problems else 0
