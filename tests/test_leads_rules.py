"""Rules of the lead form without a server: the pure rules of ``campaign.leads.rules``,
consent hashes and content checks, and the WTForms ``LeadForm`` that checks a POST."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from starlette.datastructures import MultiDict

from campaign.content import ContentError
from campaign.content.consent import load_consent
from campaign.core import i18n
from campaign.core.settings import Settings
from campaign.leads import rules
from campaign.leads.form import LeadData, LeadForm, ResendForm
from campaign.leads.routing import route
from campaign.leads.rules import consent_problem, parse_list, receiving_groups

from .support.app import shipped_content


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
    # a lead the consent rule lets through reaches somebody through routing
    region = shipped_content().region
    for towns, interests in ((["olpe"], ["medizin_pflege"]), ([], []), ([], ["medizin_pflege"])):
        for group in receiving_groups(towns, interests):
            assert route(towns, interests, [group], region), (towns, interests, group)


def test_consent_hash_is_sha256_of_the_texts_shown():
    consent = shipped_content().consent
    text = consent.groups["tourism"].text.get("en")
    assert consent.group_hash("tourism", "en") == hashlib.sha256(text.encode()).hexdigest()
    both = consent.hash_of(["tourism", "municipalities"], "de")
    expected = "\n\n".join([consent.text("municipalities", "de"), consent.text("tourism", "de")])
    assert both == hashlib.sha256(expected.encode()).hexdigest()
    assert both == consent.hash_of(["municipalities", "tourism", "tourism"], "de")
    assert both != consent.hash_of(["municipalities", "tourism"], "nl")


def test_every_consent_text_exists_in_three_languages():
    consent = shipped_content().consent
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
        load_consent(folder)
    assert "consent.toml" in str(info.value) and "groups.municipalities" in str(info.value)
    assert "text.nl" in str(info.value)


def test_parse_list_keeps_known_codes_in_order_at_most_limit():
    allowed = {"a", "b", "c", "d"}
    assert parse_list("b, a,zz,b,C,d", allowed, 3) == ["b", "a", "c"]
    assert parse_list(None, allowed, 3) == []


# -- LeadForm: the form's rules on a POST, without a server ----------------------------------

TOWNS = ("olpe", "winterberg", "soest")
GOOD = [("name", " Anna Beispiel "), ("email", "anna@example.org"), ("phone", "+49 2761 1234"),
        ("adults", "2"), ("children", " 1 "), ("child_ages", "3-5"), ("child_ages", "0-2"),
        ("interests", "natur"), ("interests", "wohnen"), ("interests", "natur"),
        ("timeframe", "within_year"), ("municipalities", "olpe"),
        ("message", " Hallo\r\nihr! "), ("consents", "tourism"), ("consents", "municipalities")]


def check(pairs, towns=TOWNS) -> LeadForm:
    """The form as the view builds it from a POST, validated."""
    form = LeadForm(MultiDict(pairs), municipalities=[(t, t.title()) for t in towns])
    form.validate()
    return form


def grouped(pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def test_a_valid_lead_is_cleaned_into_canonical_order():
    form = check(GOOD)
    assert form.errors == {} and form.error_list() == []
    assert form.cleaned() == LeadData(
        name="Anna Beispiel", email="anna@example.org", phone="+49 2761 1234",
        adults=2, children=1, child_ages=("0-2", "3-5"),
        interests=("wohnen", "natur"), timeframe="within_year",
        municipalities=("olpe",), message="Hallo\nihr!",
        consents=("municipalities", "tourism"))


def test_optional_fields_left_out_are_none():
    form = check(replaced(phone=None, message=None, timeframe=None, child_ages=None,
                          interests=None))
    assert form.errors == {}
    data = form.cleaned()
    assert data.phone is None and data.message is None and data.timeframe is None
    assert data.child_ages == () and data.interests == ()
    blank = check(replaced(phone="  ", message=" \r\n "))
    assert blank.errors == {}
    assert blank.cleaned().phone is None and blank.cleaned().message is None


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
    ({"consents": "tourism"}, "consents", "Weitergabe an die Orte"),
    ({"consents": None, "municipalities": None}, "consents", "mindestens eine Weitergabe"),
])
def test_each_rule_names_its_field(fields, field, words):
    form = check(replaced(**fields))
    assert list(form.errors) == [field]
    assert len(form.errors[field]) == 1  # one message per field: the first problem
    assert words in form.errors[field][0]
    [(anchor, label, message)] = form.error_list()
    assert anchor == LeadForm.anchor(field) and message == form.errors[field][0]
    assert label == str(form[field].label.text)


@pytest.mark.parametrize("field", ["name", "email", "phone", "adults", "children", "child_ages",
                                   "interests", "timeframe", "municipalities", "consents"])
def test_a_control_character_in_any_single_line_field_is_named_there(field):
    """A control character is reported on the field it came from, and on no other.
    (On the choice fields the unknown value is the first problem found.)"""
    sent = (grouped(GOOD).get(field) or ["x"])[0]
    form = check(replaced(**{field: sent + "\x0b"}))
    assert list(form.errors) == [field]
    if field in ("name", "email", "phone", "adults", "children"):
        assert "Steuerzeichen" in form.errors[field][0]


def test_a_control_character_in_a_later_value_of_a_field_is_found():
    """Only the first value of a single input is used, but every value sent is checked."""
    form = check(replaced(name=["Anna", "x\r\nBcc: y@example.org"], adults=["2", "3\n"]))
    assert list(form.errors) == ["name", "adults"]


def test_too_many_towns_and_errors_in_form_order():
    towns = tuple(f"ort{i}" for i in range(7))
    form = check(replaced(municipalities=list(towns), name=None, message="x\x01"), towns)
    assert list(form.errors) == ["name", "municipalities", "message"]
    assert "höchstens 5 Orte (Sie haben 7 gewählt)" in form.errors["municipalities"][0]
    assert [anchor for anchor, _, _ in form.error_list()] == [
        "name", "municipalities-group", "message"]


def test_every_field_left_out_names_the_required_ones_in_form_order():
    form = check([])
    assert list(form.errors) == ["name", "email", "adults", "children", "consents"]
    assert [a for a, _, _ in form.error_list()] == [
        "name", "email", "adults", "children", "consents-0"]


def test_the_first_value_of_a_single_input_counts():
    """As a browser sends it (and as WTForms shows it): the first value."""
    form = check(replaced(name=["Anna", ""], adults=["3", "x"]))
    assert form.errors == {}
    assert form.cleaned().name == "Anna" and form.cleaned().adults == 3


def test_messages_follow_the_page_language():
    i18n.load_catalogs()
    with i18n.language("en"):
        message = check(replaced(name=None)).errors["name"][0]
        consent = check(replaced(consents="tourism")).errors["consents"][0]
        number = check(replaced(adults="0")).errors["adults"][0]
    assert message != check(replaced(name=None)).errors["name"][0]
    assert "Namen" not in message
    assert "Orte gewählt" not in consent
    assert "1" in number and "10" in number and number != check(
        replaced(adults="0")).errors["adults"][0]


def test_the_new_link_form_checks_the_address_with_the_same_rules():
    for email in ("anna@", "a" * 65 + "@example.org", "anna@example.org\r\nBcc: x@example.org",
                  "", "   "):
        form = ResendForm(MultiDict([("email", email)]))
        assert not form.validate(), email
        assert list(form.errors) == ["email"]
    good = ResendForm(MultiDict([("email", " anna@example.org ")]))
    assert good.validate() and good.email.data == "anna@example.org"
    assert rules.email_problem("anna@example.org") is None
