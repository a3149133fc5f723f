"""Everything the service creates in its data folder is for its own user only:
files 0600, folders 0700, whatever the umask of the process (the database, its
WAL and shared memory, the secret key, the mail folder and its mails, share images)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import deliver, services, shipped_content
from .support.files import mails_in, modes_under
from .support.forms import click, link_in, submit


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_every_file_and_folder_the_service_creates_is_private(tmp_path, backend, database,
                                                              umask):
    top = tmp_path / "srv"
    data = top / "campaign"  # neither folder exists yet: the service makes both
    env = {"CAMPAIGN_DATA_DIR": str(data)}
    env["CAMPAIGN_DATABASE"] = str(data / "campaign.sqlite3") if backend == "sqlite" \
        else database
    settings = Settings.from_env(env).with_(background=False, min_fill_seconds=0.0,
                                            base_url="http://testserver")
    with TestClient(create_app(settings, content=shipped_content()),
                    follow_redirects=False) as client:
        assert submit(client).status_code == 303
        deliver(client)
        [mail] = mails_in(settings.mail_dir)
        assert click(client, link_in(mail, "bestaetigen")).status_code == 200
        deliver(client)
        assert client.get("/teilen/bild/kampagne.png").status_code == 200
        assert services(client).settings.secret_key == (data / "secret_key").read_text()
        modes = modes_under(top)

    expected = {".", "campaign", "campaign/secret_key", "campaign/mail", "campaign/share-cache"}
    if backend == "sqlite":
        expected |= {f"campaign/campaign.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")}
    assert expected <= set(modes), sorted(modes)
    assert len([n for n in modes if n.endswith(".eml")]) >= 3
    assert any(n.endswith(".png") for n in modes)
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (top / name).is_dir() else 0o600)}
    assert wrong == {}
