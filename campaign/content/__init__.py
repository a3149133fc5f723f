"""Content files (TOML, edited by people) loaded and validated into frozen data.

``load_content`` reads the region, the municipalities, the quizzes and the
consent texts in one pass; the first problem raises ContentError naming
file, entry and field. The service loads content once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .checks import EMAIL_RE, SLUG_RE, ContentError
from .consent import ConsentTexts, load_consent
from .model import Facts, Municipality, Organisation, Region, Text, TextList
from .quizzes import Quiz, load_quizzes
from .region import load_region

__all__ = ["EMAIL_RE", "SLUG_RE", "Content", "ContentError", "ConsentTexts", "Facts",
           "Municipality", "Organisation", "Quiz", "Region", "Text", "TextList",
           "load_content"]


@dataclass(frozen=True)
class Content:
    """Everything the service reads from content files."""

    region: Region
    quizzes: Mapping[str, Quiz]
    consent: ConsentTexts


def load_content(content_dir: Path) -> Content:
    """Load and validate every content file; raises ContentError on the first problem."""
    folder = Path(content_dir)
    return Content(region=load_region(folder), quizzes=load_quizzes(folder),
                   consent=load_consent(folder))
