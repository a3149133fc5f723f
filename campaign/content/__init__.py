"""Content files (TOML, edited by people) loaded and validated into frozen data.

``load_content`` reads the region, the municipalities, the quizzes, the
consent texts, the offers and the stories in one pass; the first problem raises ContentError naming
file, entry and field. The service loads content once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .checks import EMAIL_RE, SLUG_RE, ContentError
from .consent import ConsentTexts, load_consent
from .model import Facts, Municipality, Organisation, Region, Text, TextList
from .offers import Offers, load_offers
from .quizzes import Quiz, load_quizzes
from .region import load_region
from .regionmap import RegionMap, region_map
from .stories import Story, load_stories

__all__ = ["EMAIL_RE", "SLUG_RE", "Content", "ContentError", "ConsentTexts", "Facts",
           "Municipality", "Offers", "Organisation", "Quiz", "Region", "Text", "TextList",
           "Story", "load_content"]


@dataclass(frozen=True)
class Content:
    """Everything the service reads from content files."""

    region: Region
    quizzes: Mapping[str, Quiz]
    consent: ConsentTexts
    offers: Offers = Offers(MappingProxyType({}))
    stories: Mapping[str, Story] = field(default_factory=lambda: MappingProxyType({}))
    # The region map of the whole region ("") and with each district emphasised (by its
    # slug): like the travel times, drawn from the coordinates once, when content loads.
    maps: Mapping[str, RegionMap] = field(default_factory=lambda: MappingProxyType({}))


def load_content(content_dir: Path) -> Content:
    """Load and validate every content file; raises ContentError on the first problem."""
    folder = Path(content_dir)
    region = load_region(folder)
    maps = {"": region_map(region), **{slug: region_map(region, slug)
                                       for slug in region.districts}}
    return Content(region=region, quizzes=load_quizzes(folder),
                   consent=load_consent(folder), offers=load_offers(folder, region),
                   stories=load_stories(folder, region), maps=MappingProxyType(maps))
