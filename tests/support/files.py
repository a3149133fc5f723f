"""What the service leaves on disk: file modes, stored mails, and traces of a value
in any encoding a mail or the database may give it."""

from __future__ import annotations

import base64
import quopri
import stat
from email import message_from_bytes, policy
from email.header import Header
from pathlib import Path
from typing import Any
from urllib.parse import quote


def modes_under(root: Path) -> dict[str, int]:
    """Relative path (``.`` for ``root``) → permission bits of everything below."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in sorted(root.rglob("*")):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def mails_in(folder: Path) -> list[Any]:
    """The ``.eml`` files of the file transport (``EmailMessage``), oldest first."""
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*.eml"))]


def _base64_cores(data: bytes) -> list[bytes]:
    """The part of ``data``'s base64 that is the same wherever it starts in a longer
    stream: for each of the three alignments, the groups made of ``data`` alone."""
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data)
        start = 4 if shift else 0
        end = (shift + len(data)) // 3 * 4
        cores.append(encoded[start:end])
    return [c for c in cores if len(c) >= 8]


def encoded_forms(value: str) -> list[bytes]:
    """``value`` as it may be stored: UTF-8 and Latin-1, quoted-printable (body and
    header style), RFC 2047 words, base64 at any alignment, URL-quoted."""
    raw = value.encode()
    forms = {raw, value.encode("latin-1", "ignore"), quote(value).encode(),
             quopri.encodestring(raw).rstrip(b"\n"), quopri.encodestring(raw, header=True)}
    forms.add(Header(value, "utf-8").encode().encode())
    forms.update(_base64_cores(raw))
    return sorted(f for f in forms if f)


def traces(root: Path, values: list[str]) -> dict[str, list[str]]:
    """Value → files under ``root`` whose bytes hold it in one of its forms (line
    breaks ignored, so a folded or wrapped form is found too)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        flat = data.replace(b"=\r\n", b"").replace(b"=\n", b"")  # quoted-printable soft breaks
        flat = flat.replace(b"\r", b"").replace(b"\n", b"")
        for value in values:
            forms = encoded_forms(value)
            if any(f in data or f in flat or f.lower() in flat.lower() for f in forms):
                found.setdefault(value, []).append(str(path.relative_to(root)))
    return found
