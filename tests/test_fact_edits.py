"""A municipality's staff state their facts with sources through the agency's review:
nothing changes for families or the quiz until the agency approves; then the family
page shows each stated fact with its source and the quiz ranks with it."""

from __future__ import annotations

import re

from campaign.core.schema import page_proposals

from .support.app import rows_in, shipped_content
from .support.casework import clerk, sign_in
from .support.pages import quiz_walk
from .support.portal import AGENCY, add_user

SOURCE = "Stadtverwaltung Olsberg, Stand 2026"
KITA = "Kita Sonnenblume, Mo–Fr 7–16:30 Uhr"
TRAIN = "RE 57 nach Dortmund, 55 Minuten, stündlich"


def _facts(client, token: str, **fields: str):
    page = client.get("/partner/fakten")
    assert page.status_code == 200
    seed = shipped_content().region.municipalities["olsberg"].facts
    data = {"csrf_token": token, "secondary_schools": list(seed.secondary_schools),
            **{flag: "1" for flag in ("rail_station", "swimming_pool", "hospital")
               if getattr(seed, flag)}}
    return client.post("/partner/fakten", data={**data, **fields})


def _outcome(client) -> str:
    client.cookies.delete("quiz")
    return client.get(quiz_walk(client, "de")["quiz outcome"]).text


def test_stated_facts_reach_the_page_and_the_quiz_only_after_approval(client):
    author = clerk(client, "olsberg", "Anna Beispiel")
    agency = add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")
    token = sign_in(client, author)
    before = client.get("/orte/olsberg").text
    assert "10.512 Einwohner" not in client.get("/region/hochsauerlandkreis").text
    outcome_before = _outcome(client)
    assert "45 Kitas im Ort" not in outcome_before

    r = _facts(client, token, kitas="45", kitas_source=SOURCE, population="10.512",
               population_source=SOURCE, area_km2="118,6", area_km2_source=SOURCE,
               kita_named=KITA, kita_named_source=SOURCE, train=TRAIN, train_source=SOURCE)
    assert r.status_code == 303, r.text[:2000]
    assert "wartet auf Freigabe" in client.get("/partner/fakten").text
    assert client.get("/orte/olsberg").text == before
    assert "45 Kitas im Ort" not in _outcome(client)

    token = sign_in(client, agency)
    queue = client.get("/partner/freigaben").text
    assert "Fakten einer Kommune: Olsberg" in queue and f"Kitas: 45 (Quelle: {SOURCE})" in queue
    assert f"Eine Kita mit Öffnungszeiten: {KITA} (Quelle: {SOURCE})" in queue
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert client.post(f"/partner/freigaben/{proposal.id}", data={
        "csrf_token": token, "approve": "1", "comment": ""}).status_code == 303

    family = client.get("/orte/olsberg").text
    assert f"<dd>45 <span class=\"muted\">(Quelle: {SOURCE})</span></dd>" in family
    assert "10.512 Einwohner" in family and "118,6 km²" in family
    # the district page's short facts of the town say the same
    assert "10.512 Einwohner" in client.get("/region/hochsauerlandkreis").text
    assert family.count(f"Quelle: {SOURCE}") >= 3
    outcome = _outcome(client)
    assert f"45 Kitas im Ort, zum Beispiel: {KITA}" in outcome
    # what the town named, on its page too, marked as German on a Dutch page
    assert f"<span lang=\"de\">{TRAIN}</span>" in family
    dutch = client.get("/nl/orte/olsberg").text
    assert f"<dt>Met de trein</dt><dd><span lang=\"de\">{TRAIN}</span>" in dutch
    assert f"<span lang=\"de\">{KITA}</span>" in dutch
    assert outcome.index('href="/orte/olsberg"') < outcome.index("45 Kitas im Ort")


def test_a_changed_fact_needs_a_source_and_a_sane_number(client):
    token = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    r = _facts(client, token, kitas="45", population="9999999", population_source=SOURCE,
               area_km2="viel", area_km2_source=SOURCE)
    assert r.status_code == 400
    assert "Bitte prüfen Sie Ihre Angaben" in r.text
    assert 'href="#kitas_source"' in r.text and 'href="#population"' in r.text
    assert 'href="#area_km2"' in r.text
    assert 'id="kitas_source" name="kitas_source" value="" maxlength="120" ' \
           'aria-describedby="kitas_source-error" aria-invalid="true"' in r.text
    assert 'value="9999999"' in r.text  # what was typed is shown again
    assert rows_in(client, page_proposals) == []


def test_other_organisations_cannot_state_a_towns_facts(client):
    token = sign_in(client, clerk(client, "sauerland-tourismus", "Tom Beispiel"))
    r = client.post("/partner/fakten", data={"csrf_token": token, "kitas": "3"})
    assert r.status_code == 403 and "den Kommunen vorbehalten" in r.text


def test_facts_saved_meanwhile_by_a_colleague_are_not_overwritten_unseen(client):
    first = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    form = client.get("/partner/fakten").text
    based_on = re.search(r'name="based_on" value="([0-9a-f]*)"', form).group(1)
    other = sign_in(client, clerk(client, "olsberg", "Ben Beispiel", email="b@olsberg.example"))
    assert _facts(client, other, kitas="12", kitas_source=SOURCE).status_code == 303
    first = sign_in(client, "staff@olsberg.example.org")
    r = _facts(client, first, kitas="9", kitas_source=SOURCE, based_on=based_on)
    assert r.status_code == 409 and f"Kitas: 12 (Quelle: {SOURCE})" in r.text
    assert 'value="9"' in r.text  # what she typed, to send again
    [waiting] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert waiting.payload["values"]["kitas"] == 12
