"""Staff photos: checked, re-encoded and stored in the data folder.

An upload is read only as JPEG, PNG or WebP (by its content, not its name),
refused above ``MAX_UPLOAD`` bytes or ``MAX_PIXELS`` pixels (before it is
decoded), scaled to at most ``SIZE`` pixels a side and written as a new JPEG
from the bare pixels: no EXIF (place, camera, date), no comments, no colour
profile of the original survive. Files are 0600 in a 0700 folder under a
random name and reach families only through the service.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.files import private_dir, write_private
from ..core.settings import Settings

MAX_UPLOAD = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000
SIZE = 480
FORMATS = ("JPEG", "PNG", "WEBP")
NAME_RE = re.compile(r"^[0-9a-f]{32}\.jpg$")


class PhotoRefused(Exception):
    """Not a photo we take; the message is a German msgid."""


def bare_pixels(data: bytes, *, max_bytes: int, too_large: str, box: int) -> Image.Image:
    """The picture in ``data`` as bare RGB pixels, upright, at most ``box`` pixels a
    side: no EXIF, comments or colour profile survive. The type is read from the
    content; size and pixel count are checked before decoding (CPU-bound: run it in a
    thread). ``too_large`` is the German msgid for a file over ``max_bytes``."""
    if len(data) > max_bytes:
        raise PhotoRefused(too_large)
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("Das Foto hat zu viele Bildpunkte (höchstens 40 Megapixel).")
            image.draft("RGB", (box * 2, box * 2))  # JPEG: decode at a smaller size
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((box, box))
            rgba = upright.convert("RGBA")
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError) as exc:
        raise PhotoRefused("Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch.") from exc
    bare = Image.new("RGB", rgba.size, "white")  # only pixels: no metadata comes along
    bare.paste(rgba, mask=rgba.getchannel("A"))
    return bare


def reencode(data: bytes) -> bytes:
    """A new, small JPEG of the picture in ``data`` (CPU-bound: run it in a thread)."""
    bare = bare_pixels(data, max_bytes=MAX_UPLOAD, box=SIZE,
                       too_large="Das Foto darf höchstens 2 MB groß sein.")
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / "photos"


def store(settings: Settings, jpeg: bytes) -> str:
    """Write a re-encoded photo under a new random name (0600); returns the name."""
    name = secrets.token_hex(16) + ".jpg"
    write_private(private_dir(folder(settings)) / name, jpeg)
    return name


def path_of(settings: Settings, name: str) -> Path | None:
    """The file of a photo name, if the name is one of ours and the file exists."""
    if not NAME_RE.match(name):
        return None
    path = folder(settings) / name
    return path if path.is_file() else None


def remove(settings: Settings, name: str | None) -> None:
    if name and (path := path_of(settings, name)) is not None:
        path.unlink(missing_ok=True)
