"""Partner portal: each organisation sees only its own leads, everywhere, by any route."""

from __future__ import annotations

import csv
import io
import re

from campaign import partner
from campaign.partner import Filters, Viewer

from .conftest import shipped_content
from .test_partner_support import add_lead, add_user, call, csrf, login, rows

# Six organisations of every kind that can have staff, each with leads that
# chose a municipality no other organisation's leads chose.
ORGS = {
    "olpe": "olpe",
    "winterberg": "winterberg",
    "bad-berleburg": "bad-berleburg",
    "sauerland-tourismus": "schmallenberg",
    "tvsw": "siegen",
    "fachkraefte": "soest",
}


def _seed(client, app) -> dict[str, list[int]]:
    """Organisation number i gets i + 1 leads, so counts tell them apart."""
    ids: dict[str, list[int]] = {}
    for i, (org, muni) in enumerate(ORGS.items()):
        ids[org] = [add_lead(client, app, [org], name=f"Familie {org} {n}",
                             email=f"{org}-{n}@example.org", municipalities=[muni],
                             utm_source=f"quelle-{org}")
                    for n in range(i + 1)]
    return ids


def _status_of(client, app, lead_id: int, org: str) -> str:
    [row] = rows(client, app, "SELECT status FROM lead_recipients WHERE lead_id = ? AND org = ?",
                 (lead_id, org))
    return row["status"]


def _funnel_value(html: str, label: str) -> int:
    match = re.search(rf'<th scope="row">{re.escape(label)}</th><td class="num">(\d+)</td>',
                      html)
    assert match, label
    return int(match.group(1))


def test_staff_cannot_list_open_change_export_or_count_other_orgs_leads(client, app):
    ids = _seed(client, app)
    emails = {org: add_user(client, app, org) for org in ORGS}
    for org in ORGS:
        client.cookies.clear()
        assert login(client, emails[org]).status_code == 303
        token = csrf(client)
        own = ids[org]
        page = client.get("/partner/")
        assert page.status_code == 200
        assert f"{len(own)} Interessent" in page.text
        stats = client.get("/partner/statistik").text
        assert _funnel_value(stats, "Bestätigt und an Sie weitergeleitet") == len(own)
        export = client.get("/partner/export.csv").content.decode("utf-8-sig")
        assert len(export.strip().splitlines()) == 1 + len(own)
        for other, muni in ORGS.items():
            if other == org:
                continue
            assert f"Familie {other}" not in page.text
            assert f"Familie {other}" not in export
            assert f"quelle-{other}" not in stats
            filtered = client.get("/partner/", params={"municipality": muni})
            assert "0 Interessenten" in filtered.text and f"Familie {other}" not in filtered.text
            by_source = client.get("/partner/export.csv", params={"source": f"quelle-{other}"})
            assert by_source.content.decode("utf-8-sig").count("\r\n") == 1  # header only
            for lead_id in ids[other]:
                assert client.get(f"/partner/lead/{lead_id}").status_code == 404
                r = client.post(f"/partner/lead/{lead_id}/status",
                                data={"csrf_token": token, "status": "zugezogen", "org": other})
                assert r.status_code == 404
                assert _status_of(client, app, lead_id, other) == "neu"
                r = client.post(f"/partner/lead/{lead_id}/notiz",
                                data={"csrf_token": token, "note": "fremd"})
                assert r.status_code == 404
        for lead_id in own:
            assert client.get(f"/partner/lead/{lead_id}").status_code == 200
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_notes")[0]["n"] == 0
    assert rows(client, app, "SELECT COUNT(*) AS n FROM audit_log WHERE action IN"
                " ('status', 'note')")[0]["n"] == 0


def test_every_pair_of_organisations_is_separated_in_the_queries(client, app):
    region = shipped_content().region
    slugs = [o.slug for o in region.organisations.values() if o.kind != "agency"]
    assert len(slugs) == 59 + 3
    own = {org: add_lead(client, app, [org], name=f"L-{org}", municipalities=[org]
                         if org in region.municipalities else ["olpe"]) for org in slugs}
    shared = add_lead(client, app, ["olpe", "sauerland-tourismus"], name="L-shared")
    db = app.state.db

    async def check_all() -> int:
        checked = 0
        for a in slugs:
            viewer = Viewer(a, admin=False)
            expected = {own[a]} | ({shared} if a in ("olpe", "sauerland-tourismus") else set())
            listed, total = await partner.list_leads(db, viewer, Filters())
            assert {lead["id"] for lead in listed} == expected and total == len(expected), a
            exported = await partner.export_leads(db, viewer, Filters())
            assert {lead["id"] for lead in exported} == expected, a
            figures = await partner.stats(db, viewer)
            assert figures["received"] == len(expected), a
            assert sum(n for _, n in figures["per_month"]) == len(expected), a
            for b in slugs:
                if b == a:
                    continue
                if b in region.municipalities:
                    found, _ = await partner.list_leads(db, viewer, Filters(municipality=b))
                    assert own[b] not in {lead["id"] for lead in found}, (a, b)
                assert await partner.get_lead(db, viewer, own[b], region) is None, (a, b)
                checked += 1
            # writes (a transaction each): every fifth other organisation, naming it
            for b in slugs[::5]:
                if b != a:
                    assert await partner.set_status(db, viewer, own[b], "zugezogen", org=b) \
                        is None, (a, b)
                    assert await partner.add_note(db, viewer, own[b], "x") is False, (a, b)
        return checked

    assert call(client, check_all) == len(slugs) * (len(slugs) - 1)
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_recipients WHERE status != 'neu'"
                )[0]["n"] == 0
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_notes")[0]["n"] == 0


def test_admin_of_the_agency_sees_all_leads(client, app):
    ids = _seed(client, app)
    add_user(client, app, "suedwestfalen-agentur", role="admin")
    assert login(client, "admin@suedwestfalen-agentur.example.org").status_code == 303
    total = sum(len(v) for v in ids.values())
    page = client.get("/partner/")
    assert f"{total} Interessenten" in page.text
    for org in ORGS:
        assert f"Familie {org} 0" in page.text
    some = ids["tvsw"][0]
    assert client.get(f"/partner/lead/{some}").status_code == 200
    stats = client.get("/partner/statistik").text
    assert "Interesse abgeschickt" in stats and "Zahlen der ganzen Kampagne" in stats
    assert re.search(r'<th scope="row">Olpe</th><td class="num">1</td>', stats)
    assert re.search(r'<th scope="row">Soest</th><td class="num">6</td>', stats)
    export = client.get("/partner/export.csv").content.decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 1 + total
    r = client.post(f"/partner/lead/{some}/status",
                    data={"csrf_token": csrf(client), "status": "kontaktiert", "org": "tvsw"})
    assert r.status_code == 303
    assert rows(client, app, "SELECT status FROM lead_recipients WHERE lead_id = ?",
                (some,))[0]["status"] == "kontaktiert"


def test_staff_of_other_kinds_cannot_open_the_outbox(client, app):
    add_user(client, app, "tvsw")
    login(client, "staff@tvsw.example.org")
    assert client.get("/partner/postausgang").status_code == 403
    r = client.post("/partner/postausgang", data={"csrf_token": csrf(client), "all": "1"})
    assert r.status_code == 403


HOSTILE = {
    "name": '<script>alert("name")</script>',
    "email": 'x" onmouseover="alert(1)@example.org',
    "message": '<a href="javascript:alert(2)">klick</a> =cmd|calc',
    "phone": "=HYPERLINK(\"http://evil.example\")",
    "utm_campaign": "@SUM(A1)",
}


def test_html_and_formulas_in_lead_fields_stay_inert(client, app):
    lead_id = add_lead(client, app, ["olpe"], name=HOSTILE["name"], email=HOSTILE["email"],
                       message=HOSTILE["message"], phone=HOSTILE["phone"],
                       utm_campaign=HOSTILE["utm_campaign"], place_code="+49",
                       timeframe="-1", quiz="\tcmd")
    add_user(client, app, "olpe")
    login(client, "staff@olpe.example.org")
    for html in (client.get("/partner/").text, client.get(f"/partner/lead/{lead_id}").text):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
        assert 'onmouseover="alert' not in html
        assert 'href="javascript:' not in html
    detail = client.get(f"/partner/lead/{lead_id}").text
    assert "x&#34; onmouseover=&#34;alert(1)@example.org" in detail
    assert "&lt;a href=&#34;javascript:alert(2)&#34;&gt;klick&lt;/a&gt;" in detail
    r = client.get("/partner/export.csv")
    body = r.content.decode("utf-8")
    assert body.startswith("\ufeff")
    [header, row] = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    cell = dict(zip(header, row))
    assert cell["Name"] == HOSTILE["name"]  # text, not a formula: stays as typed
    assert cell["Telefon"] == "'" + HOSTILE["phone"]
    assert cell["Kampagne"] == "'@SUM(A1)"
    assert cell["Ort-Code"] == "'+49"
    assert cell["Zeitrahmen"] == "'-1"
    assert cell["Quiz"] == "'\tcmd"
    assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in row)


def test_withdrawn_erased_and_anonymised_leads_disappear(client, app):
    visible = add_lead(client, app, ["olpe"], name="Familie Sichtbar")
    gone = {status: add_lead(client, app, ["olpe"], name=f"Familie {status}", status=status)
            for status in ("withdrawn", "erased", "anonymised", "pending")}
    add_user(client, app, "olpe")
    add_user(client, app, "suedwestfalen-agentur", role="admin")
    for email in ("staff@olpe.example.org", "admin@suedwestfalen-agentur.example.org"):
        client.cookies.clear()
        login(client, email)
        page = client.get("/partner/").text
        export = client.get("/partner/export.csv").content.decode("utf-8-sig")
        assert "Familie Sichtbar" in page and "Familie Sichtbar" in export
        assert "1 Interessent<" in page
        for status, lead_id in gone.items():
            assert f"Familie {status}" not in page and f"Familie {status}" not in export
            assert client.get(f"/partner/lead/{lead_id}").status_code == 404
        stats = client.get("/partner/statistik").text
        assert '<td class="num">1</td>' in stats
    # a note on a lead goes with the lead's data when the family erases it
    client.cookies.clear()
    login(client, "staff@olpe.example.org")
    client.post(f"/partner/lead/{visible}/notiz", data={"csrf_token": csrf(client),
                                                       "note": "Rückruf am Montag"})
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_notes")[0]["n"] == 1
    from .test_partner_support import sql

    sql(client, app, "UPDATE leads SET status = 'erased', name = NULL, email = NULL WHERE id = ?",
        (visible,))
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_notes")[0]["n"] == 0
    assert client.get(f"/partner/lead/{visible}").status_code == 404
    assert "0 Interessenten" in client.get("/partner/").text
