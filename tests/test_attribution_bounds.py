"""Made-up campaign parameters: values are bounded, stored rows stop growing, and the
figures pages fold rare channels into one "Sonstige" row, however many there are."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaign.core.clock import local_today
from campaign.core.schema import channel_visits, funnel_counts, lead_recipients, leads
from campaign.reach import channels, funnel
from campaign.reach.attribution import campaign_slug, clean_attribution

from .support.app import rows_in, run, services
from .support.portal import add_user, login
from .support.portal_cases import walk_quiz

MADE_UP = 5000
FIGURES_PAGE_LIMIT = 60_000  # bytes


@pytest.mark.parametrize("raw, expected", [
    ("Facebook", "facebook"),
    (" newsletter-2026_07.a ", "newsletter-2026_07.a"),
    ("x" * 40, "x" * 40),
    ("x" * 41, "other"),  # too long
    ("Sommer 2026", "other"),  # a space
    ("<script>alert(1)</script>", "other"),
    ("münster", "other"),
    ("other", "other"),
    ("   ", None),  # empty: dropped
])
def test_values_outside_the_bounds_become_other(raw, expected):
    cleaned = clean_attribution({"utm_source": raw, "utm_medium": raw, "utm_campaign": raw})
    if expected is None:
        assert cleaned == {}
    else:
        assert cleaned == dict.fromkeys(("utm_source", "utm_medium", "utm_campaign"), expected)


def test_a_place_code_outside_the_bounds_is_dropped():
    assert clean_attribution({"place": "abc234"}) == {"place": "abc234"}
    assert clean_attribution({"place": "Ab C"}) == {}
    assert clean_attribution({"place": "p" * 41}) == {}
    assert campaign_slug("Sommer 2026!") == "sommer-2026"  # typed by staff in the portal
    assert len(campaign_slug("Ein sehr langer Kampagnenname " * 4)) <= 40


def test_made_up_values_do_not_grow_the_stored_rows(client, monkeypatch):
    db = services(client).db
    for n in range(30):  # invalid values through real entry visits: one row
        assert client.get(f"/?utm_source=spam%20{n}%21&utm_medium=Social").status_code == 200
    [row] = rows_in(client, channel_visits)
    assert (row.utm_source, row.utm_medium, row.utm_campaign, row.count) == (
        "other", "social", "", 30)
    # valid but made-up values: a day has rows for at most so many channels
    monkeypatch.setattr(funnel, "MAX_CHANNELS_PER_DAY", 5)
    for n in range(40):
        run(client, channels.count_visit, db, {"utm_source": f"fake{n % 20}",
                                                "utm_medium": "social"})
    stored = rows_in(client, channel_visits)
    assert len(stored) == 6  # five channels and "other"
    assert sum(r.count for r in stored) == 70
    folded = [r for r in stored if r.utm_source == r.utm_medium == r.utm_campaign == "other"]
    assert [r.count for r in folded] == [40 - 2 * 4]  # fake0..fake3 kept their rows
    # the funnel likewise, and a visit without parameters is never folded
    count_finished = _count_funnel(client)
    for n in range(20):
        count_finished({"utm_source": f"fake{n}", "utm_medium": "social"})
    count_finished({})
    found = {(r.utm_source, r.count) for r in rows_in(client, funnel_counts)}
    assert found == {*((f"fake{n}", 1) for n in range(5)), ("other", 15), ("", 1)}


def _count_funnel(client: Any) -> Any:
    db = services(client).db

    async def count(attribution: dict[str, str]) -> None:
        async with db.transaction() as conn:
            await funnel.count(conn, "familie", "finished", attribution)

    return lambda attribution: run(client, count, attribution)


def _fill(client: Any) -> dict[str, int]:
    """5,000 made-up sources over 25 days (200 a day, as many as a day keeps), two real
    channels, and a confirmed lead for each made-up source; returns the totals."""
    today = local_today()
    made_up = [{"day": today - timedelta(days=n // 200), "utm_source": f"spam{n:04d}",
                "utm_medium": "cpc", "utm_campaign": "x", "count": 1 + n % 3}
               for n in range(MADE_UP)]
    real = [{"day": today, "utm_source": source, "utm_medium": "social",
             "utm_campaign": "sommer", "count": 5000} for source in ("facebook", "instagram")]
    created = datetime(2026, 6, 1, 12, tzinfo=UTC)
    lead_rows = [{"id": n + 1, "public_id": f"lead{n:05d}", "status": "confirmed",
                  "created_at": created, "confirmed_at": created, "child_ages": [],
                  "consents": ["agency"], "utm_source": f"spam{n:04d}", "utm_medium": "cpc",
                  "utm_campaign": "x"} for n in range(MADE_UP)]
    lead_rows += [{"id": MADE_UP + n + 1, "public_id": f"real{n}", "status": "confirmed",
                   "created_at": created, "confirmed_at": created, "child_ages": [],
                   "consents": ["agency"], "utm_source": "facebook", "utm_medium": "social",
                   "utm_campaign": "sommer"} for n in range(50)]

    async def insert() -> None:
        db = services(client).db
        async with db.transaction() as conn:
            await conn.execute(channel_visits.insert(), made_up + real)
            await conn.execute(funnel_counts.insert(), [
                {**row, "quiz": "familie", "step": "finished", "count": 1} for row in made_up])
            await conn.execute(leads.insert(), lead_rows)
            await conn.execute(lead_recipients.insert(), [
                {"lead_id": row["id"], "org": "suedwestfalen-agentur", "reason": "fallback",
                 "routed_at": created} for row in lead_rows])
            await db.reset_sequences(conn)

    run(client, insert)
    return {"visits": sum(r["count"] for r in made_up + real), "finished": MADE_UP,
            "leads": len(lead_rows)}


def _numbers(cells: str) -> list[int]:
    return [int(n.replace(".", "")) for n in re.findall(r"<td[^>]*>([\d.]+)</td>", cells)]


def test_figures_pages_stay_small_with_5000_made_up_sources(client):
    totals = _fill(client)
    add_user(client, "suedwestfalen-agentur", role="admin")
    assert login(client, "admin@suedwestfalen-agentur.example.org").status_code == 303

    page = client.get("/partner/orte-qr")
    assert page.status_code == 200
    assert len(page.content) < FIGURES_PAGE_LIMIT, len(page.content)
    body = page.text
    assert ">facebook</td>" in body and ">instagram</td>" in body  # the big ones, one by one
    other = re.search(r'<tr class="other"><th scope="row">Sonstige</th>\s*'
                      r'<td>(\d+) weitere Quellen</td>(.*?)</tr>', body, re.S)
    assert other, "a Sonstige row"
    shown = len(re.findall(r">spam\d{4}</td>", body))
    assert int(other.group(1)) == MADE_UP - shown
    visits, finished, lead_count, confirmed = _numbers(other.group(2))
    summe = re.search(r'<tfoot><tr><th scope="row" colspan="2">Summe</th>(.*?)</tr>', body)
    assert summe and _numbers(summe.group(1)) == [totals["visits"], totals["finished"],
                                                  totals["leads"], totals["leads"]]
    all_channels = run(client, channels.channel_figures, services(client).db)
    assert len(all_channels) == MADE_UP + 2
    top = sorted(all_channels, key=lambda c: -c[1]["visits"])
    assert visits == sum(f["visits"] for _k, f in top[shown + 2:])  # what is not shown
    assert (finished, lead_count) == (MADE_UP - shown, MADE_UP - shown)
    assert confirmed == lead_count

    stats = client.get("/partner/statistik")
    assert stats.status_code == 200
    assert len(stats.content) < FIGURES_PAGE_LIMIT, len(stats.content)
    row = re.search(r'<tr><th scope="row">Sonstige</th><td colspan="3">(\d+) weitere Quellen'
                    r'</td><td class="num">([\d.]+)</td></tr>', stats.text)
    assert row, "a Sonstige row"
    listed = re.findall(r'<tr><th scope="row">(?:spam\d{4}|facebook)</th>.*?'
                        r'<td class="num">([\d.]+)</td></tr>', stats.text)
    assert int(row.group(1)) + len(listed) == MADE_UP + 1
    assert int(row.group(2).replace(".", "")) + sum(int(n) for n in listed) == totals["leads"]
    summe = re.search(r'<tfoot><tr><th scope="row" colspan="4">Summe</th>'
                      r'<td class="num">([\d.]+)</td>', stats.text)
    assert summe and int(summe.group(1).replace(".", "")) == totals["leads"]


def test_a_days_rows_are_capped_on_the_real_path(client, monkeypatch):
    """Through the quiz: a walk with made-up parameters beyond the cap counts as other."""
    monkeypatch.setattr(funnel, "MAX_CHANNELS_PER_DAY", 1)
    walk_quiz(client, query="?utm_source=erste&utm_medium=social")
    walk_quiz(client, query="?utm_source=zweite&utm_medium=social")
    assert {r.utm_source for r in rows_in(client, funnel_counts)} == {"erste", "other"}
