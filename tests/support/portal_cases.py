"""Helpers of the portal tests (group "portal"): leads as the portal sees them, the
login window, and a quiz walked like a browser does.

Leads are made by ``support.leads.add_lead`` (the real lifecycle); these are
thin synchronous wrappers for use with the TestClient.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.testclient import TestClient

from campaign.core.clock import utcnow
from campaign.core.jobs import window_start
from campaign.core.schema import lead_recipients

from .app import rows_in, run, services, shipped_content
from .forms import csrf_of
from .leads import add_lead

# Answers to the family quiz that every question accepts.
FAMILY_ANSWERS = {"kinder": ["kita"], "landschaft": ["wasser", "berge"],
                  "wohnen": ["kleinstadt"], "pendeln": ["nein"], "bahn": ["5"],
                  "freizeit": ["wintersport"], "krankenhaus": ["1"], "kitas": ["1"]}


def lead(client: TestClient, orgs: Any = ("olpe",), **kwargs: Any) -> int:
    """A lead routed to ``orgs`` through the real lifecycle (see ``add_lead``); its id."""
    return run(client, add_lead, services(client), list(orgs), **kwargs)  # type: ignore[no-any-return]


def status_of(client: TestClient, lead_id: int, org: str) -> str:
    """The follow-up state of one (lead, organisation) row."""
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id,
                    lead_recipients.c.org == org)
    return str(row.status)


def at_window_start(*clients: TestClient, window: timedelta = timedelta(hours=1)) -> datetime:
    """Move the clocks of the clients' apps to one second into a fresh counting window
    of a rate limit (an hour, or ``window``), so a test's requests never straddle the
    boundary of two windows; returns the new now."""
    start = window_start(utcnow(), window) + window + timedelta(seconds=1)
    offset = start - utcnow()
    for client in clients:
        services(client).clock.offset = offset
    return start


def walk_quiz(client: TestClient, quiz: str = "familie", answers: dict[str, list[str]] | None
              = None, query: str = "") -> Any:
    """Start ``quiz`` (with ``query``, e.g. campaign parameters), answer every question
    and return the outcome page."""
    answers = answers or FAMILY_ANSWERS
    token = csrf_of(client.get(f"/quiz/{quiz}{query}").text)
    carried = {k: v[0] for k, v in parse_qs(query.lstrip("?")).items()}
    r = client.post(f"/quiz/{quiz}", data={"csrf_token": token, **carried})
    assert r.status_code == 303, r.text[:300]
    questions = shipped_content().quizzes[quiz].questions
    for n, question in enumerate(questions, 1):
        assert client.get(f"/quiz/{quiz}/frage/{n}").status_code == 200
        r = client.post(f"/quiz/{quiz}/frage/{n}",
                        data={"csrf_token": token, "answer": answers[question.slug]})
        assert r.status_code == 303, (n, r.text[:300])
    return client.get(f"/quiz/{quiz}/ergebnis")


def funnel_value(html: str, label: str) -> int:
    """The number in the figures table row headed ``label``."""
    match = re.search(rf'<th scope="row">{re.escape(label)}</th><td class="num">(\d+)</td>',
                      html)
    assert match, label
    return int(match.group(1))
