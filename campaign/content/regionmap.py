"""The region map: municipalities placed by their content coordinates.

Drawn by the service as SVG (the template ``_partials/region_map.html``), so a
family's browser asks no tile server or script host; positions come from a
plain equirectangular projection, which is exact enough for a region 100 km
across.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Region

WIDTH = 600.0
PADDING = 24.0
# One shape per district, in the order of region.toml: shape tells districts apart
# for people who cannot tell the colours apart.
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
# Colours with at least 4.5:1 against white; muted markers are grey (4.5:1 too).
COLOURS = ("#1f5f4a", "#9a3412", "#1d4e89", "#6b2c7a", "#6b5200")
MUTED = "#6e6e6e"


def project(points: Sequence[tuple[float, float]], width: float = WIDTH,
            padding: float = PADDING) -> tuple[list[tuple[float, float]], float]:
    """(lat, lon) pairs to (x, y) in a box ``width`` wide, and the box's height.

    Equirectangular: a degree of longitude is shortened by the cosine of the
    mean latitude, so distances look right; north is up. The points fill the
    width; the height follows from the region's shape.
    """
    if not points:
        return [], 2 * padding
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    shrink = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = (max(lons) - min(lons)) * shrink
    span_y = max(lats) - min(lats)
    scale = (width - 2 * padding) / (span_x or span_y or 1.0)
    out = [(padding + (lon - min(lons)) * shrink * scale,
            padding + (max(lats) - lat) * scale) for lat, lon in points]
    return out, span_y * scale + 2 * padding


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """An SVG path of ``shape`` centred on (x, y), about ``2r`` across."""
    if shape == "circle":
        return (f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0"
                f"a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0Z")
    if shape == "square":
        s = r * 0.85
        corners = [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    elif shape == "triangle":
        corners = [(x, y - r * 1.15), (x + r * 1.05, y + r * 0.75), (x - r * 1.05, y + r * 0.75)]
    elif shape == "diamond":
        corners = [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)]
    else:  # cross
        a, b = r * 0.4, r * 1.1
        corners = [(x - a, y - b), (x + a, y - b), (x + a, y - a), (x + b, y - a),
                   (x + b, y + a), (x + a, y + a), (x + a, y + b), (x - a, y + b),
                   (x - a, y + a), (x - b, y + a), (x - b, y - a), (x - a, y - a)]
    return "M" + "L".join(f"{cx:.1f},{cy:.1f}" for cx, cy in corners) + "Z"


def hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain): the light area behind a district's markers."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


@dataclass(frozen=True)
class Marker:
    slug: str
    name: str
    district: str
    district_name: str
    x: float
    y: float
    path: str
    colour: str
    emphasised: bool


@dataclass(frozen=True)
class Legend:
    slug: str
    name: str
    shape: str
    colour: str
    icon: str  # path in a 20×20 box
    area: str  # points of the district's hull, for the polygon behind its markers
    emphasised: bool


@dataclass(frozen=True)
class RegionMap:
    width: float
    height: float
    markers: tuple[Marker, ...]
    legend: tuple[Legend, ...]


def region_map(region: Region, focus: str | None = None) -> RegionMap:
    """All municipalities; with ``focus`` (a district slug) the others are muted."""
    towns = list(region.municipalities.values())
    xy, height = project([(m.lat, m.lon) for m in towns])
    style = {slug: (SHAPES[i % len(SHAPES)], COLOURS[i % len(COLOURS)])
             for i, slug in enumerate(region.districts)}
    markers = []
    for m, (x, y) in zip(towns, xy, strict=True):
        shape, colour = style[m.district]
        on = focus is None or m.district == focus
        markers.append(Marker(m.slug, m.name, m.district, region.districts[m.district].name,
                              round(x, 1), round(y, 1),
                              shape_path(shape, x, y, 9.0 if on else 6.5),
                              colour if on else MUTED, on))
    markers.sort(key=lambda mk: mk.emphasised)  # emphasised ones drawn on top
    legend = []
    for slug, d in region.districts.items():
        shape, colour = style[slug]
        area = hull([(mk.x, mk.y) for mk in markers if mk.district == slug])
        legend.append(Legend(slug, d.name, shape, colour, shape_path(shape, 10, 10, 7),
                             " ".join(f"{x:.1f},{y:.1f}" for x, y in area),
                             focus is None or slug == focus))
    return RegionMap(WIDTH, round(height, 1), tuple(markers), tuple(legend))
