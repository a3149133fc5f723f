"""Helpers of the page, quiz, language and database tests: reading a page's
language markers, walking a quiz, and empty databases for migration tests."""

from __future__ import annotations

import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from campaign.core.db import Database
from campaign.core.migrate import current

from .app import shipped_content
from .forms import csrf_of


class Head(HTMLParser):
    """The <html lang>, hreflang alternates and language-switch links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.alternates: dict[str, str] = {}
        self.switch: dict[str, str] = {}
        self.current: list[str] = []
        self._in_switch = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "link" and a.get("rel") == "alternate" and a.get("hreflang"):
            self.alternates[a["hreflang"]] = a["href"]
        elif tag == "nav" and "lang-switch" in (a.get("class") or ""):
            self._in_switch = True
        elif tag == "a" and self._in_switch:
            self.switch[a["hreflang"]] = a["href"]
            if a.get("aria-current"):
                self.current.append(a["hreflang"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_switch = False


def head(html: str) -> Head:
    parser = Head()
    parser.feed(html)
    return parser


def prefix(lang: str) -> str:
    """The path prefix of a language: none for German, ``/nl`` for Dutch."""
    return "" if lang == "de" else f"/{lang}"


def quiz_walk(client: TestClient, lang: str, quiz: str = "familie") -> dict[str, str]:
    """Start, answer every question (first option / middle of the scale); the
    paths of the intro, the first question and the outcome."""
    p = prefix(lang)
    pages = {"quiz intro": f"{p}/quiz/{quiz}"}
    intro = client.get(pages["quiz intro"])
    csrf = csrf_of(intro.text)
    r = client.post(f"{p}/quiz/{quiz}", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"{p}/quiz/{quiz}/frage/1"
    pages["quiz question"] = f"{p}/quiz/{quiz}/frage/1"
    for n, q in enumerate(shipped_content().quizzes[quiz].questions, 1):
        value = "3" if q.kind == "scale" else q.options[0].value
        r = client.post(f"{p}/quiz/{quiz}/frage/{n}", data={"csrf_token": csrf, "answer": value})
        assert r.status_code == 303, (lang, n, r.text[:300])
    pages["quiz outcome"] = r.headers["location"]
    assert pages["quiz outcome"] == f"{p}/quiz/{quiz}/ergebnis"
    return pages


# -- databases ---------------------------------------------------------------------------


def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A CAMPAIGN_DATABASE without any table yet (the ``database`` fixture's
    PostgreSQL databases come migrated; migration tests need them bare)."""
    if backend == "sqlite":
        return str(tmp_path / "empty.sqlite3")
    return str(request.getfixturevalue("postgres").new_database(migrated=False))


def _schema(conn: sa.Connection) -> dict[str, Any]:
    inspector = sa.inspect(conn)
    with warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (lower(email)) with a warning
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        return {"revision": current(conn), "tables": _tables(inspector)}


def _tables(inspector: Any) -> dict[str, Any]:
    def names(items: list[dict[str, Any]]) -> list[str]:
        return sorted(str(item.get("name") or item.get("sqltext") or "") for item in items)

    return {table: {
        "columns": [(c["name"], str(c["type"]), c["nullable"])
                    for c in inspector.get_columns(table)],
        "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
        "indexes": names(inspector.get_indexes(table)),
        "unique": names(inspector.get_unique_constraints(table)),
        "checks": names(inspector.get_check_constraints(table)),
        "foreign keys": sorted((fk["constrained_columns"], fk["referred_table"])
                               for fk in inspector.get_foreign_keys(table)),
    } for table in sorted(inspector.get_table_names())}


async def schema_of(db: Database) -> dict[str, Any]:
    """The schema revision, and the tables with their columns, keys, indexes and
    constraints, as the database itself reports them."""
    async with db.reading() as conn:
        return await conn.run_sync(_schema)  # type: ignore[no-any-return]


def sqlite_in_wal_mode(path: Path) -> bool:
    """Read from the file header (bytes 18 and 19 are 2 in WAL mode), without SQL."""
    header = Path(path).read_bytes()[:20]
    return header[18] == 2 and header[19] == 2
