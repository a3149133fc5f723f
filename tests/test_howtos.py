"""How-tos (Wissenspool) on both databases: written with tags and checked attachments,
found by the database's full-text search (German words, by prefix), marked helpful
once per person, attachments only for signed-in staff and only as downloads."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from starlette.testclient import TestClient

from campaign.cli import main
from campaign.core.schema import article_files, article_marks, articles
from campaign.core.settings import Settings
from campaign.portal import howtos
from campaign.web.app import create_app

from .support.app import count_in, rows_in, run, services, shipped_content
from .support.casework import clerk, sign_in
from .support.forms import csrf_of
from .support.portal import AGENCY, add_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def _write(client, token: str, title: str, body: str, tags: str = "",
           files: list[tuple[str, bytes, str]] | None = None):
    upload = [("files", (name, data, kind)) for name, data, kind in files or []]
    return client.post("/partner/wissen/neu", data={
        "csrf_token": token, "title": title, "body": body, "tags": tags},
        files=upload or [("files", ("", b"", "application/octet-stream"))])


def test_articles_are_found_by_german_words_and_their_starts(client):
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "Kitaplätze schnell finden",
                  "Wie wir Familien mit Kindern zu Kitaplätzen verhelfen.",
                  "Kita, Familie").status_code == 303
    assert _write(client, token, "Wohnungsmarkt im Sauerland",
                  "Makler, Mietspiegel und Baugrundstücke.", "wohnen").status_code == 303
    sign_in(client, clerk(client, "attendorn", email="a@attendorn.example.org"))

    def titles(query: str = "", tag: str = "") -> list[str]:
        page = client.get("/partner/wissen", params={"q": query, "tag": tag}).text
        return [t for t in ("Kitaplätze schnell finden", "Wohnungsmarkt im Sauerland")
                if t in page]

    assert titles("Kita") == ["Kitaplätze schnell finden"]
    assert titles("Kitaplätze") == ["Kitaplätze schnell finden"]
    assert titles("kita famil") == ["Kitaplätze schnell finden"]
    assert titles("Mietspiegel") == ["Wohnungsmarkt im Sauerland"]
    assert titles("Baugrund") == ["Wohnungsmarkt im Sauerland"]
    assert titles("Schwimmbad") == []
    assert titles('"Kita" * ( : ^ &|!') == ["Kitaplätze schnell finden"]  # no syntax errors
    assert titles(tag="wohnen") == ["Wohnungsmarkt im Sauerland"]
    for odd in ("_", "a_b __x", "1.5 ß", "der die das", "x" * 300, "'; --", "NEAR(a b)"):
        assert client.get("/partner/wissen", params={"q": odd}).status_code == 200, odd
    [article] = rows_in(client, articles, articles.c.title == "Kitaplätze schnell finden")
    assert article.tags == "kita familie"
    page = client.get(f"/partner/wissen/{article.id}").text
    assert "Willkommensbüro Olpe" in page or "Olpe" in page  # the author organisation


def test_a_changed_or_removed_article_leaves_the_search(client):
    """The SQLite index follows the table (triggers); PostgreSQL indexes the expression."""
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "Probewohnen", "Eine Woche im Ferienhaus.").status_code == 303

    async def change(db):
        async with db.transaction() as conn:
            await conn.execute(articles.update().values(body="Ein Monat im Wohnwagen."))
    run(client, change, services(client).db)
    assert "Probewohnen" not in client.get("/partner/wissen", params={"q": "Ferienhaus"}).text
    assert "Probewohnen" in client.get("/partner/wissen", params={"q": "Wohnwagen"}).text


def test_attachments_are_checked_and_served_only_as_downloads_to_staff(client):
    token = sign_in(client, clerk(client, "olpe"))
    refused = _write(client, token, "Falsch", "Text", files=[
        ("bild.png", b"<html><script>alert(1)</script>", "image/png")])
    assert refused.status_code == 400 and "PDF, PNG, JPEG oder WebP" in refused.text
    too_big = _write(client, token, "Zu groß", "Text", files=[
        ("gross.pdf", PDF + b"0" * howtos.MAX_UPLOAD, "application/pdf")])
    assert too_big.status_code in (400, 413)
    assert count_in(client, articles) == 0
    ok = _write(client, token, "Mit Anhang", "Text", files=[
        ("Merkblatt Kita.pdf", PDF, "application/pdf"), ("karte.png", _png(), "text/plain")])
    assert ok.status_code == 303
    files = sorted(rows_in(client, article_files), key=lambda f: f.id)
    assert [(f.name, f.media_type) for f in files] == [
        ("Merkblatt-Kita.pdf", "application/pdf"), ("karte.png", "image/png")]
    path = f"/partner/wissen/{files[0].article_id}/anhang/{files[0].id}"
    got = client.get(path)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"] == 'attachment; filename="Merkblatt-Kita.pdf"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/partner/wissen/{files[0].article_id}/anhang/999").status_code == 404
    client.cookies.clear()
    assert client.get(path).status_code == 303  # to the sign-in, not the file


def test_helpful_once_per_person(client):
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "Tipp", "Text").status_code == 303
    [row] = rows_in(client, articles)
    for _ in range(2):
        r = client.post(f"/partner/wissen/{row.id}/hilfreich", data={"csrf_token": token})
        assert r.status_code == 303
    token = sign_in(client, clerk(client, "attendorn", email="a@attendorn.example.org"))
    assert client.post(f"/partner/wissen/{row.id}/hilfreich",
                       data={"csrf_token": token}).status_code == 303
    assert count_in(client, article_marks) == 2
    assert "2-mal als hilfreich markiert" in client.get(f"/partner/wissen/{row.id}").text
    assert client.post("/partner/wissen/999/hilfreich",
                       data={"csrf_token": token}).status_code == 404


def test_an_article_body_is_escaped(client):
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "<b>Titel</b>", "<script>alert(1)</script>").status_code == 303
    [row] = rows_in(client, articles)
    page = client.get(f"/partner/wissen/{row.id}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_an_incomplete_article_is_a_form_with_the_reason(client):
    token = sign_in(client, clerk(client, "olpe"))
    r = _write(client, token, "", "")
    assert r.status_code == 400 and "Bitte geben Sie einen Titel ein." in r.text
    assert csrf_of(r.text)


@pytest.mark.parametrize("text, tags", [("Kita, Wohnen kita", ("kita", "wohnen")),
                                         ("", ()), ("Job-Suche;Partner", ("job-suche", "partner"))])
def test_tags_are_words_once(text, tags):
    assert howtos.tags_of(text) == tags


def test_copy_db_takes_articles_and_their_search_to_postgresql(tmp_path, postgres,
                                                               monkeypatch):
    """The search index is no table of the metadata: PostgreSQL indexes the copied rows."""
    def settings_for(database: str) -> Settings:
        return Settings(database=database, secret_key="copy-test-secret-" + "c" * 32,
                        mail_dir=tmp_path / "mail", base_url="http://testserver",
                        background=False, min_fill_seconds=0.0)

    source = settings_for(str(tmp_path / "campaign.sqlite3"))
    with TestClient(create_app(source, content=shipped_content()),
                    follow_redirects=False) as client:
        email = clerk(client, "olpe")
        token = sign_in(client, email)
        assert _write(client, token, "Kitaplätze", "Wartelisten in Olpe", files=[
            ("plan.pdf", PDF, "application/pdf")]).status_code == 303
    target = postgres.new_database(migrated=False)
    monkeypatch.setenv("CAMPAIGN_DATABASE", source.database)
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", source.secret_key)
    assert main(["copy-db", "--to", target]) == 0
    with TestClient(create_app(settings_for(target), content=shipped_content()),
                    follow_redirects=False) as client:
        sign_in(client, email)
        page = client.get("/partner/wissen", params={"q": "Warteliste"}).text
        assert "Kitaplätze" in page
        [attached] = rows_in(client, article_files)
        assert bytes(attached.data) == PDF


def test_the_writing_organisation_edits_or_deletes_an_article_and_the_search_follows(client):
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "Probewohnen", "Eine Woche im Ferienhaus.", "wohnen", files=[
        ("a.pdf", PDF, "application/pdf"), ("b.png", _png(), "image/png")]).status_code == 303
    [row] = rows_in(client, articles)
    first, second = sorted(f.id for f in rows_in(client, article_files))
    page = client.get(f"/partner/wissen/{row.id}").text
    assert f'href="/partner/wissen/{row.id}/bearbeiten"' in page
    form = client.get(f"/partner/wissen/{row.id}/bearbeiten").text
    assert 'value="Probewohnen"' in form and 'name="drop_files"' in form

    empty = client.post(f"/partner/wissen/{row.id}/bearbeiten", data={
        "csrf_token": token, "title": "", "body": "x"})
    assert empty.status_code == 400 and 'href="#title"' in empty.text
    r = client.post(f"/partner/wissen/{row.id}/bearbeiten", data={
        "csrf_token": token, "title": "Probewohnen im Wohnwagen", "tags": "wohnen camping",
        "body": "Ein Monat im Wohnwagen.", "drop_files": [str(first), "999"]})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/{row.id}?saved=1")
    assert [f.id for f in rows_in(client, article_files)] == [second]
    assert "Probewohnen" not in client.get("/partner/wissen", params={"q": "Ferienhaus"}).text
    assert "Probewohnen im Wohnwagen" in client.get("/partner/wissen",
                                                   params={"q": "Wohnwagen"}).text

    # another municipality may read and mark it, not change or delete it
    other = sign_in(client, clerk(client, "attendorn", email="a@attendorn.example.org"))
    assert "bearbeiten" not in client.get(f"/partner/wissen/{row.id}").text
    assert client.get(f"/partner/wissen/{row.id}/bearbeiten").status_code == 404
    assert client.post(f"/partner/wissen/{row.id}/loeschen", data={
        "csrf_token": other, "confirm": "1"}).status_code == 404
    assert client.post(f"/partner/wissen/{row.id}/hilfreich",
                       data={"csrf_token": other}).status_code == 303

    token = sign_in(client, clerk(client, "olpe", email="o2@olpe.example.org"))
    unsure = client.post(f"/partner/wissen/{row.id}/loeschen", data={"csrf_token": token})
    assert unsure.status_code == 400 and 'id="confirm-error"' in unsure.text
    assert count_in(client, articles) == 1
    gone = client.post(f"/partner/wissen/{row.id}/loeschen",
                       data={"csrf_token": token, "confirm": "1"})
    assert gone.status_code == 303 and "deleted=1" in gone.headers["location"]
    assert (count_in(client, articles), count_in(client, article_files),
            count_in(client, article_marks)) == (0, 0, 0)
    assert "Probewohnen im Wohnwagen" not in client.get("/partner/wissen",
                                                       params={"q": "Wohnwagen"}).text
    assert client.get(f"/partner/wissen/{row.id}").status_code == 404


def test_the_agency_may_take_down_any_article(client):
    token = sign_in(client, clerk(client, "olpe"))
    assert _write(client, token, "Veraltet", "Nicht mehr gültig.").status_code == 303
    [row] = rows_in(client, articles)
    token = sign_in(client, add_user(client, AGENCY, role="admin", email="m@agentur.example"))
    page = client.get(f"/partner/wissen/{row.id}").text
    assert "Anleitung löschen" in page and "/bearbeiten" not in page  # not theirs to edit
    assert client.post(f"/partner/wissen/{row.id}/loeschen", data={
        "csrf_token": token, "confirm": "1"}).status_code == 303
    assert count_in(client, articles) == 0
