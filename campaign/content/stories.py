"""Stories of families who came (``geschichten.toml``), each with a drawn picture.

The picture is an SVG the service draws itself from the story (how many grown-ups
and children) and its municipality's landscape, so a page shows no photo of a
real person until a partner supplies one, and loads nothing from another host.
Shipped stories carry ``example = true`` and pages say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .checks import Checker, ContentError, read_toml
from .model import Municipality, Region, Text

FILE = "geschichten.toml"
FIELDS = {"slug", "municipality", "family", "title", "came_from", "text", "alt", "adults",
          "children", "example"}
WIDTH, HEIGHT = 320, 180
GROUND = 130


@dataclass(frozen=True)
class Story:
    slug: str
    municipality: str
    family: str  # how the family is named, e.g. "Familie K."
    title: Text
    came_from: Text
    text: Text
    alt: Text  # the picture's text alternative
    adults: int
    children: int
    example: bool


@dataclass(frozen=True)
class Shape:
    """One element of a story picture: an SVG tag, its fill and its geometry."""

    tag: str  # path | circle | rect | ellipse
    fill: str
    attrs: Mapping[str, str]


def stories_of(stories: Mapping[str, Story], municipality: str | None = None) -> list[Story]:
    """All stories, or those of one municipality, in the order of the file."""
    return [s for s in stories.values() if municipality is None or s.municipality == municipality]


def picture(story: Story, town: Municipality) -> list[Shape]:
    """The drawing: sky, the town's landscape, a house and the family in front of it.

    Decoration only in colour; what it shows is said by the story's ``alt`` text."""
    land = set(town.facts.landscape)
    out = [Shape("rect", "#dcecf5", {"x": "0", "y": "0", "width": str(WIDTH),
                                     "height": str(HEIGHT)})]
    if "mountains" in land or "forest" in land:
        out.append(Shape("path", "#8fb39a", {"d": f"M0,{GROUND}L60,60L120,{GROUND}Z"}))
        out.append(Shape("path", "#7aa386", {"d": f"M90,{GROUND}L170,50L250,{GROUND}Z"}))
    out.append(Shape("rect", "#a9cf8e" if "fields" not in land else "#d8c98a",
                     {"x": "0", "y": str(GROUND), "width": str(WIDTH),
                      "height": str(HEIGHT - GROUND)}))
    if "lakes" in land or "rivers" in land:
        out.append(Shape("ellipse", "#6fa8c9", {"cx": "60", "cy": str(GROUND + 25),
                                                "rx": "50", "ry": "12"}))
    if "forest" in land:
        for x in (20, 260, 295):
            out.append(Shape("path", "#2f6b45",
                             {"d": f"M{x},{GROUND + 5}l12,-40l12,40Z"}))
    out.append(Shape("rect", "#f4e3c1", {"x": "190", "y": "90", "width": "50", "height": "45"}))
    out.append(Shape("path", "#b5533c", {"d": "M184,92L215,66L246,92Z"}))
    out.append(Shape("rect", "#6b4a2b", {"x": "208", "y": "112", "width": "14", "height": "23"}))
    x = 110
    for n in range(story.adults + story.children):
        tall = n < story.adults
        body, head = (34, 7) if tall else (22, 5)
        top = GROUND + 12 - body
        out.append(Shape("circle", "#3b3b3b", {"cx": str(x), "cy": str(top - head),
                                                "r": str(head)}))
        out.append(Shape("rect", ("#2b5c8a", "#9a3412", "#1f5f4a", "#6b2c7a")[n % 4],
                         {"x": str(x - 5), "y": str(top), "width": "10", "height": str(body),
                          "rx": "4"}))
        x += 16 if tall else 13
    return out


def load_stories(content_dir: Path, region: Region) -> Mapping[str, Story]:
    """``geschichten.toml`` (optional file): every ``[[story]]`` checked."""
    path = Path(content_dir) / FILE
    if not path.exists():
        return MappingProxyType({})
    data = read_toml(path, FILE)
    Checker(FILE).unknown_keys(data, {"story"})
    items = data.get("story", [])
    if not isinstance(items, list):
        raise ContentError(FILE, "", "story", "expected [[story]] entries")
    out: dict[str, Story] = {}
    for n, item in enumerate(items, 1):
        c = Checker(FILE, f"story {item.get('slug', n)!s}" if isinstance(item, dict)
                    else f"story {n}")
        if not isinstance(item, dict):
            raise c.fail("", "expected a table")
        c.unknown_keys(item, FIELDS)
        town: str = c.get(item, "municipality", str)
        if town not in region.municipalities:
            raise c.fail("municipality", f"unknown municipality {town!r}")
        adults, children = c.get(item, "adults", int), c.get(item, "children", int)
        if not 1 <= adults <= 4:
            raise c.fail("adults", "expected a whole number from 1 to 4")
        if not 0 <= children <= 6:
            raise c.fail("children", "expected a whole number from 0 to 6")
        example = c.get(item, "example", bool)
        story = Story(slug=c.slug(item), municipality=town, family=c.get(item, "family", str),
                      title=c.text(item, "title"), came_from=c.text(item, "came_from"),
                      text=c.text(item, "text"), alt=c.text(item, "alt"),
                      adults=adults, children=children, example=example)
        if story.slug in out:
            raise c.fail("slug", "duplicate slug")
        out[story.slug] = story
    return MappingProxyType(out)
