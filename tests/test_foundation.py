"""Foundation: pages, crawl, no third-party hosts, health, migrations, settings."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from campaign.cli import main as cli_main
from campaign.content import ContentError, load_content
from campaign.core.db import Database
from campaign.core.schema import lead_municipalities
from campaign.core.settings import Settings, SettingsError, sqlite_path
from campaign.web.app import create_app

from .support.app import run, services, shipped_content
from .support.pages import empty_database, schema_of, sqlite_in_wal_mode
from .support.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.h1 = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        for key in ("href", "src", "action"):
            if a.get(key):
                self.links.append(a[key])


def test_all_59_municipalities_and_5_districts():
    region = shipped_content().region
    assert len(region.districts) == 5
    assert len(region.municipalities) == 59
    per_district = {d.slug: len(d.municipalities) for d in region.districts.values()}
    assert per_district == {
        "hochsauerlandkreis": 12, "maerkischer-kreis": 15, "kreis-olpe": 7,
        "kreis-siegen-wittgenstein": 11, "kreis-soest": 14,
    }
    # every municipality is covered by exactly one tourism association
    for slug in region.municipalities:
        assert len(region.covering(slug, "tourism")) == 1, slug


def test_every_page_returns_200_with_one_h1(client):
    region = shipped_content().region
    paths = ["/"] + [f"/region/{d}" for d in region.districts] + [
        f"/orte/{m}" for m in region.municipalities]
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        p = LinkParser()
        p.feed(r.text)
        assert p.h1 == 1, path
        assert '<html lang="de">' in r.text


def test_crawl_finds_no_broken_internal_link(client):
    seen: set[str] = set()
    queue = ["/"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code == 200, f"{path} -> {r.status_code}"
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        p = LinkParser()
        p.feed(r.text)
        for link in p.links:
            url = urlparse(urljoin("http://testserver" + path, link))
            if url.scheme in ("mailto", "tel"):
                continue
            if url.netloc != "testserver":
                continue  # absolute foreign links are caught by the next test
            if url.path.startswith("/partner") or url.path.startswith("/static"):
                target = url.path
                if url.path.startswith("/static"):
                    assert client.get(target).status_code == 200, target
                continue
            queue.append(url.path + (f"?{url.query}" if url.query else ""))
    assert len(seen) >= 65


ABSOLUTE = re.compile(
    r"""(?:src|href|action|srcset)\s*=\s*["']\s*(?:https?:)?//([^/"'\s]+)""", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//([^/"')\s]+)""", re.I)


# Shariff-style share links (templates/share/_share_links.html) are the one
# exception: plain <a class="share-link"> to these hosts, loaded only on click.
SHARE_LINK = re.compile(r"""<a class="share-link[^"]*" href="https://([^/"]+)/[^"]*"[^>]*>""")


def test_no_page_refers_to_another_host(client, settings):
    from campaign.reach.share import SHARE_HOSTS, make_result_token

    region = shipped_content().region
    paths = ["/", "/datenschutz", "/impressum"] + [f"/region/{d}" for d in region.districts] + [
        f"/orte/{m}" for m in region.municipalities] + [
        "/teilen/" + make_result_token(settings.secret_key, "familie", ["olpe", "wenden"])]
    for path in paths:
        html = client.get(path).text
        assert set(SHARE_LINK.findall(html)) <= set(SHARE_HOSTS), path
        html = SHARE_LINK.sub("<a>", html)
        hosts = set(ABSOLUTE.findall(html)) | set(CSS_URL.findall(html))
        # hreflang alternates use the configured base URL, which is this service
        assert hosts <= {"testserver"}, (path, hosts)
    for css in (ROOT / "static").rglob("*.css"):
        assert not CSS_URL.findall(css.read_text()), css
        assert "@import" not in css.read_text()


def test_unknown_slugs_give_a_german_404_page(client):
    for path in ("/orte/atlantis", "/region/nirgendwo", "/gibt-es-nicht"):
        r = client.get(path)
        assert r.status_code == 404
        assert "Diese Seite gibt es nicht" in r.text
        assert 'href="/static/css/site.css"' in r.text  # styled like the site


def test_healthz_reports_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}  # details: tests/test_healthz.py


def test_showcase_has_facts_sources_and_estimate_note(client):
    r = client.get("/orte/winterberg")
    assert "Familienleben in Winterberg" in r.text
    assert "Richtwerte der Kampagne, noch nicht vom Ort bestätigt" in r.text
    assert "willkommen@winterberg.example.org" in r.text
    assert "Wintersport" in r.text


@pytest.fixture
def empty(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return empty_database(backend, tmp_path, request)


def test_migrations_are_applied_once_and_are_idempotent(empty):
    async def start_twice() -> tuple[list[str], dict, list[str], dict]:
        db = Database(empty)
        first = await db.open()
        schema = await schema_of(db)
        await db.close()
        db = Database(empty)
        again = await db.open()
        also = await db.migrate()
        schema_again = await schema_of(db)
        await db.close()
        return first, schema, again + also, schema_again

    first, schema, again, schema_again = asyncio.run(start_twice())
    assert first == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
                     "0011", "0012"]
    assert again == []
    assert schema["revision"] == "0012"
    assert {"leads", "outbox", "funnel_counts", "users"} <= set(schema["tables"])
    assert schema_again == schema
    path = sqlite_path(empty)
    if path is not None:
        assert sqlite_in_wal_mode(path)


def test_init_db_reports_the_migrations_it_applied(empty, monkeypatch, capsys):
    monkeypatch.setenv("CAMPAIGN_DATABASE", empty)
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", "cli-test-secret-" + "x" * 32)
    assert cli_main(["init-db"]) == 0
    out = capsys.readouterr().out
    assert ("applied 12 migration(s) (0001, 0002, 0003, 0004, 0005, 0006, "
            "0007, 0008, 0009, 0010, 0011, 0012)") in out
    assert cli_main(["init-db"]) == 0
    assert "applied 0 migration(s)" in capsys.readouterr().out


def test_foreign_keys_are_enforced(client):
    """A row that points at a lead that does not exist is refused on both backends."""
    async def orphan() -> None:
        async with services(client).db.transaction() as conn:
            await conn.execute(sa.insert(lead_municipalities).values(
                lead_id=987654, slug="olpe", position=0))

    with pytest.raises(IntegrityError):
        run(client, orphan)


def _broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Settings().content_dir, target)
    return target


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: (d / "orte/kreis-olpe.toml").write_text(
        (d / "orte/kreis-olpe.toml").read_text().replace(
            'rail_station = { value', 'rail_statoin = { value', 1)),
     ["orte/kreis-olpe.toml", "ort 'attendorn'", "facts.rail_station"]),
    (lambda d: (d / "orte/kreis-olpe.toml").write_text(
        (d / "orte/kreis-olpe.toml").read_text().replace(
            'willkommen@olpe.example.org', 'willkommen at olpe', 1)),
     ["orte/kreis-olpe.toml", "ort 'olpe'", "contact.email", "not a valid e-mail"]),
    (lambda d: (d / "orte/kreis-olpe.toml").write_text(
        (d / "orte/kreis-olpe.toml").read_text().replace(
            'slug = "wenden"', 'slug = "olpe"', 1)),
     ["orte/kreis-olpe.toml", "ort 'olpe'", "slug", "duplicate"]),
    (lambda d: (d / "region.toml").write_text(
        (d / "region.toml").read_text().replace(
            'covers_districts = ["kreis-siegen-wittgenstein"]',
            'covers_districts = ["kreis-siegen-wittgenstein"]\n'
            'covers_municipalities = ["atlantis"]')),
     ["region.toml", "organisation 'tvsw'", "covers_municipalities", "atlantis"]),
])
def test_broken_content_names_file_entry_and_field(tmp_path, breakage, expected):
    folder = _broken_copy(tmp_path)
    breakage(folder)
    with pytest.raises(ContentError) as info:
        load_content(folder)
    for part in expected:
        assert part in str(info.value)
    # the CLI says the same and exits non-zero
    out = subprocess.run([sys.executable, "-m", "campaign", "check-content", "--dir", str(folder)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    for part in expected:
        assert part in out.stderr


def test_check_content_passes_on_shipped_content():
    out = subprocess.run([sys.executable, "-m", "campaign", "check-content"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "59 municipalities" in out.stdout


def test_production_refuses_generated_secret(tmp_path):
    with pytest.raises(SettingsError):
        Settings.from_env({"CAMPAIGN_PRODUCTION": "1", "CAMPAIGN_DATABASE": str(tmp_path / "x.db")})
    with pytest.raises(SettingsError):
        Settings.from_env({"CAMPAIGN_PRODUCTION": "1", "CAMPAIGN_SECRET_KEY": "short"})
    s = Settings.from_env({"CAMPAIGN_DATABASE": str(tmp_path / "x.db")})
    assert s.secret_key and (tmp_path / "secret_key").read_text() == s.secret_key
    again = Settings.from_env({"CAMPAIGN_DATABASE": str(tmp_path / "x.db")})
    assert again.secret_key == s.secret_key


def test_broken_content_stops_start_up_with_a_clear_message(tmp_path):
    folder = _broken_copy(tmp_path)
    (folder / "region.toml").write_text((folder / "region.toml").read_text().replace(
        'email = "neubuerger@siegerland-wittgenstein.example.org"', 'email = "kaputt"'))
    env = {"CAMPAIGN_CONTENT_DIR": str(folder), "CAMPAIGN_DATABASE": str(tmp_path / "d.db"),
           "CAMPAIGN_PORT": str(free_port()), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "uvicorn_run.py"], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=60)
    assert out.returncode == 2
    assert "region.toml" in out.stderr and "organisation 'tvsw'" in out.stderr
    assert "Traceback" not in out.stderr


def test_uvicorn_run_serves_landing_and_health(database):
    port = free_port()
    env = {"CAMPAIGN_DATABASE": database, "CAMPAIGN_PORT": str(port),
           "CAMPAIGN_SECRET_KEY": "uvicorn-test-secret-" + "x" * 32, "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "uvicorn_run.py"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.2)
        assert "Vom Touristen zum Neubürger".encode() in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            assert b'"database":"ok"' in r.read().replace(b" ", b"")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_what_start_up_built_is_kept_out_of_full_collections_while_serving(settings):
    # A full collection walked every object of the process (about 100 ms on the
    # bench machine, a stall for every request in flight); start-up freezes them.
    import gc

    gc.unfreeze()
    with TestClient(create_app(settings, content=shipped_content())) as client:
        assert client.get("/").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # after shutdown they can be collected again
