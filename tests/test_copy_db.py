"""``copy-db``: a campaign that started on the SQLite file moves to PostgreSQL with
its leads, consent events, outbox, accounts and figures, and the portal shows the
same afterwards. (The source is SQLite and the target PostgreSQL by nature of the
command, so these tests do not run once per backend.)"""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from campaign.cli import main
from campaign.core.schema import consent_events, outbox
from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import count_in, run, services, shipped_content
from .support.forms import csrf_of
from .support.leads import add_lead
from .support.portal import PASSWORD, add_user, login


def _settings(database: str, folder: Path) -> Settings:
    return Settings(database=database, secret_key="copy-test-secret-" + "c" * 32,
                    mail_dir=folder / "mail", base_url="http://testserver", background=False,
                    min_fill_seconds=0.0)


def _portal_view(client: TestClient, email: str) -> tuple[str, str]:
    """The leads list and the figures page as the account sees them."""
    assert login(client, email).status_code == 303
    leads = client.get("/partner/").text
    stats = client.get("/partner/statistik").text
    return leads, stats


def test_copy_db_moves_a_populated_sqlite_database_to_postgresql(tmp_path, postgres,
                                                                 monkeypatch):
    source = _settings(str(tmp_path / "campaign.sqlite3"), tmp_path)
    with TestClient(create_app(source, content=shipped_content()),
                    follow_redirects=False) as client:
        svc = services(client)
        for i in range(3):
            run(client, add_lead, svc, ("olpe", "sauerland-tourismus"),
                name=f"Familie Kopie {i}", email=f"kopie{i}@example.org")
        run(client, add_lead, svc, ("siegen",), follow_up="kontaktiert")
        email = add_user(client, "olpe")
        admin = add_user(client, "suedwestfalen-agentur", role="admin")
        before = {who: _portal_view(client, who) for who in (email, admin)}
        events = count_in(client, consent_events)
        mails = count_in(client, outbox)
    assert events and mails

    target = postgres.new_database(migrated=False)
    monkeypatch.setenv("CAMPAIGN_DATABASE", source.database)
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", source.secret_key)
    assert main(["copy-db", "--to", target]) == 0

    with TestClient(create_app(_settings(target, tmp_path), content=shipped_content()),
                    follow_redirects=False) as client:
        assert count_in(client, consent_events) == events
        assert count_in(client, outbox) == mails
        after = {who: _portal_view(client, who) for who in (email, admin)}
        for who in (email, admin):
            for page_before, page_after in zip(before[who], after[who]):
                assert _without_tokens(page_before) == _without_tokens(page_after)
        assert "Familie Kopie 2" in after[email][0]
        # new rows get new ids after the copied ones
        run(client, add_lead, services(client), ("olpe",), name="Familie Neu")
        assert login(client, email).status_code == 303
        assert "Familie Neu" in client.get("/partner/").text
        # the accounts came along, with their passwords
        assert login(client, admin, PASSWORD).status_code == 303


def _without_tokens(html: str) -> str:
    token = csrf_of(html) if 'name="csrf_token"' in html else None
    return html.replace(token, "") if token else html


def test_copy_db_refuses_a_target_that_is_not_empty(tmp_path, postgres, monkeypatch, capsys):
    source = _settings(str(tmp_path / "campaign.sqlite3"), tmp_path)
    with TestClient(create_app(source, content=shipped_content()),
                    follow_redirects=False) as client:
        run(client, add_lead, services(client), ("olpe",))
    target = postgres.new_database(migrated=False)
    monkeypatch.setenv("CAMPAIGN_DATABASE", source.database)
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", source.secret_key)
    assert main(["copy-db", "--to", target]) == 0
    capsys.readouterr()
    assert main(["copy-db", "--to", target]) == 1
    assert "not empty" in capsys.readouterr().err
