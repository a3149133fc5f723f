"""Quiz scoring and loading as pure functions, with hand-computed expectations."""

from __future__ import annotations

import shutil
from types import MappingProxyType

import pytest

from campaign.content import ContentError, Facts, Municipality, Text, TextList, load_content
from campaign.content.quizzes import Option, Question, Quiz, load_quiz
from campaign.core.settings import Settings
from campaign.core.tokens import make_token
from campaign.quiz.outcome import make_outcome_token, read_outcome_token
from campaign.quiz.scoring import answer_weights, score

from .support.app import shipped_content

SECRET = "unit-test-secret-" + "y" * 32


def T(de: str) -> Text:
    return Text(MappingProxyType({"de": de}))


def place(slug: str, name: str, **facts: object) -> Municipality:
    base: dict[str, object] = {
        "population": 10000, "size_class": "kleinstadt", "landscape": ("forest",),
        "winter_sports": False, "rail_station": False, "secondary_schools": (),
        "hospital": False, "university_nearby": False,
        "travel_minutes": {"dortmund": 120, "koeln": 120, "frankfurt": 120},
        "kitas": 0, "playgrounds": 0, "swimming_pool": False}
    base.update(facts)
    return Municipality(slug, name, "kreis", T(name), TextList({"de": ()}), "demo", "Kontakt",
                        f"{slug}@example.org", Facts(**base))  # type: ignore[arg-type]


AUE = place("aue", "Aue", landscape=("lakes",), rail_station=True, kitas=5,
            travel_minutes={"dortmund": 75, "koeln": 100, "frankfurt": 150})
BACH = place("bach", "Bach", landscape=("forest",), hospital=True, kitas=20,
             travel_minutes={"dortmund": 30, "koeln": 110, "frankfurt": 160})

QUIZ = Quiz("test", T("Test"), T("Intro"), (
    Question("wasser", "single", T("Wasser oder Wald?"), T(""), True, (
        Option("see", T("See"), {"landscape:lakes": 3}),
        Option("wald", T("Wald"), {"landscape:forest": 2}),
    )),
    Question("bahn", "scale", T("Wie wichtig ist ein Bahnhof?"), T(""), True, (),
             {"rail_station": 4}),
    Question("extras", "multi", T("Was noch?"), T(""), False, (
        Option("kita", T("Kita"), {"kitas": 2}),
        Option("pendeln", T("Pendeln"), {"travel_minutes:dortmund": 2}),
        Option("klinik", T("Klinik"), {"hospital": 1}),
    )),
))


def texts(match) -> list[str]:
    return [r.text() for r in match.reasons]


def test_optional_question_unanswered_adds_nothing():
    # lakes 3, rail 4 × (3-1)/4 = 2; best possible 5
    answers = {"wasser": ["see"], "bahn": ["3"]}
    assert answer_weights(QUIZ, answers) == {"landscape:lakes": 3.0, "rail_station": 2.0}
    aue, bach = score(QUIZ, answers, [BACH, AUE])
    assert (aue.slug, aue.score, aue.percent) == ("aue", 5.0, 100)
    assert (bach.slug, bach.score, bach.percent) == ("bach", 0.0, 0)
    assert texts(aue) == ["See in der Nähe", "Bahnhof im Ort"]
    assert texts(bach) == []


def test_all_options_of_a_multiple_choice_question():
    # forest 2, rail 4, kitas 2, dortmund 2, hospital 1 → best 11
    # Aue:  rail 4 + kitas 2×5/10=1 + dortmund 2×(120-75)/90=1 → 6 → 55 %
    # Bach: forest 2 + kitas 2 + dortmund 2×1 + hospital 1 → 7 → 64 %
    answers = {"wasser": ["wald"], "bahn": ["5"], "extras": ["kita", "pendeln", "klinik"]}
    first, second = score(QUIZ, answers, [AUE, BACH])
    assert (first.slug, first.score, first.percent) == ("bach", 7.0, 64)
    assert (second.slug, second.score, second.percent) == ("aue", 6.0, 55)
    # equal contributions in feature-name order, at most three reasons
    assert texts(first) == ["20 Kitas im Ort", "Wald vor der Haustür",
                            "nach Dortmund etwa 30 Minuten mit dem Auto"]
    assert texts(second) == ["Bahnhof im Ort", "5 Kitas im Ort",
                             "nach Dortmund etwa 75 Minuten mit dem Auto"]


def test_scale_answer_one_counts_nothing_and_reasons_translate():
    answers = {"wasser": ["see"], "bahn": ["1"]}
    assert answer_weights(QUIZ, answers) == {"landscape:lakes": 3.0}
    aue = score(QUIZ, {"wasser": ["wald"], "bahn": ["5"], "extras": ["pendeln"]}, [AUE])[0]
    english = {"Bahnhof im Ort": "Railway station in town", "Dortmund": "Dortmund",
               "nach %(city)s etwa %(minutes)s Minuten mit dem Auto":
               "%(minutes)s minutes by car to %(city)s"}
    assert [r.text(english.get) for r in aue.reasons] == [
        "Railway station in town", "75 minutes by car to Dortmund"]


def test_reasons_name_the_kita_and_the_train_the_town_stated():
    """A family can look up what the reason names: the town's own words, in any language."""
    aue = place("aue", "Aue", rail_station=True, kitas=5,
                kita_named="Kita Sonnenblume, Mo–Fr 7–16:30 Uhr",
                train="RE 57 nach Dortmund, 55 Minuten, stündlich")
    match = score(QUIZ, {"wasser": ["wald"], "bahn": ["5"], "extras": ["kita"]}, [aue])[0]
    assert texts(match) == [
        "Bahnhof im Ort: RE 57 nach Dortmund, 55 Minuten, stündlich",
        "Wald vor der Haustür",
        "5 Kitas im Ort, zum Beispiel: Kita Sonnenblume, Mo–Fr 7–16:30 Uhr"]
    english = {"Bahnhof im Ort: %(named)s": "Railway station in town: %(named)s",
               "%(num)s Kitas im Ort, zum Beispiel: %(named)s":
               "%(num)s daycare centres, for example: %(named)s"}
    assert [r.text(english.get) for r in match.reasons[::2]] == [
        "Railway station in town: RE 57 nach Dortmund, 55 Minuten, stündlich",
        "5 daycare centres, for example: Kita Sonnenblume, Mo–Fr 7–16:30 Uhr"]
    # a named Kita does not make up for a count the town has not given: no reason, no score
    unknown = place("aue", "Aue", kitas=None, kita_named="Kita Sonnenblume")
    assert score(QUIZ, {"extras": ["kita"]}, [unknown])[0].reasons == ()


def test_ties_are_broken_by_name_and_every_municipality_is_scored():
    same = {"landscape": ("lakes",)}
    places = [place("zell", "Zell", **same), place("oedingen", "Ödingen", **same),
              place("attendorf", "Attendorf", **same), place("nord", "Nord")]
    ranking = score(QUIZ, {"wasser": ["see"], "bahn": ["2"]}, places)
    assert [m.name for m in ranking] == ["Attendorf", "Ödingen", "Zell", "Nord"]
    assert len(ranking) == len(places)
    nothing = score(QUIZ, {}, places)
    assert [m.name for m in nothing] == ["Attendorf", "Nord", "Ödingen", "Zell"]
    assert {m.percent for m in nothing} == {0}


def test_scores_follow_the_facts_not_the_slugs():
    """The same facts score the same every time, and other facts under the same
    slugs (a new content load of changed content) score by their own values."""
    answers = {"wasser": ["see"], "bahn": ["5"], "extras": ["kita", "pendeln"]}
    first = score(QUIZ, answers, [AUE, BACH])
    assert score(QUIZ, answers, [AUE, BACH]) == first
    assert [m.slug for m in first] == ["aue", "bach"]
    # the same slugs, the facts the other way round: a fresh load of changed content
    swapped = [place("aue", "Aue", landscape=("forest",), hospital=True, kitas=20,
                     travel_minutes={"dortmund": 30, "koeln": 110, "frankfurt": 160}),
               place("bach", "Bach", landscape=("lakes",), rail_station=True, kitas=5,
                     travel_minutes={"dortmund": 75, "koeln": 100, "frankfurt": 150})]
    again = score(QUIZ, answers, swapped)
    assert [m.slug for m in again] == ["bach", "aue"]
    assert [(m.score, texts(m)) for m in again] == [(m.score, texts(m)) for m in first]


def test_shipped_quizzes_every_municipality_scored_deterministically():
    content = shipped_content()
    quizzes = content.quizzes
    assert list(quizzes)[:2] == ["familie", "pflege"]
    family = quizzes["familie"]
    assert 7 <= len(family.questions) <= 10
    assert "medizin_pflege" in quizzes["pflege"].interests
    municipalities = list(content.region.municipalities.values())
    answers = {q.slug: [q.values[0]] for q in family.questions}
    ranking = score(family, answers, municipalities)
    assert len(ranking) == 59 == len({m.slug for m in ranking})
    assert ranking == score(family, answers, list(reversed(municipalities)))
    for quiz in quizzes.values():  # real Dutch and English, not the German fallback
        texts_ = [quiz.title, quiz.intro] + [q.text for q in quiz.questions] + [
            o.label for q in quiz.questions for o in q.options]
        for t in texts_:
            assert t.has("nl") and t.has("en"), t


BAD_QUIZ = """
[quiz]
title.de = "Kaputt"
intro.de = "Ein Quiz mit einem Fehler."

[[question]]
slug = "natur"
kind = "single"
text.de = "Was mögt ihr?"

[[question.option]]
value = "wasser"
label.de = "Wasser"
weights = { "landscape:lakes" = 2 }

[[question.option]]
value = "wueste"
label.de = "Wüste"
weights = { %s = 2 }
"""


@pytest.mark.parametrize("fact, message", [
    ('"landscape:desert"', "unknown value 'desert' for landscape"),
    ("airport", "unknown fact 'airport'"),
    ('"hospital:big"', "hospital takes no ':value'"),
])
def test_unknown_fact_is_rejected_naming_file_question_option_field(tmp_path, fact, message):
    path = tmp_path / "kaputt.toml"
    path.write_text(BAD_QUIZ % fact, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_quiz(path, "quizzes/kaputt.toml")
    err = info.value
    assert err.file == "quizzes/kaputt.toml"
    assert err.entry == "question 'natur', option 'wueste'"
    assert err.field == "weights." + fact.strip('"')
    assert message in str(err)


def test_broken_quiz_stops_the_whole_content_load(tmp_path):
    shipped = Settings().content_dir
    target = tmp_path / "content"
    shutil.copytree(shipped, target)
    (target / "quizzes" / "kaputt.toml").write_text(BAD_QUIZ % "airport", encoding="utf-8")
    with pytest.raises(ContentError, match=r"quizzes/kaputt.toml: question 'natur', option "
                                           r"'wueste': field 'weights.airport'"):
        load_content(target)


@pytest.mark.parametrize("toml, field", [
    (('[quiz]\ntitle.de="x"\nintro.de="y"\n[[question]]\nslug="a"\nkind="scale"\ntext.de="?"\n'
     'weights = { kitas = 9 }\n'), "weights.kitas"),
    ('[quiz]\ntitle.de="x"\nintro.de="y"\n[[question]]\nslug="a"\nkind="quiz"\ntext.de="?"\n',
     "kind"),
    (('[quiz]\ntitle.de="x"\nintro.de="y"\ninterests=["golf"]\n[[question]]\nslug="a"\n'
     'kind="scale"\ntext.de="?"\nweights={kitas=1}\n'), "interests"),
])
def test_other_content_mistakes_name_the_field(tmp_path, toml, field):
    path = tmp_path / "q.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_quiz(path, "quizzes/q.toml")
    assert info.value.field == field


def test_outcome_token_round_trip_and_rejection():
    ranking = score(QUIZ, {"wasser": ["see"], "bahn": ["5"]}, [AUE, BACH])
    token = make_outcome_token(SECRET, QUIZ, ranking)
    data = read_outcome_token(SECRET, token)
    assert data == {"quiz": "test", "top": [
        {"slug": "aue", "score": 100, "reasons": ["Bahnhof im Ort", "See in der Nähe"]},
        {"slug": "bach", "score": 0, "reasons": []},
    ]}
    assert read_outcome_token(SECRET, token[:-2] + "xx") is None
    assert read_outcome_token("another-secret-" + "z" * 32, token) is None
    assert read_outcome_token(SECRET, make_token(SECRET, "quiz-state", data)) is None
    assert read_outcome_token(SECRET, make_token(SECRET, "quiz-outcome", {"quiz": 1})) is None
