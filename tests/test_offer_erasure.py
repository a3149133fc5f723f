"""An application to an offer is personal data like any lead: after an erasure by
the family or the retention purge, its name, address and phone are in no file of
the service, and the application itself (offer, dates, seat) is gone, its seat
passed on to the next family waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from campaign.core.schema import offer_requests
from campaign.core.settings import Settings
from campaign.leads import lifecycle
from campaign.leads.retention import months_before, purge
from campaign.web.app import create_app

from .support.app import all_leads, count_in, deliver, rows_in, run, services, shipped_content
from .support.files import mails_in, traces
from .support.forms import click, hidden_fields, link_in
from .support.offers import TRIAL, apply, pin_offers_clock, register_visits

NAME = "Wendelin Probewohner-Spurlos"
EMAIL = "wendelin.probe.0815@example.net"
PHONE = "02972 0815 4711"


@pytest.fixture(autouse=True)
def _offers_current(request: pytest.FixtureRequest) -> None:
    """These tests use the shipped offers: pin the service clock to a day they are valid."""
    for name in ("client", "mail_client"):
        if name in request.fixturenames:
            pin_offers_clock(request.getfixturevalue(name))


def _link(mail_dir: Path, kind: str) -> str:
    mails = [m for m in mails_in(mail_dir) if EMAIL in str(m["To"])]
    return next(link_in(m, kind) for m in reversed(mails)
                if f"/{kind}/" in m.get_body(("plain",)).get_content())


@pytest.mark.parametrize("how", ["self-service", "retention"])
def test_an_erased_application_leaves_no_trace_and_frees_its_seat(tmp_path, how):
    data = tmp_path / "data"
    settings = Settings(database=str(data / "campaign.sqlite3"), files_dir=data,
                        mail_dir=data / "mail", secret_key="test-secret-key-" + "x" * 32,
                        base_url="http://testserver", background=False, min_fill_seconds=0.0)
    with TestClient(create_app(settings, content=shipped_content()),
                    follow_redirects=False) as client:
        pin_offers_clock(client)
        svc = services(client)
        submitted = svc.clock.now()
        assert apply(client, TRIAL, name=NAME, email=EMAIL, phone=PHONE).status_code == 303
        deliver(client, now=svc.clock.now())
        assert click(client, _link(settings.mail_dir, "bestaetigen")).status_code == 200
        deliver(client, now=svc.clock.now())  # to Winterberg and Sauerland-Tourismus
        before = traces(data, [NAME, EMAIL, PHONE])
        assert set(before) == {NAME, EMAIL, PHONE}
        assert count_in(client, offer_requests) == 1

        if how == "self-service":
            path = _link(settings.mail_dir, "meine-daten")
            page = client.get(path)
            assert "Vier Wochen Winterberg" in page.text  # the family sees what it applied for
            form = {**hidden_fields(page.text), "action": "erase", "confirmed": "yes"}
            assert client.post(path, data=form).status_code == 303
        else:
            late = months_before(submitted, -24) + timedelta(days=1)
            assert run(client, purge, svc.db, settings, late)["anonymised"] == 1
        deliver(client, now=svc.clock.now())  # notices to the organisations
        assert [lead.status for lead in all_leads(client)] == [
            "erased" if how == "self-service" else "anonymised"]
        assert count_in(client, offer_requests) == 0
        assert traces(data, [NAME, EMAIL, PHONE]) == {}
    assert traces(data, [NAME, EMAIL, PHONE]) == {}


def test_an_erased_seat_goes_to_the_first_family_waiting(client):
    """Erasure (not only withdrawal) passes a visit-day seat on."""
    svc = services(client)
    seats = shipped_content().offers.by_slug["olpe-familienwochenende-biggesee"].seats
    for public_id in run(client, register_visits, svc, seats + 1):
        assert run(client, lifecycle.confirm, svc, public_id) == "confirmed"
    places = [r.place for r in rows_in(client, offer_requests)]
    assert places.count("seat") == seats and places.count("waiting") == 1
    first = all_leads(client)[0]
    assert run(client, lifecycle.erase, svc, first.public_id)
    assert [r.place for r in rows_in(client, offer_requests)] == ["seat"] * seats
