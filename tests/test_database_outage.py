"""The database goes away (a PostgreSQL restart): pages that need it answer 503 in
the visitor's language, nothing is half written, and the service recovers by
itself when the database is back, without a restart of its own."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from campaign.core.settings import Settings
from campaign.web.app import create_app

from .support.app import all_leads, shipped_content
from .support.forms import hidden_fields, valid_data


def _first_choice(html: str) -> str:
    found = re.search(r'name="answer" value="([^"]+)"', html)
    assert found, "the question offers answers"
    return found.group(1)


def test_a_postgresql_restart_gives_503_pages_and_the_service_recovers(postgres, tmp_path):
    settings = Settings(database=postgres.new_database(), secret_key="outage-" + "o" * 40,
                        mail_dir=tmp_path / "mail", base_url="http://testserver",
                        background=False, min_fill_seconds=0.0)
    with TestClient(create_app(settings, content=shipped_content()),
                    follow_redirects=False) as client:
        page = client.get("/nl/interesse")
        form = {**hidden_fields(page.text), **valid_data()}
        assert client.post("/nl/interesse", data=form).status_code == 303
        assert len(all_leads(client)) == 1
        start = client.get("/nl/quiz/familie")
        assert client.post("/nl/quiz/familie", data=hidden_fields(start.text)).status_code == 303
        question = client.get("/nl/quiz/familie/frage/1")
        answer = {**hidden_fields(question.text), "answer": _first_choice(question.text)}
        postgres.stop_server()
        try:
            down = client.post("/nl/interesse", data={**form, "adults": "1"})
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert 'lang="nl"' in down.text and "Traceback" not in down.text
            # the quiz needs no database: an answer moves on, its funnel count is lost
            moved = client.post("/nl/quiz/familie/frage/1", data=answer)
            assert moved.status_code == 303, moved.text[:300]
            assert client.get(moved.headers["location"]).status_code == 200
            german = client.get("/partner/login")  # pages without the database still work
            assert german.status_code == 200
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "error"
        finally:
            postgres.start_server()
        # back without restarting the app: the pool drops its dead connections
        assert client.get("/healthz").status_code == 200
        again = client.post("/nl/interesse", data={**form, "adults": "3"})
        assert again.status_code == 303
        leads = all_leads(client)
        assert [lead.adults for lead in leads] == [2, 3]  # the refused one left nothing
