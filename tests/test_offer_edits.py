"""Partners keep their offers current: the owner organisation edits, adds and ends
its offers in the portal; families see an edit or a new offer only after the agency
approves it, on every instance; another organisation cannot touch the offer."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from campaign.core.schema import page_proposals
from campaign.leads import live_offers
from campaign.portal import offer_edits
from campaign.web.app import create_app

from .support.app import rows_in, shipped_content
from .support.casework import clerk, sign_in
from .support.offers import TRIAL, pin_offers_clock
from .support.portal import AGENCY, add_user

SLUG = "winterberg-ferienwohnung-am-kahlen-asten"
NEW_TITLE = "Zwei Wochen Schmallenberg: Bauernhaus am Rothaarsteig"


def _edit_values(client: TestClient, path: str) -> dict[str, str]:
    """The edit form's fields as the page fills them (what a clerk would send back)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    values = dict(re.findall(r'<input type="(?:text|date|number|email)" id="[^"]+" '
                             r'name="([^"]+)" value="([^"]*)"', page.text))
    for name, text in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>',
                                 page.text):
        values[name] = text.replace("&amp;", "&")
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>',
                                 page.text, re.S):
        picked = re.search(r'<option value="([^"]+)" selected>', body) or \
            re.search(r'<option value="([^"]+)"', body)
        values[name] = picked.group(1) if picked else ""
    return values


def _new_trial(**fields: str) -> dict[str, str]:
    data = {"municipality": "schmallenberg", "title_de": NEW_TITLE, "title_nl": "",
            "title_en": "Two weeks in Schmallenberg: a farmhouse on the Rothaarsteig",
            "summary_de": "Drei Zimmer, Hofladen nebenan, Grundschule im Dorf.",
            "summary_nl": "", "summary_en": "", "valid_from": "2027-02-01",
            "valid_until": "2027-10-31", "host": "Hof Rothaar", "price_per_week": "280",
            "weeks_min": "1", "weeks_max": "2", "stay_from": "2027-04-01",
            "stay_until": "2027-10-15"}
    data.update(fields)
    return data


def _decide_all(client: TestClient, token: str) -> None:
    for proposal in rows_in(client, page_proposals, page_proposals.c.status == "pending"):
        r = client.post(f"/partner/freigaben/{proposal.id}",
                        data={"csrf_token": token, "approve": "1", "comment": ""})
        assert r.status_code == 303


def test_a_trial_offer_edit_and_a_new_offer_reach_every_instance_after_approval(
        client, settings):
    pin_offers_clock(client)
    author = clerk(client, "sauerland-tourismus", "Tina Touristik")
    agency = add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")
    token = sign_in(client, author)
    assert "/partner/angebote/" + SLUG in client.get("/partner/angebote").text

    values = _edit_values(client, f"/partner/angebote/{SLUG}")
    assert values["price_per_week"] == "350"
    r = client.post(f"/partner/angebote/{SLUG}",
                    data={**values, "price_per_week": "395", "csrf_token": token})
    assert r.status_code == 303
    r = client.post("/partner/angebote/neu/probewohnen", data={**_new_trial(),
                                                               "csrf_token": token})
    assert r.status_code == 303
    listing = client.get("/partner/angebote").text
    assert "Änderung wartet auf Freigabe" in listing and NEW_TITLE in listing

    # Nothing changes for families before the agency approves.
    assert "395 € pro Woche" not in client.get(TRIAL).text
    assert "350 € pro Woche" in client.get(TRIAL).text
    assert NEW_TITLE not in client.get("/angebote/probewohnen").text
    assert NEW_TITLE not in client.get("/orte/schmallenberg").text

    token = sign_in(client, agency)
    queue = client.get("/partner/freigaben").text
    assert "neu: </span>Preis pro Woche (Euro): 395" in queue
    assert "entfernt: </span>Preis pro Woche (Euro): 350" in queue
    assert f"neu: </span>Titel (Deutsch): {NEW_TITLE}" in queue
    _decide_all(client, token)

    other = create_app(settings, content=shipped_content())
    with TestClient(other, follow_redirects=False) as second:
        pin_offers_clock(second)
        for c in (client, second):
            assert "395 € pro Woche" in c.get(TRIAL).text
            listed = c.get("/angebote/probewohnen").text
            assert NEW_TITLE in listed
            [new_path] = {p for p in re.findall(
                r'href="(/angebote/probewohnen/schmallenberg-[^"]+)"', listed)}
            assert NEW_TITLE in c.get(new_path).text
            assert NEW_TITLE in c.get("/orte/schmallenberg").text
            assert "Two weeks in Schmallenberg" in c.get("/en" + new_path).text


def test_only_the_owner_organisation_may_change_an_offer(client):
    pin_offers_clock(client)
    outsider = clerk(client, "winterberg", "Olaf Ort", email="olaf@winterberg.example")
    token = sign_in(client, outsider)
    assert client.get(f"/partner/angebote/{SLUG}").status_code == 403
    r = client.post(f"/partner/angebote/{SLUG}", data={"csrf_token": token, "title_de": "X"})
    assert r.status_code == 403 and "anderen Organisation" in r.text
    assert client.post(f"/partner/angebote/{SLUG}/beenden",
                       data={"csrf_token": token}).status_code == 403
    # A municipality cannot add trial stays (the tourism association offers them).
    assert client.get("/partner/angebote/neu/probewohnen").status_code == 403
    assert client.get("/partner/angebote/unbekannt").status_code == 404
    assert rows_in(client, page_proposals) == []
    assert "350 € pro Woche" in client.get(TRIAL).text


def test_bad_offer_input_gets_a_german_error_summary_and_ending_is_at_once(client):
    pin_offers_clock(client)
    token = sign_in(client, clerk(client, "sauerland-tourismus", "Tina Touristik"))
    r = client.post("/partner/angebote/neu/probewohnen", data={
        **_new_trial(price_per_week="viel", stay_until="2027-01-01", municipality="siegen",
                     title_de=""), "csrf_token": token})
    assert r.status_code == 400 and "Bitte prüfen Sie Ihre Angaben" in r.text
    for text in ("Bitte eine ganze Zahl von 0 bis 10000 angeben.",
                 "Dieser Wert liegt vor dem vorigen.", "Bitte füllen Sie dieses Feld aus.",
                 "Bitte wählen Sie einen Ort, für den Sie Angebote machen."):
        assert text in r.text
    assert rows_in(client, page_proposals) == []

    values = _edit_values(client, f"/partner/angebote/{SLUG}")
    assert client.post(f"/partner/angebote/{SLUG}", data={**values, "price_per_week": "400",
                                                          "csrf_token": token}).status_code == 303
    assert client.post(f"/partner/angebote/{SLUG}/beenden",
                       data={"csrf_token": token}).status_code == 303
    assert client.get(TRIAL).status_code == 404
    # the waiting edit is withdrawn with it: no later approval brings the offer back
    assert rows_in(client, page_proposals, page_proposals.c.status == "pending") == []
    assert SLUG not in client.get("/angebote/probewohnen").text
    assert SLUG not in client.get("/partner/angebote").text


def test_an_offer_payload_reads_back_as_the_same_offer():
    offers = shipped_content().offers
    for offer in offers.by_slug.values():
        assert live_offers.from_payload(live_offers.to_payload(offer)) == offer
        assert offer_edits.lines(live_offers.to_payload(offer))[0].startswith("Art: ")


def test_an_offer_saved_meanwhile_by_a_colleague_is_not_overwritten_unseen(client):
    pin_offers_clock(client)
    first = sign_in(client, clerk(client, "sauerland-tourismus", "Tina Touristik"))
    values = _edit_values(client, f"/partner/angebote/{SLUG}")
    based_on = re.search(r'name="based_on" value="([0-9a-f]*)"',
                         client.get(f"/partner/angebote/{SLUG}").text).group(1)
    other = sign_in(client, clerk(client, "sauerland-tourismus", "Theo Touristik",
                                  email="theo@sauerland.example"))
    assert client.post(f"/partner/angebote/{SLUG}", data={
        **values, "price_per_week": "380", "csrf_token": other}).status_code == 303
    first = sign_in(client, "staff@sauerland-tourismus.example.org")
    r = client.post(f"/partner/angebote/{SLUG}", data={
        **values, "price_per_week": "395", "csrf_token": first, "based_on": based_on})
    assert r.status_code == 409 and "Preis pro Woche (Euro): 380" in r.text
    assert 'value="395"' in r.text
    [waiting] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert live_offers.from_payload(waiting.payload).price_per_week == 380
    again = client.post(f"/partner/angebote/{SLUG}", data={
        **values, "price_per_week": "395", "csrf_token": first,
        "based_on": re.search(r'name="based_on" value="([0-9a-f]*)"', r.text).group(1)})
    assert again.status_code == 303
    [waiting] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert live_offers.from_payload(waiting.payload).price_per_week == 395
