"""Staying in touch after the move, on both databases: the consent question at
"zugezogen", one follow-up mail twelve months later only with consent (the clock is
moved, never waited for), the answer page in the family's language, stored once,
the stage moved as the family, the figures, and an erased family gets nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from campaign.core.schema import consent_events, followups, outbox
from campaign.leads import followup, lifecycle

from .support.app import deliver, rows_in, run, services
from .support.casework import act, clerk, history_of, self_service_path, sign_in
from .support.forms import click, hidden_fields, link_in
from .support.portal import AGENCY, add_user
from .support.portal_cases import lead, status_of

YEAR = timedelta(days=366)


def _moved_in(client, lang: str = "de", email: str = "familie@example.org", orgs=("olpe",)):
    """A lead that Olpe moved to "zugezogen"; the follow-up job ran once. Its id."""
    lead_id = lead(client, list(orgs), language=lang, email=email)
    token = sign_in(client, clerk(client, "olpe"))
    assert act(client, token, lead_id, "status", status="zugezogen").status_code == 303
    assert status_of(client, lead_id, "olpe") == "zugezogen"
    run(client, followup.run_due, services(client))
    return lead_id


def _kinds(client, lead_id: int) -> list[str]:
    return sorted(r.kind for r in rows_in(client, outbox, outbox.c.lead_id == lead_id,
                                          outbox.c.kind.in_(followup.MAILS)))


def _a_year_later(client) -> None:
    services(client).clock.offset += YEAR
    run(client, followup.run_due, services(client))


def test_without_consent_nothing_is_sent_after_twelve_months(client):
    lead_id = _moved_in(client)
    assert _kinds(client, lead_id) == ["followup_ask"]
    run(client, followup.run_due, services(client))  # a second run asks no second time
    assert _kinds(client, lead_id) == ["followup_ask"]
    _a_year_later(client)
    assert _kinds(client, lead_id) == ["followup_ask"]


def test_consent_then_exactly_one_mail_after_twelve_months_answered_once(mail_client, smtp):
    client = mail_client
    email = "jan@example.nl"
    lead_id = _moved_in(client, "nl", email)
    deliver(client)
    [ask] = [m for m in smtp.to(email) if "/nachfrage/" in m.get_body(("plain",)).get_content()]
    path = link_in(ask, "nachfrage")
    assert path.startswith("/nl/nachfrage/zustimmen/")
    page = client.get(path)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and 'lang="nl"' in page.text
    assert rows_in(client, followups)[0].consented_at is None
    done = click(client, path)
    assert done.status_code == 200
    [event] = rows_in(client, consent_events, consent_events.c.grp == "followup")
    assert event.event == "given" and event.lead_id == lead_id
    assert event.text_hash == followup.consent_hash("nl") != followup.consent_hash("de")
    assert "Ja, vraag het over een jaar na" not in client.get(path).text
    assert client.post(path).status_code == 303  # pressed again (an old tab): still one
    assert len(rows_in(client, consent_events, consent_events.c.grp == "followup")) == 1
    services(client).clock.offset += timedelta(days=300)
    run(client, followup.run_due, services(client))
    assert _kinds(client, lead_id) == ["followup_ask"]  # not yet: only after twelve months
    _a_year_later(client)
    run(client, followup.run_due, services(client))  # and once only
    assert _kinds(client, lead_id) == ["followup", "followup_ask"]
    deliver(client, now=services(client).clock.now())
    [mail] = [m for m in smtp.to(email) if "/nachfrage/" in m.get_body(("plain",)).get_content()
              and "zustimmen" not in m.get_body(("plain",)).get_content()]
    answer = link_in(mail, "nachfrage")
    assert answer.startswith("/nl/nachfrage/")
    form = client.get(answer)
    assert form.status_code == 200 and 'lang="nl"' in form.text
    bad = client.post(answer, data={"still_here": "vielleicht", "satisfaction": "9",
                                    "feedback": "x" * 3000})
    assert bad.status_code == 400 and 'lang="nl"' in bad.text
    assert rows_in(client, followups)[0].answered_at is None
    sent = client.post(answer, data={"still_here": "ja", "satisfaction": "5",
                                     "feedback": "De kinderopvang hielp."})
    assert sent.status_code == 303
    again = client.post(answer, data={"still_here": "nein", "satisfaction": "1"})
    assert again.status_code == 409
    [row] = rows_in(client, followups)
    assert (row.still_here, row.satisfaction, row.feedback) == (True, 5,
                                                                "De kinderopvang hielp.")
    assert status_of(client, lead_id, "olpe") == "geblieben"
    [stage] = [h for h in history_of(client, lead_id) if h.to_stage == "geblieben"]
    assert (stage.actor, stage.from_stage, stage.user_id) == ("Familie", "zugezogen", None)
    figures = run(client, followup.answers_by_org, services(client).db)
    assert figures["olpe"].still_here == 1 and figures["olpe"].satisfied == 1
    assert figures["olpe"].by_score[5] == 1 and figures["olpe"].answered == 1
    # the answers feed the portal's figures: the organisation sees its own, however few
    sign_in(client, clerk(client, "olpe", "Olga Zahl", email="zahl@olpe.example.org"))
    own = client.get("/partner/statistik").text
    assert _row(own, "beantwortet") == "1" and _row(own, "leben noch hier") == "1"
    assert _row(own, "zufrieden (4 oder 5 von 5)") == "1" and "De kinderopvang" not in own
    # the agency sees fewer than five families as "weniger als 5"
    add_user(client, AGENCY, role="admin")
    sign_in(client, f"admin@{AGENCY}.example.org")
    assert _row(client.get("/partner/statistik").text, "beantwortet") == "weniger als 5"


def _row(html: str, label: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(label)}</th><td class="num">([^<]+)</td>',
                      html)
    assert found, label
    return found.group(1)


def test_a_no_keeps_the_stage_and_counts_as_moved_away(client):
    lead_id = _moved_in(client)
    svc = services(client)
    [public_id] = [r.public_id for r in rows_in(client, followup.leads)]
    assert run(client, followup.give_consent, svc, public_id) == "recorded"
    _a_year_later(client)
    answer = followup.Answer(False, 2, "")
    assert run(client, followup.record_answer, svc, public_id, answer) == "recorded"
    assert run(client, followup.record_answer, svc, public_id, answer) == "already"
    assert status_of(client, lead_id, "olpe") == "zugezogen"
    figures = run(client, followup.answers_by_org, svc.db)["olpe"]
    assert (figures.still_here, figures.moved_away, figures.satisfied) == (0, 1, 0)


def test_an_erased_family_gets_nothing_and_loses_consent_and_text(client):
    lead_id = _moved_in(client)
    svc = services(client)
    [public_id] = [r.public_id for r in rows_in(client, followup.leads)]
    assert run(client, followup.give_consent, svc, public_id) == "recorded"
    page = client.get(self_service_path(client, lead_id))
    fields = hidden_fields(page.text)
    erased = client.post(self_service_path(client, lead_id),
                         data={**fields, "action": "erase", "confirmed": "yes"})
    assert erased.status_code == 303
    [row] = rows_in(client, followups)
    assert row.consented_at is None
    assert [e.event for e in rows_in(client, consent_events,
                                     consent_events.c.grp == "followup")] == ["given", "erased"]
    _a_year_later(client)
    assert _kinds(client, lead_id) == []  # the queued question went with the erasure
    token = followup.token_for(svc.settings.secret_key, followup.ANSWER_PURPOSE, public_id)
    assert client.get(f"/nachfrage/{token}").status_code == 404


def test_erasure_after_answering_removes_the_free_text_only(client):
    lead_id = _moved_in(client)
    svc = services(client)
    [public_id] = [r.public_id for r in rows_in(client, followup.leads)]
    run(client, followup.give_consent, svc, public_id)
    _a_year_later(client)
    run(client, followup.record_answer, svc, public_id,
        followup.Answer(True, 4, "Die Kita-Suche war schwer."))
    assert run(client, lifecycle.erase, svc, public_id)
    [row] = rows_in(client, followups)
    assert (row.feedback, row.consented_at, row.still_here, row.satisfaction) == (
        None, None, True, 4)
    assert lead_id


def test_bad_links_get_a_page_never_a_500(client):
    assert client.get("/nachfrage/kaputt").status_code == 400
    assert client.post("/nachfrage/zustimmen/kaputt").status_code == 400
    svc = services(client)
    token = followup.token_for(svc.settings.secret_key, followup.CONSENT_PURPOSE, "nobody")
    assert client.get(f"/en/nachfrage/zustimmen/{token}").status_code == 404
    # a consent token is no answer token
    assert client.get(f"/nachfrage/{token}").status_code == 400
