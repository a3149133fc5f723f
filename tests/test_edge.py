"""The edges of every request: numbers in paths, HEAD like GET, the 404 page (the
requested path once, language links on this site only), clients that go away,
and the default base URL."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2 as httpx
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from campaign.core import i18n
from campaign.core.settings import Settings
from campaign.web.routes import IdConvertor

from .support.live import LiveServer, wait_until
from .support.pages import head
from .support.portal import AGENCY, add_user, login
from .support.portal_cases import lead

NOT_FOUND = {"de": "Diese Seite gibt es nicht", "nl": "Deze pagina bestaat niet",
             "en": "This page does not exist"}
# A value for every path parameter of the route table (ids are filled in by the test).
SAMPLES = {"district": "kreis-olpe", "municipality": "olpe", "quiz": "familie", "n": "1",
           "token": "abc", "slug": "olpe", "code": "abc", "kind": "svg"}
HREF = re.compile(r'\b(?:href|content)="([^"]*)"')


def _get_routes(client: TestClient) -> list[Route]:
    return [r for r in client.app.routes  # type: ignore[attr-defined]
            if isinstance(r, Route) and "GET" in (r.methods or ())]


def _path(route: Route, **values: str) -> str:
    path = route.path_format
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", values.get(name, SAMPLES.get(name, "1")))
    return path


# -- numbers in paths ----------------------------------------------------------------


def test_every_numeric_path_parameter_with_thousands_of_digits_is_a_404_page(client):
    numeric = [r for r in client.app.routes  # type: ignore[attr-defined]
               if isinstance(r, Route)
               and any(isinstance(c, IdConvertor) for c in r.param_convertors.values())]
    assert {r.name for r in numeric} >= {"quiz_question", "quiz_answer", "partner_lead",
                                         "partner_lead_status", "partner_lead_note"}
    login(client, add_user(client, AGENCY, role="admin"))  # past the portal's guard too
    digits = "9" * 5000  # past int()'s 4300-digit limit
    for route in numeric:
        path = _path(route, **{name: digits for name, c in route.param_convertors.items()
                               if isinstance(c, IdConvertor)})
        for lang in ("de", "nl", "en"):
            url = i18n.with_language(path, lang)
            for method in sorted(route.methods or ()):
                r = client.request(method, url, data={"csrf_token": "x"}
                                   if method == "POST" else None)
                assert r.status_code == 404, (method, url[:60], r.status_code)
                if method != "HEAD":  # the portal is German only: /nl/partner/… is German
                    shown = i18n.split_language(url)[0]
                    assert head(r.text).lang == shown and NOT_FOUND[shown] in r.text, url[:60]


# -- HEAD answers like GET ------------------------------------------------------------


def _cookie_names(response: httpx.Response) -> list[str]:
    return sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))


def test_every_get_page_answers_head_like_get(client):
    lead_id = lead(client, ["olpe"])
    quiz = client.get("/quiz/familie")
    client.post("/quiz/familie", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', quiz.text).group(1)})  # a quiz under way
    anonymous = {"partner_login", "partner_forgot", "partner_reset"}
    checked = set()
    for signed_in in (False, True):
        if signed_in:
            login(client, add_user(client, AGENCY, role="admin"))
        for route in _get_routes(client):
            if signed_in == (route.name in anonymous) and route.path.startswith("/partner"):
                continue
            path = _path(route, lead_id=str(lead_id))
            jar = httpx.Cookies(client.cookies)
            h = client.head(path)
            client.cookies = httpx.Cookies(jar)
            g = client.get(path)
            client.cookies = jar
            assert h.status_code == g.status_code, (path, h.status_code, g.status_code)
            assert h.content == b"", path
            assert _cookie_names(h) == _cookie_names(g), path
            same = {k: v for k, v in g.headers.items() if k not in ("date", "set-cookie")}
            assert {k: v for k, v in h.headers.items() if k in same} == same, path
            assert set(h.headers) - {"date"} == set(g.headers) - {"date"}, path
            checked.add((route.name, g.status_code))
    assert ("partner_login", 200) in checked and ("partner_leads", 200) in checked
    assert ("partner_lead", 200) in checked and ("quiz_question", 200) in checked


# -- the 404 page ------------------------------------------------------------------------


def _offsite(html: str, page: str = "http://testserver/") -> list[str]:
    """Links and link-like meta values of ``page`` that a browser would take elsewhere."""
    bad = []
    for href in HREF.findall(html):
        if not href.startswith(("/", "http:", "https:", "//")) and "\\" not in href:
            continue  # a text meta value, a fragment
        href = href.replace("&amp;", "&")
        # browsers drop tabs and newlines and read a backslash as a slash
        normal = re.sub(r"[\t\n\r]", "", href).replace("\\", "/")
        if urlsplit(urljoin(page, normal)).netloc != urlsplit(page).netloc:
            bad.append(href)
    return bad


def test_a_404_page_shows_the_requested_path_once_escaped_and_shortened(client):
    r = client.get("/gibt-es-nicht/<b>Pfad-XYZ</b>")
    assert r.status_code == 404
    assert r.text.count("Pfad-XYZ") == 1
    assert "<b>Pfad-XYZ" not in r.text and "&lt;b&gt;Pfad-XYZ&lt;/b&gt;" in r.text
    long = client.get("/x" + "y" * 3000)
    assert long.status_code == 404 and "…" in long.text
    runs = re.findall("y{10,}", long.text)
    assert len(runs) == 1 and len(runs[0]) < 80
    dutch = client.get("/nl/bestaat-niet-XYZ")
    assert dutch.text.count("bestaat-niet-XYZ") == 1 and "/nl/bestaat-niet-XYZ" in dutch.text
    assert "Gezocht adres" in dutch.text and head(dutch.text).lang == "nl"
    # the language switch leads to the landing pages, no hreflang for a missing page
    page = head(dutch.text)
    assert page.switch == {"de": "/", "nl": "/nl/", "en": "/en/"} and page.alternates == {}


@pytest.mark.parametrize("path", [
    "//evil.example/x", "/%5Cevil.example/x", "/%09/evil.example/x", "/%0a/evil.example",
    "/nl//evil.example/x", "/en/%5C%5Cevil.example", "/partner//evil.example/x",
    "/quiz/familie//evil.example",
])
def test_language_links_never_lead_to_another_host(client, path):
    for accept in ("de", "nl", "en"):  # with and without the language hint
        r = client.get("http://testserver" + path, headers={"accept-language": accept})
        assert r.status_code == 404, path
        assert _offsite(r.text) == [], (path, accept)
        assert r.text.count("evil.example") == 1  # shown once, as text


def test_an_absolute_form_request_target_is_no_link_elsewhere(settings):
    """``GET http://evil.example/x HTTP/1.1`` reaches the app with that as its path."""
    with LiveServer(settings) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\n"
                         b"Accept-Language: nl\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    status, _, body = data.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 404")
    html = body.decode()
    assert _offsite(html, server.url + "/") == []
    assert html.count("evil.example") == 1  # shown once, as text


# -- a client that goes away ---------------------------------------------------------


def _post_routes(client: TestClient) -> list[Route]:
    return [r for r in client.app.routes  # type: ignore[attr-defined]
            if isinstance(r, Route) and "POST" in (r.methods or ())]


def test_a_client_gone_during_its_body_is_no_error_on_any_form(client, caplog):
    login(client, add_user(client, AGENCY, role="admin"))  # the portal's forms read it too
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar).encode()
    caplog.set_level(logging.DEBUG, logger="campaign")

    async def post_then_vanish(path: str) -> list[dict[str, Any]]:
        events = [{"type": "http.request", "body": b"email=a%40b.example&na", "more_body": True},
                  {"type": "http.disconnect"}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return events.pop(0) if events else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "root_path": "", "query_string": b"", "client": ("203.0.113.5", 5000),
                 "server": ("testserver", 80), "state": {},
                 "headers": [(b"host", b"testserver"), (b"cookie", cookie),
                             (b"content-type", b"application/x-www-form-urlencoded"),
                             (b"content-length", b"5000")]}
        await client.app(scope, receive, send)  # type: ignore[attr-defined]
        return sent

    for route in _post_routes(client):
        path = _path(route, lead_id="1")
        sent = client.portal.call(post_then_vanish, path)  # type: ignore[union-attr]
        statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
        assert 500 not in statuses, (path, statuses)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("client went away" in r.getMessage() for r in caplog.records)


def test_a_client_gone_during_its_body_is_logged_at_debug_level_on_a_real_server(
        settings, caplog):
    caplog.set_level(logging.DEBUG, logger="campaign")
    server_log = logging.getLogger("uvicorn.error")
    with LiveServer(settings) as server:
        server_log.addHandler(caplog.handler)  # uvicorn's loggers do not propagate
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(b"POST /interesse HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n\r\nname=")
            wait_until(lambda: [r for r in caplog.records if r.levelno >= logging.ERROR
                                or "client went away" in r.getMessage()])
        finally:
            server_log.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    [gone] = [r for r in caplog.records if "client went away" in r.getMessage()]
    assert gone.levelno == logging.DEBUG and gone.exc_info is None


# -- the default base URL ------------------------------------------------------------------


def test_the_default_base_url_follows_host_and_port():
    env = {"CAMPAIGN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).base_url == "http://127.0.0.1:8000"
    moved = Settings.from_env({**env, "CAMPAIGN_HOST": "10.1.2.3", "CAMPAIGN_PORT": "8123"})
    assert moved.base_url == "http://10.1.2.3:8123"
    given = Settings.from_env({**env, "CAMPAIGN_PORT": "8123",
                               "CAMPAIGN_BASE_URL": "https://kampagne.example.org/"})
    assert given.base_url == "https://kampagne.example.org" and given.https
