"""Offer and story content: ``check-content`` names file, entry and field of a
mistake; the one reading function keeps offers to their validity period."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaign.cli import main as cli_main
from campaign.content import ContentError, load_content
from campaign.content.offers import current_offer, current_offers
from campaign.content.stories import picture
from campaign.core.settings import Settings

from .support.app import shipped_content


def _content_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Settings().content_dir, target)
    path = target / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return target


@pytest.mark.parametrize("file, old, new, where, message", [
    ("angebote/probewohnen.toml", 'owner = "sauerland-tourismus"', 'owner = "nobody"',
     "angebote/probewohnen.toml: offer winterberg-ferienwohnung-am-kahlen-asten: field 'owner'",
     "unknown organisation"),
    ("angebote/probewohnen.toml", 'tourism = "tvsw"', 'tourism = "bad-berleburg"',
     "angebote/probewohnen.toml: offer bad-berleburg-haus-am-schlosspark: field 'tourism'",
     "no organisation of kind 'tourism'"),
    ("angebote/probewohnen.toml", "weeks_max = 4", "weeks_max = 6",
     "offer winterberg-ferienwohnung-am-kahlen-asten: field 'weeks_max'", "from 1 to 4"),
    ("angebote/kennenlerntage.toml", "valid_until = 2027-05-14", "valid_until = 2026-01-01",
     "offer olpe-familienwochenende-biggesee: field 'valid_until'", "is before valid_from"),
    ("angebote/kennenlerntage.toml", "seats = 12", 'seats = "zwölf"',
     "offer olpe-familienwochenende-biggesee: field 'seats'", "expected int"),
    ("angebote/jobs.toml", 'line = "partner"', 'line = "chef"',
     "offer attendorn-buerokauffrau-partnerstelle: field 'line'", "unknown value 'chef'"),
    ("angebote/bauen-wohnen.toml", 'municipality = "soest"', 'municipality = "atlantis"',
     "offer soest-baugebiet-am-ardey: field 'municipality'", "unknown municipality"),
    ("angebote/bauen-wohnen.toml", "price_to = 160000", "price_to = 1000",
     "offer soest-baugebiet-am-ardey: field 'price_to'", "smaller than price_from"),
    ("angebote/jobs.toml", "valid_from = 2026-11-01", "valid_from = 2026-11-01T10:00:00",
     "offer meschede-pflegefachkraft-klinikum: field 'valid_from'", "without a time"),
    ("geschichten.toml", 'municipality = "olpe"', 'municipality = "atlantis"',
     "geschichten.toml: story familie-b-olpe: field 'municipality'", "unknown municipality"),
    ("geschichten.toml", "children = 1", "children = 9",
     "story familie-b-olpe: field 'children'", "from 0 to 6"),
    ("consent.toml", "[purposes.visit_days]", "[purposes.visits]",
     "consent.toml: field 'purposes.visit_days'", "missing"),
])
def test_check_content_names_file_entry_and_field_of_an_offer_mistake(
        tmp_path, capsys, file, old, new, where, message):
    folder = _content_with(tmp_path, file, old, new)
    with pytest.raises(ContentError) as info:
        load_content(folder)
    assert where in str(info.value) and message in str(info.value)
    assert cli_main(["check-content", "--dir", str(folder)]) == 1
    assert where in capsys.readouterr().err


def test_an_offer_file_of_an_unknown_kind_is_refused(tmp_path):
    folder = _content_with(tmp_path, "angebote/jobs.toml", "[[offer]]", "[[offer]]")
    (folder / "angebote/jobs.toml").rename(folder / "angebote/ferienjobs.toml")
    with pytest.raises(ContentError, match=r"angebote/ferienjobs.toml: unknown offer kind"):
        load_content(folder)


def test_current_offers_follow_the_berlin_calendar_day():
    offers = shipped_content().offers
    slug = "olpe-familienwochenende-biggesee"  # valid 2026-11-01 .. 2027-05-14
    last_evening = datetime(2027, 5, 14, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
    next_morning = datetime(2027, 5, 14, 22, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert current_offer(offers, last_evening, "kennenlerntage", slug) is not None
    assert current_offer(offers, next_morning, "kennenlerntage", slug) is None
    assert current_offer(offers, last_evening, "jobs", slug) is None  # not of that kind
    before = datetime(2026, 10, 31, 12, tzinfo=UTC)
    assert current_offers(offers, before) == []
    olpe = current_offers(offers, last_evening, municipality="olpe")
    assert {o.slug for o in olpe} == {slug, "olpe-familienwohnung-altstadt"}


def test_a_story_picture_follows_the_family_and_the_landscape():
    c = shipped_content()
    story = c.stories["familie-b-olpe"]  # 2 adults, 1 child; Olpe: lakes and forest
    shapes = picture(story, c.region.municipalities["olpe"])
    heads = [s for s in shapes if s.tag == "circle"]
    assert len(heads) == story.adults + story.children == 3
    assert any(s.tag == "ellipse" for s in shapes)  # the lake
    fields = picture(story, c.region.municipalities["soest"])
    assert not any(s.tag == "ellipse" for s in fields) or "lakes" in \
        c.region.municipalities["soest"].facts.landscape
