"""Share cards (1200×630 PNG drawn with Pillow), signed result links and share URLs.

The picture is our own illustration, drawn procedurally (hills, forest, a
lake, the sun), with the text on top. Images are cached on disk under a hash
of everything that goes into them, so a renamed municipality or a new
template version gives a new file and the old one is simply never asked for.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..core.files import private_dir, write_private
from ..core.settings import Settings
from ..core.tokens import TokenInvalid, make_token, read_token

WIDTH, HEIGHT = 1200, 630
# Bump when the drawing changes so cached images are drawn again.
TEMPLATE_VERSION = "3"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TOKEN_PURPOSE = "share-result"

SKY_TOP, SKY_BOTTOM = (126, 186, 222), (232, 243, 236)
HILLS = [(104, 150, 96), (70, 122, 74), (42, 92, 58)]
LAKE = (86, 150, 190)
TEXT_BG = (255, 255, 255, 222)
INK = (22, 48, 36)
ACCENT = (178, 74, 30)


@dataclass(frozen=True)
class Card:
    """What goes on one share image."""

    kicker: str        # small line above the title, e.g. "Familienleben in"
    title: str         # big line, e.g. the municipality's name
    footer: str        # campaign line at the bottom
    seed: str = ""     # varies the landscape (e.g. the slug)

    def cache_key(self) -> str:
        raw = "\x1f".join([TEMPLATE_VERSION, self.kicker, self.title, self.footer, self.seed])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> Any:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = FONT_DIR / name
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _landscape(seed: str) -> Image.Image:
    """Sky, sun, three ranges of hills with firs, and a lake; varied by the seed."""
    rnd = random.Random(hashlib.sha256(seed.encode()).digest())
    img = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(img)
    for y in range(HEIGHT):
        t = y / HEIGHT
        draw.line([(0, y), (WIDTH, y)], fill=tuple(
            round(a + (b - a) * t) for a, b in zip(SKY_TOP, SKY_BOTTOM)))
    sx, sy = rnd.randint(930, 1110), rnd.randint(70, 150)
    draw.ellipse([sx - 55, sy - 55, sx + 55, sy + 55], fill=(255, 221, 120))
    for i, colour in enumerate(HILLS):
        base = 300 + i * 90
        amp, freq, phase = rnd.randint(30, 70), rnd.uniform(1.2, 2.6), rnd.uniform(0, 6.3)
        points = [(x, base - amp * math.sin(freq * x / WIDTH * math.pi + phase)
                   - 0.4 * amp * math.sin(3.1 * freq * x / WIDTH * math.pi))
                  for x in range(0, WIDTH + 20, 20)]
        draw.polygon(points + [(WIDTH, HEIGHT), (0, HEIGHT)], fill=colour)
        shade = tuple(max(0, c - 28) for c in colour)
        for _ in range(14 + 6 * i):
            tx = rnd.randint(0, WIDTH)
            ty = base - amp * math.sin(freq * tx / WIDTH * math.pi + phase) + rnd.randint(4, 40)
            h = 26 + 14 * i + rnd.randint(0, 16)
            draw.polygon([(tx, ty - h), (tx - h * 0.32, ty), (tx + h * 0.32, ty)], fill=shade)
    lake_y = HEIGHT - 95
    draw.ellipse([rnd.randint(-200, 300), lake_y, rnd.randint(900, 1400), HEIGHT + 120],
                 fill=LAKE)
    return img


def _fit(text: str, width: int, start: int, smallest: int, bold: bool) -> tuple[Any, list[str]]:
    """Largest font at which the text fits in two lines (short names) or three (sentences)."""
    for max_lines, floor in ((2, 56), (3, smallest)):
        size = start
        while size >= floor:
            font = _font(size, bold)
            lines = _wrap(text, font, width)
            if len(lines) <= max_lines and all(font.getlength(ln) <= width for ln in lines):
                return font, lines
            size -= 4
    font = _font(smallest, bold)
    return font, _wrap(text, font, width)[:3]


def _wrap(text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def draw_card(card: Card) -> bytes:
    """The PNG bytes of one share image (CPU work: call it in a thread)."""
    import io

    img = _landscape(card.seed or card.title).convert("RGBA")
    title_font, lines = _fit(card.title, 680, 84, 36, bold=True)
    step = int(getattr(title_font, "size", 48) * 1.18)
    bottom = 150 + step * len(lines) + 30
    panel = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(panel).rounded_rectangle([60, 60, 820, bottom], radius=24, fill=TEXT_BG)
    img = Image.alpha_composite(img, panel)
    draw = ImageDraw.Draw(img)
    draw.text((100, 96), card.kicker, font=_font(34), fill=ACCENT)
    for i, line in enumerate(lines):
        draw.text((100, 150 + i * step), line, font=title_font, fill=INK)
    draw.rectangle([0, HEIGHT - 64, WIDTH, HEIGHT], fill=(22, 48, 36))
    draw.text((60, HEIGHT - 50), card.footer, font=_font(28, bold=True), fill=(255, 255, 255))
    out = io.BytesIO()
    img.convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


def cached_card(card: Card, folder: Path) -> Path:
    """Path of the card's PNG in ``folder``, drawing it first if needed (blocking)."""
    path = folder / f"{card.cache_key()}.png"
    try:
        os.utime(path)  # its last use: pruning keeps the images still being shared
    except FileNotFoundError:
        private_dir(folder)
        tmp = path.with_suffix(f".{os.getpid()}.{random.randrange(1 << 30)}.tmp")
        write_private(tmp, draw_card(card))
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return path


UNUSED_DAYS = 30  # an image nobody asked for this long is deleted (and drawn again if asked)
TMP_HOURS = 1  # a half-written file this old was left by a process that died


def prune_cards(folder: Path, *, unused_days: float = UNUSED_DAYS,
                now: float | None = None) -> int:
    """Delete cached images unused for ``unused_days`` and temporary files left
    by a crash; returns how many files went. Outcome images exist for every
    combination of towns that someone shared, so without this the folder
    would only grow (run daily with the retention job and by ``purge``)."""
    if not folder.is_dir():
        return 0
    now = time.time() if now is None else now
    limits = {".png": now - unused_days * 86400, ".tmp": now - TMP_HOURS * 3600}
    removed = 0
    for path in folder.iterdir():
        limit = limits.get(path.suffix)
        try:
            if limit is not None and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # gone already (another process pruned it)
            continue
    return removed


def cache_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "share-cache"


# -- result links ---------------------------------------------------------------


def make_result_token(secret: str, quiz: str, municipalities: Sequence[str]) -> str:
    """Signed token holding only the quiz slug and up to three municipality slugs."""
    return make_token(secret, TOKEN_PURPOSE, "~".join([quiz, *list(municipalities)[:3]]))


def read_result_token(secret: str, token: str, ttl_days: int) -> tuple[str, list[str]]:
    """(quiz, municipalities); raises TokenExpired / TokenInvalid."""
    payload = read_token(secret, TOKEN_PURPOSE, token, max_age=ttl_days * 86400)
    if not isinstance(payload, str) or "~" not in payload:
        raise TokenInvalid("malformed share token")
    quiz, *slugs = payload.split("~")
    return quiz, slugs


def item_slug(item: Any) -> str | None:
    """A ranking entry's slug, whether it is an object or a mapping."""
    if isinstance(item, str):
        return item
    slug = getattr(item, "slug", None)
    if slug is None and isinstance(item, dict):
        slug = item.get("slug")
    if slug is None:
        municipality = getattr(item, "municipality", None)
        slug = getattr(municipality, "slug", None)
    return slug if isinstance(slug, str) else None


def top_slugs(ranking: Any, n: int = 3) -> list[str]:
    out = []
    for item in ranking or ():
        slug = item_slug(item)
        if slug and slug not in out:
            out.append(slug)
        if len(out) == n:
            break
    return out


# Hosts the share links (templates/share/_share_links.html) point to; the
# only foreign hosts allowed in our pages, and only inside those links.
SHARE_HOSTS = ("www.facebook.com", "wa.me", "x.com")


# -- QR codes for print places ----------------------------------------------------


def qr_code(url: str, kind: str) -> bytes:
    """The QR code for ``url`` as SVG or PNG bytes (segno; error level M survives creases)."""
    import io

    import segno

    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=10, border=4, xmldecl=True, svgns=True, title=url)
    else:
        qr.save(out, kind="png", scale=12, border=4)
    return out.getvalue()
