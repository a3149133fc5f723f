"""Staff photos: uploads are checked, re-encoded without metadata, stored 0600 in
the data folder and served only by the service, only for active accounts."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from campaign.core.schema import users

from .support.app import rows_in, run, services
from .support.casework import act, clerk, self_service_path, sign_in
from .support.portal_cases import lead

SECRET_PLACE = "Hinterhof Geheimweg 7"


def _jpeg_with_metadata(size: tuple[int, int] = (1600, 1200)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = SECRET_PLACE  # Artist
    exif[0x010F] = "Kamera GmbH"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=SECRET_PLACE.encode())
    return out.getvalue()


def _upload(client, token: str, data: bytes, name: str = "ich.jpg",
            content_type: str = "image/jpeg"):
    return client.post("/partner/profil/foto", data={"csrf_token": token},
                       files={"photo": (name, data, content_type)})


def _photo_of(client, email: str) -> str | None:
    [row] = rows_in(client, users, users.c.email == email)
    return row.photo  # type: ignore[no-any-return]


def test_a_photo_is_reencoded_without_metadata_and_stored_privately(client, settings):
    email = clerk(client, "olpe", "Anna Beispiel")
    token = sign_in(client, email)
    original = _jpeg_with_metadata()
    assert SECRET_PLACE.encode() in original and b"Kamera GmbH" in original
    r = _upload(client, token, original)
    assert r.status_code == 303 and r.headers["location"].endswith("/partner/profil?saved=photo")
    name = _photo_of(client, email)
    assert name and re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    path = Path(settings.data_dir) / "photos" / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = path.read_bytes()
    assert SECRET_PLACE.encode() not in stored and b"Kamera GmbH" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and max(image.size) == 480
        assert image.size == (480, 360)
        assert not image.getexif() and "exif" not in image.info
        assert "comment" not in image.info and "icc_profile" not in image.info
    page = client.get("/partner/profil?saved=photo").text
    assert "Ihr Foto wurde gespeichert." in page and f"/ansprechperson/foto/{name}" in page


def test_the_family_sees_the_photo_with_its_text_and_only_while_the_account_is_active(client):
    lead_id = lead(client, ["olpe"])
    email = clerk(client, "olpe", "Anna Beispiel")
    token = sign_in(client, email)
    assert client.post("/partner/profil", data={
        "csrf_token": token, "display_name": "Anna Beispiel", "job_title": "Willkommenslotsin",
        "phone": "02761 1", "photo_alt": "Anna Beispiel lacht vor dem Rathaus"}
    ).status_code == 303
    assert _upload(client, token, _jpeg_with_metadata((300, 400))).status_code == 303
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    name = _photo_of(client, email)
    client.cookies.clear()  # the family has no portal session
    page = client.get(self_service_path(client, lead_id)).text
    assert (f'<img src="/ansprechperson/foto/{name}" alt="Anna Beispiel lacht vor dem '
            f'Rathaus"') in page
    r = client.get(f"/ansprechperson/foto/{name}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store"
    assert r.content[:3] == b"\xff\xd8\xff"
    for bad in ("0" * 32 + ".jpg", "..%2Fsecret_key", "x.jpg", name.upper()):
        assert client.get(f"/ansprechperson/foto/{bad}").status_code == 404, bad
    run(client, _deactivate, services(client).db, email)
    assert client.get(f"/ansprechperson/foto/{name}").status_code == 404
    assert "Anna Beispiel" not in client.get(self_service_path(client, lead_id)).text


async def _deactivate(db, email: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(users.update().where(users.c.email == email).values(active=False))


def test_uploads_that_are_no_photo_are_refused_with_a_reason(client, settings):
    email = clerk(client, "olpe", "Anna Beispiel")
    token = sign_in(client, email)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    bomb = io.BytesIO()  # 50 megapixels of one colour: a few kilobytes as PNG
    Image.new("1", (10_000, 5_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 200_000
    refused = [
        (b"hallo, ich bin kein Bild", "Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch."),
        (gif.getvalue(), "Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch."),
        (_jpeg_with_metadata()[:500], "Bitte laden Sie ein Foto als JPEG, PNG oder WebP hoch."),
        (bomb.getvalue(), "Das Foto hat zu viele Bildpunkte (höchstens 40 Megapixel)."),
        (b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), "Das Foto darf höchstens 2 MB groß sein."),
        (b"", "Bitte wählen Sie ein Foto aus."),
    ]
    for data, message in refused:
        r = _upload(client, token, data)
        assert r.status_code == 400, message
        assert message in r.text and 'class="error-summary"' in r.text
    r = client.post("/partner/profil/foto", data={"csrf_token": token})  # no file at all
    assert r.status_code == 400 and "Bitte wählen Sie ein Foto aus." in r.text
    too_big = _upload(client, token, b"0" * (3 * 1024 * 1024))
    assert too_big.status_code == 413
    assert _photo_of(client, email) is None
    assert not (Path(settings.data_dir) / "photos").exists() or \
        not list((Path(settings.data_dir) / "photos").iterdir())


def test_a_new_photo_replaces_the_old_file_and_removing_deletes_it(client, settings):
    email = clerk(client, "olpe", "Anna Beispiel")
    token = sign_in(client, email)
    png = io.BytesIO()
    Image.new("RGBA", (200, 100), (255, 0, 0, 128)).save(png, "PNG")
    assert _upload(client, token, png.getvalue(), "rot.png", "image/png").status_code == 303
    first = _photo_of(client, email)
    assert _upload(client, token, _jpeg_with_metadata((100, 100))).status_code == 303
    second = _photo_of(client, email)
    folder = Path(settings.data_dir) / "photos"
    assert first != second and sorted(p.name for p in folder.iterdir()) == [second]
    r = client.post("/partner/profil/foto", data={"csrf_token": token, "remove": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("saved=removed")
    assert _photo_of(client, email) is None and list(folder.iterdir()) == []
    assert client.get(f"/ansprechperson/foto/{second}").status_code == 404
    assert run(client, services(client).db.scalar,
               sa.select(sa.func.count()).select_from(users).where(users.c.photo.isnot(None))) == 0
