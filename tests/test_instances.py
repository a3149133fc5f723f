"""Several instances on one PostgreSQL database, as the agency runs the campaign.

Two instances start at the same moment against an empty database (the
migrations run once, under a lock); families submit through both; while the
mail server is down they confirm through both, one instance is SIGKILLed in the
middle and started again; afterwards every lead has reached each of its
recipients exactly once, and ``export-leads`` lists all of them.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from collections import Counter

import httpx2 as httpx

from .support.forms import click, hidden_fields, valid_data
from .support.instances import ROOT, Instance
from .support.live import wait_until
from .support.smtp import SMTPCatcher

FAMILIES = 40
RECIPIENTS = {"olpe", "attendorn", "sauerland-tourismus", "fachkraefte"}
CONFIRM = re.compile(r"http://campaign\.test(/bestaetigen/[A-Za-z0-9._-]+)")


def _env(database: str, smtp: SMTPCatcher, folder) -> dict[str, str]:
    return {
        "CAMPAIGN_DATABASE": database,
        "CAMPAIGN_SECRET_KEY": "instances-test-secret-" + "i" * 32,
        "CAMPAIGN_SMTP_URL": smtp.url + "?timeout=3",
        "CAMPAIGN_BASE_URL": "http://campaign.test",
        "CAMPAIGN_RATE_LIMIT_PER_HOUR": "1000",
        # retries from one second on, and never a dead letter in the minute of outage
        "CAMPAIGN_OUTBOX_RETRY_SECONDS": "1",
        "CAMPAIGN_OUTBOX_MAX_ATTEMPTS": "100",
        "CAMPAIGN_MAIL_DIR": str(folder / "mail"),
    }


def test_two_instances_share_one_postgresql_database(postgres, tmp_path):
    smtp = SMTPCatcher()
    smtp.start()
    database = postgres.new_database(migrated=False)
    env = _env(database, smtp, tmp_path)
    a, b = Instance(env, tmp_path, "a"), Instance(env, tmp_path, "b")
    try:
        a.start(), b.start()  # at the same moment, on an empty database
        a.wait_ready(), b.wait_ready()
        instances = [a, b]

        # 40 families fill in the form on one instance or the other …
        clients = [httpx.Client(base_url=instances[i % 2].url, follow_redirects=False,
                                timeout=30) for i in range(FAMILIES)]
        forms = [hidden_fields(c.get("/interesse").text) for c in clients]
        time.sleep(3.2)  # the form's minimum fill time
        for i, (client, hidden) in enumerate(zip(clients, forms)):
            r = client.post("/interesse", data={
                **hidden, **valid_data(email=f"familie{i}@example.org", name=f"Familie {i}")})
            assert r.status_code == 303, r.text[:500]
        wait_until(lambda: len(smtp.messages) >= FAMILIES, timeout=60)
        links = {}
        for msg in smtp.messages:
            text = msg.get_body(("plain",)).get_content()
            links[str(msg["To"])] = CONFIRM.search(text).group(1)
        assert len(links) == FAMILIES

        # … the mail server goes down, they confirm through both instances, and one
        # instance dies in the middle and comes back
        smtp.stop()
        for i, path in enumerate(sorted(links.values())):
            if i == FAMILIES // 2:
                b.kill()
                b.start()
                b.wait_ready()
            client = httpx.Client(base_url=instances[i % 2].url, timeout=30)
            assert click(client, path).status_code == 200
        time.sleep(2)  # both workers try, and fail, while the server is down
        smtp.start()

        def delivered() -> Counter[str]:
            ids = (str(m["Message-ID"]).strip() for m in smtp.messages)
            return Counter(i for i in ids if i.startswith("<lead."))

        try:
            wait_until(lambda: len(delivered()) >= FAMILIES * len(RECIPIENTS), timeout=180,
                       interval=0.5)
        except TimeoutError:
            state = subprocess.run([sys.executable, "-m", "campaign", "outbox"], cwd=ROOT,
                                   env={**a.env}, capture_output=True, text=True).stdout
            raise AssertionError(f"{len(delivered())} lead mails arrived; outbox:\n"
                                 + state[-4000:] + a.log()[-2000:] + b.log()[-2000:]) from None
        time.sleep(3)  # anything sent twice would arrive by now
        per_message = delivered()
        assert len(per_message) == FAMILIES * len(RECIPIENTS)
        assert set(per_message.values()) == {1}, "a lead mail was sent twice"
        orgs = Counter(mid.split(".")[2].split("@")[0] for mid in per_message)
        assert set(orgs) == RECIPIENTS and set(orgs.values()) == {FAMILIES}

        out = subprocess.run([sys.executable, "-m", "campaign", "export-leads", "--org",
                              "suedwestfalen-agentur"], cwd=ROOT, env={**a.env},
                             capture_output=True, text=True, check=True)
        rows = list(csv.reader(io.StringIO(out.stdout.lstrip("\ufeff")), delimiter=";"))
        name = rows[0].index("Name")
        names = {row[name] for row in rows[1:]}
        assert names == {f"Familie {i}" for i in range(FAMILIES)}
    finally:
        for instance in (a, b):
            instance.stop()
        smtp.stop()
