"""Playwright harness: Debian's chromium against a live uvicorn server.

One server, one SMTP catcher and one browser per test module keep the
browser tests fast; the server and its catcher are made once per database
backend (SQLite, PostgreSQL), so every browser test runs on both. Every
context records the requests it makes and the console messages it prints,
so privacy and CSP checks come for free.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from campaign.core.settings import Settings

from ..conftest import BACKENDS
from ..support.live import LiveServer
from ..support.postgres import PostgresCluster
from ..support.smtp import SMTPCatcher

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# axe-core as shipped inside the axe-playwright-python wheel (a test extra), so that
# `pip install -e '.[test]'` brings it and no npm step is needed.
AXE = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module", params=BACKENDS)
def live_backend(request: pytest.FixtureRequest) -> str:
    """The database backend of the module's ``live`` server (and of its mail catcher)."""
    return str(request.param)


@pytest.fixture(scope="module")
def mail_server(live_backend: str) -> Iterator[SMTPCatcher]:
    """One catcher per backend: the mails of the SQLite run never answer the PostgreSQL run."""
    catcher = SMTPCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="module")
def live(live_backend: str, tmp_path_factory: pytest.TempPathFactory,
         mail_server: SMTPCatcher, postgres: PostgresCluster) -> Iterator[LiveServer]:
    """The service under uvicorn on a new SQLite file or a new, migrated PostgreSQL database.

    ``postgres`` is asked for on both backends, so that the session's cluster is started
    before the first browser: it migrates its template with ``asyncio.run``, which fails
    once Playwright's sync API runs its event loop on this thread.
    """
    folder = tmp_path_factory.mktemp("live")
    database: str | Path = folder / "campaign.sqlite3"
    if live_backend == "postgresql":
        database = postgres.new_database()
    settings = Settings(
        database=database,
        files_dir=folder,
        secret_key="browser-test-secret-" + "k" * 32,
        mail_dir=folder / "mail",
        smtp_url=mail_server.url,
        background=True,  # the outbox worker delivers to the SMTP catcher
        outbox_interval=0.2,
        min_fill_seconds=0.0,
    )
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium at /usr/bin/chromium "
                    "(apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


class Session:
    """A browser context that records requests and console messages."""

    def __init__(self, browser: Any, live: LiveServer, **options: Any) -> None:
        self.live = live
        options.setdefault("locale", "de-DE")
        self.context = browser.new_context(base_url=live.url, **options)
        self.context.set_default_timeout(10_000)
        self.requests: list[str] = []
        self.console: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.on("page", self._watch)
        self.page = self.context.new_page()

    def _watch(self, page: Any) -> None:
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None
        return response

    def foreign_requests(self) -> list[str]:
        """Every recorded request to a host other than the service."""
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:")) and urlparse(u).netloc != self.live.host]

    def cookie_names(self) -> set[str]:
        return {c["name"] for c in self.context.cookies()}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session_factory(browser: Any, live: LiveServer) -> Iterator[Any]:
    """``session_factory(**context_options)``; contexts are closed after the test."""
    made: list[Session] = []

    def make(**options: Any) -> Session:
        s = Session(browser, live, **options)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the current page; one readable line per violating node.

    Needs a context made with ``bypass_csp=True``: the injected script would
    otherwise be refused by the site's own ``script-src 'self'``.
    """
    if not AXE.exists():
        pytest.fail(f"axe-core missing at {AXE}: install the test extra (pip install -e '.[test]')")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.flatMap(v => v.nodes.map(
                n => `${v.id} (${v.impact}): ${n.target.join(' ')} – ${n.failureSummary}`));
        }""",
        AXE_TAGS,
    )
    return list(found)


def sideways_overflow(page: Any) -> int:
    """CSS pixels the page is wider than the viewport (WCAG 1.4.10 reflow: 0 on a phone).

    Wide data tables may scroll inside their own box; the page itself may not.
    """
    return int(page.evaluate("document.documentElement.scrollWidth")
               - page.viewport_size["width"])


def documented_cookies() -> set[str]:
    """Cookie names listed in the README's cookie table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Cookies", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.add(line.split("`")[1])
    return names
