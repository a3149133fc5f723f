"""``check-content``: validate every content file; exit 1 naming file, entry and field."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..content import ContentError, load_content
from ..content.coverage import report
from ..core.settings import Settings
from .catalogs import catalog_coverage


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="content folder (default: the shipped one)")


def check_content(args: argparse.Namespace, settings: Settings) -> int:
    folder = Path(args.dir) if args.dir else settings.content_dir
    try:
        content = load_content(folder)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    region = content.region
    print(f"content ok: {len(region.districts)} districts, {len(region.municipalities)} "
          f"municipalities, {len(region.organisations)} organisations")
    print(f"  quizzes: {len(content.quizzes)}")
    print(f"  consent: {len(content.consent)} groups, {len(content.consent.purposes)} purposes")
    print(f"  offers: {len(content.offers.by_slug)}, stories: {len(content.stories)}")
    print(report(content))
    print("translations of interface messages (campaign/locale; portal German only):")
    for lang, (done, total) in catalog_coverage().items():
        print(f"  {lang}: {done}/{total}")
    return 0
