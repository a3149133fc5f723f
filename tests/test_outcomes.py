"""Figures that show what works: time to first contact, share within target, the
stage funnel down to "zugezogen" and "nach 12 Monaten noch hier", moves per channel
and QR place; fewer than five leads are shown only to the organisation itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from campaign.portal import cases, work
from campaign.portal.outcomes import MIN_LEADS, Work, figure, funnel, reached

from .support.app import run, services
from .support.casework import clerk, sign_in
from .support.leads import add_lead
from .support.portal import AGENCY, add_user

MONDAY = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def table(page: str, table_id: str) -> list[list[str]]:
    """The rows of the table ``table_id`` as lists of cell texts."""
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def moved_lead(client, stages: list[str], *, org: str = "olpe", source: str = "instagram",
               place: str | None = None, after: timedelta = timedelta(hours=3)) -> int:
    """A lead routed on MONDAY, moved through ``stages`` by the portal's own function."""
    svc = services(client)
    attribution = {"utm_source": source, "utm_medium": "social", "utm_campaign": "sommer"}
    if place:
        attribution["place"] = place
    lead_id = run(client, add_lead, svc, (org,), created_at=MONDAY, attribution=attribution)
    viewer = cases.Viewer(org, admin=False)
    for i, stage in enumerate(stages):
        done = run(client, work.move, svc.db, viewer, lead_id, stage, MONDAY + after + i * after,
                   reason="anderes")
        assert done.done, done
    return lead_id


def test_pure_rules():
    assert reached("geschlossen", ["kontaktiert", "vor_ort", "geschlossen"]) == 3
    assert reached("neu", []) == 0
    rows = [Work(i, "olpe", MONDAY, MONDAY + timedelta(days=2),
                 MONDAY + timedelta(hours=i), 5 if i == 1 else 1, "x", "") for i in (1, 2, 3)]
    assert not figure(rows, MONDAY, own=False).shown
    own = figure(rows, MONDAY, own=True)
    assert own.shown and own.median_hours == 2 and own.moved == 1 and own.share == 100
    assert figure(rows * 2, MONDAY, own=False).n == 3  # leads, not rows
    assert MIN_LEADS == 5
    counts = dict(funnel(rows, own=False))
    assert counts["neu"] is None and counts["zugezogen"] is None and counts["geblieben"] == 0


def test_an_organisation_sees_its_own_small_figures(client):
    moved_lead(client, ["kontaktiert", "zugezogen"])
    moved_lead(client, ["kontaktiert", "zugezogen", "geblieben"], place="flyer1")
    moved_lead(client, ["kontaktiert", "geschlossen"], source="zeitung",
               after=timedelta(days=4))  # contacted after its target
    moved_lead(client, [], source="zeitung")
    services(client).clock.stop(MONDAY + timedelta(days=10))
    sign_in(client, clerk(client, "olpe"))
    page = client.get("/partner/statistik")
    assert page.status_code == 200
    text = page.text
    stages = dict((r[0], r[1]) for r in table(text, "stage-funnel")[1:])
    assert stages["neu"] == "4" and stages["kontaktiert"] == "3"
    assert stages["zugezogen"] == "2" and stages["nach 12 Monaten noch hier"] == "1"
    channels = {r[0]: r[1:] for r in table(text, "moved-channels")[1:]}
    assert channels == {"instagram": ["2", "2"], "zeitung": ["2", "0"]}
    places = {r[0]: r[1:] for r in table(text, "moved-places")[1:]}
    assert places["flyer1"] == ["1", "1"]
    assert "3 Std." in text  # median of 3 h, 3 h and 4 days
    assert "50 % (2 von 4)" in text  # one late, and the uncontacted lead is past its target
    assert 'id="chart-stages"' in text and "<svg" in text
    assert "weniger als 5" not in text


def test_the_agency_sees_small_organisations_as_fewer_than_five(client):
    for _ in range(MIN_LEADS):
        moved_lead(client, ["kontaktiert", "zugezogen"], org="olpe")
    moved_lead(client, ["kontaktiert", "zugezogen"], org="attendorn", source="zeitung")
    services(client).clock.stop(MONDAY + timedelta(days=10))
    add_user(client, AGENCY, role="admin")
    sign_in(client, f"admin@{AGENCY}.example.org")
    text = client.get("/partner/statistik").text
    by_org = {r[0]: r[1:] for r in table(text, "outcomes-orgs") if len(r) == 5}
    olpe = next(v for k, v in by_org.items() if "Olpe" in k)
    attendorn = next(v for k, v in by_org.items() if "Attendorn" in k)
    assert olpe[0] == "5" and olpe[3] == "5"
    assert attendorn == ["weniger als 5"] * 4
    channels = {r[0]: r[1:] for r in table(text, "moved-channels")[1:]}
    assert channels["instagram"] == ["5", "5"]
    assert channels["zeitung"] == ["weniger als 5", "weniger als 5"]
