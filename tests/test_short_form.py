"""The short lead form over HTTP: chosen towns first and checked once, districts and
optional fields folded (open when something in them was given or is wrong), and the
consents name whom they reach for the chosen towns."""

from __future__ import annotations

import re

from .support.forms import hidden_fields, valid_data


def test_chosen_towns_stand_first_once_and_the_districts_stay_folded(client):
    page = client.get("/interesse?orte=olpe,attendorn").text
    for slug in ("olpe", "attendorn"):
        assert page.count(f'id="municipalities-{slug}"') == 1
        assert re.search(rf'id="municipalities-{slug}"[^>]*checked', page)
    first_district = page.index('<details class="district-choices"')
    assert page.index('id="municipalities-olpe"') < first_district
    assert "<details class=\"district-choices\" open" not in page
    olpe_district = page[page.index("<summary>Kreis Olpe</summary>"):]
    olpe_district = olpe_district[:olpe_district.index("</details>")]
    assert 'value="wenden"' in olpe_district and 'value="olpe"' not in olpe_district


def test_consents_name_the_chosen_towns_and_their_tourism_association(client):
    page = client.get("/interesse?orte=olpe,attendorn").text
    label = re.search(r'<label for="consents-0">(.*?)</label>', page, re.S).group(1)
    assert "(Attendorn, Olpe)" in label
    label = re.search(r'<label for="consents-1">(.*?)</label>', page, re.S).group(1)
    assert "(Sauerland-Tourismus)" in label
    plain = client.get("/interesse").text
    assert "(Sauerland-Tourismus)" not in plain


def test_optional_fields_are_folded_until_given_or_wrong(client):
    page = client.get("/interesse")
    assert re.search(r'<details class="more-fields">', page.text)
    bad = client.post("/interesse", data={**hidden_fields(page.text),
                                          **valid_data(phone="call me")})
    assert bad.status_code == 400
    assert re.search(r'<details class="more-fields" open>', bad.text)
    assert 'id="phone-error"' in bad.text
