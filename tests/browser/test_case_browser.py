"""A clerk works on a lead in a real browser on a phone: takes the family, moves its
stage (and meets a change a colleague made meanwhile), logs a call, fills in the
profile with a photo; then the family sees its contact on its own page and gets
the mail. Every page on the way is checked by axe (WCAG 2.1 AA) and for reflow."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from campaign.core.clock import utcnow
from campaign.core.templates import make_environment
from campaign.core.tokens import make_token
from campaign.leads.mails import SELF_SERVICE_PURPOSE
from campaign.portal import accounts, profiles
from campaign.web.app import build_services

from ..support.app import shipped_content
from ..support.leads import store_lead
from ..support.live import wait_until
from .conftest import PHONE, axe_violations, sideways_overflow

PASSWORD = "Sauerland-Willkommen-2026"
CLERK = "anna@olpe.example.org"
COLLEAGUE = "bernd@olpe.example.org"
FAMILY = {"name": "Familie Kontakt", "email": "kontakt-browser@example.com",
          "municipalities": ("olpe",), "consents": ("municipalities",)}


def _in_other_loop(coro_fn: Any) -> Any:
    """Playwright's sync API holds this thread's event loop: run on another thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result()


@pytest.fixture(scope="module")
def case(live) -> dict[str, Any]:
    """Two clerks of Olpe (Anna without a name yet) and a lead routed to Olpe."""
    async def make() -> dict[str, Any]:
        svc = build_services(live.settings, shipped_content(), make_environment())
        await svc.db.open()
        try:
            anna = await accounts.create_user(svc.db, "olpe", CLERK, PASSWORD, now=utcnow())
            await accounts.create_user(svc.db, "olpe", COLLEAGUE, PASSWORD, now=utcnow())
            user = await accounts.user_by_email(svc.db, COLLEAGUE)
            assert user is not None
            await profiles.save(svc.db, user, profiles.Profile("Bernd Muster", "", ""), utcnow())
            lead = await store_lead(svc, **FAMILY)
            return {"lead": lead.id, "public_id": lead.public_id, "anna": anna}
        finally:
            await svc.db.close()

    return _in_other_loop(make)  # type: ignore[no-any-return]


def _sign_in(page: Any, email: str) -> None:
    page.goto("/partner/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


def _click(page: Any, role: str, name: str) -> None:
    page.get_by_role(role, name=name).first.click()
    page.wait_for_load_state()


def test_a_clerk_takes_moves_and_names_herself_and_the_family_sees_her(
        session_factory, mail_server, live, case):
    problems: dict[str, list[str]] = {}

    def check(page: Any, step: str) -> None:
        found = axe_violations(page)
        if sideways_overflow(page) > 0:
            found.append(f"page wider than the phone by {sideways_overflow(page)}px")
        if found:
            problems[step] = found

    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    page = s.page
    lead_page = f"/partner/lead/{case['lead']}"
    _sign_in(page, CLERK)
    page.get_by_role("link", name=FAMILY["name"]).click()
    page.wait_for_load_state()
    check(page, "lead page, nobody assigned")
    # without a name in the profile, taking the family is refused with the reason
    _click(page, "button", "Ich übernehme diese Familie")
    assert "Bitte tragen Sie zuerst Ihren Namen" in page.locator(".error-summary").inner_text()
    check(page, "take refused")
    _click(page, "link", "Mein Profil")
    page.fill("#display_name", "")
    page.fill("#phone", "ruf an")
    _click(page, "button", "Profil speichern")
    assert page.locator(".error-summary li").count() == 2
    check(page, "profile with errors")
    page.fill("#display_name", "Anna Beispiel")
    page.fill("#job_title", "Willkommenslotsin")
    page.fill("#phone", "02761 94 12-0")
    page.fill("#photo_alt", "Anna Beispiel vor dem Rathaus")
    _click(page, "button", "Profil speichern")
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 90)).save(photo, "JPEG")
    page.set_input_files("#photo", files=[{"name": "anna.jpg", "mimeType": "image/jpeg",
                                            "buffer": photo.getvalue()}])
    _click(page, "button", "Foto hochladen")
    assert "Ihr Foto wurde gespeichert." in page.inner_text("main")
    assert page.evaluate("document.querySelector('img.contact-photo').naturalWidth") == 480
    check(page, "profile with photo")
    page.goto(lead_page)
    _click(page, "button", "Ich übernehme diese Familie")
    assert "Sie sind jetzt die Ansprechperson dieser Familie." in page.inner_text("main")
    assert "Anna Beispiel, Willkommenslotsin" in page.inner_text("main")
    page.select_option("#status", label="Umzug geplant")
    _click(page, "button", "Stand speichern")
    assert "Aktueller Stand: Umzug geplant" in page.inner_text("main")
    check(page, "lead page, assigned and moved")
    # a colleague moves the lead on while this page is open
    other = session_factory(**PHONE)
    _sign_in(other.page, COLLEAGUE)
    other.page.goto(lead_page)
    other.page.select_option("#status", label="zugezogen")
    _click(other.page, "button", "Stand speichern")
    page.select_option("#status", label="vor Ort (Besuch oder Probewohnen)")
    _click(page, "button", "Stand speichern")
    assert "Der Stand wurde inzwischen geändert, er ist jetzt „zugezogen“" in \
        page.locator(".error-summary").inner_text()
    assert "Aktueller Stand: zugezogen" in page.inner_text("main")
    check(page, "stage change refused")
    page.get_by_label("erreicht", exact=True).check()
    _click(page, "button", "Anruf festhalten")
    history = page.locator("#lead-table-history").locator("xpath=..").inner_text()
    for line in ("Ansprechperson: Anna Beispiel", "Stand geändert: neu → Umzug geplant",
                 "Stand geändert: Umzug geplant → zugezogen", "Anruf: erreicht"):
        assert line in history, line
    check(page, "lead page with history")
    # the family: its own page names the contact, with the photo and its text
    family = session_factory(bypass_csp=True, **PHONE)
    token = make_token(live.settings.secret_key, SELF_SERVICE_PURPOSE, case["public_id"])
    family.page.goto(f"/meine-daten/{token}")
    main = family.page.inner_text("main")
    assert "Ihre Ansprechperson" in main and "Anna Beispiel, Willkommenslotsin" in main
    assert "02761 94 12-0" in main and CLERK not in main
    img = family.page.get_by_role("img", name="Anna Beispiel vor dem Rathaus")
    assert img.evaluate("i => i.naturalWidth") == 480
    check(family.page, "self-service with contact")
    mail = wait_until(lambda: [m for m in mail_server.to(FAMILY["email"])
                               if "Ansprechperson" in str(m["Subject"])])
    assert "ab jetzt kümmert sich Anna Beispiel" in mail[0].get_body(("plain",)).get_content()
    assert s.foreign_requests() == [] and family.foreign_requests() == []
    assert problems == {}
