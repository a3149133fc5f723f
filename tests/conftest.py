"""Shared fixtures: a real SQLite file or a real PostgreSQL database per test, a real
SMTP server on loopback. Every test that uses ``settings`` runs on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import shipped_content
from .support.postgres import PostgresCluster
from .support.smtp import SMTPCatcher

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL server for the whole test session."""
    try:
        cluster = PostgresCluster()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The CAMPAIGN_DATABASE of this test: a new SQLite file, or a new PostgreSQL
    database with the migrations applied."""
    if backend == "sqlite":
        return str(tmp_path / "campaign.sqlite3")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return Settings(
        database=database,
        files_dir=tmp_path,
        secret_key="test-secret-key-" + "x" * 32,
        mail_dir=tmp_path / "mail",
        base_url="http://testserver",
        background=False,
        min_fill_seconds=0.0,
    )


@pytest.fixture
def app(settings: Settings):
    return create_app(settings, content=shipped_content())


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def smtp() -> Iterator[SMTPCatcher]:
    catcher = SMTPCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp: SMTPCatcher) -> Settings:
    """The test settings, sending through the loopback SMTP server."""
    return settings.with_(smtp_url=smtp.url)


@pytest.fixture
def mail_client(smtp_settings: Settings) -> Iterator[TestClient]:
    """A client of an app whose outbox delivers to the ``smtp`` fixture."""
    app = create_app(smtp_settings, content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c
