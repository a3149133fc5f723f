"""Our mails as two other mail readers see them.

``campaign.mail.mime`` writes headers and bodies itself, and the other mail
tests read them back with Python's own parser. Here two independent parsers
read the same files: GMime (through ``notmuch``, whose parser it is) and
mblaze's (``mhdr``, ``mshow``). Both come from Debian (``apt-get install notmuch mblaze``;
``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from email import message_from_bytes, policy
from email.utils import formataddr, parseaddr
from pathlib import Path

import pytest

from .test_leads import deliver, link_in, submit
from .test_outbox_render import _mailer

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
    seen: dict[str, object] = {"Message-ID": msg["Message-ID"].strip("<>"),
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


def test_every_reader_reads_the_names_subjects_and_bodies_we_wrote(tools, tmp_path):
    from campaign.mail import address

    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    mailer = _mailer()
    files = []
    for i, (name, subject, text, html) in enumerate(CASES):
        msg = mailer.build(to=address(f"family{i}@example.org", name), subject=subject,
                           text=text, html=html or None,
                           message_id=f"<case{i}@suedwestfalen.example.org>")
        path = maildir / "new" / f"case{i}"
        path.write_bytes(msg.as_bytes())
        files.append(path)
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
    # "Neue Anfrage einer Familie: Ida " fills 32 bytes, and "Ö" needs two: where a
    # base64 word would end on padding
    r = submit(client, name="Ida Özdemir „Jo“", municipalities=["olpe", "attendorn"])
    assert r.status_code == 303
    deliver(client, settings)
    [first] = list(settings.mail_dir.glob("*.eml"))
    confirm = link_in(message_from_bytes(first.read_bytes(), policy=policy.default),
                      "bestaetigen")
    assert client.get(confirm).status_code == 200
    deliver(client, settings)
    maildir = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    files = []
    for i, eml in enumerate(sorted(settings.mail_dir.glob("*.eml"))):
        files.append(maildir / "new" / f"mail{i}")
        shutil.copyfile(eml, files[-1])
    assert len(files) >= 5  # request, receipt, two towns, association (and more)
    read = _same_everywhere(files, tmp_path)
    subjects = [str(m["Subject"]) for m in read]
    assert any("Ida Özdemir „Jo“ (" in s for s in subjects)  # in the towns' subject
    assert any("bestätigt" in s for s in subjects)
