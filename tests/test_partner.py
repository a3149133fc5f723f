"""Partner portal: each organisation sees only its own leads, everywhere, by any route."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

from campaign.core.schema import audit_log, lead_notes, lead_recipients
from campaign.leads import lifecycle, records, retention
from campaign.portal import cases, figures, work
from campaign.portal.cases import Filters, Viewer

from .support.app import count_in, rows_in, run, services, shipped_content
from .support.portal import add_user, csrf, login
from .support.portal_cases import funnel_value, lead, status_of

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
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def only_for(org: str, muni: str | None = None) -> dict[str, Any]:
    """Choices (towns, consents, interests) that route a lead to ``org`` alone."""
    region = shipped_content().region
    kind = region.organisations[org].kind
    if kind == "municipality":
        return {"municipalities": (muni or org,), "consents": ("municipalities",)}
    if kind == "tourism":
        return {"municipalities": (muni or region.organisations[org].covers[0],),
                "consents": ("tourism",)}
    assert kind == "skilled_workers", org
    return {"municipalities": (muni,) if muni else (), "consents": ("skilled_workers",),
            "interests": ("wohnen", "medizin_pflege")}


def lead_only_for(client, org: str, muni: str | None = None, **data: Any) -> int:
    lead_id = lead(client, [org], **{**only_for(org, muni), **data})
    routed = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert [r.org for r in routed] == [org]  # the routing agrees
    return lead_id


def _seed(client) -> dict[str, list[int]]:
    """Organisation number i gets i + 1 leads, so counts tell them apart."""
    ids: dict[str, list[int]] = {}
    for i, (org, muni) in enumerate(ORGS.items()):
        ids[org] = [lead_only_for(client, org, muni, name=f"Familie {org} {n}",
                                  email=f"{org}-{n}@example.org",
                                  attribution={"utm_source": f"quelle-{org}"})
                    for n in range(i + 1)]
    return ids


def test_staff_cannot_list_open_change_export_or_count_other_orgs_leads(client):
    ids = _seed(client)
    emails = {org: add_user(client, org) for org in ORGS}
    for org in ORGS:
        client.cookies.clear()
        assert login(client, emails[org]).status_code == 303
        token = csrf(client)
        own = ids[org]
        page = client.get("/partner/")
        assert page.status_code == 200
        assert f"{len(own)} Interessent" in page.text
        stats = client.get("/partner/statistik").text
        assert funnel_value(stats, "Bestätigt und an Sie weitergeleitet") == len(own)
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
                assert status_of(client, lead_id, other) == "neu"
                r = client.post(f"/partner/lead/{lead_id}/notiz",
                                data={"csrf_token": token, "note": "fremd"})
                assert r.status_code == 404
        for lead_id in own:
            assert client.get(f"/partner/lead/{lead_id}").status_code == 200
    assert count_in(client, lead_notes) == 0
    assert count_in(client, audit_log, audit_log.c.action.in_(("status", "note"))) == 0


def test_every_pair_of_organisations_is_separated_in_the_queries(client):
    region = shipped_content().region
    slugs = [o.slug for o in region.organisations.values() if o.kind != "agency"]
    assert len(slugs) == 59 + 3
    own = {org: lead_only_for(client, org, name=f"L-{org}") for org in slugs}
    shared = lead(client, ["olpe", "sauerland-tourismus"], name="L-shared",
                  municipalities=("olpe",), consents=("municipalities", "tourism"))
    db = services(client).db

    async def check_all() -> int:
        checked = 0
        for a in slugs:
            viewer = Viewer(a, admin=False)
            expected = {own[a]} | ({shared} if a in ("olpe", "sauerland-tourismus") else set())
            listed, total = await cases.list_leads(db, viewer, Filters())
            assert {c.id for c in listed} == expected and total == len(expected), a
            exported = await cases.export_leads(db, viewer, Filters())
            assert {c.id for c in exported} == expected, a
            stats = await figures.stats(db, viewer)
            assert stats.received == len(expected), a
            assert sum(n for _, n in stats.per_month) == len(expected), a
            for b in slugs:
                if b == a:
                    continue
                if b in region.municipalities:
                    found, _ = await cases.list_leads(db, viewer, Filters(municipality=b))
                    assert own[b] not in {c.id for c in found}, (a, b)
                assert await cases.get_lead(db, viewer, own[b], region) is None, (a, b)
                checked += 1
            # writes (a transaction each): every fifth other organisation, naming it
            for b in slugs[::5]:
                if b != a:
                    moved = await work.move(db, viewer, own[b], "zugezogen", NOW, org=b)
                    assert moved.missing, (a, b)
                    assert await cases.add_note(db, viewer, own[b], "x", NOW) is False, (a, b)
        return checked

    assert run(client, check_all) == len(slugs) * (len(slugs) - 1)
    assert count_in(client, lead_recipients, lead_recipients.c.status != "neu") == 0
    assert count_in(client, lead_notes) == 0


def test_a_shared_lead_shows_each_organisation_only_its_own_notes_mails_and_log(client):
    """Two organisations received the same lead: neither sees the other's notes,
    outbox rows, follow-up changes or consent group on the detail page."""
    lead_id = lead(client, ["olpe", "sauerland-tourismus"], municipalities=("olpe",),
                   consents=("municipalities", "tourism"), name="Familie Geteilt")
    staff = {org: add_user(client, org) for org in ("olpe", "sauerland-tourismus")}
    words = {"olpe": ("Rückruf Olpe", "kontaktiert"),
             "sauerland-tourismus": ("Prospekt Sauerland", "termin_vereinbart")}
    for org, (note, status) in words.items():
        client.cookies.clear()
        login(client, staff[org])
        token = csrf(client)
        assert client.post(f"/partner/lead/{lead_id}/notiz",
                           data={"csrf_token": token, "note": note}).status_code == 303
        assert client.post(f"/partner/lead/{lead_id}/status",
                           data={"csrf_token": token, "status": status}).status_code == 303
    db = services(client).db
    region = shipped_content().region
    for org, other in (("olpe", "sauerland-tourismus"), ("sauerland-tourismus", "olpe")):
        case = run(client, cases.get_lead, db, Viewer(org, admin=False), lead_id, region)
        assert [n.body for n in case.notes] == [words[org][0]]
        assert [n.org for n in case.notes] == [org]
        assert {m.org for m in case.outbox} == {org} and case.outbox
        assert [d.org for d in case.recipients] == [org]
        assert case.follow_up == words[org][1]
        assert {a.org for a in case.audit} == {org}
        assert {e.grp for e in case.consent_events} == {case.consent_group}
        client.cookies.clear()
        login(client, staff[org])
        page = client.get(f"/partner/lead/{lead_id}").text
        assert words[org][0] in page and words[other][0] not in page
        own_mails = {m.recipient for m in case.outbox}
        other_case = run(client, cases.get_lead, db, Viewer(other, admin=False), lead_id,
                         region)
        for address in {m.recipient for m in other_case.outbox} - own_mails:
            assert address not in page
    admin = run(client, cases.get_lead, db, Viewer("suedwestfalen-agentur", admin=True),
                lead_id, region)
    assert admin.notes == ()  # notes stay with the organisation that wrote them
    assert {d.org for d in admin.recipients} == {"olpe", "sauerland-tourismus"}


def test_admin_of_the_agency_sees_all_leads(client):
    ids = _seed(client)
    add_user(client, "suedwestfalen-agentur", role="admin")
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
    assert funnel_value(stats, "Olpe") == 1
    assert funnel_value(stats, "Soest") == 6
    export = client.get("/partner/export.csv").content.decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 1 + total
    r = client.post(f"/partner/lead/{some}/status",
                    data={"csrf_token": csrf(client), "status": "kontaktiert", "org": "tvsw"})
    assert r.status_code == 303
    assert status_of(client, some, "tvsw") == "kontaktiert"


def test_staff_of_other_kinds_cannot_open_the_outbox(client):
    add_user(client, "tvsw")
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


def test_html_and_formulas_in_lead_fields_stay_inert(client):
    lead_id = lead(client, ["olpe"], name=HOSTILE["name"], email=HOSTILE["email"],
                   message=HOSTILE["message"], phone=HOSTILE["phone"],
                   attribution={"utm_campaign": HOSTILE["utm_campaign"], "place": "+49"},
                   timeframe="-1", quiz="\tcmd")
    add_user(client, "olpe")
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
    assert cell["Ort-Code"] == "+49"  # like a phone number: no function, no reference
    assert cell["Zeitrahmen"] == "-1"
    assert cell["Quiz"] == "'\tcmd"
    assert not any(v[:1] in ("=", "@", "\t", "\r") for v in row)


def test_withdrawn_erased_anonymised_and_unconfirmed_leads_disappear(client):
    svc = services(client)
    old = lead(client, ["olpe"], name="Familie anonymised",
               created_at=datetime(2023, 6, 1, 9, 0, tzinfo=UTC))
    # the retention job, run when the old lead is long past its 24 months
    assert run(client, retention.purge, svc.db, svc.settings,
               datetime(2026, 10, 5, 8, 0, tzinfo=UTC))["anonymised"] == 1
    visible = lead(client, ["olpe"], name="Familie Sichtbar")
    gone = {status: lead(client, ["olpe"], name=f"Familie {status}", status=status)
            for status in ("withdrawn", "erased", "pending")}
    gone["anonymised"] = old
    for lead_id, status in zip(gone.values(), gone):
        assert run(client, records.by_id, svc.db, lead_id).status == status
    add_user(client, "olpe")
    add_user(client, "suedwestfalen-agentur", role="admin")
    for email in ("staff@olpe.example.org", "admin@suedwestfalen-agentur.example.org"):
        client.cookies.clear()
        login(client, email)
        page = client.get("/partner/").text
        export = client.get("/partner/export.csv").content.decode("utf-8-sig")
        assert "Familie Sichtbar" in page and "Familie Sichtbar" in export
        assert "1 Interessent<" in page
        for status, lead_id in gone.items():
            assert f"Familie {status}" not in page and f"Familie {status}" not in export
            # an ended lead shows only its number and what became of it (the link
            # of the notice mail leads there); one never confirmed does not exist
            ended = client.get(f"/partner/lead/{lead_id}")
            assert ended.status_code == (404 if status == "pending" else 410)
            assert f"Familie {status}" not in ended.text
        stats = client.get("/partner/statistik").text
        assert '<td class="num">1</td>' in stats
        assert funnel_value(stats, "Olpe") == 1
    # a note on a lead goes with the lead's data when the family erases it
    client.cookies.clear()
    login(client, "staff@olpe.example.org")
    client.post(f"/partner/lead/{visible}/notiz", data={"csrf_token": csrf(client),
                                                       "note": "Rückruf am Montag"})
    assert count_in(client, lead_notes) == 1
    public_id = run(client, records.by_id, svc.db, visible).public_id
    assert run(client, lifecycle.erase, svc, public_id)
    assert count_in(client, lead_notes) == 0
    ended = client.get(f"/partner/lead/{visible}")
    assert ended.status_code == 410 and "Rückruf" not in ended.text
    assert "Familie Sichtbar" not in ended.text and "gelöscht" in ended.text
    assert re.search(r"\b0 Interessenten\b", client.get("/partner/").text)
