"""Pages families see carry no "Demo" or "Beispieldaten" labels: shipped values that a
town has not confirmed yet are named as estimates in one quiet line, not as a demo."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from .support.app import shipped_content
from .support.family import DEMO_WORDS, family_pages
from .support.offers import pin_offers_clock


@pytest.mark.parametrize("prefix", ["", "/nl", "/en"])
def test_no_family_page_says_demo_or_sample_data(client, prefix):
    pin_offers_clock(client)
    found = {}
    for path in family_pages():
        response = client.get(prefix + path)
        assert response.status_code == 200, prefix + path
        words = DEMO_WORDS.findall(response.text)
        if words:
            found[prefix + path] = sorted(set(words))
    assert found == {}


def test_unconfirmed_facts_are_named_as_estimates_once_at_the_foot(client):
    page = client.get("/orte/olpe").text
    assert page.count("Richtwerte der Kampagne, noch nicht vom Ort bestätigt") == 1
    assert 'class="notice"' not in page
    assert "Campaign estimates, not yet confirmed by the town" in client.get("/en/orte/olpe").text


def test_each_consent_has_a_short_label_and_its_full_text_in_a_disclosure(client):
    consent = shipped_content().consent
    for prefix, lang in (("", "de"), ("/en", "en")):
        page = client.get(f"{prefix}/interesse").text
        for i, group in enumerate(consent.groups.values()):
            text = group.text.get(lang)
            label = re.search(rf'<label for="consents-{i}">(.*?)</label>', page, re.S)
            assert label is not None and text not in label.group(1)
            assert group.title.get(lang) in label.group(1)
            # the full text, unchanged (the stored hash is of it), behind one disclosure
            # and named as the checkbox's description
            details = re.search(r'<details class="consent-text">(.*?)</details>', page, re.S)
            assert details is not None
            full = re.search(rf'<span id="consent-text-{i}">(.*?)</span>', details.group(1))
            assert full is not None and full.group(1) == str(escape(text))
            assert re.search(rf'id="consents-{i}"[^>]*aria-describedby="consent-text-{i}"', page)
