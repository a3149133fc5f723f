"""The rendered-page memo serves exactly what a fresh render would, and only safe pages."""

from __future__ import annotations

from starlette.testclient import TestClient

from campaign.app import create_app

from .conftest import shipped_content


def test_memo_serves_the_same_page_as_a_fresh_render(client, settings):
    first = client.get("/orte/winterberg")
    second = client.get("/orte/winterberg")
    assert first.status_code == second.status_code == 200
    assert second.text == first.text
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["content-security-policy"]  # middleware still applies
    assert ("de", "/orte/winterberg", None) in client.app.state.page_memo
    fresh_app = create_app(settings, content=shipped_content())
    with TestClient(fresh_app) as fresh:
        assert fresh.get("/orte/winterberg").text == first.text


def test_memo_keeps_languages_and_language_hint_apart(client):
    german = client.get("/orte/olpe").text
    dutch = client.get("/nl/orte/olpe").text
    assert '<html lang="nl">' in dutch and '<html lang="de">' in german
    assert client.get("/orte/olpe").text == german
    hinted = client.get("/orte/olpe", headers={"accept-language": "nl-NL,nl;q=0.9"}).text
    plain = client.get("/orte/olpe", headers={"accept-language": "de-DE"}).text
    assert hinted != plain
    assert client.get("/orte/olpe", headers={"accept-language": "de"}).text == plain


def test_pages_with_a_query_or_errors_are_not_kept(client):
    client.get("/orte/soest?utm_source=plakat")
    client.get("/orte/atlantis")
    keys = {k[1] for k in client.app.state.page_memo}
    assert "/orte/soest" not in keys and "/orte/atlantis" not in keys
    assert client.get("/orte/atlantis").status_code == 404


def test_memo_ignores_pages_with_forms(client):
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from campaign.pagecache import shared_page

    calls = []

    @shared_page
    async def with_form(request):
        calls.append(1)
        return HTMLResponse('<form><input type="hidden" name="csrf_token" value="a"></form>')

    scope = {"type": "http", "method": "GET", "path": "/form", "campaign_path": "/form",
             "query_string": b"", "headers": [], "app": client.app, "state": {},
             "scheme": "http", "server": ("testserver", 80)}
    for _ in range(2):
        client.portal.call(with_form, Request(scope))
    assert len(calls) == 2
