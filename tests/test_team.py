"""The team page on both databases: an organisation's admin invites a colleague (an
inactive account, a set-password link that works once) and deactivates one (no
sign-in, sessions end, open leads unassigned in the history); nobody else may."""

from __future__ import annotations

from campaign.core.schema import lead_recipients, sessions, users

from .support.app import count_in, deliver, rows_in
from .support.casework import act, clerk, history_of, sign_in
from .support.forms import csrf_of
from .support.portal import PASSWORD, login
from .support.portal_cases import lead


def _invite(client, token: str, name: str = "Clara Neu", email: str = "clara@olpe.example.org"):
    return client.post("/partner/team/einladen",
                       data={"csrf_token": token, "name": name, "email": email})


def test_an_invited_colleague_sets_a_password_once_and_signs_in(mail_client, smtp):
    client = mail_client
    token = sign_in(client, clerk(client, "olpe", "Leitung Olpe", role="admin"))
    assert _invite(client, token).status_code == 303
    page = client.get("/partner/team").text
    assert "clara@olpe.example.org" in page and "eingeladen" in page
    assert login(client, "clara@olpe.example.org").status_code != 303  # not active yet
    deliver(client)
    [mail] = smtp.to("clara@olpe.example.org")
    text = mail.get_body(("plain",)).get_content()
    path = next(p for p in text.split() if "/partner/passwort-neu/" in p).replace(
        "http://testserver", "")
    form = client.get(path)
    assert form.status_code == 200
    new = {"csrf_token": csrf_of(form.text), "password": PASSWORD, "password_repeat": PASSWORD}
    assert client.post(path, data=new).status_code == 303
    assert client.get(path).status_code == 410  # works once
    assert login(client, "clara@olpe.example.org").status_code == 303
    assert _invite(client, csrf_of(client.get("/partner/login").text)).status_code == 403


def test_deactivation_ends_sessions_and_frees_open_leads(client):
    admin = clerk(client, "olpe", "Leitung Olpe", role="admin", email="chef@olpe.example.org")
    anna = clerk(client, "olpe", "Anna Beispiel", email="anna@olpe.example.org")
    lead_id = lead(client, ["olpe"])
    token = sign_in(client, anna)
    assert act(client, token, lead_id, "uebernehmen").status_code == 303
    [anna_row] = rows_in(client, users, users.c.email == anna)
    assert count_in(client, sessions, sessions.c.user_id == anna_row.id) == 1
    token = sign_in(client, admin)
    [admin_row] = rows_in(client, users, users.c.email == admin)
    own = client.post(f"/partner/team/{admin_row.id}/deaktivieren", data={"csrf_token": token})
    assert own.status_code == 400  # not oneself
    r = client.post(f"/partner/team/{anna_row.id}/deaktivieren", data={"csrf_token": token})
    assert r.status_code == 303
    assert count_in(client, sessions, sessions.c.user_id == anna_row.id) == 0
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert row.assignee_id is None
    assert [h.detail for h in history_of(client, lead_id) if h.event == "assign"] == [
        "Anna Beispiel", "niemand (Konto deaktiviert)"]
    assert "deaktiviert" in client.get("/partner/team").text
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Anna Beispiel</option>" not in page  # no longer offered for assignment
    assert login(client, anna).status_code != 303


def test_only_the_own_organisations_admin(client):
    staff = clerk(client, "olpe", "Anna Beispiel", email="anna@olpe.example.org")
    other = clerk(client, "attendorn", "Leitung Attendorn", role="admin",
                  email="chef@attendorn.example.org")
    [anna_row] = rows_in(client, users, users.c.email == staff)
    token = sign_in(client, staff)
    assert "/partner/team" not in client.get("/partner/").text  # no link for staff
    assert client.get("/partner/team").status_code == 403
    assert _invite(client, token).status_code == 403
    token = sign_in(client, other)
    assert 'href="/partner/team"' in client.get("/partner/").text  # the admin's menu
    r = client.post(f"/partner/team/{anna_row.id}/deaktivieren", data={"csrf_token": token})
    assert r.status_code == 404
    assert rows_in(client, users, users.c.email == staff)[0].active
    assert "anna@olpe.example.org" not in client.get("/partner/team").text
