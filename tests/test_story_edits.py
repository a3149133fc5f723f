"""A municipality's staff tell their own story of a family who came, with a photo,
through the agency's review: the shipped example stories of that town stay until the
agency approves; then the town's story replaces them on the landing and municipality
pages, with its photo, and is not marked as an example."""

from __future__ import annotations

import re

from campaign.core.schema import page_proposals, pictures

from .support.app import count_in, rows_in
from .support.casework import clerk, sign_in
from .support.pictures import SECRET, photo
from .support.portal import AGENCY, add_user

EXAMPLE = "Erst Skiurlaub, dann ein neues Zuhause"  # the shipped example of Winterberg
OTHER_EXAMPLE_TOWN = 'href="/orte/olpe"'
TITLE = "Vom Skilift ins eigene Haus"
NOTE = "Beispielgeschichte"


def _story(client, token: str, data: bytes | None = None, **fields: str):
    form = {"csrf_token": token, "title": TITLE, "family": "Familie M.",
            "came_from": "aus Essen", "text": "Wir kamen zum Skifahren und blieben.",
            "alt": "Eine Familie vor ihrem Haus am Hang", "credit": "Stadt Winterberg",
            **fields}
    files = {"picture": ("haus.jpg", data, "image/jpeg")} if data else None
    return client.post("/partner/geschichte", data=form, files=files)


def test_a_towns_story_replaces_its_examples_after_approval(client):
    author = clerk(client, "winterberg", "Anna Beispiel")
    agency = add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")
    token = sign_in(client, author)
    landing, town = client.get("/").text, client.get("/orte/winterberg").text
    assert EXAMPLE in landing and EXAMPLE in town

    r = _story(client, token, photo())
    assert r.status_code == 303, r.text[:1500]
    assert "wartet auf Freigabe" in client.get("/partner/geschichte").text
    assert client.get("/").text == landing
    assert TITLE not in client.get("/orte/winterberg").text

    token = sign_in(client, agency)
    queue = client.get("/partner/freigaben").text
    assert "Geschichte einer Kommune: Winterberg" in queue and f"Überschrift: {TITLE}" in queue
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert client.post(f"/partner/freigaben/{proposal.id}", data={
        "csrf_token": token, "approve": "1", "comment": ""}).status_code == 303

    for page in (client.get("/").text, client.get("/orte/winterberg").text):
        assert TITLE in page and EXAMPLE not in page
        assert 'alt="Eine Familie vor ihrem Haus am Hang"' in page
        assert "Foto: Stadt Winterberg" in page and "Familie M. aus Essen" in page
    town = client.get("/orte/winterberg").text
    assert NOTE not in town  # the town's own story is no example
    landing = client.get("/").text
    assert OTHER_EXAMPLE_TOWN in landing and NOTE in landing  # other towns keep theirs
    [key] = [row.key for row in rows_in(client, pictures)]
    src = re.search(rf'<img src="([^"]*{key}[^"]*)"', town).group(1)
    client.cookies.clear()  # a family, not signed in: the approved photo is public
    image = client.get(src)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert "immutable" in image.headers["cache-control"]
    assert SECRET.encode() not in image.content  # re-encoded without metadata


def test_a_story_without_title_or_with_a_photo_without_alt_text_is_sent_back(client):
    token = sign_in(client, clerk(client, "winterberg", "Anna Beispiel"))
    r = _story(client, token, photo(), title="", alt="")
    assert r.status_code == 400
    assert 'href="#title"' in r.text and 'href="#alt"' in r.text
    assert 'id="title" name="title" value="" maxlength="120" required ' \
           'aria-describedby="title-error" aria-invalid="true"' in r.text
    assert rows_in(client, page_proposals) == [] and count_in(client, pictures) == 0
    r = _story(client, token, b"not a picture", alt="Ein Bild")
    assert r.status_code == 400 and 'href="#picture"' in r.text
    assert _story(client, token).status_code == 303  # a story needs no photo


def test_a_german_only_story_is_marked_german_on_the_dutch_pages(client):
    author = clerk(client, "winterberg", "Anna Beispiel")
    agency = add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")
    assert _story(client, sign_in(client, author)).status_code == 303
    token = sign_in(client, agency)
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    client.post(f"/partner/freigaben/{proposal.id}", data={"csrf_token": token, "approve": "1",
                                                           "comment": ""})
    assert f'<h3 lang="de">{TITLE}</h3>' in client.get("/nl/orte/winterberg").text
    assert f'<h3 lang="de">{TITLE}</h3>' in client.get("/orte/winterberg").text
    shipped = client.get("/nl/orte/olpe").text  # a shipped story with its Dutch text
    assert '<h3 lang="nl">' in shipped and '<h3 lang="de">' not in shipped


def test_a_story_told_in_dutch_too_is_shown_in_dutch_and_in_german_elsewhere(client):
    author = clerk(client, "winterberg", "Anna Beispiel")
    agency = add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")
    token = sign_in(client, author)
    half = _story(client, token, title_nl="Van de skilift naar een eigen huis")
    assert half.status_code == 400 and 'href="#text_nl"' in half.text
    assert re.search(r'id="text_nl"[^>]*aria-invalid="true"', half.text)
    assert "<details class=\"more-fields\" open>" in half.text  # the fold shows the mistake
    dutch = {"title_nl": "Van de skilift naar een eigen huis", "came_from_nl": "uit Essen",
             "text_nl": "We kwamen om te skiën en zijn gebleven."}
    assert _story(client, token, **dutch).status_code == 303
    assert 'value="Van de skilift naar een eigen huis"' in client.get("/partner/geschichte").text
    token = sign_in(client, agency)
    queue = client.get("/partner/freigaben").text
    assert "Überschrift (nl): Van de skilift naar een eigen huis" in queue
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    client.post(f"/partner/freigaben/{proposal.id}", data={"csrf_token": token, "approve": "1",
                                                           "comment": ""})
    nl = client.get("/nl/orte/winterberg").text
    assert '<h3 lang="nl">Van de skilift naar een eigen huis</h3>' in nl
    assert "We kwamen om te skiën en zijn gebleven." in nl and "uit Essen" in nl
    assert f'<h3 lang="de">{TITLE}</h3>' in client.get("/en/orte/winterberg").text
    assert f'<h3 lang="de">{TITLE}</h3>' in client.get("/orte/winterberg").text
