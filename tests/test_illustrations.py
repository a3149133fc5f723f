"""Drawn default pictures: every municipality and district page shows a landscape the
service draws from the facts, with alt text and credit; the SVG is small, the same on
every request, names itself in a <title>, and draws what the facts say."""

from __future__ import annotations

import re
from dataclasses import replace
from xml.etree import ElementTree

import pytest

from campaign.content.illustration import Scene, district_scene, draw, scene_of

from .support.app import shipped_content

SVG = "{http://www.w3.org/2000/svg}"


def shapes(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def test_every_municipality_and_district_has_a_small_titled_picture(client):
    region = shipped_content().region
    paths = [(f"/bilder/ort/{s}.svg", m.name) for s, m in region.municipalities.items()]
    paths += [(f"/bilder/kreis/{s}.svg", d.name) for s, d in region.districts.items()]
    bodies = set()
    for path, name in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"] == "image/svg+xml"
        assert "max-age=86400" in r.headers["cache-control"]
        assert len(r.content) < 10_000, path
        root = shapes(r.text)
        assert root.find(f"{SVG}title").text == f"Gezeichnete Landschaft von {name}"
        assert client.get(path).content == r.content  # deterministic
        bodies.add(r.content)
    assert len(bodies) == len(paths)  # each town its own drawing
    assert "Drawn landscape of Olpe" in client.get("/en/bilder/ort/olpe.svg").text


@pytest.mark.parametrize("path", ["/bilder/ort/atlantis.svg", "/bilder/kreis/atlantis.svg"])
def test_unknown_places_are_404(client, path):
    assert client.get(path).status_code == 404


def test_the_drawing_follows_the_facts():
    olpe = shipped_content().region.municipalities["olpe"]
    base = Scene("x", (), "landgemeinde", snow=False)

    def count(scene: Scene, tag: str, fill: str) -> int:
        return sum(1 for e in shapes(draw(scene, "t")).iter(f"{SVG}{tag}")
                   if e.get("fill") == fill)

    assert count(base, "ellipse", "#4f8fc0") == 0
    assert count(replace(base, landscape=("lakes",)), "ellipse", "#4f8fc0") == 1
    assert count(base, "polygon", "#2f6b3a") == 0
    assert count(replace(base, landscape=("forest",)), "polygon", "#2f6b3a") == 12
    hills = replace(base, landscape=("mountains",))
    assert count(hills, "polygon", "#ffffff") == 0
    assert count(replace(hills, snow=True), "polygon", "#ffffff") >= 3
    # houses (one roof each, plus a church tower from a small town on) grow with the town
    roofs = [count(replace(base, size_class=s), "polygon", "#a3402b")
             for s in ("landgemeinde", "kleinstadt", "mittelstadt", "grossstadt")]
    assert roofs == sorted(roofs) and roofs[0] < roofs[-1]
    assert scene_of(olpe).landscape == olpe.facts.landscape


def test_district_is_drawn_by_what_most_of_its_towns_have():
    region = shipped_content().region
    towns = region.in_district("hochsauerlandkreis")
    scene = district_scene("hochsauerlandkreis", towns)
    for kind in scene.landscape:
        assert sum(kind in t.facts.landscape for t in towns) >= len(towns) / 2


@pytest.mark.parametrize("prefix,credit", [("", "Illustration: Südwestfalen Agentur"),
                                           ("/en", "Illustration: Südwestfalen Agentur")])
def test_showcase_pages_show_the_picture_with_alt_text_and_credit(client, prefix, credit):
    region = shipped_content().region
    m = region.municipalities["olpe"]
    page = client.get(f"{prefix}/orte/olpe").text
    img = re.search(r'<figure class="illustration">\s*<img src="([^"]+)"[^>]*alt="([^"]+)"', page)
    assert img is not None and img.group(1) == f"{prefix}/bilder/ort/olpe.svg"
    assert m.name in img.group(2) and len(img.group(2)) > len(m.name) + 10
    assert credit in page
    page = client.get(f"{prefix}/region/kreis-olpe").text
    img = re.search(r'<figure class="illustration">\s*<img src="([^"]+)"[^>]*alt="([^"]+)"', page)
    assert img is not None and img.group(1) == f"{prefix}/bilder/kreis/kreis-olpe.svg"
    assert "Kreis Olpe" in img.group(2)
