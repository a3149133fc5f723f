"""Portal pages: filters and paging, CSV format, figures as SVG plus tables, the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from campaign import cli
from campaign.core.db import Database
from campaign.core.schema import audit_log, leads, users
from campaign.portal import accounts, charts
from campaign.portal.cases import parse_filters
from campaign.portal.export import neutralise, to_csv
from campaign.reach import funnel

from .support.app import count_in, rows_in, run, services, shipped_content
from .support.portal import add_user, csrf, login
from .support.portal_cases import funnel_value, lead, status_of

ROOT = Path(__file__).resolve().parent.parent


def test_filters_are_whitelisted():
    munis = shipped_content().region.municipalities
    f, errors = parse_filters({"status": "kontaktiert", "municipality": "olpe",
                               "date_from": "2026-01-01", "interest": "natur",
                               "source": "instagram", "page": "3"}, munis)
    assert errors == {} and f.municipality == "olpe" and f.page == 3
    f, errors = parse_filters({"status": "' OR 1=1 --", "municipality": "atlantis",
                               "date_to": "2026-02-30", "interest": "geld",
                               "source": "x'; DROP TABLE leads;--", "page": "-1"}, munis)
    assert set(errors) == {"status", "municipality", "date_to", "interest", "source"}
    assert f.status == f.municipality == f.date_to == f.interest == f.source == ""
    assert f.page == 1


def test_list_filters_paging_and_bad_filter_values(client):
    for n in range(30):
        lead(client, ["olpe"], name=f"Familie Nr{n:02d}",
             created_at=datetime(2026, 9 + n % 3, 1 + n % 28, 10, 0, tzinfo=UTC),
             interests=("natur",) if n % 2 else ("wohnen",),
             municipalities=("olpe", "wenden") if n % 5 == 0 else ("olpe",))
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    first = client.get("/partner/")
    assert "30 Interessenten" in first.text and "Seite 1 von 2" in first.text
    assert first.text.count('<th scope="row"><a href="/partner/lead/') == 25
    second = client.get("/partner/", params={"page": "2"})
    assert second.text.count('<th scope="row"><a href="/partner/lead/') == 5
    assert 'rel="prev"' in second.text
    assert "15 Interessenten" in client.get("/partner/", params={"interest": "natur"}).text
    assert "6 Interessenten" in client.get("/partner/", params={"municipality": "wenden"}).text
    october = client.get("/partner/", params={"date_from": "2026-10-01",
                                              "date_to": "2026-10-31"})
    assert "10 Interessenten" in october.text
    bad = client.get("/partner/", params={"status": "' OR 1=1 --", "municipality": "wenden"})
    assert bad.status_code == 400
    assert 'class="error-summary"' in bad.text and 'href="#status"' in bad.text
    assert "6 Interessenten" in bad.text  # the valid filter still applies
    assert count_in(client, leads) == 30
    assert client.get("/partner/export.csv", params={"status": "kaputt"}).status_code == 400


def test_days_and_times_are_those_of_the_region(client):
    """Stored in UTC, shown, filtered, exported and counted by the day in Berlin."""
    late = lead(client, ["olpe"], name="Familie Spät",  # 1 November, 00:30 in Berlin
                created_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC), acknowledged=True)
    summer = lead(client, ["olpe"], name="Familie Sommer",  # 1 July, 01:15 in Berlin
                  created_at=datetime(2026, 6, 30, 23, 15, tzinfo=UTC))
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    detail = client.get(f"/partner/lead/{late}").text
    assert "01.11.2026, 00:30" in detail and "31.10.2026" not in detail
    assert "UTC" not in detail
    assert "01.07.2026, 01:15" in client.get(f"/partner/lead/{summer}").text
    listing = client.get("/partner/").text
    assert "01.11.2026" in listing and "01.07.2026" in listing
    november = client.get("/partner/", params={"date_from": "2026-11-01",
                                               "date_to": "2026-11-01"}).text
    assert "Familie Spät" in november and "1 Interessent<" in november
    october = client.get("/partner/", params={"date_to": "2026-10-31"}).text
    assert "Familie Spät" not in october and "Familie Sommer" in october
    export = client.get("/partner/export.csv").content.decode("utf-8-sig")
    rows = {r["Name"]: r for r in csv.DictReader(io.StringIO(export), delimiter=";")}
    assert rows["Familie Spät"]["Eingang"] == "2026-11-01"
    assert rows["Familie Spät"]["Quittiert"] == "2026-11-01"
    assert rows["Familie Sommer"]["Eingang"] == "2026-07-01"
    stats = client.get("/partner/statistik").text
    assert funnel_value(stats, "2026-11") == 1 and funnel_value(stats, "2026-07") == 1
    assert "2026-10" not in stats and "2026-06" not in stats


def test_csv_export_is_excel_friendly(client):
    lead(client, ["olpe"], name="Jörg Größe", created_at=datetime(2026, 11, 2, 8, 30, tzinfo=UTC),
         interests=("natur", "wohnen"), acknowledged=True)  # listed in the form's order
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    r = client.get("/partner/export.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert re.match(r'attachment; filename="interessenten-olpe-\d{4}-\d\d-\d\d\.csv"',
                    r.headers["content-disposition"])
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8")[1:]
    header, row = list(csv.reader(io.StringIO(text), delimiter=";"))
    cell = dict(zip(header, row))
    assert cell["Name"] == "Jörg Größe"
    assert cell["Eingang"] == "2026-11-02" and cell["Quittiert"] == "2026-11-02"
    assert cell["Interessen"] == "Wohnen, Natur"  # German words, not the stored codes
    assert "\r\n" in text
    [entry] = rows_in(client, audit_log, audit_log.c.action == "export")
    assert entry.detail.startswith("1 rows")


def test_neutralise_and_to_csv():
    for value in ("=1+1", "@A1", "\tx", "\rx", "\nx", "+1+cmd|' /C calc'!A0", "-A1",
                  "+SUM(1)", "-2+3+cmd|x", "=HYPERLINK(\"http://x\")", "+49 271 =1"):
        assert neutralise(value) == "'" + value, value
    for phone in ("+49 271 12345", "+49 (0)271 / 12345-67", "-1", "+1", "0271 12345",
                  "+31.20.1234567", "-"):
        assert neutralise(phone) == phone, phone  # phone numbers as written
    assert neutralise("Olpe") == "Olpe" and neutralise(None) == "" and neutralise(3) == "3"
    out = to_csv(["a", "b"], [["x;y", 'sagt "hallo"']])
    assert out == '\ufeffa;b\r\n"x;y";"sagt ""hallo"""\r\n'


def test_charts_are_accessible_svg_without_scripts_or_styles():
    bar = str(charts.bar_chart("c1", [("<b>Olpe</b>", 3), ("Wenden", 0)], "Titel & mehr",
                               "Beschreibung"))
    assert bar.startswith('<svg class="chart" id="c1" role="img"')
    assert 'aria-labelledby="c1-title c1-desc"' in bar
    assert '<title id="c1-title">Titel &amp; mehr</title>' in bar
    assert "&lt;b&gt;Olpe&lt;/b&gt;" in bar and "<b>" not in bar
    assert bar.count('<rect class="chart-bar"') == 2
    line = str(charts.line_chart("c2", [("2026-09", 1), ("2026-10", 4)], "T", "D"))
    assert "<polyline" in line and line.count("<circle") == 2
    empty = str(charts.line_chart("c3", [], "T", "D"))
    assert "<polyline" not in empty and empty.endswith("</svg>")
    for svg in (bar, line, empty):
        assert "style" not in svg and "<script" not in svg and " on" not in svg


def test_figures_page_shows_charts_and_tables_scoped_to_the_org(client):
    db = services(client).db

    async def count_steps() -> None:
        async with db.transaction() as conn:
            for step, n in (("started", 9), ("finished", 6), ("lead_submitted", 4)):
                for _ in range(n):
                    await funnel.count(conn, "familie", step)

    run(client, count_steps)
    lead(client, ["olpe"], created_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
         attribution={"utm_source": "plakat", "place": "bahnhof-olpe"}, acknowledged=True)
    moved = lead(client, ["olpe"], created_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                 follow_up="zugezogen", municipalities=("olpe", "wenden"))
    lead(client, ["wenden"], created_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    assert status_of(client, moved, "wenden") == "neu"  # the move counts for Olpe only
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    html = client.get("/partner/statistik").text
    assert html.count('role="img"') == 8 and html.count("<desc id=") == 8  # 4 + outcomes
    assert "<script" not in html and "style=" not in html and "<style" not in html

    def value(label: str) -> int:
        return funnel_value(html, label)

    assert value("Quiz begonnen") == 9 and value("Quiz abgeschlossen") == 6
    assert value("Bestätigt und an Sie weitergeleitet") == 2
    assert value("Empfang quittiert") == 1 and value("Zugezogen") == 1
    assert value("Olpe") == 2 and value("Wenden") == 1  # the Wenden-only lead is not Olpe's
    assert value("2026-09") == 1 and value("2026-10") == 1
    assert "bahnhof-olpe" in html and "Interesse abgeschickt" not in html
    assert html.count("<caption") >= 5


def test_create_user_command(settings, monkeypatch, capsys):
    monkeypatch.setenv("CAMPAIGN_DATABASE", str(settings.database))
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", settings.secret_key)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: generate
    assert cli.main(["create-user", "--org", "atlantis", "--email", "a@example.org"]) == 2
    assert "unknown organisation 'atlantis'" in capsys.readouterr().err
    assert cli.main(["create-user", "--org", "olpe", "--email", "a@example.org",
                     "--name", "x" * 81]) == 2
    assert "--name: Der Name darf höchstens 80 Zeichen lang sein." in capsys.readouterr().err
    assert cli.main(["create-user", "--org", "olpe", "--email", "Anna@Olpe.example.org",
                     "--name", "  Anna   Beispiel "]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password: (\S+)", out).group(1)
    assert len(password) >= 12 and "anna@olpe.example.org" in out
    assert cli.main(["create-user", "--org", "olpe", "--email", "anna@olpe.example.org"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["create-user", "--org", "suedwestfalen-agentur", "--email",
                     "chef@example.org", "--role", "admin"]) == 0
    # an organisation's admin (assigns its leads to colleagues; sees only its own leads)
    assert cli.main(["create-user", "--org", "olpe", "--email", "leitung@olpe.example.org",
                     "--role", "admin"]) == 0

    async def check() -> tuple[object, object]:
        async with Database(settings.database) as db:
            ok = await accounts.attempt_login(db, "anna@olpe.example.org", password, "cli",
                                              datetime.now(UTC))
            found = await db.all(sa.select(users.c.email, users.c.org, users.c.role,
                                           users.c.display_name).order_by(users.c.id))
            return ok.user, [tuple(u) for u in found]

    user, found = asyncio.run(check())
    assert user is not None
    assert found == [("anna@olpe.example.org", "olpe", "staff", "Anna Beispiel"),
                     ("chef@example.org", "suedwestfalen-agentur", "admin", None),
                     ("leitung@olpe.example.org", "olpe", "admin", None)]


@pytest.mark.parametrize("org, expected", [("olpe", 1), ("suedwestfalen-agentur", 2)])
def test_export_leads_command(client, settings, tmp_path, org, expected):
    lead(client, ["olpe"], name="=F0", created_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    lead(client, ["wenden"], name="=F1", created_at=datetime(2026, 10, 2, 10, 0, tzinfo=UTC))
    out = tmp_path / "leads.csv"
    env = {"CAMPAIGN_DATABASE": str(settings.database), "CAMPAIGN_SECRET_KEY": "k" * 40,
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "campaign", "export-leads", "--org", org,
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").strip().split("\r\n")
    name = lines[0].split(";").index("Name")
    assert len(lines) == 1 + expected and lines[1].split(";")[name] == "'=F0"


def test_odd_ids_and_parameters_never_break_a_page(client):
    lead_id = lead(client, ["olpe"])
    add_user(client, "suedwestfalen-agentur", role="admin")
    login(client, "admin@suedwestfalen-agentur.example.org")
    token = csrf(client)
    huge = "9" * 30
    assert client.get(f"/partner/lead/{huge}").status_code == 404
    assert client.get("/partner/lead/0").status_code == 404
    r = client.post(f"/partner/lead/{huge}/status", data={"csrf_token": token,
                                                          "status": "kontaktiert"})
    assert r.status_code == 404
    r = client.post(f"/partner/lead/{huge}/notiz", data={"csrf_token": token, "note": "x"})
    assert r.status_code == 404
    for page in ("²", "0", "-3", huge, "1e3"):
        r = client.get("/partner/", params={"page": page})
        assert r.status_code == 200 and "1 Interessent<" in r.text, page
    for value in ("²", huge, "abc"):
        r = client.post("/partner/postausgang", data={"csrf_token": token, "outbox_id": value})
        assert r.status_code in (303, 400), value
    assert client.get("/partner/postausgang", params={"requeued": "²"}).status_code == 200
    assert client.get(f"/partner/lead/{lead_id}").status_code == 200
    assert status_of(client, lead_id, "olpe") == "neu"
