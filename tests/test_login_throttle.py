"""The portal's login throttle: counted before the hash, per account and per address,
a growing delay instead of a lock-out, lifted by a sign-in or a password reset."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from campaign.core import jobs
from campaign.core.clock import LOCAL_TZ
from campaign.core.db import Database
from campaign.core.schema import throttles
from campaign.portal import accounts
from campaign.web.app import create_app

from .support.app import count_in, rows_in, run, services, shipped_content
from .support.forms import csrf_of
from .support.live import LiveServer
from .support.portal import PASSWORD, add_user, csrf, login

THROTTLED = "Zu viele Anmeldeversuche. Bitte versuchen Sie es ab"
NEUTRAL = "E-Mail-Adresse oder Passwort ist nicht richtig."
WRONG = "falsch-falsch-falsch"
STAFF = "staff@olpe.example.org"
# The rules, written out here so that a changed constant fails the tests: five
# attempts for an account at once (twenty for an address), then waits that double
# from one minute up to a quarter of an hour.
FREE_PER_ACCOUNT, FREE_PER_ADDRESS = 5, 20
WAITS = [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]
# A moment whose minute has no seconds yet, so the named minute is easy to check.
START = datetime(2026, 7, 14, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The passwords whose hash was checked."""
    checked: list[str] = []
    real_verify = accounts.verify_password

    def counting(stored: str, password: str) -> bool:
        checked.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return checked


def shown_time(page: str) -> str:
    match = re.search(r"Bitte versuchen Sie es ab (\d\d:\d\d) Uhr wieder", page)
    assert match, page[:500]
    return match.group(1)


def local_minute(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def test_failures_make_the_account_wait_a_growing_delay(client, counted):
    """Five failures are free; then each checked attempt must wait 1, 2, 4, 8, 15, 15
    minutes; the refusal names the minute (German, the portal's language) and
    sends Retry-After; nothing is checked while waiting, not even the right password."""
    add_user(client, "olpe")
    clock = services(client).clock
    now = clock.stop(START)
    for _ in range(FREE_PER_ACCOUNT):
        r = login(client, STAFF, WRONG)
        assert r.status_code == 400 and NEUTRAL in r.text
    for wait in WAITS:
        until = now + wait
        r = login(client, STAFF)  # the right password, but too early
        assert r.status_code == 429 and THROTTLED in r.text
        assert 'class="error-summary"' in r.text and 'aria-invalid="true"' in r.text
        assert r.headers["retry-after"] == str(int(wait.total_seconds()))
        assert shown_time(r.text) == local_minute(until + timedelta(seconds=30))  # rounded up
        assert "session=" not in r.headers.get("set-cookie", "")
        clock.advance(wait - timedelta(seconds=1))
        late = login(client, STAFF)
        assert late.status_code == 429 and late.headers["retry-after"] == "1"
        clock.advance(timedelta(seconds=1))
        now = clock.now()
        checked_before = len(counted)
        r = login(client, STAFF, WRONG)  # the wait is over: checked (and wrong again)
        assert r.status_code == 400 and NEUTRAL in r.text
        assert len(counted) == checked_before + 1
    assert counted.count(PASSWORD) == 0  # the right one never reached the hash
    # the wait never grows past a quarter of an hour; then the right password signs in
    clock.advance(WAITS[-1])
    assert login(client, STAFF).status_code == 303


def test_a_sign_in_clears_the_account_and_quiet_starts_afresh(client):
    add_user(client, "olpe")
    clock = services(client).clock
    clock.stop(START)
    for _ in range(FREE_PER_ACCOUNT - 1):
        assert login(client, STAFF, WRONG).status_code == 400
    assert login(client, STAFF).status_code == 303  # clears the four failures
    client.cookies.clear()
    for _ in range(FREE_PER_ACCOUNT):
        assert login(client, STAFF, WRONG).status_code == 400
    assert login(client, STAFF, WRONG).status_code == 429
    # an hour of quiet after the wait: five free attempts again (no growing wait)
    clock.advance(WAITS[0] + timedelta(hours=1))
    for _ in range(FREE_PER_ACCOUNT):
        assert login(client, STAFF, WRONG).status_code == 400
    assert login(client, STAFF, WRONG).status_code == 429


def test_attempts_of_others_cannot_lock_the_owner_out(client, settings):
    """Refused attempts do not count: hammering during the wait does not lengthen it,
    unknown accounts are throttled alike, other accounts are not affected, and the
    owner signs in through a reset link at once (the reset lifts the throttle)."""
    add_user(client, "olpe")
    add_user(client, "wenden")
    clock = services(client).clock
    now = clock.stop(START)
    second = create_app(settings, content=shipped_content())
    with TestClient(second, follow_redirects=False, client=("203.0.113.5", 4711)) as other:
        services(other).clock.stop(START)
        for _ in range(FREE_PER_ACCOUNT):
            assert login(other, STAFF, WRONG).status_code == 400
        for _ in range(30):  # from another address and another instance, during the wait
            r = login(other, " Staff@Olpe.example.org ", WRONG)
            assert r.status_code == 429 and r.headers["retry-after"] == "60"
            assert login(client, STAFF).status_code == 429
        [row] = rows_in(client, throttles, throttles.c.key.like("login-acct:%"))
        assert (row.count, row.not_before) == (FREE_PER_ACCOUNT, now + WAITS[0])
        for _ in range(FREE_PER_ACCOUNT):  # unknown accounts: the same answers
            assert login(other, "geist@olpe.example.org", WRONG).status_code == 400
        assert login(other, "geist@olpe.example.org", WRONG).status_code == 429
    assert login(client, "staff@wenden.example.org").status_code == 303
    client.cookies.clear()
    # the owner does not wait: a reset link (mailed to the account) lifts the throttle
    svc = services(client)
    user = run(client, accounts.user_by_email, svc.db, STAFF)
    link = f"/partner/passwort-neu/{accounts.reset_token(svc.settings.secret_key, user)}"
    new = "ein-neues-langes-passwort"
    r = client.post(link, data={"csrf_token": csrf(client), "password": new,
                                "password_repeat": new})
    assert r.status_code == 303
    assert count_in(client, throttles, throttles.c.key == accounts._account_key(STAFF)) == 0
    assert login(client, STAFF, new).status_code == 303


def test_an_address_waits_after_twenty_failures_but_sign_ins_are_free(client, counted):
    """Per client address: twenty failed attempts on any accounts, then the same growing
    wait; over it not even the hash is checked. Successful sign-ins do not count, so
    colleagues behind one office address never wait for each other."""
    add_user(client, "olpe")
    svc = services(client)
    now = svc.clock.stop(START)
    address = "198.51.100.7"

    def attempt(email: str, password: str, at: datetime = now, where: str = address
                ) -> accounts.LoginResult:
        return run(client, accounts.attempt_login, svc.db, email, password, where, at)  # type: ignore[no-any-return]

    for n in range(30):
        assert attempt(STAFF, PASSWORD).user is not None, n
    for n in range(FREE_PER_ADDRESS):  # distinct accounts: only the address adds up
        result = attempt(f"user{n}@example.org", WRONG)
        assert result.user is None and result.throttled_until is None
    assert len(counted) == 30 + FREE_PER_ADDRESS
    over = attempt(STAFF, PASSWORD)
    assert over.user is None and over.throttled_until == now + WAITS[0]
    assert len(counted) == 30 + FREE_PER_ADDRESS  # refused before the hash
    # another address is not affected, and the account itself is not throttled
    assert attempt(STAFF, PASSWORD, where="203.0.113.9").user is not None
    # after the wait this address is checked again
    assert attempt(STAFF, PASSWORD, at=now + WAITS[0]).user is not None


def test_parallel_attempts_cannot_slip_past_the_limit(settings, counted):
    """Forty attempts on one account sent at the same moment over real HTTP, each from
    its own client address (behind a trusted proxy): only five reach the hash."""
    proxy = (ipaddress.ip_network("127.0.0.1/32"),)
    with LiveServer(settings.with_(trusted_proxies=proxy)) as server:
        add_parallel_user(server)
        ready = threading.Barrier(40)
        answers: list[int] = []

        def one(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                token = csrf_of(http.get("/partner/login").text)
                ready.wait(timeout=60)
                r = http.post("/partner/login", data={
                    "csrf_token": token, "email": STAFF, "password": WRONG},
                    headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})
                answers.append(r.status_code)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert sorted(answers) == [400] * FREE_PER_ACCOUNT + [429] * (40 - FREE_PER_ACCOUNT)
    assert len(counted) == FREE_PER_ACCOUNT


def add_parallel_user(server: LiveServer) -> None:
    async def create() -> None:
        async with Database(server.settings.database) as db:
            await accounts.create_user(db, "olpe", STAFF, PASSWORD, now=START)

    asyncio.run(create())


def test_parallel_attempts_through_two_instances(client, settings, counted):
    """Forty attempts at once, half of them through a second instance's own
    connections: exactly five are let through to the hash."""
    add_user(client, "olpe")
    db = services(client).db

    async def at_once() -> list[accounts.LoginResult]:
        async with Database(settings.database) as other:
            return list(await asyncio.gather(*(
                accounts.attempt_login(db if n % 2 else other, STAFF, WRONG,
                                       f"192.0.2.{n}", START) for n in range(40))))

    results = run(client, at_once)
    assert sum(r.throttled_until is None for r in results) == FREE_PER_ACCOUNT
    assert all(r.throttled_until == START + WAITS[0] for r in results
               if r.throttled_until is not None)
    assert len(counted) == FREE_PER_ACCOUNT


def test_old_throttles_are_forgotten(client):
    svc = services(client)

    async def admit(key: str, at: datetime) -> None:
        async with svc.db.transaction() as conn:
            await jobs.admit(conn, key, accounts.ACCOUNT_THROTTLE, at)

    run(client, admit, "login-addr:old", START - timedelta(days=3))
    run(client, admit, "login-addr:new", START)
    assert run(client, jobs.forget_old_counts, svc.db, START) == 1
    assert [r.key for r in rows_in(client, throttles)] == ["login-addr:new"]
