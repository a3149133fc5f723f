"""A Dutch family end to end: quiz, lead form, Dutch mails; organisations get German."""

from __future__ import annotations

import re
from html import unescape

from .support.app import all_leads, deliver, shipped_content
from .support.forms import click, hidden_fields
from .support.pages import head, quiz_walk

LINK = re.compile(r"http://testserver(/nl/(?:bestaetigen|meine-daten)/[A-Za-z0-9._-]+)")


def test_dutch_family_quiz_form_and_mails(mail_client, smtp, smtp_settings):
    client = mail_client
    pages = quiz_walk(client, "nl")
    outcome = client.get(pages["quiz outcome"])
    assert outcome.status_code == 200 and head(outcome.text).lang == "nl"
    assert "Deze plaatsen passen bij jullie" in outcome.text
    form_link = unescape(re.search(r'href="(/nl/interesse\?[^"]+)"', outcome.text).group(1))
    assert "quiz=familie" in form_link  # the outcome travels to the form

    form = client.get(form_link)
    assert form.status_code == 200 and head(form.text).lang == "nl"
    assert "Interesse doorgeven" in form.text and "Interesse melden" not in form.text
    hidden = hidden_fields(form.text)
    # a mistake first: the error summary is Dutch too
    bad = client.post("/nl/interesse", data={**hidden, "name": "", "email": "geen-adres"})
    assert bad.status_code == 400
    assert "Controleer jullie gegevens" in bad.text and "Vul jullie naam in." in bad.text

    preselected = re.findall(r'name="municipalities" value="([^"]+)" checked', form.text)
    data = {**hidden, "name": "Sanne de Vries", "email": "sanne@example.nl", "adults": "2",
            "children": "2", "child_ages": ["0-2", "3-5"], "interests": ["kita_schule"],
            "timeframe": "one_to_three_years", "municipalities": preselected[:2] or ["olpe"],
            "consents": ["municipalities", "tourism"]}
    r = client.post("/nl/interesse", data=data)
    assert r.status_code == 303 and r.headers["location"] == "/nl/interesse/danke"
    thanks = client.get(r.headers["location"])
    assert "Bijna klaar" in thanks.text and head(thanks.text).lang == "nl"
    [lead] = all_leads(client)
    assert lead.language == "nl" and lead.quiz == "familie"

    assert deliver(client, smtp_settings)["sent"] == 1
    [mail] = smtp.to("sanne@example.nl")
    assert mail["Subject"] == "Bevestig jullie interesse in Zuidwest-Westfalen"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Sanne de Vries," in text
    assert "bedankt voor jullie interesse" in text and "bedankt voor jullie interesse" in html
    assert "danke" not in text.lower()
    assert 'lang="nl"' in html
    confirm = next(p for p in LINK.findall(text) if "/bestaetigen/" in p)

    done = click(client, confirm)
    assert done.status_code == 200 and head(done.text).lang == "nl"
    assert "Bedankt, jullie aanvraag is bevestigd" in done.text

    deliver(client, smtp_settings)
    family = smtp.to("sanne@example.nl")
    assert len(family) == 2
    assert family[1]["Subject"] == "Bevestigd: jullie aanvraag is onderweg"
    self_service = next(p for p in LINK.findall(family[1].get_body(
        preferencelist=("plain",)).get_content()) if "/meine-daten/" in p)
    mine = client.get(self_service)
    assert mine.status_code == 200 and "Mijn gegevens" in mine.text

    # organisations get German mails that name the family's language
    region = shipped_content().region
    org = region.municipalities[data["municipalities"][0]].contact_email
    [lead_mail] = smtp.to(org)
    body = lead_mail.get_body(preferencelist=("plain",)).get_content()
    assert "Niederländisch" in body
    assert "Die Familie spricht" in body
