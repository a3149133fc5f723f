"""Partners keep their page current: a municipality's staff propose the welcome text,
the contact person and pictures; families see nothing of it until the agency approves
in its review queue (with a diff); the author gets the decision and comment in the
portal and by mail. Uploaded pictures are checked, re-encoded without metadata and
served from the database as responsive variants."""

from __future__ import annotations

import io
import re

from PIL import Image

from campaign.core.schema import page_proposals, picture_variants, pictures, published_pages
from campaign.reach.share import make_result_token

from .support.app import count_in, deliver, rows_in, services
from .support.casework import clerk, sign_in
from .support.pictures import SECRET, photo
from .support.portal import AGENCY, add_user

NEW_TEXT = "Willkommen am Ufer! In Olsberg wachsen Kinder zwischen Wald und Wasser auf."


def _propose_text(client, token: str, **fields: str):
    data = {"csrf_token": token, "welcome_de": NEW_TEXT, "welcome_nl": "", "welcome_en": "",
            "contact_name": "Willkommensbüro Olsberg",
            "contact_email": "willkommen@olsberg.example"}
    return client.post("/partner/seite", data={**data, **fields})


def _upload(client, token: str, data: bytes, alt: str = "Kinder spielen am See",
            credit: str = "Stadt Olsberg"):
    return client.post("/partner/seite/bild", data={"csrf_token": token, "alt": alt,
                                                    "credit": credit},
                       files={"picture": ("see.jpg", data, "image/jpeg")})


def _agency(client) -> str:
    return add_user(client, AGENCY, role="admin", email="freigabe@agentur.example")


def _decide(client, token: str, decision: str, comment: str = ""):
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    return client.post(f"/partner/freigaben/{proposal.id}", data={
        "csrf_token": token, decision: "1", "comment": comment})


def test_an_edit_reaches_families_only_after_the_agency_approves(mail_client, smtp):
    client = mail_client
    author = clerk(client, "olsberg", "Anna Beispiel")
    agency = _agency(client)
    token = sign_in(client, author)
    before = client.get("/orte/olsberg").text
    shared = make_result_token(services(client).settings.secret_key, "familie", ["olsberg"])
    assert NEW_TEXT not in client.get(f"/teilen/{shared}").text
    assert _propose_text(client, token).status_code == 303
    assert _upload(client, token, photo()).status_code == 303
    page = client.get("/partner/seite").text
    assert "wartet auf Freigabe" in page and NEW_TEXT in page

    family = client.get("/orte/olsberg").text
    assert NEW_TEXT not in family and "<picture>" not in family
    assert family.count("Willkommensbüro Olsberg") == before.count("Willkommensbüro Olsberg")

    token = sign_in(client, agency)
    queue = client.get("/partner/freigaben").text
    assert "Olsberg" in queue and f"neu: </span>Willkommenstext (de): {NEW_TEXT}" in queue
    assert 'class="diff-removed"' in queue  # the old text, struck through
    assert _decide(client, token, "approve", "Schön geworden!").status_code == 303
    assert count_in(client, published_pages) == 1

    family = client.get("/orte/olsberg").text
    assert NEW_TEXT in family and "Willkommensbüro Olsberg" in family
    # a shared quiz result naming the town shows the same welcome text
    shared = make_result_token(services(client).settings.secret_key, "familie", ["olsberg"])
    assert NEW_TEXT in client.get(f"/teilen/{shared}").text
    assert 'alt="Kinder spielen am See"' in family and "Foto: Stadt Olsberg" in family
    assert '<source type="image/webp"' in family and 'loading="lazy"' in family
    deliver(client)
    [mail] = smtp.to(author)
    assert "freigegeben" in str(mail["Subject"])
    assert "Schön geworden!" in mail.get_body(("plain",)).get_content()

    sign_in(client, author)
    assert "Ihr letzter Vorschlag wurde freigegeben" in client.get("/partner/seite").text


def test_a_rejection_keeps_the_page_and_tells_the_author_why(mail_client, smtp):
    client = mail_client
    author = clerk(client, "olsberg", "Anna Beispiel")
    agency = _agency(client)
    token = sign_in(client, author)
    _propose_text(client, token)
    assert _upload(client, token, photo()).status_code == 303
    token = sign_in(client, agency)
    r = _decide(client, token, "reject")  # a rejection needs a reason
    assert r.status_code == 400 and 'aria-invalid="true"' in r.text
    assert _decide(client, token, "reject", "Bitte ohne Werbung.").status_code == 303
    assert NEW_TEXT not in client.get("/orte/olsberg").text
    assert count_in(client, published_pages) == 0
    assert count_in(client, pictures) == 0  # the rejected picture is gone with it
    deliver(client)
    [mail] = smtp.to(author)
    assert "abgelehnt" in str(mail["Subject"])
    assert "Bitte ohne Werbung." in mail.get_body(("plain",)).get_content()
    sign_in(client, author)
    page = client.get("/partner/seite").text
    assert "wurde abgelehnt" in page and "Bitte ohne Werbung." in page


def test_pictures_are_reencoded_without_metadata_and_public_only_once_approved(client):
    agency = _agency(client)
    token = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    assert _upload(client, token, photo()).status_code == 303
    variants = rows_in(client, picture_variants)
    assert {(v.width, v.format) for v in variants} >= {
        (w, f) for w in (480, 960, 1440) for f in ("webp", "jpeg")}
    for v in variants:
        data = bytes(v.data)
        assert SECRET.encode() not in data and b"Kamera" not in data and b"Exif" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.width == v.width and not image.getexif()
            assert "icc_profile" not in image.info
    page = client.get("/partner/seite").text
    src = re.search(r'<img src="(/bilder/[0-9a-f]{32}/480\.jpeg)"', page)
    assert src is not None
    # waiting for review: the staff see it, nobody keeps it, anybody else gets a 404
    r = client.get(src.group(1))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "private, no-store" and "etag" not in r.headers
    cookies = dict(client.cookies)
    client.cookies.clear()
    assert client.get(src.group(1)).status_code == 404
    assert client.get(src.group(1), headers={"If-None-Match": f'"{src.group(1)[8:40]}-480-jpeg"'}
                      ).status_code == 404
    client.cookies.update(cookies)

    token = sign_in(client, agency)
    assert _decide(client, token, "approve").status_code == 303
    client.cookies.clear()
    r = client.get(src.group(1))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
    again = client.get(src.group(1), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    webp = client.get(src.group(1).replace(".jpeg", ".webp"))
    assert webp.headers["content-type"] == "image/webp" and webp.content[8:12] == b"WEBP"
    assert client.get(src.group(1).replace(".jpeg", ".gif")).status_code == 404
    assert client.get("/bilder/" + "0" * 32 + "/480.jpeg").status_code == 404


def test_bad_uploads_get_a_marked_field_and_a_reason_never_a_500(client):
    token = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, "PNG")
    refused = [
        (b"kein Bild", {}, "picture", "Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch."),
        (gif.getvalue(), {}, "picture", "Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch."),
        (bomb.getvalue(), {}, "picture", "zu viele Bildpunkte"),
        (b"", {}, "picture", "Bitte wählen Sie ein Bild aus."),
        (photo((300, 200)), {"alt": ""}, "alt", "Bitte beschreiben Sie, was auf dem Bild"),
        (photo((300, 200)), {"credit": "x" * 121}, "credit", "höchstens 120 Zeichen"),
    ]
    for data, fields, field, message in refused:
        r = _upload(client, token, data, **fields)
        assert r.status_code == 400, message
        assert message in r.text and 'class="error-summary"' in r.text
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', r.text), field
    assert count_in(client, pictures) == 0 and count_in(client, page_proposals) == 0
    r = _propose_text(client, token, welcome_de="", contact_email="keine-adresse")
    assert r.status_code == 400
    assert re.search(r'id="welcome_de"[^>]*aria-invalid="true"', r.text)
    assert re.search(r'id="contact_email"[^>]*aria-invalid="true"', r.text)


def test_up_to_six_pictures_can_be_ordered_and_removed(client):
    token = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    small = photo((500, 300))
    for n in range(6):
        assert _upload(client, token, small, alt=f"Bild {n}").status_code == 303
    r = _upload(client, token, small, alt="Bild 7")
    assert r.status_code == 400 and "höchstens 6 Bilder" in r.text

    def order() -> list[str]:
        [p] = rows_in(client, page_proposals)
        return [pic["alt"] for pic in p.payload["pictures"]]

    [p] = rows_in(client, page_proposals)
    keys = [pic["key"] for pic in p.payload["pictures"]]
    client.post("/partner/seite/bilder", data={"csrf_token": token, "up": keys[2]})
    assert order() == ["Bild 0", "Bild 2", "Bild 1", "Bild 3", "Bild 4", "Bild 5"]
    client.post("/partner/seite/bilder", data={"csrf_token": token, "remove": keys[0]})
    assert order() == ["Bild 2", "Bild 1", "Bild 3", "Bild 4", "Bild 5"]
    assert count_in(client, pictures) == 5  # the removed one is deleted
    r = client.post("/partner/seite/bilder", data={"csrf_token": token, "remove": "x" * 32})
    assert r.status_code == 400


def test_only_municipality_staff_edit_and_only_the_agency_reviews(client):
    token = sign_in(client, clerk(client, "sauerland-tourismus", "Tom Beispiel"))
    assert client.get("/partner/seite").status_code == 403
    assert client.get("/partner/freigaben").status_code == 403
    token = sign_in(client, clerk(client, "olsberg", "Anna Beispiel"))
    assert client.get("/partner/freigaben").status_code == 403
    assert "Unsere Seite" in client.get("/partner/").text
    _propose_text(client, token)
    [p] = rows_in(client, page_proposals)
    r = client.post(f"/partner/freigaben/{p.id}", data={"csrf_token": token, "approve": "1"})
    assert r.status_code == 403 and count_in(client, published_pages) == 0


def test_a_proposal_changed_while_the_agency_reads_it_is_not_published(client):
    """The agency publishes only the version it read: an edit in between sends it back
    to the queue with a notice, and nothing reaches families."""
    author = clerk(client, "olsberg", "Anna Beispiel")
    agency = _agency(client)
    assert _propose_text(client, sign_in(client, author)).status_code == 303
    token = sign_in(client, agency)
    read = re.search(r'name="seen" value="([0-9a-f]{16})"', client.get("/partner/freigaben").text)
    assert read is not None
    later = "Willkommen! Diese Fassung hat die Agentur noch nicht gelesen."
    assert _propose_text(client, sign_in(client, author), welcome_de=later).status_code == 303

    token = sign_in(client, agency)
    [proposal] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    r = client.post(f"/partner/freigaben/{proposal.id}", data={
        "csrf_token": token, "approve": "1", "comment": "", "seen": read.group(1)})
    assert r.status_code == 303 and r.headers["location"].endswith("done=changed")
    assert count_in(client, published_pages) == 0
    assert later not in client.get("/orte/olsberg").text
    queue = client.get("/partner/freigaben?done=changed").text
    assert "Der Vorschlag wurde geändert, während Sie ihn gelesen haben" in queue
    assert later in queue
    seen = re.search(r'name="seen" value="([0-9a-f]{16})"', queue).group(1)
    assert seen != read.group(1)
    assert client.post(f"/partner/freigaben/{proposal.id}", data={
        "csrf_token": token, "approve": "1", "comment": "", "seen": seen}).status_code == 303
    assert later in client.get("/orte/olsberg").text


def _based_on(html: str) -> str:
    found = re.search(r'name="based_on" value="([0-9a-f]*)"', html)
    assert found is not None
    return found.group(1)


def test_two_clerks_editing_at_once_never_overwrite_each_other_unseen(client):
    """The second save of a form filled before the first is sent back (409) with the
    other clerk's text beside what was typed; sent again, it replaces it knowingly."""
    anna = clerk(client, "olsberg", "Anna Beispiel", email="anna@olsberg.example.org")
    ben = clerk(client, "olsberg", "Ben Beispiel", email="ben@olsberg.example.org")
    token = sign_in(client, anna)
    annas_form = _based_on(client.get("/partner/seite").text)
    assert annas_form == ""  # nothing waits yet

    bens = "Bens Fassung: Olsberg hat den schönsten Kurpark."
    token_b = sign_in(client, ben)
    assert _propose_text(client, token_b, welcome_de=bens,
                         based_on=_based_on(client.get("/partner/seite").text)
                         ).status_code == 303
    assert _upload(client, token_b, photo()).status_code == 303  # pictures are no conflict

    annas = "Annas Fassung: Willkommen zwischen Wald und Wasser."
    token = sign_in(client, anna)
    invalid = _propose_text(client, token, welcome_de=annas, contact_email="x",
                            based_on=annas_form)
    assert invalid.status_code == 400 and _based_on(invalid.text) == annas_form  # still hers
    r = _propose_text(client, token, welcome_de=annas, based_on=annas_form)
    assert r.status_code == 409
    assert "Während Sie geschrieben haben, hat ben@olsberg.example.org" in r.text
    assert bens in r.text and annas in r.text  # theirs to read, hers still in the form
    [waiting] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert waiting.payload["welcome"]["de"] == bens

    again = _propose_text(client, token, welcome_de=annas, based_on=_based_on(r.text))
    assert again.status_code == 303
    [waiting] = rows_in(client, page_proposals, page_proposals.c.status == "pending")
    assert waiting.payload["welcome"]["de"] == annas
    assert len(waiting.payload["pictures"]) == 1  # Ben's picture stayed
