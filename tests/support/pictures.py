"""Pictures for upload tests: photo-like JPEGs (gradients and shapes, softened) that
carry EXIF and a comment, so a test can see that none of it survives."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

SECRET = "Geheimweg 7, Kamera GmbH"


def photo(size: tuple[int, int] = (2400, 1600), seed: int = 1) -> bytes:
    """A JPEG of about a photo's detail, with EXIF (artist, make) and a comment."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(60 + y * 80 // height, 110 + seed * 20 % 60,
                                              210 - y * 120 // height))
    for _ in range(250):
        x, y, r = rnd.randrange(width), rnd.randrange(height), rnd.randrange(10, width // 20)
        draw.ellipse([x, y, x + r, y + r], fill=tuple(rnd.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(2))
    exif = Image.Exif()
    exif[0x013B] = SECRET  # Artist
    exif[0x010F] = "Kamera GmbH"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=SECRET.encode())
    return out.getvalue()
