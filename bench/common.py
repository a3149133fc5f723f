"""Shared pieces of the benchmarks: start the service, a tiny cookie-keeping client,
and a form filler that reads the real HTML form so the benches follow the templates."""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-" + "b" * 40
STAMP_FIELD = "started"  # the lead form's signed start time


def form_stamps(count: int) -> list[str]:
    """Start stamps of lead forms rendered a minute ago by a service with ``SECRET``.
    The service accepts each stamp for one stored lead only, so every submission
    of a bench needs its own (as every family fetches its own form)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from campaign.leads.stamps import make_stamp

    at = datetime.now(UTC) - timedelta(minutes=1)
    return [make_stamp(SECRET, at) for _ in range(count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def start_service(folder: Path, port: int, **env: str) -> subprocess.Popen[Any]:
    """``uvicorn_run.py`` on loopback with a real SQLite file in ``folder``."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CAMPAIGN_DATABASE": str(folder / "campaign.sqlite3"),
        "CAMPAIGN_MAIL_DIR": str(folder / "mail"),
        "CAMPAIGN_SECRET_KEY": SECRET,
        "CAMPAIGN_PORT": str(port),
        "CAMPAIGN_BASE_URL": f"http://127.0.0.1:{port}",
        "CAMPAIGN_BACKGROUND": "1",
        **env,
    }
    proc = subprocess.Popen([sys.executable, str(ROOT / "uvicorn_run.py")], cwd=ROOT,
                            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, path: str, data: Any = None, timeout: float = 30.0
                ) -> tuple[int, dict[str, str], str]:
        url = path if path.startswith("http") else self.base + path
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        try:
            with self.opener.open(url, data=body, timeout=timeout) as r:
                return r.status, dict(r.headers.items()), r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read().decode()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


class FormParser(HTMLParser):
    """Collects the fields of every ``<form method="post">`` on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {"action": a.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form["fields"].append(("input", a))
        elif tag == "textarea" and a.get("name"):
            self._form["fields"].append(("textarea", a))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"].append(("select", {**a, "options": []}))
        elif tag == "option" and self._select:
            self._form["fields"][-1][1]["options"].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def fill_form(html: str, email: str = "bench@example.org", index: int = -1
              ) -> tuple[str, list[tuple[str, str]]]:
    """(action, fields) of a post form filled as a willing visitor would.

    Hidden fields keep their value; a checkbox group keeps its pre-ticked
    boxes, otherwise a small group (consents, interests) is ticked fully and a
    long one (all municipalities) gets its first box; the first option of
    each radio group and select is taken; a text field people cannot reach
    (``tabindex="-1"``, the honeypot) stays empty.
    """
    parser = FormParser()
    parser.feed(html)
    if not parser.forms:
        raise ValueError("no post form on the page")
    form = parser.forms[index]
    out: list[tuple[str, str]] = []
    radios: set[str] = set()
    boxes: dict[str, list[dict[str, str]]] = {}
    for kind, a in form["fields"]:
        if kind == "input" and a.get("type", "").lower() == "checkbox":
            boxes.setdefault(a["name"], []).append(a)
    for name, group in boxes.items():
        ticked = [b for b in group if "checked" in b] or (group if len(group) <= 8 else group[:1])
        out += [(name, b.get("value", "on")) for b in ticked]
    for kind, a in form["fields"]:
        name = a["name"]
        if kind == "select":
            options = [o for o in a["options"] if o]
            if options:
                out.append((name, options[0]))
            continue
        if kind == "textarea":
            out.append((name, "Wir freuen uns auf Post."))
            continue
        typ = a.get("type", "text").lower()
        if typ in ("hidden",):
            out.append((name, a.get("value", "")))
        elif typ == "checkbox" or a.get("tabindex") == "-1":
            continue
        elif typ == "radio":
            if name not in radios:
                radios.add(name)
                out.append((name, a.get("value", "")))
        elif typ == "email":
            out.append((name, email))
        elif typ == "number":
            out.append((name, a.get("min") or "1"))
        elif typ == "tel":
            out.append((name, "+49 2761 0000"))
        elif typ in ("submit", "button"):
            continue
        elif typ in ("text", "search", ""):
            out.append((name, a.get("value") or "Familie Bench"))
    return form["action"], out
