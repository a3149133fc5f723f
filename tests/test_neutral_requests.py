""""Passwort vergessen" and "Neuen Link anfordern" tell nobody whether an address is known:
the request does the same database work for a known and an unknown address (count
it, queue one recipe row); the outbox worker decides, sends the one and drops the
other, address and all. No timings are measured: the work is compared itself."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from campaign.core.schema import audit_log, outbox, rate_counts
from campaign.leads import lifecycle
from campaign.web.app import create_app

from .support.app import all_leads, count_in, deliver, rows_in, run, services, shipped_content
from .support.forms import hidden_fields, link_in, submit
from .support.portal import add_user, csrf

UNKNOWN = "niemand.hier@example.net"


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends, in order (without values)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def post_and_watch(client: TestClient, path: str, data: dict[str, str]
                   ) -> tuple[tuple[int, list[tuple[bytes, bytes]], bytes], list[str], int]:
    """(the whole answer, the statements it took, outbox rows it added)."""
    before = count_in(client, outbox)
    with statements() as seen:
        r = client.post(path, data=data)
    return (r.status_code, r.headers.raw, r.content), list(seen), count_in(client, outbox) - before


def leftovers(client: TestClient, text: str) -> list[Any]:
    """Outbox rows that still hold ``text`` anywhere (address, recipe, message)."""
    needle = text.lower()
    return [row for row in rows_in(client, outbox) if needle in repr(tuple(row)).lower()]


def test_forgotten_password_does_the_same_work_for_known_and_unknown(
        mail_client, smtp, smtp_settings):
    client = mail_client
    add_user(client, "olpe")
    token = csrf(client)

    def ask(email: str) -> tuple[Any, list[str], int]:
        return post_and_watch(client, "/partner/passwort-vergessen",
                              {"csrf_token": token, "email": email})

    ask("aufwaermen@example.net")  # the first request opens connections: not compared
    known_answer, known_work, known_rows = ask("Staff@Olpe.example.org")
    unknown_answer, unknown_work, unknown_rows = ask(UNKNOWN)
    assert known_answer == unknown_answer
    assert known_answer[0] == 303
    assert known_work == unknown_work and len(known_work) >= 3  # two counts, one row
    assert known_rows == unknown_rows == 1
    assert count_in(client, audit_log) == 0  # nothing looked up yet
    # the worker sends the known one and drops the others without a trace
    assert deliver(client, smtp_settings)["sent"] == 1
    [mail] = smtp.to("staff@olpe.example.org")
    assert mail["Subject"] == "Neues Passwort für das Partnerportal"
    assert "/partner/passwort-neu/" in mail.get_body(("plain",)).get_content()
    assert smtp.envelopes == [(smtp.envelopes[0][0], ["staff@olpe.example.org"])]
    assert leftovers(client, UNKNOWN) == [] and leftovers(client, "aufwaermen") == []
    [row] = rows_in(client, outbox)
    assert (row.kind, row.org, row.status, row.recipe) == ("password_reset", "olpe", "sent",
                                                          None)
    assert [a.action for a in rows_in(client, audit_log)] == ["password_reset_requested"]


def test_new_link_does_the_same_work_for_known_and_unknown(mail_client, smtp, smtp_settings):
    client = mail_client
    assert submit(client).status_code == 303
    assert deliver(client, smtp_settings)["sent"] == 1  # the first confirmation mail
    page = client.get("/interesse/neuer-link")

    def ask(email: str) -> tuple[Any, list[str], int]:
        return post_and_watch(client, "/interesse/neuer-link",
                              {**hidden_fields(page.text), "email": email})

    ask("aufwaermen@example.net")
    known_answer, known_work, known_rows = ask("ANNA.Beispiel@example.com")
    unknown_answer, unknown_work, unknown_rows = ask(UNKNOWN)
    assert known_answer == unknown_answer
    assert known_answer[0] == 303
    assert known_work == unknown_work and len(known_work) >= 2  # the count, one row
    assert known_rows == unknown_rows == 1
    assert deliver(client, smtp_settings)["sent"] == 1
    _first, again = smtp.to("anna.beispiel@example.com")
    assert client.get(link_in(again, "bestaetigen")).status_code == 200  # it works
    assert leftovers(client, UNKNOWN) == [] and leftovers(client, "aufwaermen") == []
    lead = all_leads(client)[0]
    kinds = sorted((r.kind, r.lead_id, r.status) for r in rows_in(client, outbox)
                   if r.kind in ("confirm", "new_link"))
    assert kinds == [("confirm", lead.id, "sent")] * 2


def test_new_link_requests_are_still_limited_per_address(settings):
    app = create_app(settings.with_(rate_limit_per_hour=2), content=shipped_content())
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/interesse/neuer-link")
        for n in range(4):
            r = client.post("/interesse/neuer-link",
                            data={**hidden_fields(page.text), "email": f"n{n}@example.net"})
            assert r.status_code == 303
            assert r.headers["location"] == "/interesse/neuer-link?gesendet=1"
        assert count_in(client, outbox) == 2  # the two over the limit queued nothing
        [counter] = rows_in(client, rate_counts)
        assert counter.key == "resend:testclient" and counter.count == 4
        assert deliver(client)["claimed"] == 2
        assert count_in(client, outbox) == 0  # unknown addresses: dropped, nothing kept


def test_a_family_gets_at_most_three_links_of_a_kind_an_hour(client):
    submit(client)
    page = client.get("/interesse/neuer-link")
    for _ in range(5):
        client.post("/interesse/neuer-link",
                    data={**hidden_fields(page.text), "email": "anna.beispiel@example.com"})
    deliver(client)
    confirms = rows_in(client, outbox, outbox.c.kind == "confirm")
    assert len(confirms) == 3 and all(r.status == "sent" for r in confirms)
    assert count_in(client, outbox) == 3  # the two over the limit were dropped


def test_a_new_link_queued_before_an_erasure_is_not_sent(client):
    submit(client)
    lead = all_leads(client)[0]
    page = client.get("/interesse/neuer-link")
    client.post("/interesse/neuer-link",
                data={**hidden_fields(page.text), "email": "Anna.Beispiel@example.com"})
    assert run(client, lifecycle.erase, services(client), lead.public_id)
    assert leftovers(client, "anna.beispiel") == []
    assert deliver(client)["claimed"] == 0


def test_control_characters_in_the_address_get_the_form_again(client):
    """PostgreSQL refuses a NUL in text: such an address is refused by the form, never
    sent to the database (a 400 with the form, not a 500)."""
    add_user(client, "olpe")
    for email in ("staff\x00@olpe.example.org", "a@b\u202e.example.org"):
        r = client.post("/partner/passwort-vergessen",
                        data={"csrf_token": csrf(client), "email": email})
        assert r.status_code == 400 and 'aria-invalid="true"' in r.text
        r = client.post("/partner/login", data={"csrf_token": csrf(client), "email": email,
                                                "password": "falsch-falsch-falsch"})
        assert r.status_code == 400 and "nicht richtig" in r.text
    assert count_in(client, outbox) == 0
