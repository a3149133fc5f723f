"""Mails queued as a recipe: the request stores no message, the worker renders it."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaign.mail.worker import deliver_once

from .test_leads import deliver, link_in, rows, run, submit


def test_lead_submit_queues_a_recipe_without_personal_data(client):
    assert submit(client, name="Eva Muster", email="eva@example.org").status_code == 303
    [row] = rows(client, "SELECT kind, recipient, message_id, message, render FROM outbox")
    assert row["kind"] == "confirm" and row["recipient"] == "eva@example.org"
    assert row["message"] == b"" and row["message_id"].startswith("<")
    [lead] = rows(client, "SELECT public_id, language FROM leads")
    assert json.loads(row["render"]) == {"template": "confirm", "lang": lead["language"],
                                         "public_id": lead["public_id"]}
    assert "Eva" not in row["render"] and "eva@" not in row["render"]


def test_worker_renders_sends_and_keeps_the_bytes_with_the_queued_message_id(
        mail_client, smtp, smtp_settings):
    assert submit(mail_client, name="Eva Muster", email="eva@example.org").status_code == 303
    [queued] = rows(mail_client, "SELECT message_id FROM outbox")
    assert deliver(mail_client, smtp_settings)["sent"] == 1
    [mail] = smtp.to("eva@example.org")
    assert str(mail["Message-ID"]).strip() == queued["message_id"]
    assert "Eva Muster" in str(mail["To"])
    assert link_in(mail, "bestaetigen").startswith("/bestaetigen/")
    [row] = rows(mail_client, "SELECT status, message, render FROM outbox")
    assert row["status"] == "sent" and row["render"] is None
    stored = message_from_bytes(row["message"], policy=policy.default)
    assert str(stored["Message-ID"]).strip() == queued["message_id"]
    assert link_in(stored, "bestaetigen") == link_in(mail, "bestaetigen")


def test_a_retry_sends_the_same_bytes_it_rendered_first(mail_client, smtp, smtp_settings):
    assert submit(mail_client, email="eva@example.org").status_code == 303
    smtp.fail_codes = ["451 4.3.0 try again later"]
    assert deliver(mail_client, smtp_settings)["retried"] == 1
    [first] = rows(mail_client, "SELECT message, render, attempts FROM outbox")
    assert first["message"] and first["render"] is None and first["attempts"] == 1
    run(mail_client, mail_client.app.state.db.execute,
        "UPDATE outbox SET next_attempt_ts = 0", ())
    assert deliver(mail_client, smtp_settings)["sent"] == 1
    [again] = rows(mail_client, "SELECT message FROM outbox")
    assert again["message"] == first["message"]


def test_a_recipe_of_a_lead_erased_after_the_claim_sends_nothing(mail_client, smtp,
                                                                 smtp_settings):
    """Erase deletes unsent mails; a recipe the worker already holds must not go out
    either once the family's data are gone."""
    assert submit(mail_client, email="eva@example.org").status_code == 303
    db = mail_client.app.state.db
    run(mail_client, db.execute,
        "UPDATE leads SET status = 'erased', name = NULL, email = NULL, phone = NULL,"
        " message = NULL", ())
    counts = deliver(mail_client, smtp_settings)
    assert counts["sent"] == 0 and counts["claimed"] == 1
    assert smtp.to("eva@example.org") == []
    assert rows(mail_client, "SELECT id FROM outbox") == []


def test_worker_uses_a_given_mailer(mail_client, smtp, smtp_settings):
    from campaign.mail import Mailer

    assert submit(mail_client, email="eva@example.org").status_code == 303
    app = mail_client.app
    mailer = Mailer(app.state.settings.with_(base_url="https://given.example"),
                    app.state.render.env, app.state.content)

    async def go() -> dict[str, int]:
        return await deliver_once(app.state.db, smtp_settings, mailer=mailer)

    assert mail_client.portal.call(go)["sent"] == 1
    [mail] = smtp.to("eva@example.org")
    assert "https://given.example/bestaetigen/" in mail.get_body(
        preferencelist=("plain",)).get_content()


def _mailer():
    from pathlib import Path

    import jinja2

    from campaign.mail import Mailer
    from campaign.settings import Settings

    settings = Settings(secret_key="x" * 40, database=Path("unused.sqlite3"),
                        mail_from="Südwestfalen Agentur <kampagne@suedwestfalen.example.org>")
    return Mailer(settings, jinja2.Environment(autoescape=True), None)


def test_built_mails_round_trip_names_subjects_and_bodies():
    from campaign.mail import address

    msg = _mailer().build(to=address("juergen@example.org", "Jürgen „Jo“ Müller, Olpe"),
                          subject="Bitte bestätigt eure Anfrage – Südwestfalen " * 3,
                          text="Hallo Jürgen,\n\nGrüße aus Olpe\n", html="<p>Grüße</p>",
                          message_id="<m1@suedwestfalen.example.org>",
                          headers={"X-Campaign-Kind": "bestätigung"})
    raw = msg.as_bytes()
    assert raw.isascii()  # quoted-printable bodies, RFC 2047 words: 7-bit clean
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Südwestfalen Agentur"
    assert parsed["To"].addresses[0].display_name == "Jürgen „Jo“ Müller, Olpe"
    assert parsed["To"].addresses[0].addr_spec == "juergen@example.org"
    assert parsed["Subject"] == ("Bitte bestätigt eure Anfrage – Südwestfalen " * 3).strip()
    assert parsed["X-Campaign-Kind"] == "bestätigung"
    assert parsed["Message-ID"] == "<m1@suedwestfalen.example.org>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content() == "Hallo Jürgen,\n\nGrüße aus Olpe\n"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Grüße</p>"


@pytest.mark.parametrize("email", ["anna@example.org", "a.b+c@sub.example.org",
                                   "o'neil@example.org", "x!#$%&*/=?^_`{|}~-@example.org",
                                   "a b@example.org", "\"a..b\"@example.org", "a..b@example.org",
                                   "x@@example.org"])
def test_the_envelope_address_is_the_one_the_header_api_makes(email):
    """addr_spec skips building an Address for plain addresses; it must give
    exactly what the header API gives for every address."""
    from campaign.mail import addr_spec, address

    assert addr_spec(email) == address(email).addr_spec


def test_new_message_ids_are_unique_and_in_the_senders_domain():
    from email.utils import parseaddr

    mailer = _mailer()
    ids = {mailer.new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    for mid in list(ids)[:20]:
        assert mid.startswith("<") and mid.endswith(">")
        assert parseaddr(mid)[1].rpartition("@")[2] == mailer.domain()


def test_line_breaks_in_names_subjects_and_headers_never_add_a_header():
    from campaign.mail import address

    msg = _mailer().build(
        to=address("eva@example.org", "Eva\r\nBcc: victim@example.org"),
        subject="Hallo\r\nBcc: victim@example.org", text="x",
        headers={"X-Note": "a\nBcc: victim@example.org"})
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eva@example.org"]
    assert parsed.get_content_type() == "text/plain"


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t "),
                max_size=300)
_LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=120)


@hypothesis_settings(max_examples=150, deadline=None)
@given(name=_LINE, subject=_LINE, text=_TEXT, html=_TEXT,
       lead=st.sampled_from(["", "From ", ".", "From the lake\n.\n"]))
def test_any_text_survives_the_mime_writer(name, subject, text, html, lead):
    """campaign.mail.mime writes headers, boundary and bodies itself; whatever a
    name, subject or body holds, a standard parser reads back exactly it, and
    the message stays 7-bit with lines the mail system accepts."""
    from campaign.mail import address, header_safe

    text, html = lead + text, lead + html
    msg = _mailer().build(to=address("eva@example.org", name), subject=subject, text=text,
                          html=html, message_id="<p1@suedwestfalen.example.org>")
    raw = msg.as_bytes()
    assert raw.isascii()
    head, body = raw.split(b"\n\n", 1)
    assert all(len(line) <= 998 for line in head.split(b"\n"))
    assert all(len(line) <= 76 for line in body.split(b"\n"))  # RFC 2045, parts and bodies
    # RFC 2047: lines with encoded words within 76 characters; only a name (one
    # word, see encoded_words) or a long plain word may make a line longer
    assert all(len(line) <= 76 or b" " not in line.split(b": ", 1)[-1].strip()
               or line.startswith((b"To: ", b"From: ")) for line in head.split(b"\n"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["To"].addresses[0].display_name == " ".join(header_safe(name).split())
    assert parsed["To"].addresses[0].addr_spec == "eva@example.org"
    assert str(parsed["Subject"]) == header_safe(subject)
    lf = {"\r\n": "\n", "\r": "\n"}
    for kind, sent in (("plain", text), ("html", html)):
        for old, new in lf.items():
            sent = sent.replace(old, new)
        assert parsed.get_body((kind,)).get_content() == sent


@pytest.mark.parametrize("before", range(68, 80))
def test_quoted_printable_lines_stay_within_76_even_with_a_from_line(before):
    """Encoding the F of a "From " line makes it two characters longer; where a
    soft break put "From " at a line start, the line is broken again (never
    inside an "=XX") so no line passes RFC 2045's 76."""
    import quopri

    from campaign.mail.mime import quoted_printable

    text = "x" * before + "From here and more text " * 4 + "\nFrom " + "ä" * 40 + "\n"
    lines = quoted_printable(text).split("\n")
    assert max(len(line) for line in lines) <= 76
    assert not any(line.startswith("From ") for line in lines)
    assert quopri.decodestring("\n".join(lines).encode()).decode() == text
