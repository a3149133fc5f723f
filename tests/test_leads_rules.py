"""Pure rules of the lead form: consent requirements, consent hashes, content checks."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from campaign.consent import consent_problem, load_consent, receiving_groups
from campaign.content import ContentError
from campaign.forms import parse_list
from campaign.settings import Settings

from .conftest import shipped_content


@pytest.mark.parametrize("towns, interests, consents, problem", [
    (["olpe"], [], ["municipalities"], None),
    (["olpe"], [], ["municipalities", "tourism"], None),
    (["olpe"], [], ["tourism"], "municipalities"),
    (["olpe"], [], [], "municipalities"),
    ([], [], [], "nobody"),
    ([], [], ["agency"], None),
    ([], [], ["tourism", "municipalities"], "nobody"),
    ([], ["medizin_pflege"], ["skilled_workers"], None),
    ([], ["wohnen"], ["skilled_workers"], "nobody"),
])
def test_consent_rule(towns, interests, consents, problem):
    assert consent_problem(towns, interests, consents) == problem


def test_receiving_groups_follow_the_routing_rules():
    assert receiving_groups(["olpe"], ["medizin_pflege"]) == [
        "municipalities", "tourism", "skilled_workers"]
    assert receiving_groups([], []) == ["agency"]


def test_consent_hash_is_sha256_of_the_texts_shown():
    consent = shipped_content().extras["consent"]
    text = consent.groups["tourism"].text.get("en")
    assert consent.group_hash("tourism", "en") == hashlib.sha256(text.encode()).hexdigest()
    both = consent.hash_of(["tourism", "municipalities"], "de")
    expected = "\n\n".join([consent.text("municipalities", "de"), consent.text("tourism", "de")])
    assert both == hashlib.sha256(expected.encode()).hexdigest()
    assert both == consent.hash_of(["municipalities", "tourism", "tourism"], "de")
    assert both != consent.hash_of(["municipalities", "tourism"], "nl")


def test_every_consent_text_exists_in_three_languages():
    consent = shipped_content().extras["consent"]
    assert set(consent.groups) == {"municipalities", "tourism", "skilled_workers", "agency"}
    assert consent.version
    for group in consent.groups.values():
        assert all(group.text.has(lang) for lang in ("de", "nl", "en"))


def test_broken_consent_file_names_the_field(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(Settings().content_dir, folder)
    path = folder / "consent.toml"
    path.write_text(path.read_text().replace("text.nl = \"Ik ga ermee akkoord dat de", "x = \"", 1))
    with pytest.raises(ContentError) as info:
        load_consent(folder, shipped_content().region)
    assert "consent.toml" in str(info.value) and "groups.municipalities" in str(info.value)
    assert "text.nl" in str(info.value)


def test_parse_list_keeps_known_codes_in_order_at_most_limit():
    allowed = {"a", "b", "c", "d"}
    assert parse_list("b, a,zz,b,C,d", allowed, 3) == ["b", "a", "c"]
    assert parse_list(None, allowed, 3) == []


# -- check_lead: the form's rules without any form object ---------------------------

TOWNS = {"olpe", "winterberg", "soest"}
GOOD = [("name", " Anna Beispiel "), ("email", "anna@example.org"), ("phone", "+49 2761 1234"),
        ("adults", "2"), ("children", " 1 "), ("child_ages", "3-5"), ("child_ages", "0-2"),
        ("interests", "natur"), ("interests", "wohnen"), ("interests", "natur"),
        ("timeframe", "within_year"), ("municipalities", "olpe"),
        ("message", " Hallo\r\nihr! "), ("consents", "tourism"), ("consents", "municipalities")]


def check(pairs, towns=TOWNS):
    from campaign.lead_rules import check_lead, group_values

    return check_lead(group_values(pairs), towns)


def test_a_valid_lead_is_cleaned_into_canonical_order():
    result = check(GOOD)
    assert result.errors == {}
    assert result.data == {
        "name": "Anna Beispiel", "email": "anna@example.org", "phone": "+49 2761 1234",
        "adults": 2, "children": 1, "child_ages": ["0-2", "3-5"],
        "interests": ["wohnen", "natur"], "timeframe": "within_year",
        "municipalities": ["olpe"], "message": "Hallo\nihr!",
        "consents": ["municipalities", "tourism"]}


def replaced(**fields):
    """GOOD with each named field's values replaced (None: field left out)."""
    out = [(k, v) for k, v in GOOD if k not in fields]
    for key, value in fields.items():
        for v in ([] if value is None else value if isinstance(value, list) else [value]):
            out.append((key, v))
    return out


@pytest.mark.parametrize("fields, field, words", [
    ({"name": None}, "name", "Namen"),
    ({"name": "   "}, "name", "Namen"),
    ({"name": "Anna\r\nBcc: x@example.org"}, "name", "Zeilenumbrüche"),
    ({"name": "A" * 101}, "name", "höchstens 100"),
    ({"email": "anna@"}, "email", "gültige E-Mail"),
    ({"email": "a" * 65 + "@example.org"}, "email", "gültige E-Mail"),
    ({"email": ""}, "email", "E-Mail-Adresse an"),
    ({"phone": "call me"}, "phone", "Ziffern"),
    ({"adults": "zwei"}, "adults", "ganze Zahl"),
    ({"adults": None}, "adults", "Erwachsene"),
    ({"adults": "0"}, "adults", "von 1 bis 10"),
    ({"children": "13"}, "children", "von 0 bis 12"),
    ({"child_ages": "99"}, "child_ages", "Unbekannte Auswahl: 99"),
    ({"interests": "golf"}, "interests", "Unbekannte Auswahl: golf"),
    ({"timeframe": "never"}, "timeframe", "angebotenen"),
    ({"municipalities": "atlantis"}, "municipalities", "Unbekannte Auswahl: atlantis"),
    ({"municipalities": ["olpe", "winterberg", "soest", "a", "b", "c"]}, "municipalities",
     "Unbekannte Auswahl: a"),
    ({"message": "x" * 2001}, "message", "höchstens 2000"),
    ({"message": "Hallo\x00"}, "message", "Steuerzeichen"),
    ({"consents": "tourism"}, "consents", "Orte gewählt"),
    ({"consents": None, "municipalities": None}, "consents", "mindestens einer"),
])
def test_each_rule_names_its_field(fields, field, words):
    result = check(replaced(**fields))
    assert list(result.errors) == [field]
    assert words in result.errors[field]


@pytest.mark.parametrize("field", ["name", "email", "phone", "adults", "children", "child_ages",
                                   "interests", "timeframe", "municipalities", "consents"])
def test_a_control_character_in_any_single_line_field_is_named_there(field):
    """check_lead searches all single-line values at once first; a hit must still
    be reported on the field it came from, and on no other. (On the choice
    fields the unknown value is the first problem found.)"""
    from campaign.lead_rules import group_values

    sent = (group_values(GOOD).get(field) or ["x"])[0]
    result = check(replaced(**{field: sent + "\x0b"}))
    assert list(result.errors) == [field]
    if field in ("name", "email", "phone", "adults", "children"):
        assert "Steuerzeichen" in result.errors[field]


def test_too_many_towns_and_errors_in_form_order():
    towns = {f"ort{i}" for i in range(7)}
    result = check(replaced(municipalities=sorted(towns), name=None, message="x\x01"), towns)
    assert list(result.errors) == ["name", "municipalities", "message"]
    assert "höchstens 5 Orte (ihr habt 7 gewählt)" in result.errors["municipalities"]


def test_the_first_value_of_a_single_input_counts():
    """As a browser sends it (and as WTForms showed it): the first value."""
    result = check(replaced(name=["Anna", ""], adults=["3", "x"]))
    assert result.errors == {} and result.data["name"] == "Anna" and result.data["adults"] == 3


def test_messages_follow_the_page_language():
    from campaign import i18n

    i18n.load_catalogs()
    token = i18n.current_language.set("en")
    try:
        message = check(replaced(name=None)).errors["name"]
    finally:
        i18n.current_language.reset(token)
    assert message != check(replaced(name=None)).errors["name"]
    assert "Namen" not in message
