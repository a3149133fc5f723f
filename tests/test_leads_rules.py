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
