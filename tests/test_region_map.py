"""The region map: projection, content coordinates, and the SVG on landing and district pages."""

from __future__ import annotations

import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from campaign.content import ContentError, load_content
from campaign.content.regionmap import SHAPES, hull, project, region_map, shape_path
from campaign.core.settings import Settings

from .support.app import shipped_content


class MapLinks(HTMLParser):
    """The links inside the region map's SVG, the viewBox and the legend's shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.view_box: list[float] = []
        self.shapes: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "figure" and "region-map" in a.get("class", ""):
            self._depth = 1
        elif self._depth and tag == "svg" and not self.view_box:
            self.view_box = [float(v) for v in a["viewbox"].split()]
        elif self._depth and tag == "a":
            self.links.append(a)
        elif self._depth and tag == "path" and "data-shape" in a:
            self.shapes.append(a["data-shape"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._depth = 0


def map_of(html: str) -> MapLinks:
    parser = MapLinks()
    parser.feed(html)
    return parser


def test_projection_keeps_north_up_and_shrinks_longitude_by_the_cosine():
    (west, east, north), height = project([(51.0, 8.0), (51.0, 9.0), (52.0, 8.0)],
                                          width=200, padding=0)
    shrink = math.cos(math.radians(51 + 1 / 3))  # of the mean latitude
    assert north == (0.0, 0.0) and west[0] == 0.0 and east == (200.0, west[1])
    # the points fill the width; one degree north is 1/cos(51.33°) times one degree east
    assert west[1] == pytest.approx(200 / shrink, rel=1e-9)
    assert height == pytest.approx(200 / shrink, rel=1e-9)


def test_projection_fits_every_point_inside_the_box():
    points = [(50.74, 8.08), (51.67, 8.85), (51.2, 7.5)]
    xy, height = project(points, width=600, padding=24)
    for x, y in xy:
        assert 24 - 1e-9 <= x <= 576 + 1e-9 and 24 - 1e-9 <= y <= height - 24 + 1e-9
    assert max(x for x, _ in xy) == pytest.approx(576)


def test_shapes_differ_and_a_hull_surrounds_its_points():
    paths = {shape_path(s, 10, 10, 7) for s in SHAPES}
    assert len(paths) == len(SHAPES)
    assert hull([(0, 0), (2, 0), (1, 1), (2, 2), (0, 2)]) == [(0, 0), (2, 0), (2, 2), (0, 2)]


def test_every_district_gets_its_own_shape():
    rmap = region_map(shipped_content().region)
    assert len({d.shape for d in rmap.legend}) == len(rmap.legend) == 5


def test_shipped_coordinates_lie_in_their_district():
    """A swapped digit shows as a town far from its district's others."""
    region = shipped_content().region
    for d in region.districts.values():
        towns = region.in_district(d.slug)
        lat = sum(m.lat for m in towns) / len(towns)
        lon = sum(m.lon for m in towns) / len(towns)
        for m in towns:
            km = math.hypot((m.lat - lat) * 111, (m.lon - lon) * 111 * math.cos(math.radians(lat)))
            assert km < 40, (m.slug, round(km))


def test_landing_map_links_every_municipality_once_inside_the_view_box(client):
    html = client.get("/").text
    found = map_of(html)
    region = shipped_content().region
    hrefs = [a["href"] for a in found.links]
    assert sorted(hrefs) == sorted(f"/orte/{slug}" for slug in region.municipalities)
    _x0, _y0, width, height = found.view_box
    for a in found.links:
        m = region.municipalities[a["data-slug"]]
        assert a["aria-label"] == f"{m.name} ({region.districts[m.district].name})"
        assert 0 < float(a["data-x"]) < width and 0 < float(a["data-y"]) < height
    assert len(set(found.shapes)) == 5
    # the plain list right after the map is its text alternative, and the map says so
    assert 'aria-describedby="alle-orte-hint"' in html and 'id="alle-orte"' in html
    after = html.split('id="alle-orte"', 1)[1]
    for slug in region.municipalities:
        assert f'href="/orte/{slug}"' in after


def test_district_map_emphasises_its_own_municipalities(client):
    found = map_of(client.get("/region/kreis-olpe").text)
    on = {a["data-slug"] for a in found.links if "map-link-on" in a["class"]}
    assert on == set(shipped_content().region.districts["kreis-olpe"].municipalities)
    assert len(found.links) == 59
    assert map_of(client.get("/en/region/kreis-olpe").text).links[0]["href"].startswith("/en/")


def _content_with(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Settings().content_dir, target)
    path = target / "orte/kreis-olpe.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return target


@pytest.mark.parametrize("old, new, message", [
    ("lat = 51.0289\n", "", "missing"),
    ("lon = 7.8514", "lon = 78.514", "outside the region"),
    ("lat = 51.0289", "lat = 7.8514", "outside the region"),
    ("lat = 51.0289", 'lat = "51.0289"', "expected int/float"),
])
def test_content_check_refuses_a_missing_or_wrong_coordinate(tmp_path, old, new, message):
    folder = _content_with(tmp_path, old, new)
    with pytest.raises(ContentError) as info:
        load_content(folder)
    text = str(info.value)
    assert text.startswith("orte/kreis-olpe.toml: ort 'olpe': field 'l")
    assert message in text
    assert re.search(r"field '(lat|lon)'", text)


@pytest.mark.parametrize("prefix, text", [("", "Hier sehen Sie alle Orte."),
                                          ("/en", "See all the towns here.")])
def test_easy_language_all_places_link_leads_to_the_list_of_all_places(client, prefix, text):
    html = client.get(f"{prefix}/leichte-sprache").text
    [href] = re.findall(rf'<a href="([^"]+)">{re.escape(text)}</a>', html)
    page, _sep, anchor = href.partition("#")
    assert page == f"{prefix}/" and anchor == "alle-orte"
    target = client.get(page).text.split(f'id="{anchor}"', 1)[1]
    for slug in shipped_content().region.municipalities:
        assert f'href="{prefix}/orte/{slug}"' in target
