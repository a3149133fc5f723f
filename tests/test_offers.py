"""Offers that bridge holiday and life: pages, validity by the service clock, the
trial-stay application as a lead with its own consent, visit days with seats and a
waiting list under concurrent confirmations, job interest, and erasure."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from campaign.content.offers import current_offers
from campaign.core.schema import consent_events, lead_recipients, offer_requests
from campaign.leads import applications, lifecycle

from .support.app import all_leads, deliver, rows_in, run, services, shipped_content
from .support.casework import clerk, sign_in
from .support.files import mails_in
from .support.forms import click, link_in
from .support.offers import JOB, TRIAL, VISIT, apply, pin_offers_clock, register_visits

CONTENT = shipped_content()
FAMILY = "maarten.proef@example.nl"


@pytest.fixture(autouse=True)
def _offers_current(request: pytest.FixtureRequest) -> None:
    """These tests use the shipped offers: pin the service clock to a day they are valid."""
    for name in ("client", "mail_client"):
        if name in request.fixturenames:
            pin_offers_clock(request.getfixturevalue(name))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_trial_stay_application_reaches_tourism_and_town_as_a_lead_with_its_own_consent(
        mail_client, smtp):
    client = mail_client
    assert apply(client, TRIAL, "/nl").status_code == 303
    [lead] = all_leads(client)
    assert (lead.status, lead.consents, lead.municipalities) == (
        "pending", ("trial_stay",), ("winterberg",))
    text = CONTENT.consent.purposes["trial_stay"].text.get("nl")
    assert lead.consent_hash == sha(text) and lead.language == "nl"
    [given] = rows_in(client, consent_events)
    assert (given.grp, given.event, given.text_hash) == ("trial_stay", "given", sha(text))
    [request] = rows_in(client, offer_requests)
    assert (request.offer, request.starts, request.weeks) == (
        "winterberg-ferienwohnung-am-kahlen-asten", date(2027, 5, 3), 2)
    assert rows_in(client, lead_recipients) == []  # nothing goes out before the double opt-in

    deliver(client, now=services(client).clock.now())
    [confirm] = smtp.to(FAMILY)
    assert click(client, link_in(confirm, "bestaetigen")).status_code == 200
    deliver(client, now=services(client).clock.now())
    routed = {r.org: r.reason for r in rows_in(client, lead_recipients)}
    assert routed == {"winterberg": "trial_stay", "sauerland-tourismus": "trial_stay"}
    for org in routed:
        [mail] = smtp.to(CONTENT.region.organisations[org].email)
        body = mail.get_body(("plain",)).get_content()
        assert "Vier Wochen Winterberg: Ferienwohnung am Kahlen Asten, Winterberg" in body
        assert "03.05.2027 bis 16.05.2027 (2 Wochen)" in body
        assert "Bewerbung zum Probewohnen" in body and "Maarten Proef" in body
        assert str(CONTENT.consent.purposes["trial_stay"].text) in body
        assert mail["Reply-To"] and FAMILY in str(mail["Reply-To"])
    events = sorted((e.grp, e.event) for e in rows_in(client, consent_events))
    assert events == [("trial_stay", "confirmed"), ("trial_stay", "given")]
    assert not smtp.to("kampagne@suedwestfalen-agentur.example.org")
    for org in routed:  # each organisation's staff see it in the portal like any lead
        sign_in(client, clerk(client, org, email=f"clerk@{org}.example.org"))
        page = client.get(f"/partner/lead/{lead.id}")
        assert page.status_code == 200 and "Maarten Proef" in page.text
        assert lead.number in client.get("/partner/").text


def test_bad_applications_get_a_page_in_their_language_and_store_nothing(client):
    cases = [
        ("/en", {"starts": "2028-01-10"}, "the whole stay lies between"),
        ("/en", {"starts": "2027-10-25", "weeks": "2"}, "the whole stay lies between"),
        ("/en", {"starts": "next tuesday"}, "Please give a date"),
        ("/en", {"weeks": "9"}, "Please choose one of the numbers of weeks"),
        ("/en", {"consent": None}, "Without your consent"),
        ("/nl", {"email": "kein-at"}, 'lang="nl"'),
        ("", {"name": ""}, "Bitte geben Sie Ihren Namen an."),
        ("/en", {"consent_version": "2020-1"}, "consent texts have been updated"),
    ]
    for prefix, change, expected in cases:
        answer = apply(client, TRIAL, prefix, **change)
        assert answer.status_code == 400, change
        assert expected in answer.text, (change, answer.text[:2000])
        assert 'class="error-summary"' in answer.text
    assert all_leads(client) == []
    assert client.post(TRIAL.replace("winterberg-", "atlantis-"), data={}).status_code == 404
    assert client.post("/angebote/bauen-wohnen/soest-baugebiet-am-ardey",
                       data={}).status_code == 405


def test_an_offer_is_gone_from_every_page_the_day_after_it_ends(client):
    """valid_until 2027-09-30 in Berlin: still there at 23:59, gone at 00:01."""
    clock = services(client).clock
    clock.stop(datetime(2027, 9, 30, 21, 59, tzinfo=UTC))  # 23:59 in Berlin (CEST)
    slug = "winterberg-ferienwohnung-am-kahlen-asten"
    pages = ["/orte/winterberg", "/angebote/probewohnen", "/en/orte/winterberg", "/angebote"]
    assert client.get(TRIAL).status_code == 200
    assert all(slug in client.get(p).text for p in pages[:3])
    clock.advance(timedelta(minutes=2))
    assert client.get(TRIAL).status_code == 404
    assert client.get("/en" + TRIAL).status_code == 404
    assert not any(slug in client.get(p).text for p in pages)
    assert client.post(TRIAL, data={}).status_code == 404


async def _confirm_all(svc, public_ids: list[str]) -> list[str]:
    return list(await asyncio.gather(*(lifecycle.confirm(svc, p) for p in public_ids)))


def test_visit_day_seats_hold_under_concurrent_confirmations(client):
    """12 seats, 16 families confirming at once: 12 seats, 4 on the waiting list in
    order; a family that withdraws gives its seat to the first one waiting."""
    svc = services(client)
    seats = CONTENT.offers.by_slug["olpe-familienwochenende-biggesee"].seats
    assert seats == 12
    ids = run(client, register_visits, svc, seats + 4)
    assert run(client, _confirm_all, svc, ids) == ["confirmed"] * (seats + 4)
    places = {r.lead_id: r.place for r in rows_in(client, offer_requests)}
    assert sorted(places.values()).count("seat") == seats
    waiting = sorted(lid for lid, p in places.items() if p == "waiting")
    assert len(waiting) == 4
    positions = [run(client, applications.standing, svc.db, lid).position for lid in waiting]
    assert sorted(positions) == [1, 2, 3, 4]
    first = waiting[positions.index(1)]

    holder = next(lead for lead in all_leads(client) if places[lead.id] == "seat")
    assert run(client, lifecycle.withdraw, svc, holder.public_id)
    after = {r.lead_id: r.place for r in rows_in(client, offer_requests)}
    assert holder.id not in after and after[first] == "seat"
    assert list(after.values()).count("seat") == seats
    assert sorted(run(client, applications.standing, svc.db, lid).position
                  for lid, p in after.items() if p == "waiting") == [1, 2, 3]
    routed = {(r.lead_id, r.org) for r in rows_in(client, lead_recipients)}
    assert (first, "olpe") in routed


def test_the_family_page_shows_a_seat_or_the_place_on_the_waiting_list(client):
    svc = services(client)
    [pid] = run(client, register_visits, svc, 1)
    run(client, _confirm_all, svc, [pid])
    deliver(client, now=services(client).clock.now())
    mail = next(m for m in mails_in(svc.settings.mail_dir) if "/meine-daten/" in
                m.get_body(("plain",)).get_content())
    page = client.get(link_in(mail, "meine-daten"))
    assert page.status_code == 200
    assert "Familienwochenende am Biggesee" in page.text and "Sie haben einen Platz." in page.text


def test_job_interest_goes_to_the_skilled_worker_contact_only(client):
    assert apply(client, JOB, starts=None, weeks=None).status_code == 303
    [lead] = all_leads(client)
    assert lead.consents == ("job_interest",) and lead.interests == ("medizin_pflege",)
    assert run(client, lifecycle.confirm, services(client), lead.public_id) == "confirmed"
    assert {(r.org, r.reason) for r in rows_in(client, lead_recipients)} == {
        ("fachkraefte", "job_interest")}


def test_visit_day_registration_through_the_page(client):
    assert apply(client, VISIT, "/en", starts="", weeks="").status_code == 303
    [lead] = all_leads(client)
    assert lead.consents == ("visit_days",) and lead.language == "en"
    assert run(client, lifecycle.confirm, services(client), lead.public_id) == "confirmed"
    assert {r.org for r in rows_in(client, lead_recipients)} == {"olpe"}
    [request] = rows_in(client, offer_requests)
    assert request.place == "seat"


def test_offer_pages_in_three_languages_name_shipped_offers_as_examples(client):
    paths = ["/angebote"] + [f"/angebote/{k}" for k in ("probewohnen", "kennenlerntage", "jobs",
                                                         "bauen-wohnen")]
    paths += [f"/angebote/{o.kind}/{o.slug}" for o in CONTENT.offers.by_slug.values()]
    demo = re.compile(r"\bDemo\b|Demo-|Beispieldaten|Voorbeeldgegevens|Sample data", re.I)
    for prefix in ("", "/nl", "/en"):
        for path in paths:
            page = client.get(prefix + path)
            assert page.status_code == 200, prefix + path
            assert not demo.search(page.text), prefix + path
    assert "Beispielangebot" in client.get(TRIAL).text
    assert client.get("/angebote/ferien").status_code == 404


def test_municipality_and_landing_pages_show_offers_and_stories_with_drawn_pictures(client):
    olpe = client.get("/orte/olpe").text
    assert "Familienwochenende am Biggesee" in olpe and "Vier-Zimmer-Wohnung" in olpe
    assert "Vier Wochen Winterberg" not in olpe  # another town's offer
    assert "Vom Campingplatz am Biggesee" in olpe and "Erst Skiurlaub" not in olpe
    picture = re.search(r'<svg[^>]*class="story-picture"[^>]*role="img"[^>]*'
                        r'aria-labelledby="([^"]+)"', olpe)
    assert picture is not None
    assert re.search(rf'<title id="{picture.group(1)}">Gezeichnetes Bild: zwei Erwachsene und '
                     r"ein Kind vor einem Haus am See.</title>", olpe)
    assert "Beispielgeschichte: So könnte es aussehen." in olpe
    assert "stories-heading" not in client.get("/orte/soest").text  # no story, no section
    landing = client.get("/en/").text
    assert "First a ski holiday, then a new home" in landing
    assert 'href="/en/angebote/probewohnen"' in landing
    assert "Example story: this is what it could look like." in landing


OUTCOME = re.compile(r'<h2 class="match-name"><a href="/orte/([^"]+)">')


def test_the_quiz_outcome_shows_the_offers_of_the_matched_towns(client):
    answers = {"kinder": ["kita"], "landschaft": ["wasser"], "wohnen": ["stadt"],
               "pendeln": ["koeln"], "bahn": ["5"], "freizeit": ["schwimmen"],
               "krankenhaus": ["5"], "kitas": ["5"]}  # Olpe and Attendorn among the best
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/quiz/familie").text)
    assert client.post("/quiz/familie", data={"csrf_token": csrf.group(1)}).status_code == 303
    for n, q in enumerate(CONTENT.quizzes["familie"].questions, 1):
        r = client.post(f"/quiz/familie/frage/{n}",
                        data={"csrf_token": csrf.group(1), "answer": answers[q.slug]})
        assert r.status_code == 303, q.slug
    page = client.get("/quiz/familie/ergebnis").text
    ranking = page.split('<ol class="quiz-ranking">')[1].split("</ol>\n")[0]
    shown = {OUTCOME.search(item).group(1): item
             for item in ranking.split('<li class="card">')[1:]}
    assert len(shown) == 5
    now = services(client).clock.now()
    with_offers = 0
    for slug, item in shown.items():
        mine = current_offers(CONTENT.offers, now, municipality=slug)
        linked = set(re.findall(r'href="/angebote/[^/]+/([^"]+)"', item))
        assert linked == {o.slug for o in mine}, slug
        with_offers += bool(mine)
    assert with_offers, f"no matched town has offers: {sorted(shown)}"


def test_hostile_offer_input_gets_a_page_never_an_error(client):
    hostile = [{"adults": "-1"}, {"children": "9" * 400}, {"weeks": ["1", "2"]},
               {"starts": "2027-02-30"}, {"starts": "2027-05-03\r\nBcc: x@example.org"},
               {"name": "A\x00B"}, {"message": "x" * 5000}, {"consent": "nein"},
               {"email": "a@b"}]
    for change in hostile:
        answer = apply(client, TRIAL, **change)
        # two weeks fields: the first counts; any consent value but none ticks the box
        accepted = change in ({"weeks": ["1", "2"]}, {"consent": "nein"})
        assert answer.status_code == (303 if accepted else 400), change
    for path in ("/angebote/%C3%BCber", "/angebote/jobs/" + "x" * 3000, "/en/angebote/x/y"):
        assert client.get(path).status_code == 404, path
    assert client.post(TRIAL, content=b"\xff\xfe", headers={
        "content-type": "application/x-www-form-urlencoded"}).status_code == 400


def test_the_portal_lead_page_shows_the_offer_and_the_dates_applied_for(client):
    assert apply(client, TRIAL).status_code == 303
    assert apply(client, VISIT, name="Vera Besuch", email="vera@example.org", starts="",
                 weeks="").status_code == 303
    trial, visit = all_leads(client)
    for lead in (trial, visit):
        assert run(client, lifecycle.confirm, services(client), lead.public_id) == "confirmed"
    sign_in(client, clerk(client, "sauerland-tourismus", email="clerk@st.example.org"))
    page = client.get(f"/partner/lead/{trial.id}").text
    assert "Bewerbung auf ein Angebot" in page
    assert "Vier Wochen Winterberg: Ferienwohnung am Kahlen Asten, Winterberg" in page
    assert "Gewünschter Zeitraum: 03.05.2027 bis 16.05.2027 (2 Wochen)" in page
    sign_in(client, clerk(client, "olpe", email="clerk@olpe.example.org"))
    page = client.get(f"/partner/lead/{visit.id}").text
    assert "Familienwochenende am Biggesee" in page and "Platz: angemeldet" in page
    assert "Bewerbung auf ein Angebot" not in client.get(f"/partner/lead/{trial.id}").text
