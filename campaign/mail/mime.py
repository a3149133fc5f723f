"""The MIME pieces of our mails, written directly instead of by the email package.

The outbox worker builds every mail right before it sends it, and most of
its time per mail went into three places of the email package: the compat32
generator folds every header through its ``Header`` class, picks a multipart
boundary with a regular expression compiled per message, and encodes
quoted-printable bodies in pure Python. Our mails are simple enough to do
these steps directly: header values are made plain ASCII first (RFC 2047
words for anything else), bodies are encoded by ``binascii`` (C), and a
boundary starting with ``=_`` can never occur in a quoted-printable body.
The messages stay ``email.message.Message`` objects.
"""

from __future__ import annotations

import binascii
import re
import secrets
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from typing import Any

# A word holds at most 44 characters of encoded text: with "=?utf-8?q?" and "?="
# it has 56, so even beside a header name of 18 characters a line stays within
# RFC 2047's 76.
WORD_TEXT = 44
QP_LINE = 76  # RFC 2045's limit for a quoted-printable line, soft break included
HEADER_LINE = 76  # RFC 2047's limit for a line with encoded words (RFC 5322 asks 78)
_FROM_LINE = re.compile(r"^From ", re.MULTILINE)
# RFC 2047 "Q": what may stand as it is even in a phrase (section 5 (3)); a
# space is "_", every other byte "=XX".
_Q_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/"
_Q = ["_" if b == 32 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in range(256)]
_Q_CHARS = {chr(b): _Q[b] for b in range(128)}  # … and the characters met so far


def _q(char: str) -> str:
    piece = _Q_CHARS.get(char)
    if piece is None:
        piece = "".join([_Q[b] for b in char.encode("utf-8", "replace")])
        if len(_Q_CHARS) < 4096:
            _Q_CHARS[char] = piece
    return piece


def plain_ascii(text: str) -> bool:
    """True when ``text`` may stand in a header as it is: ASCII, and no "=?"
    that readers would take for the start of an encoded word."""
    return text.isascii() and "=?" not in text


def encoded_words(text: str, *, split: bool = True) -> str:
    """``text`` for a header: ASCII as it is, anything else (and ASCII that
    looks like an encoded word) as RFC 2047 words split between characters,
    never inside one.

    Split words are "Q" words: some readers (GMime, the parser of notmuch
    and other clients) join the words of a header before they decode them,
    and a base64 word that ends in "=" padding then cuts the rest off. Q
    words can be joined anywhere.

    ``split=False`` gives one base64 word, however long, for a display name:
    readers join the words of a subject, but some put a space between the
    words of a name (Python's own parser does), as the stdlib's
    ``formataddr`` avoids too."""
    if plain_ascii(text):
        return text
    if not split:
        return _word(text.encode("utf-8", "replace"))
    words: list[str] = []
    word: list[str] = []
    size = 0
    for char in text:
        piece = _q(char)
        if size + len(piece) > WORD_TEXT and word:
            words.append("".join(word))
            word, size = [], 0
        word.append(piece)
        size += len(piece)
    words.append("".join(word))
    return " ".join([f"=?utf-8?q?{w}?=" for w in words])


def _word(data: bytes) -> str:
    return f"=?utf-8?b?{binascii.b2a_base64(data, newline=False).decode('ascii')}?="


def quoted_printable(text: str) -> str:
    """UTF-8 text as a quoted-printable body with ``\\n`` line ends.

    ``binascii`` keeps lines under 77 characters and encodes trailing blanks and
    a leading dot; a line starting with "From " gets its F encoded, so no
    mailbox format turns it into ">From "."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8", "replace")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).decode("ascii")
    if not _FROM_LINE.search(encoded):
        return encoded
    lines = []
    for line in encoded.split("\n"):
        if line.startswith("From "):
            line = "=46" + line[1:]
            while len(line) > QP_LINE:  # two characters longer now: break it again
                cut = QP_LINE - 1
                while "=" in line[cut - 2:cut]:  # never inside an "=XX"
                    cut -= 1
                lines.append(line[:cut] + "=")
                line = line[cut:]
        lines.append(line)
    return "\n".join(lines)


def text_part(body: str, subtype: str) -> MIMENonMultipart:
    """A ``text/<subtype>`` part in UTF-8, already quoted-printable."""
    part = MIMENonMultipart("text", subtype, policy=POLICY, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoted_printable(body))
    return part


def new_boundary() -> str:
    """A multipart boundary no quoted-printable body can contain ("=" in such a
    body is always followed by two hex digits or a line end)."""
    return "=_" + secrets.token_hex(16)


def fold_ascii(name: str, value: str) -> str:
    """``Name: value`` with its line end, broken at spaces so that lines stay
    within HEADER_LINE where they can (a longer word stays whole; the hard limit
    is 998). The first word always stays beside the name."""
    line = f"{name}: {value}"
    if len(line) <= HEADER_LINE:
        return line + "\n"
    start = f"{name}:"
    lines: list[str] = []
    current = start
    for word in value.split(" "):
        if current != start and len(current) + 1 + len(word) > HEADER_LINE:
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    return "\n".join(lines) + "\n"


class _Policy(Compat32):
    """compat32, but a one-line ASCII value is written as it is (folded at spaces)."""

    @staticmethod
    def _plain(value: Any) -> bool:
        return isinstance(value, str) and value.isascii() and "\n" not in value \
            and "\r" not in value

    def fold(self, name: str, value: Any) -> str:
        if self._plain(value):
            return fold_ascii(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if self._plain(value):
            return fold_ascii(name, value).encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy()
