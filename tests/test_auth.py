"""Portal sign-in: neutral errors, lock-out, sessions, CSRF, password reset by mail."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

import pytest
from starlette.testclient import TestClient

from campaign import auth
from campaign.app import create_app
from campaign.mail.worker import deliver_once

from .conftest import shipped_content
from .test_partner_support import PASSWORD, add_lead, add_user, call, csrf, login, rows, sql

NEUTRAL = "E-Mail-Adresse oder Passwort ist nicht richtig."
LOCKED = "Anmeldung für 15 Minuten gesperrt"


def _sessions(client, app) -> int:
    return rows(client, app, "SELECT COUNT(*) AS n FROM sessions")[0]["n"]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, app):
    add_user(client, app, "olpe")
    wrong = login(client, "staff@olpe.example.org", "falsches-passwort-123")
    unknown = login(client, "niemand@olpe.example.org", "falsches-passwort-123")
    for r in (wrong, unknown):
        assert r.status_code == 400
        assert NEUTRAL in r.text
        assert 'class="error-summary"' in r.text and 'href="#email"' in r.text
        assert "session=" not in r.headers.get("set-cookie", "")
    assert _sessions(client, app) == 0
    assert client.get("/partner/").status_code == 303
    empty = client.post("/partner/login", data={"csrf_token": csrf(client)})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text


def test_unknown_user_costs_an_argon2_verify_too(client, app, monkeypatch):
    add_user(client, app, "olpe")
    real_hash = rows(client, app, "SELECT password_hash FROM users")[0]["password_hash"]
    verified: list[str] = []
    real_verify = auth.verify_password

    def counting(stored: str, password: str) -> bool:
        verified.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    result = call(client, auth.attempt_login, app.state.db, "niemand@example.org", "x", "a")
    assert result.user is None and len(verified) == 1
    # same algorithm and cost parameters as a real account's hash
    assert verified[0].split("$")[:4] == real_hash.split("$")[:4]
    assert verified[0] != real_hash


def test_login_sets_a_strict_session_cookie_and_logout_ends_it(client, app):
    add_user(client, app, "olpe")
    r = login(client, "staff@olpe.example.org")
    assert r.status_code == 303 and r.headers["location"] == "/partner/"
    cookies = r.headers.get_list("set-cookie")
    main = next(c for c in cookies if c.startswith("session=") and "Path=/partner;" in c)
    assert "HttpOnly" in main and "SameSite=lax" in main and "Secure" not in main
    assert _sessions(client, app) == 1
    stored = rows(client, app, "SELECT id_hash FROM sessions")[0]["id_hash"]
    assert stored not in main  # only a hash is stored
    assert client.get("/partner/").status_code == 200
    assert login(client, "staff@olpe.example.org").status_code == 303
    assert _sessions(client, app) == 1  # the earlier session ended with the new login
    old_cookie = client.cookies.get("session", path="/partner")
    r = client.post("/partner/logout", data={"csrf_token": csrf(client)})
    assert r.status_code == 303 and "out=1" in r.headers["location"]
    assert _sessions(client, app) == 0
    client.cookies.set("session", old_cookie, path="/partner")
    assert client.get("/partner/").status_code == 303


def test_secure_cookie_when_the_base_url_is_https(settings):
    app = create_app(settings.with_(base_url="https://kampagne.example.org"),
                     content=shipped_content())
    with TestClient(app, follow_redirects=False, base_url="https://testserver") as client:
        add_user(client, app, "olpe")
        r = login(client, "staff@olpe.example.org")
        assert r.status_code == 303
        assert all("Secure" in c for c in r.headers.get_list("set-cookie")
                   if c.startswith("session="))


def test_lock_out_after_five_failures_also_for_unknown_accounts(client, app):
    add_user(client, app, "olpe")
    for _ in range(4):
        assert login(client, "staff@olpe.example.org", "falsch-falsch-falsch").status_code == 400
    fifth = login(client, "staff@olpe.example.org", "falsch-falsch-falsch")
    assert fifth.status_code == 429 and LOCKED in fifth.text
    right = login(client, "staff@olpe.example.org")
    assert right.status_code == 429 and LOCKED in right.text
    assert _sessions(client, app) == 0
    for _ in range(5):
        ghost = login(client, "geist@olpe.example.org", "falsch-falsch-falsch")
    assert ghost.status_code == 429 and LOCKED in ghost.text
    # fifteen minutes later the right password works again
    later = time.time() + auth.LOCK_SECONDS + 1
    result = call(client, auth.attempt_login, app.state.db, "staff@olpe.example.org", PASSWORD,
                  "testclient", now=later)
    assert result.user is not None and result.user.org == "olpe"


def test_too_many_failures_from_one_address_block_it(client, app, monkeypatch):
    monkeypatch.setattr(auth, "ADDRESS_FAILURES", 4)  # the mechanism, at a cheaper size
    db = app.state.db
    for i in range(auth.ADDRESS_FAILURES):
        result = call(client, auth.attempt_login, db, f"user{i}@example.org", "x", "203.0.113.9")
        assert result.user is None and not result.address_blocked
    result = call(client, auth.attempt_login, db, "other@example.org", "x", "203.0.113.9")
    assert result.address_blocked
    other = call(client, auth.attempt_login, db, "other@example.org", "x", "198.51.100.1")
    assert not other.address_blocked


def test_expired_session_goes_to_the_login_with_a_message_and_changes_nothing(client, app):
    lead_id = add_lead(client, app, ["olpe"])
    add_user(client, app, "olpe")
    login(client, "staff@olpe.example.org")
    token = csrf(client)
    old = time.time() - auth.SESSION_IDLE_SECONDS - 5
    sql(client, app, "UPDATE sessions SET last_seen_ts = ?", (old,))
    r = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                            "status": "zugezogen"})
    assert r.status_code == 303 and r.headers["location"] == "/partner/login?expired=1"
    assert rows(client, app, "SELECT status FROM lead_recipients")[0]["status"] == "neu"
    assert _sessions(client, app) == 0
    page = client.get(r.headers["location"])
    assert "Ihre Sitzung ist abgelaufen" in page.text
    # the absolute limit holds even for a session in constant use
    login(client, "staff@olpe.example.org")
    sql(client, app, "UPDATE sessions SET created_ts = ?",
        (time.time() - auth.SESSION_MAX_SECONDS - 5,))
    assert client.get("/partner/").headers["location"] == "/partner/login?expired=1"


@pytest.mark.parametrize("path, data", [
    ("/partner/lead/{id}/status", {"status": "zugezogen"}),
    ("/partner/lead/{id}/notiz", {"note": "ohne Token"}),
    ("/partner/logout", {}),
    ("/partner/login", {"email": "staff@olpe.example.org", "password": PASSWORD}),
])
def test_posts_without_a_valid_csrf_token_are_refused(client, app, path, data):
    lead_id = add_lead(client, app, ["olpe"])
    add_user(client, app, "olpe")
    login(client, "staff@olpe.example.org")
    sessions_before = _sessions(client, app)
    for token in (None, "falsch"):
        body = dict(data, **({"csrf_token": token} if token else {}))
        r = client.post(path.format(id=lead_id), data=body)
        assert r.status_code == 400
        assert "Das Formular ist abgelaufen" in r.text
    assert rows(client, app, "SELECT status FROM lead_recipients")[0]["status"] == "neu"
    assert rows(client, app, "SELECT COUNT(*) AS n FROM lead_notes")[0]["n"] == 0
    assert _sessions(client, app) == sessions_before


def test_status_and_note_are_audited_and_shown(client, app):
    lead_id = add_lead(client, app, ["olpe"])
    add_user(client, app, "olpe")
    login(client, "staff@olpe.example.org")
    token = csrf(client)
    r = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                            "status": "besuch_geplant"})
    assert r.status_code == 303
    r = client.post(f"/partner/lead/{lead_id}/notiz", data={"csrf_token": token,
                                                           "note": "Besuch am 3. Mai"})
    assert r.status_code == 303
    bad = client.post(f"/partner/lead/{lead_id}/status", data={"csrf_token": token,
                                                              "status": "geheim"})
    assert bad.status_code == 400 and 'class="error-summary"' in bad.text
    empty = client.post(f"/partner/lead/{lead_id}/notiz", data={"csrf_token": token, "note": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    log = rows(client, app, "SELECT actor, org, action, detail FROM audit_log WHERE lead_id = ?"
               " ORDER BY id", (lead_id,))
    assert [(x["actor"], x["org"], x["action"]) for x in log] == [
        ("staff@olpe.example.org", "olpe", "status"), ("staff@olpe.example.org", "olpe", "note")]
    assert log[0]["detail"] == "neu → besuch_geplant"
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Besuch am 3. Mai" in page
    assert "Stand geändert: neu → Besuch geplant" in page
    assert "Notiz hinzugefügt" in page


def test_forgotten_password_by_mail_works_once(client, app, settings, smtp):
    add_user(client, app, "olpe")
    login(client, "staff@olpe.example.org")
    assert _sessions(client, app) == 1
    token = csrf(client)
    known = client.post("/partner/passwort-vergessen",
                        data={"csrf_token": token, "email": "STAFF@olpe.example.org"})
    unknown = client.post("/partner/passwort-vergessen",
                          data={"csrf_token": token, "email": "niemand@olpe.example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    outbox = rows(client, app, "SELECT kind, recipient, org FROM outbox")
    assert outbox == [{"kind": "password_reset", "recipient": "staff@olpe.example.org",
                       "org": "olpe"}]
    counts = call(client, deliver_once, app.state.db, settings.with_(smtp_url=smtp.url))
    assert counts["sent"] == 1
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
    assert _sessions(client, app) == 0  # every session of the account ended
    assert client.get(link).status_code == 410  # used once
    assert login(client, "staff@olpe.example.org").status_code == 400
    assert login(client, "staff@olpe.example.org", "ein-neues-langes-passwort").status_code == 303


def test_reset_link_expires(client, app, monkeypatch):
    add_user(client, app, "olpe")
    user = call(client, auth.user_by_email, app.state.db, "staff@olpe.example.org")
    token = auth.reset_token(app.state.settings.secret_key, user)
    assert client.get(f"/partner/passwort-neu/{token}").status_code == 200
    monkeypatch.setattr(auth, "RESET_MAX_AGE", -1)
    r = client.get(f"/partner/passwort-neu/{token}")
    assert r.status_code == 410 and "nicht mehr gültig" in r.text
    assert client.get("/partner/passwort-neu/erfunden.token").status_code == 410


def test_admin_resends_a_dead_letter(client, app, settings, smtp):
    from campaign.mail import mailer_for

    msg = mailer_for(app).build(to="willkommen@olpe.example.org", subject="Neue Familie",
                                text="Hallo")
    dead_id = sql(client, app, "INSERT INTO outbox (kind, org, recipient, message_id, message,"
                  " status, attempts, last_error, created_at) VALUES ('lead', 'olpe', ?, ?, ?,"
                  " 'dead', 8, '550 mailbox unavailable', '2026-11-01T00:00:00+00:00')",
                  ("willkommen@olpe.example.org", str(msg["Message-ID"]), msg.as_bytes()))
    add_user(client, app, "suedwestfalen-agentur", role="admin")
    login(client, "admin@suedwestfalen-agentur.example.org")
    page = client.get("/partner/postausgang")
    assert page.status_code == 200 and "550 mailbox unavailable" in page.text
    missing = client.post("/partner/postausgang", data={"outbox_id": str(dead_id)})
    assert missing.status_code == 400  # no CSRF token
    r = client.post("/partner/postausgang", data={"csrf_token": csrf(client),
                                                  "outbox_id": str(dead_id)})
    assert r.status_code == 303 and "requeued=1" in r.headers["location"]
    assert "1 E-Mail wurde erneut" in client.get(r.headers["location"]).text
    counts = call(client, deliver_once, app.state.db, settings.with_(smtp_url=smtp.url))
    assert counts["sent"] == 1
    assert [m["Subject"] for m in smtp.to("willkommen@olpe.example.org")] == ["Neue Familie"]
    assert rows(client, app, "SELECT action FROM audit_log WHERE action = 'resend'")


def test_reset_mail_is_a_proper_message(client, app):
    add_user(client, app, "olpe")
    client.post("/partner/passwort-vergessen",
                data={"csrf_token": csrf(client), "email": "staff@olpe.example.org"})
    [row] = rows(client, app, "SELECT message FROM outbox")
    msg = message_from_bytes(row["message"], policy=policy.default)
    assert msg["Subject"] == "Neues Passwort für das Partnerportal"
    html = msg.get_body(("html",)).get_content()
    assert '<a href="http://testserver/partner/passwort-neu/' in html
