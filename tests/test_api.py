"""The JSON API per organisation: a token sees the leads the portal lists for its
organisation and nothing else; errors are JSON; only the token counts."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from campaign.cli import main as cli_main
from campaign.core.schema import api_tokens, lead_recipients
from campaign.leads import lifecycle
from campaign.portal import api, cases, export

from .support.api import all_pages, bearer, token_for
from .support.app import rows_in, run, services
from .support.leads import add_lead
from .support.portal import add_user, login


def _numbers(client, org: str) -> set[str]:
    """Lead numbers routed to ``org``, read from the database directly."""
    svc = services(client)
    viewer = cases.Viewer(org, admin=False)
    found = run(client, cases.export_leads, svc.db, viewer, cases.Filters())
    return {c.number for c in found}


def test_a_token_never_returns_another_organisations_lead(client):
    """Every pair of organisations of the shipped content: a lead made for one is
    listed and fetched with a token of another only when it was routed there too."""
    svc = services(client)
    orgs = sorted(svc.content.region.organisations)
    made = {org: run(client, add_lead, svc, [org]) for org in orgs}
    everyone = cases.Viewer("suedwestfalen-agentur", admin=True)
    number = {c.id: c.number for c in run(client, cases.export_leads, svc.db, everyone,
                                          cases.Filters())}
    routed: dict[int, set[str]] = {}
    for r in rows_in(client, lead_recipients):
        routed.setdefault(r.lead_id, set()).add(r.org)
    tokens = {org: token_for(client, org) for org in orgs}
    for a in orgs:
        listed = {item["id"] for item in all_pages(client, tokens[a])}
        assert listed == {number[i] for i, to in routed.items() if a in to}
        assert listed == _numbers(client, a)  # what the portal lists for a
        for b in orgs:
            if b != a:
                answer = client.get(f"/api/v1/leads/{number[made[b]]}",
                                    headers=bearer(tokens[a]))
                assert answer.status_code == (200 if a in routed[made[b]] else 404), (a, b)


def test_without_a_valid_token_the_answer_is_401_naming_bearer(client):
    token = token_for(client, "olpe")
    run(client, add_lead, services(client), ["olpe"])
    add_user(client, "olpe", role="admin")
    login(client, "admin@olpe.example.org")
    assert client.get("/partner/").status_code == 200  # the session works for the portal …
    for headers in ({}, {"Authorization": "Bearer cmp_wrong"}, {"Authorization": token},
                    {"Authorization": f"Basic {token}"}):
        answer = client.get("/api/v1/leads", headers=headers)  # … but not for the API
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"] == "unauthorized"
        assert "set-cookie" not in answer.headers
    ok = client.get("/api/v1/leads", headers=bearer(token))
    assert ok.status_code == 200 and len(ok.json()["data"]) == 1
    assert "set-cookie" not in ok.headers
    (row,) = rows_in(client, api_tokens)
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_a_revoked_token_gets_401(client):
    token = token_for(client, "olpe")
    svc = services(client)
    (row,) = rows_in(client, api_tokens)
    assert client.get("/api/v1/leads", headers=bearer(token)).status_code == 200
    assert run(client, api.revoke, svc.db, "olpe", row.id, svc.clock.now())
    assert client.get("/api/v1/leads", headers=bearer(token)).status_code == 401


def test_pages_follow_the_cursor_and_since_filters_by_routing_time(client):
    svc = services(client)
    early = [run(client, add_lead, svc, ["olpe"], created_at=datetime(2026, 3, d, 9, tzinfo=UTC))
             for d in (1, 2)]
    late = run(client, add_lead, svc, ["olpe"], created_at=datetime(2026, 6, 1, 9, tzinfo=UTC))
    token = token_for(client, "olpe")
    first = client.get("/api/v1/leads?limit=2", headers=bearer(token)).json()
    assert [i["id"] for i in first["data"]] == [f"L-2026-{i:04d}" for i in early]
    assert first["next_cursor"] == str(early[-1])
    second = client.get(f"/api/v1/leads?limit=2&cursor={first['next_cursor']}",
                        headers=bearer(token)).json()
    assert [i["id"] for i in second["data"]] == [f"L-2026-{late:04d}"]
    assert second["next_cursor"] is None
    since = client.get("/api/v1/leads", params={"since": "2026-05-31T23:00:00+02:00"},
                       headers=bearer(token)).json()
    assert [i["id"] for i in since["data"]] == [f"L-2026-{late:04d}"]
    naive = all_pages(client, token, since="2026-03-02")  # Berlin time, whole day
    assert [i["id"] for i in naive] == [f"L-2026-{i:04d}" for i in (early[1], late)]


def test_bad_parameters_get_a_400_in_json(client):
    token = token_for(client, "olpe")
    for query in ("since=gestern", "since=2026-13-01", "since=2026-01-01T25:00:00",
                  "limit=0", "limit=101", "limit=x", "cursor=-1", "cursor=abc", "page=2"):
        answer = client.get(f"/api/v1/leads?{query}", headers=bearer(token))
        assert answer.status_code == 400, query
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["error"].startswith("bad_")
    for number in ("L-2026-0", "L-1999-0001", "42", "L-2026-99999999999", "%00"):
        answer = client.get(f"/api/v1/leads/{number}", headers=bearer(token))
        assert answer.status_code == 404, number
        assert answer.json()["error"] == "not_found"


def test_values_are_the_csv_exports_german_words_and_erased_leads_never_appear(client):
    svc = services(client)
    kept = run(client, add_lead, svc, ["olpe"], follow_up="kontaktiert")
    gone = run(client, add_lead, svc, ["olpe"])
    token = token_for(client, "olpe")
    viewer = cases.Viewer("olpe", admin=False)
    (case,) = [c for c in run(client, cases.export_leads, svc.db, viewer, cases.Filters())
               if c.id == kept]
    (csv_row,) = export.lead_rows([case], svc.content)
    (item,) = [i for i in all_pages(client, token) if i["id"] == case.number]
    assert item["stage"] == csv_row[api.FIELDS.index("stage")] == "kontaktiert"
    assert item["municipalities"] == "Olpe"
    assert item["name"] == "Familie Muster" and item["adults"] == 2
    assert [item[k] if item[k] is not None else "" for k in api.FIELDS] == [
        "" if v is None else v for v in csv_row]
    (lead,) = [c for c in run(client, cases.export_leads, svc.db, viewer, cases.Filters())
               if c.id == gone]
    assert client.get(f"/api/v1/leads/{lead.number}", headers=bearer(token)).status_code == 200
    assert run(client, lifecycle.erase, svc, lead.public_id)
    assert client.get(f"/api/v1/leads/{lead.number}", headers=bearer(token)).status_code == 404
    assert lead.number not in {i["id"] for i in all_pages(client, token)}


def test_create_api_token_prints_a_working_token_once(client, settings, monkeypatch, capsys):
    monkeypatch.setenv("CAMPAIGN_DATABASE", str(settings.database))
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", settings.secret_key)
    assert cli_main(["create-api-token", "--org", "nosuchorg"]) == 2
    assert cli_main(["create-api-token", "--org", "olpe", "--name", "CRM"]) == 0
    token = capsys.readouterr().out.split()[-1]
    assert token.startswith("cmp_")
    run(client, add_lead, services(client), ["olpe"])
    assert len(client.get("/api/v1/leads", headers=bearer(token)).json()["data"]) == 1
    (row,) = rows_in(client, api_tokens, api_tokens.c.name == "CRM")
    assert row.org == "olpe" and row.token_hash != token
    assert run(client, _count_tokens, services(client).db) == 1


async def _count_tokens(db) -> int:
    return int(await db.scalar(sa.select(sa.func.count()).select_from(api_tokens)))
