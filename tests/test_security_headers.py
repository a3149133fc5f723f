"""Security headers on every kind of response, HSTS only on https, body size limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from campaign.web.app import create_app

from .support.app import shipped_content
from .support.forms import csrf_of
from .support.live import LiveServer

LIMIT = 4096


def _policy(header: str) -> dict[str, list[str]]:
    """CSP header → {directive: [sources]}."""
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def assert_secure(headers, https: bool = False) -> None:
    csp = _policy(headers["content-security-policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None, "no script policy"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and not any(s.startswith(("http:", "https:")) for s in scripts)
    assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin",
                                          "same-origin", "strict-origin")
    if https:
        hsts = headers["strict-transport-security"]
        assert int(hsts.split("max-age=")[1].split(";")[0]) >= 15552000  # ≥ 180 days
    else:
        assert "strict-transport-security" not in headers


def _post_path(app) -> str:
    """A form route without path parameters: its handler reads the body."""
    for route in app.routes:
        if (isinstance(route, Route) and "POST" in (route.methods or ())
                and not route.param_convertors):
            return route.path
    pytest.fail("no POST route without path parameters is mounted")


@pytest.fixture
def limited_client(settings) -> Iterator[TestClient]:
    app = create_app(settings.with_(max_body_bytes=LIMIT), content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        yield c


KINDS = [
    ("GET", "/", 200),                       # HTML page
    ("GET", "/en/orte/winterberg", 200),     # page in another language
    ("GET", "/static/css/site.css", 200),    # static file
    ("GET", "/static/img/logo.svg", 200),
    ("GET", "/static/nix.css", 404),         # missing static file
    ("GET", "/orte/atlantis", 404),          # 404 page
    ("GET", "/orte/winterberg/", 307),       # redirect
    ("GET", "/healthz", 200),                # JSON
    ("DELETE", "/", 405),                    # method not allowed
]


@pytest.mark.parametrize("method, path, status", KINDS, ids=[f"{m} {p}" for m, p, _ in KINDS])
def test_every_kind_of_response_carries_the_headers(client, method, path, status):
    r = client.request(method, path)
    assert r.status_code == status
    assert_secure(r.headers)


def test_413_for_a_declared_length_over_the_limit_has_the_headers(limited_client):
    r = limited_client.post("/", content=b"x" * (LIMIT + 1),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert_secure(r.headers)


def _chunks() -> Iterator[bytes]:
    """About 10 KB in pieces: no Content-Length, so only reading finds the size."""
    for _ in range(10):
        yield b"a=" + b"x" * 1000 + b"&"


def test_413_for_a_streamed_body_without_length(limited_client):
    path = _post_path(limited_client.app)
    r = limited_client.post(path, content=_chunks(),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert_secure(r.headers)


def test_body_just_under_the_limit_is_not_refused(limited_client):
    path = _post_path(limited_client.app)
    r = limited_client.post(path, content=b"a=" + b"x" * (LIMIT - 100),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code != 413 and r.status_code < 500


def test_hsts_only_when_the_base_url_is_https(settings):
    app = create_app(settings.with_(base_url="https://kampagne.example.org"),
                     content=shipped_content())
    with TestClient(app, follow_redirects=False) as c:
        for method, path, status in KINDS:
            r = c.request(method, path)
            assert r.status_code == status, path
            assert_secure(r.headers, https=True)
        # cookies get Secure on https, too
        cookies = c.get(_post_path(app)).headers.get_list("set-cookie")
        assert cookies
        for header in cookies:
            assert "Secure" in header and "HttpOnly" in header


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_real_server_refuses_a_chunked_body_over_the_limit(settings):
    with LiveServer(settings.with_(max_body_bytes=LIMIT)) as live:
        path = _post_path(live.app)
        chunk = b"x" * 1024
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
        head = (f"POST {path} HTTP/1.1\r\nHost: {live.host}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        reply = _raw(live.port, head + body)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b"frame-ancestors 'none'" in reply
        # and the server is still fine afterwards
        status, headers, _ = live.get("/healthz")
        assert status == 200
        assert_secure({k.lower(): v for k, v in headers.items()})


def test_a_server_error_page_carries_the_headers_too(settings):
    """Starlette answers a 500 outside its middleware; the edge goes around that."""
    app = create_app(settings, content=shipped_content())

    async def broken(request):
        raise RuntimeError("a bug in a view")

    app.router.routes.append(Route("/kaputt", broken))
    with TestClient(app, raise_server_exceptions=False) as c:
        for path, title in (("/kaputt", "Da ist etwas schiefgelaufen"),
                            ("/en/kaputt", "Something went wrong")):
            r = c.get(path)
            assert r.status_code == 500
            assert title in r.text
            assert_secure(r.headers)


def test_a_streamed_body_over_the_limit_gets_a_page_in_the_page_language(limited_client):
    path = _post_path(limited_client.app)
    r = limited_client.post("/en" + path, content=_chunks(),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert 'lang="en"' in r.text and "too large" in r.text.lower()
    assert_secure(r.headers)


def test_the_csrf_cookie_comes_with_a_page_that_has_a_form(client):
    """Only a page with a form issues the cookie (strictly necessary, HttpOnly,
    SameSite); the visitor keeps it, and with it the same token on every form."""
    assert "csrftoken=" not in client.get("/orte/olpe").headers.get("set-cookie", "")
    first = client.get("/interesse")
    cookie = first.headers.get("set-cookie", "")
    assert cookie.startswith("csrftoken=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # http: a Secure cookie would never come back
    again = client.get("/interesse")
    assert "csrftoken=" not in again.headers.get("set-cookie", "")  # kept, not renewed
    assert csrf_of(again.text) == csrf_of(first.text) == csrf_of(
        client.get("/quiz/familie").text)
    with TestClient(client.app, follow_redirects=False) as other:
        assert csrf_of(other.get("/interesse").text) != csrf_of(first.text)
