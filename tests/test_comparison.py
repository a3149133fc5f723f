"""The anonymised comparison: pure statistics (no figure from fewer than five leads,
no regional spread from fewer than three municipalities) and the page on both
databases: with four leads it shows no figure, with five it does; other
municipalities are never named, except to the agency."""

from __future__ import annotations

import re

import pytest

from campaign.portal import comparison
from campaign.portal.comparison import Sample

from .support.casework import act, clerk, sign_in
from .support.portal import AGENCY
from .support.portal_cases import lead

TOWNS = ["olpe", "attendorn", "drolshagen"]
FIGURE = re.compile(r"<td>\s*(\d+ %|\d+,\d Arbeitstage)\s*</td>")


def test_a_figure_needs_five_leads():
    assert comparison.value([1, 2, 3, 4], "contact_days") is None
    assert comparison.value([True] * 4, "visit") is None
    assert comparison.value([1, 2, 3, 4, 9], "contact_days") == 3.0
    assert comparison.value([True, False, False, False, True], "moved") == 40.0


def test_the_region_needs_three_municipalities_and_leaves_out_small_ones():
    assert comparison.spread([10.0, 20.0, None]) is None
    spread = comparison.spread([10.0, 20.0, 30.0, 40.0, None])
    assert spread is not None and spread.count == 4
    assert (spread.q1, spread.median, spread.q3) == (17.5, 25.0, 32.5)
    samples = {"a": Sample(visit=[True] * 5), "b": Sample(visit=[False] * 5),
               "c": Sample(visit=[True, False, False, False, False]),
               "small": Sample(visit=[True] * 4)}
    result = comparison.compare(samples)
    assert result.figures["small"]["visit"] is None
    region = result.region["visit"]
    assert region is not None and region.count == 3 and region.median == 20.0
    assert result.region["contact_days"] is None


@pytest.mark.parametrize("stages, expected", [
    (["neu"], 0), (["neu", "vor_ort", "kontaktiert"], 3), ([None, "geschlossen"], -1)])
def test_the_furthest_stage_counts(stages, expected):
    assert comparison.furthest(stages) == expected


def _figures(html: str) -> list[str]:
    return FIGURE.findall(html)


def test_the_page_shows_no_figure_from_four_leads_and_names_nobody(client):
    olpe = clerk(client, "olpe", "Olga Olpe", email="olga@olpe.example.org")
    token = sign_in(client, olpe)
    ids = [lead(client, TOWNS, follow_up="vor_ort") for _ in range(4)]
    for lead_id in ids:
        assert act(client, token, lead_id, "anruf", outcome="erreicht").status_code == 303
    page = client.get("/partner/vergleich")
    assert page.status_code == 200
    assert _figures(page.text) == []
    assert "zu wenige Daten" in page.text and "mindestens 5 Interessenten" in page.text
    assert "Attendorn" not in page.text and "Drolshagen" not in page.text

    ids.append(lead(client, TOWNS, follow_up="vor_ort"))
    assert act(client, token, ids[-1], "anruf", outcome="erreicht").status_code == 303
    page = client.get("/partner/vergleich").text
    assert "100 %" in _figures(page)  # its own share with a visit, now from five leads
    assert "Attendorn" not in page and "Drolshagen" not in page
    main = page[page.index("<main"):]
    assert "Olpe" not in main.replace("Olga Olpe", "")  # the page names no municipality

    sign_in(client, clerk(client, AGENCY, "Agentur", role="admin",
                          email="admin@agentur.example.org"))
    agency = client.get("/partner/vergleich").text
    assert "Alle Gemeinden" in agency and "Attendorn" in agency and "Drolshagen" in agency
