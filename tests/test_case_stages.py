"""Stages of a lead in the portal, on both databases: allowed and refused changes
over HTTP, the history with person and time, logged calls, and what another
organisation may not do."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from campaign.core import migrate
from campaign.core.db import Database
from campaign.core.schema import audit_log, lead_history, lead_recipients, leads, users
from campaign.portal import figures
from campaign.portal.cases import Viewer

from .support.app import rows_in, run, services
from .support.casework import act, clerk, history_of, sign_in
from .support.pages import empty_database
from .support.portal import AGENCY
from .support.portal_cases import lead, status_of


def test_allowed_changes_are_saved_with_person_and_time_in_the_history(client):
    lead_id = lead(client, ["olpe"])
    token = sign_in(client, clerk(client, "olpe", "Anna Beispiel"))
    svc = services(client)
    # 23:30 in Berlin on a June evening is 21:30 UTC: the page must show the Berlin time.
    june = svc.clock.stop(datetime(2026, 6, 30, 21, 30, tzinfo=UTC))
    steps = [("kontaktiert", ""), ("vor_ort", ""), ("termin_vereinbart", ""),
             ("geschlossen", "keine_antwort"), ("termin_vereinbart", "")]
    for stage, reason in steps:
        r = act(client, token, lead_id, "status", status=stage, reason=reason)
        assert r.status_code == 303, r.text[:500]
        assert r.headers["location"].endswith(f"/partner/lead/{lead_id}?saved=status")
    assert status_of(client, lead_id, "olpe") == "termin_vereinbart"
    history = history_of(client, lead_id)
    assert [(h.event, h.from_stage, h.to_stage, h.reason) for h in history] == [
        ("stage", "neu", "kontaktiert", None),
        ("stage", "kontaktiert", "vor_ort", None),
        ("stage", "vor_ort", "termin_vereinbart", None),  # back one step, to correct
        ("stage", "termin_vereinbart", "geschlossen", "keine_antwort"),
        ("stage", "geschlossen", "termin_vereinbart", None),  # reopened where it was closed
    ]
    assert {(h.org, h.actor, h.at) for h in history} == {("olpe", "Anna Beispiel", june)}
    assert all(h.user_id is not None for h in history)
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Stand geändert: termin_vereinbart" not in page  # labels, never codes
    assert "Stand geändert: Gespräch oder Besuch vereinbart → geschlossen (Grund: keine " \
           "Antwort)" in page
    assert "30.06.2026, 23:30" in page and "UTC" not in page
    assert page.count("Anna Beispiel") >= 5


def test_refused_changes_show_the_form_with_a_reason_and_change_nothing(client):
    lead_id = lead(client, ["olpe"], follow_up="umzug_geplant")
    token = sign_in(client, clerk(client, "olpe"))
    before = len(history_of(client, lead_id))
    cases = [
        ({"status": "kontaktiert"}, 409, "Zurück geht es nur um einen Stand (zur Korrektur), "
                                         "hier auf „vor Ort (Besuch oder Probewohnen)“."),
        ({"status": "umzug_geplant"}, 409, "Der Stand ist bereits „Umzug geplant“."),
        ({"status": "geschlossen"}, 400, "Bitte wählen Sie einen Grund für das Schließen."),
        ({"status": "geschlossen", "reason": "weil"}, 400,
         "Bitte wählen Sie einen Grund für das Schließen."),
        ({"status": "besuch_geplant"}, 400, "Bitte wählen Sie einen Stand aus der Liste."),
        ({"status": ""}, 400, "Bitte wählen Sie einen Stand aus der Liste."),
        ({"status": "zugezogen", "seen": "vor_ort"}, 409,
         "Der Stand wurde inzwischen geändert, er ist jetzt „Umzug geplant“."),
    ]
    for form, code, message in cases:
        r = act(client, token, lead_id, "status", **form)
        assert r.status_code == code, (form, r.status_code)
        assert 'class="error-summary"' in r.text and message in r.text, form
        assert f'action="/partner/lead/{lead_id}/status"' in r.text  # the form again
    assert status_of(client, lead_id, "olpe") == "umzug_geplant"
    assert len(history_of(client, lead_id)) == before
    # the stage a stale page showed is the one it still is: the change goes through
    assert act(client, token, lead_id, "status", status="zugezogen",
               seen="umzug_geplant").status_code == 303


def test_a_closed_lead_reopens_only_where_it_was_closed(client):
    lead_id = lead(client, ["olpe"], follow_up="vor_ort")
    token = sign_in(client, clerk(client, "olpe"))
    assert act(client, token, lead_id, "status", status="geschlossen",
               reason="anderer_ort").status_code == 303
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert (row.status, row.close_reason) == ("geschlossen", "anderer_ort")
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Wieder öffnen (Stand „vor Ort (Besuch oder Probewohnen)“)" in page
    assert "(Grund: anderen Ort gewählt)" in page
    r = act(client, token, lead_id, "status", status="neu")
    assert r.status_code == 409 and "wieder geöffnet" in r.text
    assert act(client, token, lead_id, "status", status="vor_ort").status_code == 303
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == lead_id)
    assert (row.status, row.close_reason) == ("vor_ort", None)


def test_a_logged_call_records_itself_in_the_history(client):
    lead_id = lead(client, ["olpe"], follow_up="kontaktiert")
    token = sign_in(client, clerk(client, "olpe", "Bernd Muster"))
    assert act(client, token, lead_id, "anruf", outcome="nicht_erreicht").status_code == 303
    r = act(client, token, lead_id, "anruf", outcome="vielleicht")
    assert r.status_code == 400 and "ob Sie die Familie erreicht haben" in r.text
    calls = [h for h in history_of(client, lead_id) if h.event == "call"]
    assert [(c.reason, c.from_stage, c.to_stage, c.actor) for c in calls] == [
        ("nicht_erreicht", "kontaktiert", "kontaktiert", "Bernd Muster")]
    page = client.get(f"/partner/lead/{lead_id}?saved=call").text
    assert "Der Anruf wurde festgehalten." in page and "Anruf: nicht erreicht" in page


def test_another_organisation_can_neither_move_nor_take_nor_call(client):
    theirs = lead(client, ["wenden"])
    ours = lead(client, ["olpe"])
    token = sign_in(client, clerk(client, "olpe", role="admin"))
    colleague = clerk(client, "olpe", "Carla Kollegin", email="carla@olpe.example.org")
    wenden_staff = clerk(client, "wenden", "Dora Wenden")
    for action, form in (("status", {"status": "kontaktiert"}), ("uebernehmen", {}),
                         ("anruf", {"outcome": "erreicht"}), ("zuweisen", {"assignee": "1"})):
        assert act(client, token, theirs, action, **form).status_code == 404, action
    assert status_of(client, theirs, "wenden") == "neu"
    assert history_of(client, theirs) == []
    # naming another organisation's row does not help a municipality
    assert act(client, token, theirs, "status", status="kontaktiert",
               org="wenden").status_code == 404
    # an admin of Olpe cannot give Olpe's lead to a person of Wenden
    [wenden_id] = [u.id for u in rows_in(client, users) if u.email == wenden_staff]
    r = act(client, token, ours, "zuweisen", assignee=str(wenden_id))
    assert r.status_code == 409 and "aktive Kollegin" in r.text
    # staff (not the organisation's admin) may not assign at all
    staff_token = sign_in(client, colleague)
    r = act(client, staff_token, ours, "zuweisen", assignee=str(wenden_id))
    assert r.status_code == 403
    [row] = rows_in(client, lead_recipients, lead_recipients.c.lead_id == ours)
    assert row.assignee_id is None


def test_the_agency_sees_every_organisations_stage_and_history(client):
    lead_id = lead(client, ["olpe", "sauerland-tourismus"], municipalities=("olpe",),
                   consents=("municipalities", "tourism"))
    token = sign_in(client, clerk(client, "olpe", "Anna Beispiel"))
    assert act(client, token, lead_id, "status", status="kontaktiert").status_code == 303
    token = sign_in(client, clerk(client, "sauerland-tourismus", "Tom Tourismus"))
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Anna Beispiel" not in page  # Olpe's work is Olpe's
    token = sign_in(client, clerk(client, AGENCY, "Agnes Agentur", role="admin"))
    page = client.get(f"/partner/lead/{lead_id}").text
    assert "Anna Beispiel" in page and "Stand: Sauerland" in page
    assert re.search(r"Aktueller Stand: <strong>kontaktiert</strong>", page)


def test_status_changes_stay_in_the_audit_log(client):
    lead_id = lead(client, ["olpe"])
    token = sign_in(client, clerk(client, "olpe"))
    assert act(client, token, lead_id, "status", status="zugezogen").status_code == 303
    log = [a for a in rows_in(client, audit_log, audit_log.c.lead_id == lead_id)
           if a.action == "status"]
    assert [a.detail for a in log] == ["neu → zugezogen"]


@pytest.fixture
def empty(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return empty_database(backend, tmp_path, request)


def test_the_migration_moves_follow_up_states_to_stages_and_keeps_their_history(empty):
    """A database of revision 0004 with the old states, upgraded: each state becomes
    its stage, and the audit log's status changes and notes become history rows."""
    at = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)

    async def go() -> tuple[list[str], list, list]:
        db = Database(empty)
        await db.open(migrate=False)
        try:
            async with db.transaction() as conn:
                await conn.run_sync(lambda c: command.upgrade(migrate.config(c), "0004"))
            async with db.transaction() as conn:
                lead_id = (await conn.execute(leads.insert().values(
                    public_id="alt", status="confirmed", created_at=at, child_ages=[],
                    consents=["municipalities"]).returning(leads.c.id))).scalar_one()
                await conn.execute(lead_recipients.insert(), [
                    {"lead_id": lead_id, "org": org, "reason": "municipality", "status": old,
                     "routed_at": at}
                    for org, old in (("olpe", "besuch_geplant"), ("wenden", "kein_interesse"),
                                     ("siegen", "kontaktiert"), ("brilon", "zugezogen"))])
                await conn.execute(audit_log.insert(), [
                    {"at": at, "actor": "a@olpe.example.org", "org": "olpe", "lead_id": lead_id,
                     "action": "status", "detail": "neu → besuch_geplant"},
                    {"at": at, "actor": "a@olpe.example.org", "org": "olpe", "lead_id": lead_id,
                     "action": "note", "detail": ""},
                    {"at": at, "actor": "w@wenden.example.org", "org": "wenden",
                     "lead_id": lead_id, "action": "status", "detail": "neu → kein_interesse"},
                    {"at": at, "actor": "a@olpe.example.org", "org": "olpe", "lead_id": None,
                     "action": "export", "detail": "1 rows {}"}])
            applied = await db.migrate()
            states = await db.all(sa.select(lead_recipients.c.org, lead_recipients.c.status,
                                            lead_recipients.c.close_reason,
                                            lead_recipients.c.assignee_id)
                                  .order_by(lead_recipients.c.org))
            history = await db.all(sa.select(lead_history).order_by(lead_history.c.id))
            return applied, [tuple(s) for s in states], history
        finally:
            await db.close()

    applied, states, history = asyncio.run(go())
    assert applied == ["0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012"]
    assert states == [("brilon", "zugezogen", None, None),
                      ("olpe", "termin_vereinbart", None, None),
                      ("siegen", "kontaktiert", None, None),
                      ("wenden", "geschlossen", "anderes", None)]
    assert [(h.org, h.event, h.from_stage, h.to_stage, h.actor, h.at) for h in history] == [
        ("olpe", "stage", "neu", "termin_vereinbart", "a@olpe.example.org", at),
        ("olpe", "note", None, None, "a@olpe.example.org", at),
        ("wenden", "stage", "neu", "geschlossen", "w@wenden.example.org", at)]


def test_families_still_here_after_a_year_count_as_moved_in_the_figures(client):
    for stage in ("zugezogen", "geblieben", "umzug_geplant", "geschlossen"):
        lead(client, ["olpe"], follow_up=stage)
    stats = run(client, figures.stats, services(client).db, Viewer("olpe", admin=False))
    assert stats.moved == 2
    assert stats.by_status == {"zugezogen": 1, "geblieben": 1, "umzug_geplant": 1,
                               "geschlossen": 1}
