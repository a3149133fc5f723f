"""Facts a family can trust: public figures ship with their source, unknown ones are left
empty and shown as nothing, travel times are computed from the coordinates and called
estimates, and quiz reasons name only what is filled in."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from campaign.content import load_content
from campaign.content.distances import drive_minutes, haversine_km, travel_minutes
from campaign.content.features import reason
from campaign.core.settings import Settings
from campaign.quiz.scoring import score

from .support.app import shipped_content

PUBLIC_ONLY = ("population", "area_km2", "kitas", "playgrounds", "motorway_exit")


def test_distance_and_travel_time_follow_the_documented_assumption():
    dortmund, koeln = (51.5136, 7.4653), (50.9375, 6.9603)
    assert 72 < haversine_km(dortmund, koeln) < 74  # the known 73 km
    assert haversine_km(koeln, koeln) == 0
    # road 1.3 × 60 km at 75 km/h = 62.4 min → rounded to 5 minutes
    assert drive_minutes(60) == 60 and drive_minutes(100) == 105 and drive_minutes(0.1) == 5
    olpe = shipped_content().region.municipalities["olpe"]
    assert dict(olpe.facts.travel_minutes) == travel_minutes(olpe.lat, olpe.lon)
    assert olpe.facts.travel_estimated and olpe.facts.sources["travel_minutes"] == "luftlinie"


def test_no_shipped_fact_is_a_made_up_number():
    region = shipped_content().region
    for m in region.municipalities.values():
        for name in PUBLIC_ONLY:
            value = getattr(m.facts, name)
            if value is not None:  # shipped only with a public source, never "demo"
                assert not region.sources[m.facts.sources[name]].demo, (m.slug, name)
    assert region.municipalities["olpe"].facts.population == 24651
    assert region.municipalities["winterberg"].facts.population is None


def test_municipality_page_shows_sources_and_nothing_for_unknown_facts(client):
    olpe = client.get("/orte/olpe").text
    assert "24.651 Einwohner" in olpe and "(Quelle: Zensus 2022, Stichtag 15.05.2022" in olpe
    assert "berechnet aus der Luftlinie" in olpe and "km Luftlinie" in olpe
    assert "<dt>Kitas</dt>" not in olpe and "<dt>Spielplätze</dt>" not in olpe
    winterberg = client.get("/orte/winterberg").text
    assert "Einwohner" not in winterberg
    main = winterberg.split("<main", 1)[1]
    assert "None" not in main
    card = client.get("/region/kreis-olpe").text
    assert re.search(r"Nach (Dortmund|Köln|Frankfurt): etwa \d+ Minuten \(geschätzt\)", card)
    assert "(estimated)" in client.get("/en/region/kreis-olpe").text


def test_quiz_reasons_name_what_a_family_can_check():
    c = shipped_content()
    attendorn = c.region.municipalities["attendorn"]
    assert reason("travel_minutes:dortmund", attendorn.facts).text() == (
        f"nach Dortmund etwa {attendorn.facts.travel_minutes['dortmund']} Minuten mit dem Auto "
        "(geschätzt)")
    assert reason("secondary_schools", attendorn.facts).text() == (
        "Weiterführende Schulen im Ort: Gymnasium, Realschule, Hauptschule")
    # a count nobody filled in is never a reason, however much the answers weigh it
    quiz = c.quizzes["familie"]
    for m in score(quiz, {"kitas": ["5"]}, c.region.municipalities.values()):
        assert not any("Kitas" in r.text() for r in m.reasons)
    filled = replace(attendorn, facts=replace(attendorn.facts, kitas=14))
    best = score(quiz, {"kitas": ["5"]}, [filled, c.region.municipalities["olpe"]])[0]
    assert best.slug == "attendorn" and "14 Kitas im Ort" in [r.text() for r in best.reasons]


def _content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(Settings().content_dir, target)
    return target


def test_a_town_may_enter_its_own_facts_and_travel_times(tmp_path):
    folder = _content_copy(tmp_path)
    path = folder / "orte/kreis-olpe.toml"
    text = path.read_text()
    text = text.replace('population = { value = 24651, source = "zensus2022" }\n',
                        'population = { value = 24651, source = "zensus2022" }\n'
                        'kitas = { value = 17, source = "demo" }\n'
                        'area_km2 = { value = 85.9, source = "demo" }\n'
                        'motorway_exit = { value = "A45 Olpe", source = "demo" }\n'
                        'travel_minutes = { value = { dortmund = 55, koeln = 60, '
                        'frankfurt = 110 }, source = "demo" }\n', 1)
    path.write_text(text)
    olpe = load_content(folder).region.municipalities["olpe"]
    assert (olpe.facts.kitas, olpe.facts.area_km2, olpe.facts.motorway_exit) == (
        17, 85.9, "A45 Olpe")
    assert olpe.facts.travel_minutes["koeln"] == 60 and not olpe.facts.travel_estimated
    assert reason("travel_minutes:koeln", olpe.facts).text() == (
        "nach Köln etwa 60 Minuten mit dem Auto")


@pytest.mark.parametrize("bad", ['area_km2 = { value = -3, source = "demo" }',
                                 'motorway_exit = { value = "", source = "demo" }'])
def test_bad_optional_facts_are_content_errors(tmp_path, bad):
    from campaign.content.checks import ContentError

    folder = _content_copy(tmp_path)
    path = folder / "orte/kreis-olpe.toml"
    path.write_text(path.read_text().replace(
        'population = { value = 24651, source = "zensus2022" }\n',
        f'population = {{ value = 24651, source = "zensus2022" }}\n{bad}\n', 1))
    with pytest.raises(ContentError) as info:
        load_content(folder)
    assert "ort 'olpe'" in str(info.value) and bad.split(" ")[0] in str(info.value)
