"""Drawn landscapes: the default picture of a municipality or district, made from its facts.

Until a partner uploads photos, every showcase still shows a picture that says
something true: water for lakes, trees for forest, hills for mountains (with
snow where there is winter sport), a river, fields, and as many houses as the
town's size class. The drawing is plain SVG, a few kilobytes, the same for the
same facts every time (the layout's small variations come from a hash of the
slug, not from chance), and needs no file, font or host.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .model import LANDSCAPES, SIZE_CLASSES, Municipality

WIDTH, HEIGHT = 640, 320
HORIZON = 200
HOUSES = dict(zip(SIZE_CLASSES, (3, 6, 10, 15)))
SKY, GRASS, HILL, HILL_FAR, SNOW = "#dbeef7", "#9cc46b", "#6f9a4f", "#8fae7a", "#ffffff"
WATER, WAVE, TREE, TRUNK = "#4f8fc0", "#a9d0ee", "#2f6b3a", "#6b4a2b"
WALLS = ("#f3e3c3", "#e9d2b0", "#f6efe2", "#e7c9a9")
ROOF, FIELD = "#a3402b", "#e3c767"


@dataclass(frozen=True)
class Scene:
    """What to draw: which landscapes, how big the town, whether hills carry snow."""

    seed: str
    landscape: tuple[str, ...]
    size_class: str
    snow: bool


def scene_of(m: Municipality) -> Scene:
    return Scene(m.slug, tuple(m.facts.landscape), m.facts.size_class, m.facts.winter_sports)


def district_scene(slug: str, towns: Iterable[Municipality]) -> Scene:
    """A district drawn by what most of its towns have, and its most common town size."""
    towns = list(towns)
    half = len(towns) / 2
    kinds = tuple(k for k in LANDSCAPES
                  if sum(k in t.facts.landscape for t in towns) >= half) or ("forest",)
    sizes = [t.facts.size_class for t in towns] or ["kleinstadt"]
    size = max(SIZE_CLASSES, key=lambda s: (sizes.count(s), -SIZE_CLASSES.index(s)))
    snow = sum(t.facts.winter_sports for t in towns) >= half
    return Scene(slug, kinds, size, snow)


def _points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:.0f},{y:.0f}" for x, y in points)


def _hills(rnd: random.Random, scene: Scene) -> list[str]:
    if "mountains" not in scene.landscape:
        # a gentle rise so that a flat town still has a horizon
        return [f'<path d="M0 {HORIZON} Q{WIDTH // 2} {HORIZON - 45} {WIDTH} {HORIZON} Z" '
                f'fill="{HILL_FAR}"/>']
    out = []
    for colour, base, height in ((HILL_FAR, HORIZON, 120), (HILL, HORIZON + 10, 90)):
        x, peaks = -40.0, []
        while x < WIDTH + 40:
            w = rnd.uniform(140, 220)
            peaks.append((x + w / 2, base - rnd.uniform(0.6, 1.0) * height))
            x += w
        outline = [(-40, base)] + peaks + [(WIDTH + 40, base)]
        out.append(f'<polygon points="{_points(outline)}" fill="{colour}"/>')
        if scene.snow and colour == HILL_FAR:
            for px, py in peaks:
                cap = [(px - 22, py + 22), (px, py), (px + 22, py + 22)]
                out.append(f'<polygon points="{_points(cap)}" fill="{SNOW}"/>')
    return out


def _tree(x: float, y: float, size: float) -> str:
    top = [(x, y - 2.2 * size), (x - size, y), (x + size, y)]
    return (f'<rect x="{x - size / 6:.0f}" y="{y:.0f}" width="{size / 3:.0f}" '
            f'height="{size / 2:.0f}" fill="{TRUNK}"/>'
            f'<polygon points="{_points(top)}" fill="{TREE}"/>')


def _house(rnd: random.Random, x: float, y: float, w: float) -> str:
    h = w * rnd.uniform(0.7, 1.0)
    roof = [(x - 3, y - h), (x + w / 2, y - h - w * 0.55), (x + w + 3, y - h)]
    return (f'<rect x="{x:.0f}" y="{y - h:.0f}" width="{w:.0f}" height="{h:.0f}" '
            f'fill="{rnd.choice(WALLS)}"/>'
            f'<polygon points="{_points(roof)}" fill="{ROOF}"/>'
            f'<rect x="{x + w * 0.4:.0f}" y="{y - h * 0.45:.0f}" width="{w * 0.2:.0f}" '
            f'height="{h * 0.45:.0f}" fill="#5a3b25"/>')


def draw(scene: Scene, title: str) -> str:
    """The scene as a standalone SVG document with ``title`` as its accessible name."""
    rnd = random.Random(int.from_bytes(hashlib.sha256(scene.seed.encode()).digest()[:8], "big"))
    parts = [f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{SKY}"/>',
             f'<circle cx="{rnd.randint(60, 580)}" cy="50" r="26" fill="#f7d358"/>']
    parts += _hills(rnd, scene)
    parts.append(f'<rect y="{HORIZON}" width="{WIDTH}" height="{HEIGHT - HORIZON}" '
                 f'fill="{GRASS}"/>')
    if "fields" in scene.landscape:
        for i in range(4):
            y = HORIZON + 8 + i * 14
            parts.append(f'<rect x="{330 + i * 12}" y="{y}" width="{290 - i * 24}" '
                         f'height="7" fill="{FIELD}"/>')
    if "rivers" in scene.landscape:
        parts.append(f'<path d="M0 {HORIZON + 30} C200 {HORIZON + 10} 260 {HEIGHT - 20} '
                     f'{WIDTH} {HEIGHT - 40}" stroke="{WATER}" stroke-width="14" fill="none"/>')
    if "lakes" in scene.landscape:
        parts.append(f'<ellipse cx="150" cy="{HEIGHT - 55}" rx="125" ry="32" fill="{WATER}"/>')
        for dx in (-60, 0, 55):
            y = HEIGHT - 55 + rnd.randint(-8, 10)
            parts.append(f'<path d="M{150 + dx - 18} {y} q9 -6 18 0 q9 6 18 0" '
                         f'stroke="{WAVE}" stroke-width="3" fill="none"/>')
    if "forest" in scene.landscape:
        for _ in range(12):
            x = rnd.uniform(10, WIDTH - 10)
            parts.append(_tree(x, HORIZON + rnd.uniform(-6, 14), rnd.uniform(9, 15)))
    houses = HOUSES.get(scene.size_class, 3)
    x = 300 - houses * 9.0
    for i in range(houses):
        w = rnd.uniform(20, 28)
        parts.append(_house(rnd, x, HORIZON + 58 + (i % 2) * 10, w))
        x += w + rnd.uniform(2, 8)
    if houses >= HOUSES["kleinstadt"]:  # a church tower over the town
        tx = 300 - houses * 9.0 + houses * 14
        tower = [(tx - 3, HORIZON + 10), (tx + 7, HORIZON - 25), (tx + 17, HORIZON + 10)]
        parts.append(f'<rect x="{tx:.0f}" y="{HORIZON + 10}" width="14" height="50" '
                     f'fill="#e9e2d0"/><polygon points="{_points(tower)}" fill="{ROOF}"/>')
    body = "".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="t">'
            f'<title id="t">{escape(title)}</title>{body}</svg>')
