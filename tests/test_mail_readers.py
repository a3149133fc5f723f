"""Our mails as two other mail readers see them.

Mails are ``email.message.EmailMessage`` objects written by the standard
library (``campaign.delivery.message``), and the other mail tests read them
back with Python's own parser. Here two independent parsers read the same
files: GMime (through ``notmuch``, whose parser it is) and mblaze's (``mhdr``,
``mshow``). Both come from Debian (``apt-get install notmuch mblaze``;
``.ci/run`` does it).

Where they read the standard library's own output wrong, ``campaign.delivery.
message`` works around exactly that; each such defect has a test here, named
after it, that fails without the workaround.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import shutil
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path

import pytest

from campaign.delivery.message import address
from campaign.delivery.transport import FileTransport

from .support.app import deliver
from .support.delivery import plain_mailer
from .support.forms import click, link_in, submit

TOOLS = ("notmuch", "mhdr", "mshow")

# (display name, subject, plain text, html): places where a writer can go wrong
CASES = [
    ("Jürgen „Jo“ Müller, Olpe", "Bitte bestätigt eure Anfrage – Südwestfalen " * 3,
     "Hallo Jürgen,\n\nGrüße aus Olpe\nFrom here\n", "<p>Grüße</p>"),
    # a multi-byte character right where a word ends
    ("Anna", "Neue Anfrage einer Familie: Jürgen Müller (Olpe, Attendorn)",
     "x\n", "<p>x</p>"),
    ("Ö" * 40, "a" + "€" * 40, "€" * 200 + "\n", "<p>" + "€" * 100 + "</p>"),
    ("Eén Ünal-Ößmann", "Één gezin uit Utrecht – “interesse” in Winterberg 😀",
     "Regel met = en _ en ?\n.\nFrom the lake\n  trailing  \n\tTab\n", "<b>=?utf-8?q?x?=</b>"),
    ("O'Neil (Mom) \"Kate\"", "Re: =?utf-8?q?not_a_word?= and spaces   inside",
     "A line of exactly seventy-six characters to test the soft line break ok!\n" * 3, ""),
    # text that looks like an encoded word is not one
    ("=?utf-8?q?Evil?=", "=?utf-8?b?QQ==?=", "=?utf-8?q?x?=\n", ""),
    ("Ærø Łódź Şişli", "ÆØÅ æøå ŁÓDŹ ąę ẞ ß " * 4, "Ærø\r\nŁódź\rŞişli\n", "<p>ß</p>"),
]


@pytest.fixture(scope="module")
def tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"these tests need {', '.join(missing)}: apt-get install notmuch mblaze"
                    " (.ci/run does it)")


def _notmuch(maildir: Path, tmp: Path) -> dict[str, dict[str, str]]:
    """Every message of ``maildir`` as GMime reads it, by Message-ID."""
    config = tmp / "notmuch-config"
    config.write_text(f"[database]\npath={maildir}\n[user]\nname=t\nprimary_email=t@example.org\n"
                      "[new]\ntags=\n[maildir]\nsynchronize_flags=false\n", encoding="utf-8")
    env = {**os.environ, "NOTMUCH_CONFIG": str(config), "HOME": str(tmp)}
    subprocess.run(["notmuch", "new", "--quiet"], env=env, check=True, capture_output=True)
    out = subprocess.run(["notmuch", "show", "--format=json", "--include-html",
                          "--entire-thread=false", "*"],
                         env=env, check=True, capture_output=True).stdout
    seen: dict[str, dict[str, str]] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict) and "headers" in node:
            parts: dict[str, str] = {}
            stack = list(node["body"])
            while stack:
                part = stack.pop()
                if isinstance(part.get("content"), list):
                    stack.extend(part["content"])
                else:
                    parts[part["content-type"]] = part.get("content", "")
            seen[node["id"]] = {**node["headers"], **parts}
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(out))
    return seen


def _mblaze(path: Path) -> dict[str, str]:
    """One message as mblaze reads it: decoded headers and the decoded text parts."""
    def header(name: str) -> str:
        return subprocess.run(["mhdr", "-d", "-h", name, str(path)], check=True,
                              capture_output=True, text=True).stdout.rstrip("\n")

    seen = {name: header(name) for name in ("Subject", "From", "To")}
    listing = subprocess.run(["mshow", "-t", str(path)], check=True, capture_output=True,
                             text=True).stdout
    for line in listing.splitlines()[1:]:
        number, kind = line.strip().split(": ", 1)
        kind = kind.split()[0]
        if kind.startswith("text/"):
            seen[kind] = subprocess.run(["mshow", "-O", str(path), number], check=True,
                                        capture_output=True).stdout.decode("utf-8")
    return seen


def _python(path: Path) -> dict[str, object]:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    seen: dict[str, object] = {"Message-ID": msg["Message-ID"].strip().strip("<>"),
                               "Subject": str(msg["Subject"])}
    for name in ("From", "To"):
        [addr] = msg[name].addresses
        seen[name] = (addr.display_name, addr.addr_spec)
    for kind in ("plain", "html"):
        body = msg.get_body((kind,))
        if body is not None:
            seen[f"text/{kind}"] = body.get_content()
    return seen


def _same_everywhere(files: list[Path], tmp: Path) -> list[dict[str, object]]:
    """Python, GMime and mblaze read each file alike; returns what Python read."""
    gmime = _notmuch(files[0].parent.parent, tmp)
    read = []
    for path in files:
        ours = _python(path)
        theirs = gmime[str(ours["Message-ID"])]
        blaze = _mblaze(path)
        assert theirs["Subject"] == ours["Subject"], path.name
        assert blaze["Subject"] == ours["Subject"], path.name
        for name in ("From", "To"):
            display, addr = ours[name]  # type: ignore[misc]
            assert parseaddr(theirs[name]) == (display, addr), (path.name, theirs[name])
            # mblaze prints the header decoded, an ASCII name as it stands (quoted)
            assert blaze[name] in (f"{display} <{addr}>", formataddr((display, addr))), \
                (path.name, blaze[name])
        for kind in ("text/plain", "text/html"):
            if kind in ours:
                assert theirs[kind] == ours[kind], (path.name, kind)
                assert blaze[kind] == ours[kind], (path.name, kind)
        read.append(ours)
    return read


def _maildir(tmp: Path) -> Path:
    maildir = tmp / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    return maildir


def _write_eml(maildir: Path, number: int, msg: EmailMessage) -> Path:
    """The message as the service writes it without SMTP (``FileTransport``)."""
    transport = FileTransport(maildir / "new")

    async def write() -> None:
        async with transport.session() as session:
            await session.send(number, "", "", str(msg["Message-ID"]), msg.as_bytes())

    asyncio.run(write())
    return transport.path_for(number, str(msg["Message-ID"]))


def _read_back(tmp: Path, *, name: str = "Anna", subject: str = "Hallo",
               text: str = "x\n") -> dict[str, dict[str, object]]:
    """One mail as the Mailer builds it, as each reader reads it: the subject,
    the recipient's display name and the plain text."""
    maildir = _maildir(tmp)
    msg = plain_mailer().build(to=address("eva@example.org", name), subject=subject,
                               text=text, message_id="<one@suedwestfalen.example.org>")
    path = _write_eml(maildir, 1, msg)
    ours = _python(path)
    gmime = _notmuch(maildir, tmp)["one@suedwestfalen.example.org"]
    blaze = _mblaze(path)
    return {
        "python": {"Subject": ours["Subject"], "name": ours["To"][0],  # type: ignore[index]
                   "text": ours["text/plain"]},
        "gmime": {"Subject": gmime["Subject"], "name": parseaddr(gmime["To"])[0],
                  "text": gmime["text/plain"]},
        "mblaze": {"Subject": blaze["Subject"], "name": parseaddr(blaze["To"])[0],
                   "text": blaze["text/plain"]},
    }


def test_gmime_reads_long_subjects_and_names_whole(tools, tmp_path):
    """GMime joins adjacent encoded words before it decodes them: the base64
    words the standard library splits long text into end on "=" padding, and
    GMime's text stopped there. Q words (and one word per name) read whole."""
    subject, name = "a" + "€" * 40, "Ö" * 40
    read = _read_back(tmp_path, name=name, subject=subject)
    assert read["gmime"] == {"Subject": subject, "name": name, "text": "x\n"}


def test_a_space_where_a_subject_is_folded_stays(tools, tmp_path):
    """CPython gh-92081: folding a long subject, the standard library put a space
    between two encoded words, where every reader (its own too) drops it."""
    subject = "ÆØÅ æøå ŁÓDŹ ąę ẞ ß " * 4
    for reader, seen in _read_back(tmp_path, subject=subject).items():
        assert seen["Subject"] == subject.strip(), reader


def test_python_reads_a_long_display_name_without_a_space(tools, tmp_path):
    """Python's parser reads a space between the encoded words of a display name
    (RFC 2047 says to drop it); the standard library splits a long name into
    several words. A name goes out as one word."""
    name = "Familie Özdemir-Müller-Lüdenscheidt aus Gießen an der Lahn"
    for reader, seen in _read_back(tmp_path, name=name).items():
        assert seen["name"] == name, reader


def test_text_that_looks_like_an_encoded_word_stays_text(tools, tmp_path):
    """The standard library writes ASCII that looks like an encoded word as it
    stands, and every reader decodes it: a family called "=?utf-8?q?Evil?=" was
    shown as "Evil". Such text is encoded like any other."""
    read = _read_back(tmp_path, name="=?utf-8?q?Evil?=", subject="Re: =?utf-8?b?QQ==?= ok")
    for reader, seen in read.items():
        assert (seen["Subject"], seen["name"]) == ("Re: =?utf-8?b?QQ==?= ok",
                                                   "=?utf-8?q?Evil?="), reader


def test_a_line_starting_with_from_survives_an_mbox(tmp_path):
    """Quoted-printable leaves "From " at a line start as it stands, and an mbox
    (Python's ``mailbox``, like many MTAs and mail programs) stores that line as
    ">From " for good. Such a body goes out in base64; every reader reads it alike."""
    text = "Hallo,\nFrom Montag an sind wir da.\n" + "x" * 70 + "From here too\n"
    msg = plain_mailer().build(to="eva@example.org", subject="Hallo", text=text,
                               html="<p>From here</p>\n")
    box = mailbox.mbox(tmp_path / "box")
    box.add(msg.as_bytes().replace(b"\r\n", b"\n"))
    box.flush()
    stored = message_from_bytes(box.get_bytes(0), policy=policy.default)
    assert stored.get_body(("plain",)).get_content() == text  # type: ignore[union-attr]
    assert stored.get_body(("html",)).get_content() == "<p>From here</p>\n"  # type: ignore[union-attr]


def test_every_reader_reads_the_names_subjects_and_bodies_we_wrote(tools, tmp_path):
    maildir = _maildir(tmp_path)
    mailer = plain_mailer()
    files = []
    for i, (name, subject, text, html) in enumerate(CASES):
        msg = mailer.build(to=address(f"family{i}@example.org", name), subject=subject,
                           text=text, html=html or None,
                           message_id=f"<case{i}@suedwestfalen.example.org>")
        files.append(_write_eml(maildir, i, msg))
    read = _same_everywhere(files, tmp_path)
    # … and what they read is what was written (Python's parser checked the same
    # way, over arbitrary text, in test_outbox_render)
    for (name, subject, text, _), ours in zip(CASES, read, strict=True):
        assert ours["Subject"] == " ".join(subject.split()) or ours["Subject"] == subject.strip()
        assert ours["To"][0] == name  # type: ignore[index]
        assert ours["text/plain"] == text.replace("\r\n", "\n").replace("\r", "\n")


def test_the_services_mails_read_alike_in_every_reader(tools, client, settings, tmp_path):
    """The real mails of a lead: the confirmation request to the family, the
    lead to each municipality and association, the family's receipt."""
    # With this name the standard library splits the towns' subject into two base64
    # words, the first ending on "=" padding (see test_gmime_reads_long_subjects…)
    r = submit(client, name="Ayşe Özdemir „Jo“", municipalities=["olpe", "attendorn"])
    assert r.status_code == 303
    deliver(client)
    [first] = list(settings.mail_dir.glob("*.eml"))
    confirm = link_in(message_from_bytes(first.read_bytes(), policy=policy.default),
                      "bestaetigen")
    assert click(client, confirm).status_code == 200
    deliver(client)
    maildir = _maildir(tmp_path)
    files = []
    for i, eml in enumerate(sorted(settings.mail_dir.glob("*.eml"))):
        files.append(maildir / "new" / f"mail{i}")
        shutil.copyfile(eml, files[-1])
    assert len(files) >= 5  # request, receipt, two towns, association (and more)
    read = _same_everywhere(files, tmp_path)
    subjects = [str(m["Subject"]) for m in read]
    assert any("Ayşe Özdemir „Jo“ (" in s for s in subjects)  # in the towns' subject
    assert any("Bestätigt" in s for s in subjects)
