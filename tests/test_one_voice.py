"""One voice per language on everything a family reads: German pages and mails say
"Sie" (never "du" or "ihr"), Dutch ones say "jullie/je" (the Leichte-Sprache pages
keep their own simple "u"), and no page or mail to a family says "Demo"."""

from __future__ import annotations

import pytest

from campaign.core.schema import leads
from campaign.leads import followup

from .support.app import deliver, rows_in, run, services, shipped_content
from .support.booking import booking_link, days_ahead, offer, slot_choices
from .support.casework import act, clerk, sign_in
from .support.family import DEMO_WORDS, family_pages, mail_text, other_voice, visible_text
from .support.forms import click, csrf_of, hidden_fields, link_in, valid_data
from .support.offers import pin_offers_clock
from .support.portal_cases import status_of

LANGS = {"": "de", "/nl": "nl"}


def quiz_pages(client, prefix: str) -> list[str]:
    """Every question page and the outcome of each shipped quiz, answered like a family."""
    texts = []
    for slug, quiz in shipped_content().quizzes.items():
        token = csrf_of(client.get(f"{prefix}/quiz/{slug}").text)
        assert client.post(f"{prefix}/quiz/{slug}", data={"csrf_token": token}).status_code == 303
        for n, q in enumerate(quiz.questions, 1):
            texts.append(client.get(f"{prefix}/quiz/{slug}/frage/{n}").text)
            answer = ["4"] if q.kind == "scale" else [q.options[0].value]
            r = client.post(f"{prefix}/quiz/{slug}/frage/{n}",
                            data={"csrf_token": token, "answer": answer})
            assert r.status_code == 303
        texts.append(client.get(f"{prefix}/quiz/{slug}/ergebnis").text)
    return texts


@pytest.mark.parametrize("prefix", list(LANGS))
def test_family_pages_keep_one_form_of_address(client, prefix):
    lang = LANGS[prefix]
    pin_offers_clock(client)
    found = {}
    pages = [(p, client.get(prefix + p).text) for p in family_pages()
             if not (lang == "nl" and p.startswith("/leichte-sprache"))]
    pages += [(f"quiz {i}", html) for i, html in enumerate(quiz_pages(client, prefix))]
    # a form with errors, and the thank-you page
    page = client.get(f"{prefix}/interesse")
    bad = client.post(f"{prefix}/interesse", data=hidden_fields(page.text))
    assert bad.status_code == 400
    pages.append(("form with errors", bad.text))
    for path, html in pages:
        words = other_voice(visible_text(html.split("<main", 1)[-1]), lang)
        if words:
            found[path] = words
    assert found == {}


def test_the_check_finds_the_other_form_of_address():
    assert other_voice("Bitte prüft eure Angaben.", "de") == ["eure"]
    assert other_voice("Klickt auf den Link, dann habt ihr es.", "de") == ["Klickt", "habt", "ihr"]
    assert other_voice("Bitte prüfen Sie Ihre Angaben. Ihr Termin.", "de") == []
    assert other_voice("Controleer uw gegevens.", "nl") == ["uw"]
    assert other_voice("Controleer jullie gegevens.", "nl") == []


def _family_mails(client, smtp, prefix: str, email: str) -> list:
    """The mails a family gets on its way: confirmation, confirmed, a new link, its contact
    person, an offer of dates and the booked date, and the question after the move."""
    page = client.get(f"{prefix}/interesse")
    data = {**hidden_fields(page.text), **valid_data(email=email, municipalities=["olpe"],
                                                     consents=["municipalities"])}
    assert client.post(f"{prefix}/interesse", data=data).status_code == 303
    deliver(client)
    [confirm] = smtp.to(email)
    click(client, link_in(confirm, "bestaetigen"))
    page = client.get(f"{prefix}/interesse/neuer-link")
    assert client.post(f"{prefix}/interesse/neuer-link", data={
        **hidden_fields(page.text), "email": email}).status_code in (200, 303)
    [lead] = rows_in(client, leads, leads.c.email == email)
    token = sign_in(client, clerk(client, "olpe"))
    assert act(client, token, lead.id, "uebernehmen").status_code == 303
    day, at = days_ahead(client, 3)
    assert offer(client, lead.id, {"day": day, "time": at}).status_code == 303
    deliver(client)
    [offer_mail] = [m for m in smtp.to(email) if "/termin/" in mail_text(m)]
    link = booking_link(offer_mail)
    [slot] = slot_choices(client.get(link).text)
    assert client.post(link, data={"action": "book", "slot": str(slot)}).status_code == 303
    assert act(client, token, lead.id, "status", status="zugezogen").status_code == 303
    assert status_of(client, lead.id, "olpe") == "zugezogen"
    run(client, followup.run_due, services(client))
    deliver(client)
    return smtp.to(email)


@pytest.mark.parametrize("prefix", list(LANGS))
def test_family_mails_keep_one_form_of_address_and_say_no_demo(mail_client, smtp, prefix):
    lang = LANGS[prefix]
    mails = _family_mails(mail_client, smtp, prefix, f"voice-{lang}@example.org")
    subjects = [str(m["Subject"]) for m in mails]
    # confirm, confirmed, new link, contact person, dates offered, booked, follow-up question
    assert len(mails) == 7, subjects
    found = {}
    for m in mails:
        text = mail_text(m)
        words = other_voice(text, lang) + DEMO_WORDS.findall(text)
        if words:
            found[str(m["Subject"])] = words
    assert found == {}
