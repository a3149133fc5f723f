"""In a real browser: no page talks to any host but the service until a share link is clicked.

The app runs under uvicorn on a free loopback port (tests/support/live.py), once on
SQLite and once on PostgreSQL; Debian's chromium loads
every public page (and a quiz run up to its outcome) while every request is
recorded. Requests to the networks are answered by an abort here, so the
test never reaches the internet even after the click.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import zxingcpp
from PIL import Image

from campaign.core.settings import Settings
from campaign.reach.places import place_url
from campaign.reach.share import SHARE_HOSTS, make_result_token, qr_code

from .support.app import shipped_content
from .support.live import LiveServer
from .support.postgres import PostgresCluster

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def server(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresCluster,
           request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The service on a new SQLite file, or on a new migrated PostgreSQL database.

    ``postgres`` is asked for on both backends so that the cluster starts before the
    browser: its set-up calls ``asyncio.run``, which fails under Playwright's running loop.
    """
    folder = tmp_path_factory.mktemp("share-browser")
    database: str | Path = folder / "db.sqlite3"
    if request.param == "postgresql":
        database = postgres.new_database()
    settings = Settings(database=database, files_dir=folder,
                        secret_key="share-browser-" + "s" * 32,
                        mail_dir=folder / "mail", background=False, min_fill_seconds=0.0)
    with LiveServer(settings) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM.exists(), "needs Debian's chromium at /usr/bin/chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_no_request_leaves_the_service_before_a_share_link_is_clicked(server, browser):
    region = shipped_content().region
    token = make_result_token(server.settings.secret_key, "familie",
                              ["winterberg", "olsberg", "brilon"])
    paths = (["/", "/en/", "/nl/", "/datenschutz", "/impressum", f"/teilen/{token}"]
             + [f"/region/{d}" for d in region.districts]
             + [f"/orte/{m}" for m in region.municipalities]
             + [f"/quiz/{q}" for q in shipped_content().quizzes])
    context = browser.new_context(base_url=server.url)
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    context.route(lambda url: urlparse(url).netloc in SHARE_HOSTS, lambda route: route.abort())
    page = context.new_page()
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
    # a quiz run in the browser, up to the outcome page with its share links
    page.goto("/quiz/familie")
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    for _ in range(20):
        if "/ergebnis" in page.url:
            break
        page.locator("input[name=answer]").first.check()
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_load_state()
    assert "/ergebnis" in page.url
    assert page.locator("a.share-link").count() == 4
    page.locator("main a[href^='/teilen/']").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Unsere Familie passt nach")

    hosts = {urlparse(u).netloc for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {server.host}, hosts
    loaded = len(requests)
    assert loaded >= len(paths)

    with context.expect_page() as popup:
        page.locator("a.share-whatsapp").click()
    popup.value.wait_for_load_state("domcontentloaded")
    after = [urlparse(u).netloc for u in requests[loaded:]]
    assert "wa.me" in after  # only now, and only because of the click
    context.close()


def test_qr_svg_decodes_to_the_place_url_when_rendered(browser):
    """The SVG download, drawn by the browser, reads back as the place's address."""
    url = place_url("https://kampagne.example.org", "k7m2qz")
    svg = qr_code(url, "svg")
    page = browser.new_page()
    data = base64.b64encode(svg).decode()
    page.set_content(f'<img id="qr" width="400" height="400" '
                     f'src="data:image/svg+xml;base64,{data}">')
    page.wait_for_function("document.getElementById('qr').complete")
    shot = page.locator("#qr").screenshot()
    page.close()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
    assert found == [url]
