"""Portal sign-in: neutral errors, the login throttle, sessions, CSRF, password reset by mail."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email import message_from_bytes, policy

import itsdangerous.timed
import pytest
from starlette.testclient import TestClient

from campaign.core.schema import audit_log, lead_notes, outbox, rate_counts, sessions, users
from campaign.delivery.outbox import enqueue
from campaign.portal import accounts
from campaign.web.app import create_app

from .support.app import count_in, deliver, rows_in, run, services, shipped_content
from .support.portal import PASSWORD, add_user, csrf, login
from .support.portal_cases import at_window_start, lead, status_of

NEUTRAL = "E-Mail-Adresse oder Passwort ist nicht richtig."


def _sessions(client) -> int:
    return count_in(client, sessions)


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    add_user(client, "olpe")
    wrong = login(client, "staff@olpe.example.org", "falsches-passwort-123")
    unknown = login(client, "niemand@olpe.example.org", "falsches-passwort-123")
    for r in (wrong, unknown):
        assert r.status_code == 400
        assert NEUTRAL in r.text
        assert 'class="error-summary"' in r.text and 'href="#email"' in r.text
        assert "session=" not in r.headers.get("set-cookie", "")
    assert _sessions(client) == 0
    assert client.get("/partner/").status_code == 303
    empty = client.post("/partner/login", data={"csrf_token": csrf(client)})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text


def test_unknown_user_costs_an_argon2_verify_too(client, monkeypatch):
    add_user(client, "olpe")
    [account] = rows_in(client, users)
    verified: list[str] = []
    real_verify = accounts.verify_password

    def counting(stored: str, password: str) -> bool:
        verified.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    svc = services(client)
    result = run(client, accounts.attempt_login, svc.db, "niemand@example.org", "x", "a",
                 svc.clock.now())
    assert result.user is None and len(verified) == 1
    # same algorithm and cost parameters as a real account's hash
    assert verified[0].split("$")[:4] == account.password_hash.split("$")[:4]
    assert verified[0] != account.password_hash


def test_login_sets_a_strict_session_cookie_and_logout_ends_it(client):
    add_user(client, "olpe")
    r = login(client, "staff@olpe.example.org")
    assert r.status_code == 303 and r.headers["location"] == "/partner/"
    cookies = r.headers.get_list("set-cookie")
    main = next(c for c in cookies if c.startswith("session=") and "Path=/;" in c)
    assert "HttpOnly" in main and "SameSite=lax" in main and "Secure" not in main
    assert _sessions(client) == 1
    [stored] = rows_in(client, sessions)
    assert stored.id_hash not in main  # only a hash is stored
    assert client.get("/partner/").status_code == 200
    assert login(client, "staff@olpe.example.org").status_code == 303
    assert _sessions(client) == 1  # the earlier session ended with the new login
    old_cookie = client.cookies.get("session", path="/")
    r = client.post("/partner/logout", data={"csrf_token": csrf(client)})
    assert r.status_code == 303 and "out=1" in r.headers["location"]
    assert _sessions(client) == 0
    client.cookies.set("session", old_cookie, path="/")
    assert client.get("/partner/").status_code == 303


def test_secure_cookie_when_the_base_url_is_https(settings):
    app = create_app(settings.with_(base_url="https://kampagne.example.org"),
                     content=shipped_content())
    with TestClient(app, follow_redirects=False, base_url="https://testserver") as client:
        add_user(client, "olpe")
        r = login(client, "staff@olpe.example.org")
        assert r.status_code == 303
        assert all("Secure" in c for c in r.headers.get_list("set-cookie")
                   if c.startswith("__Host-session="))  # see tests/test_cookies.py


# The login throttle is tested in test_login_throttle.py.


def test_expired_session_goes_to_the_login_with_a_message_and_changes_nothing(client):
    lead_id = lead(client, ["olpe"])
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    token = csrf(client)
    clock = services(client).clock
    clock.advance(accounts.SESSION_IDLE + timedelta(seconds=5))
    r = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                            "status": "zugezogen"})
    assert r.status_code == 303 and r.headers["location"] == "/partner/login?expired=1"
    assert status_of(client, lead_id, "olpe") == "neu"
    assert _sessions(client) == 0
    page = client.get(r.headers["location"])
    assert "Ihre Sitzung ist abgelaufen" in page.text
    # the absolute limit holds even for a session in constant use
    login(client, "staff@olpe.example.org")
    used_for = timedelta(0)
    while used_for < accounts.SESSION_MAX - timedelta(hours=7):
        clock.advance(timedelta(hours=7))
        used_for += timedelta(hours=7)
        assert client.get("/partner/").status_code == 200, used_for
    clock.advance(accounts.SESSION_MAX - used_for + timedelta(seconds=5))
    assert client.get("/partner/").headers["location"] == "/partner/login?expired=1"


@pytest.mark.parametrize("path, data", [
    ("/partner/lead/{id}/status", {"status": "zugezogen"}),
    ("/partner/lead/{id}/notiz", {"note": "ohne Token"}),
    ("/partner/logout", {}),
    ("/partner/login", {"email": "staff@olpe.example.org", "password": PASSWORD}),
])
def test_posts_without_a_valid_csrf_token_are_refused(client, path, data):
    lead_id = lead(client, ["olpe"])
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    sessions_before = _sessions(client)
    for token in (None, "falsch"):
        body = dict(data, **({"csrf_token": token} if token else {}))
        r = client.post(path.format(id=lead_id), data=body)
        assert r.status_code == 400
        assert "Das Formular ist abgelaufen" in r.text
    assert status_of(client, lead_id, "olpe") == "neu"
    assert count_in(client, lead_notes) == 0
    assert _sessions(client) == sessions_before


def test_status_and_note_are_audited_and_shown(client):
    lead_id = lead(client, ["olpe"])
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    token = csrf(client)
    r = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                            "status": "termin_vereinbart"})
    assert r.status_code == 303
    r = client.post(f"/partner/lead/{lead_id}/notiz", data={"csrf_token": token,
                                                           "note": "Besuch am 3. Mai"})
    assert r.status_code == 303
    bad = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                              "status": "geheim"})
    assert bad.status_code == 400 and 'class="error-summary"' in bad.text
    empty = client.post(f"/partner/lead/{lead_id}/notiz", data={"csrf_token": token, "note": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    log = sorted(rows_in(client, audit_log, audit_log.c.lead_id == lead_id), key=lambda x: x.id)
    assert [(x.actor, x.org, x.action) for x in log] == [
        ("staff@olpe.example.org", "olpe", "status"), ("staff@olpe.example.org", "olpe", "note")]
    assert log[0].detail == "neu → termin_vereinbart"
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Besuch am 3. Mai" in page
    assert "Stand geändert: neu → Gespräch oder Besuch vereinbart" in page
    assert "Notiz hinzugefügt" in page


def test_forgotten_password_by_mail_works_once(mail_client, smtp, smtp_settings):
    client = mail_client
    add_user(client, "olpe")
    login(client, "staff@olpe.example.org")
    assert _sessions(client) == 1
    token = csrf(client)
    known = client.post("/partner/passwort-vergessen",
                        data={"csrf_token": token, "email": "STAFF@olpe.example.org"})
    unknown = client.post("/partner/passwort-vergessen",
                          data={"csrf_token": token, "email": "niemand@olpe.example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert deliver(client, smtp_settings)["sent"] == 1
    queued = [(r.kind, r.recipient, r.org) for r in rows_in(client, outbox)]
    assert queued == [("password_reset", "staff@olpe.example.org", "olpe")]
    [mail] = smtp.to("staff@olpe.example.org")
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver(/partner/passwort-neu/\S+)", text).group(1)
    assert client.get(link).status_code == 200
    short = client.post(link, data={"csrf_token": token, "password": "kurz",
                                    "password_repeat": "kurz"})
    assert short.status_code == 400 and "mindestens 12 Zeichen" in short.text
    r = client.post(link, data={"csrf_token": token, "password": "ein-neues-langes-passwort",
                                "password_repeat": "ein-neues-langes-passwort"})
    assert r.status_code == 303 and "reset=1" in r.headers["location"]
    assert _sessions(client) == 0  # every session of the account ended
    assert client.get(link).status_code == 410  # used once
    assert login(client, "staff@olpe.example.org").status_code == 400
    assert login(client, "staff@olpe.example.org", "ein-neues-langes-passwort").status_code == 303


def test_reset_link_expires(client, monkeypatch):
    add_user(client, "olpe")
    svc = services(client)
    user = run(client, accounts.user_by_email, svc.db, "staff@olpe.example.org")
    token = accounts.reset_token(svc.settings.secret_key, user)
    assert client.get(f"/partner/passwort-neu/{token}").status_code == 200
    issued = time.time() - accounts.RESET_MAX_AGE - 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: issued)
    old = accounts.reset_token(svc.settings.secret_key, user)
    monkeypatch.undo()
    r = client.get(f"/partner/passwort-neu/{old}")
    assert r.status_code == 410 and "nicht mehr gültig" in r.text
    assert client.get("/partner/passwort-neu/erfunden.token").status_code == 410


def test_admin_resends_a_dead_letter(mail_client, smtp, smtp_settings):
    client = mail_client
    svc = services(client)
    msg = svc.mailer.build(to="willkommen@olpe.example.org", subject="Neue Familie",
                           text="Hallo")

    async def queue() -> int:
        async with svc.db.transaction() as conn:
            return await enqueue(conn, msg, kind="lead", org="olpe")

    dead_id = run(client, queue)
    smtp.fail_codes.append("550 5.1.1 mailbox unavailable")
    assert deliver(client, smtp_settings)["dead"] == 1
    add_user(client, "suedwestfalen-agentur", role="admin")
    login(client, "admin@suedwestfalen-agentur.example.org")
    page = client.get("/partner/postausgang")
    assert page.status_code == 200 and "550 5.1.1 mailbox unavailable" in page.text
    missing = client.post("/partner/postausgang", data={"outbox_id": str(dead_id)})
    assert missing.status_code == 400  # no CSRF token
    r = client.post("/partner/postausgang", data={"csrf_token": csrf(client),
                                                  "outbox_id": str(dead_id)})
    assert r.status_code == 303 and "requeued=1" in r.headers["location"]
    assert "1 E-Mail wurde erneut" in client.get(r.headers["location"]).text
    assert deliver(client, smtp_settings)["sent"] == 1
    assert [m["Subject"] for m in smtp.to("willkommen@olpe.example.org")] == ["Neue Familie"]
    assert count_in(client, audit_log, audit_log.c.action == "resend") == 1


def test_reset_mails_are_limited_per_account_and_per_address(client, settings):
    """Five reset mails an hour per account (on every instance, from any address) and
    five requests per address; the counters keep no address anyone typed."""
    add_user(client, "olpe")
    add_user(client, "wenden")
    second = create_app(settings, content=shipped_content())
    with TestClient(second, follow_redirects=False, client=("203.0.113.5", 4711)) as other:
        at_window_start(client, other, window=timedelta(hours=1))

        def ask(c: TestClient, email: str) -> None:
            r = c.post("/partner/passwort-vergessen", data={"csrf_token": csrf(c),
                                                            "email": email})
            assert r.status_code == 303  # the same answer, mailed or not
            assert r.headers["location"] == "/partner/passwort-vergessen?sent=1"

        def mails(email: str) -> int:
            return count_in(client, outbox, outbox.c.kind == "password_reset",
                            outbox.c.recipient == email)

        for c in (client, other):
            for _ in range(3):
                ask(c, "Staff@Olpe.example.org")
        assert mails("staff@olpe.example.org") == 5
        # the first address asked four times so far: one more for another account works
        ask(client, "staff@wenden.example.org")
        assert mails("staff@wenden.example.org") == 1
        ask(client, "niemand@example.org")  # the fifth; unknown accounts count the same
        ask(client, "staff@wenden.example.org")  # the sixth from this address
        assert mails("staff@wenden.example.org") == 1
        ask(other, "staff@wenden.example.org")  # the other address has room left
        assert mails("staff@wenden.example.org") == 2
    keys = [r.key for r in rows_in(client, rate_counts)]
    assert keys and not any("example.org" in k or "@" in k for k in keys)


def test_reset_mail_is_a_proper_message(client):
    add_user(client, "olpe")
    client.post("/partner/passwort-vergessen",
                data={"csrf_token": csrf(client), "email": "staff@olpe.example.org"})
    assert deliver(client)["sent"] == 1  # the worker builds it
    [row] = rows_in(client, outbox)
    msg = message_from_bytes(row.message, policy=policy.default)
    assert msg["Subject"] == "Neues Passwort für das Partnerportal"
    html = msg.get_body(("html",)).get_content()
    assert '<a href="http://testserver/partner/passwort-neu/' in html
