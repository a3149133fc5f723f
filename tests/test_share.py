"""Share cards, Open Graph tags, signed result links and Shariff-style share links."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import itsdangerous.timed
import pytest
from PIL import Image
from starlette.testclient import TestClient

from campaign import cli
from campaign.content import load_content
from campaign.core.settings import Settings
from campaign.reach.share import (
    SHARE_HOSTS,
    Card,
    cache_dir,
    cached_card,
    make_result_token,
    prune_cards,
    read_result_token,
    top_slugs,
)
from campaign.web.app import create_app

from .support.app import shipped_content
from .support.portal_cases import FAMILY_ANSWERS as FAMILY
from .support.portal_cases import walk_quiz

BASE = "https://kampagne.example.org"


class MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and ("property" in a or "name" in a):
            key = a.get("property") or a.get("name")
            self.meta.setdefault(key, []).append(a.get("content") or "")


def meta_of(html: str) -> dict[str, list[str]]:
    p = MetaParser()
    p.feed(html)
    return p.meta


def png_size(body: bytes) -> tuple[str, tuple[int, int]]:
    img = Image.open(io.BytesIO(body))
    return img.format, img.size


@pytest.fixture
def base_client(settings):
    """An app whose configured public address differs from the test host."""
    app = create_app(settings.with_(base_url=BASE), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_og_and_twitter_tags_are_complete_on_every_page_type(base_client, settings):
    token = make_result_token(settings.secret_key, "familie", ["olpe", "attendorn"])
    pages = {"/": "de_DE", "/region/kreis-olpe": "de_DE", "/orte/winterberg": "de_DE",
             "/datenschutz": "de_DE", "/impressum": "de_DE", "/en/orte/olpe": "en_GB",
             "/nl/": "nl_NL", f"/teilen/{token}": "de_DE"}
    for slug in shipped_content().quizzes:
        pages[f"/quiz/{slug}"] = "de_DE"
    images = set()
    for path, locale in pages.items():
        r = base_client.get(path)
        assert r.status_code == 200, path
        meta = meta_of(r.text)
        one = {k: v[0] for k, v in meta.items()}
        for key in ("og:title", "og:description", "og:url", "og:image", "og:type",
                    "og:locale", "twitter:title", "twitter:image", "twitter:description"):
            assert one.get(key, "").strip(), (path, key)
            assert len(meta[key]) == 1, (path, key)  # no duplicates
        assert one["og:url"] == BASE + path, path
        assert one["og:image"].startswith(BASE + "/"), path
        assert one["og:image:width"] == "1200" and one["og:image:height"] == "630", path
        assert one["og:locale"] == locale, path
        assert set(meta["og:locale:alternate"]) == {"de_DE", "nl_NL", "en_GB"} - {locale}
        assert one["twitter:card"] == "summary_large_image", path
        assert one["twitter:image"] == one["og:image"], path
        images.add(one["og:image"])
    # every announced image really is a 1200×630 PNG
    for url in images:
        r = base_client.get(urlparse(url).path)
        assert r.status_code == 200, url
        assert r.headers["content-type"] == "image/png"
        assert png_size(r.content) == ("PNG", (1200, 630)), url
    # a municipality page announces its own image, the result page the outcome's
    assert BASE + "/teilen/bild/orte/winterberg.png" in images
    assert BASE + f"/teilen/bild/ergebnis/{token}.png" in images


def test_municipality_title_is_in_og_title(client):
    meta = meta_of(client.get("/orte/winterberg").text)
    assert meta["og:title"] == ["Winterberg"]
    assert meta["og:image"] == ["http://testserver/teilen/bild/orte/winterberg.png"]


def _renamed_content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(Settings().content_dir, folder)
    toml = folder / "orte" / "hochsauerlandkreis.toml"
    text = toml.read_text()
    assert text.count('name = "Winterberg"') == 1
    toml.write_text(text.replace('name = "Winterberg"', 'name = "Winterberg (Hochsauerland)"'))
    return folder


def test_share_image_is_cached_and_changes_with_the_municipality_name(settings, tmp_path):
    cache = cache_dir(settings)
    assert cache == tmp_path / "share-cache"  # in the data folder (CAMPAIGN_DATA_DIR)
    app = create_app(settings, content=shipped_content())
    with TestClient(app) as c:
        first = c.get("/teilen/bild/orte/winterberg.png")
        again = c.get("/teilen/bild/orte/winterberg.png")
    assert png_size(first.content) == ("PNG", (1200, 630))
    assert again.content == first.content
    assert len(list(cache.glob("*.png"))) == 1  # drawn once, then served from disk
    assert "max-age" in first.headers["cache-control"]

    renamed = create_app(settings, content=load_content(_renamed_content(tmp_path)))
    with TestClient(renamed) as c:
        changed = c.get("/teilen/bild/orte/winterberg.png")
        page = c.get("/orte/winterberg")
    assert png_size(changed.content) == ("PNG", (1200, 630))
    assert changed.content != first.content
    assert len(list(cache.glob("*.png"))) == 2  # a new file under a new key
    assert meta_of(page.text)["og:title"] == ["Winterberg (Hochsauerland)"]


def test_unknown_municipality_image_is_404(client):
    assert client.get("/teilen/bild/orte/atlantis.png").status_code == 404


def test_top_slugs_reads_objects_and_mappings():
    class Match:
        def __init__(self, slug: str) -> None:
            self.slug = slug

    ranking = [Match("winterberg"), {"slug": "olsberg"}, Match("winterberg"),
               {"slug": "brilon"}, Match("olpe")]
    assert top_slugs(ranking) == ["winterberg", "olsberg", "brilon"]
    assert top_slugs([]) == [] and top_slugs(None) == []


def test_result_link_holds_only_quiz_and_places_and_shows_them(client, settings):
    token = make_result_token(settings.secret_key, "familie",
                              ["winterberg", "olsberg", "brilon", "olpe"])
    assert read_result_token(settings.secret_key, token, 90) == (
        "familie", ["winterberg", "olsberg", "brilon"])
    r = client.get(f"/teilen/{token}")
    assert r.status_code == 200
    text = unescape(r.text)
    assert "<h1>Unsere Familie passt nach Winterberg, Olsberg, Brilon</h1>" in text
    assert 'href="/quiz/familie"' in r.text  # take the quiz yourself
    assert r.headers["x-robots-tag"] == "noindex"
    # tampered or foreign tokens are a plain 404
    assert client.get(f"/teilen/{token[:-2]}xx").status_code == 404
    other = make_result_token("another-secret-" + "y" * 32, "familie", ["olpe"])
    assert client.get(f"/teilen/{other}").status_code == 404
    unknown = make_result_token(settings.secret_key, "familie", ["atlantis"])
    assert client.get(f"/teilen/{unknown}").status_code == 404


def test_expired_result_link_is_a_friendly_410(client, settings, monkeypatch):
    old = time.time() - (settings.share_ttl_days + 1) * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: old)
    token = make_result_token(settings.secret_key, "familie", ["olpe"])
    monkeypatch.undo()
    r = client.get(f"/teilen/{token}")
    assert r.status_code == 410
    assert "Dieser Link ist nicht mehr gültig" in r.text
    assert 'href="/quiz/familie"' in r.text
    assert client.get(f"/teilen/bild/ergebnis/{token}.png").status_code == 410


SHARE_A = re.compile(r'<a class="share-link[^"]*" href="([^"]+)"([^>]*)>')


def share_links(html: str) -> dict[str, str]:
    found = {}
    for href, rest in SHARE_A.findall(html):
        href = unescape(href)
        if not href.startswith("mailto:"):
            assert 'rel="noopener noreferrer"' in rest
        found[urlparse(href).netloc or "mailto"] = href
    return found


def test_quiz_outcome_offers_a_share_link_without_answers(client, settings):
    result = walk_quiz(client, "familie", FAMILY)
    assert result.status_code == 200
    m = re.search(r'<a href="(/teilen/[^"]+)">', result.text)
    assert m, "outcome page links to its public result page"
    token = m.group(1).rsplit("/", 1)[1]
    quiz, slugs = read_result_token(settings.secret_key, token, settings.share_ttl_days)
    assert quiz == "familie" and len(slugs) == 3
    for answer_values in FAMILY.values():  # no answer travels in the link
        for v in answer_values:
            assert v not in slugs
    links = share_links(result.text)
    assert set(links) == set(SHARE_HOSTS) | {"mailto"}
    shared = parse_qs(urlparse(links["www.facebook.com"]).query)["u"][0]
    assert shared == f"http://testserver/teilen/{token}"
    whatsapp = parse_qs(urlparse(links["wa.me"]).query)["text"][0]
    assert whatsapp.endswith(f" http://testserver/teilen/{token}")
    page = client.get(urlparse(shared).path)
    names = [shipped_content().region.municipalities[s].name for s in slugs]
    assert f"Unsere Familie passt nach {', '.join(names)}" in unescape(page.text)
    assert "script" not in "".join(SHARE_A.findall(page.text)[0])


def test_unused_share_images_and_crash_leftovers_are_pruned(settings, monkeypatch, capsys):
    folder = cache_dir(settings)
    now = time.time()
    shared = cached_card(Card("Olpe", "Am Biggesee", "Südwestfalen"), folder)
    forgotten = cached_card(Card("Attendorn", "Tropfsteinhöhle", "Südwestfalen"), folder)
    crashed = folder / "abc.123.456.tmp"
    writing = folder / "def.123.789.tmp"
    crashed.write_bytes(b"half")
    writing.write_bytes(b"half")
    month_ago = now - 31 * 86400
    for path in (shared, forgotten):
        os.utime(path, (month_ago, month_ago))
    os.utime(crashed, (now - 7200, now - 7200))
    # asked for again today: its use counts, and it is kept
    assert cached_card(Card("Olpe", "Am Biggesee", "Südwestfalen"), folder) == shared
    assert shared.stat().st_mtime > now - 60

    assert prune_cards(folder, now=now) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([shared.name, writing.name])
    assert prune_cards(folder, now=now) == 0  # nothing more to do
    assert prune_cards(folder / "missing") == 0
    # the retention command (cron) prunes the service's cache folder too
    again = cached_card(Card("Wenden", "Im Grünen", "Südwestfalen"), folder)
    os.utime(again, (month_ago, month_ago))
    monkeypatch.setenv("CAMPAIGN_DATABASE", str(settings.database))
    monkeypatch.setenv("CAMPAIGN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", settings.secret_key)
    assert cli.main(["purge"]) == 0
    assert "purge: 1 share image(s)" in capsys.readouterr().out
    assert not again.exists() and shared.exists()
