"""Helpers of the delivery tests: a plain Mailer, mails queued straight into the
outbox, the outbox as stored, the command line, and the family of the lead-mail tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
from starlette.testclient import TestClient

from campaign.core.schema import outbox
from campaign.core.settings import Settings
from campaign.delivery.message import Mailer, address
from campaign.delivery.outbox import enqueue
from campaign.leads.records import Lead
from campaign.leads.services import Services

from .app import run, services
from .leads import store_lead

ROOT = Path(__file__).resolve().parent.parent.parent
MAIL_FROM = "Südwestfalen Agentur <kampagne@suedwestfalen.example.org>"

# A Dutch family choosing three towns and work in care: six organisations get the lead.
DE_VRIES: dict[str, Any] = {
    "language": "nl", "name": "Familie de Vries", "email": "jan@example.nl",
    "phone": "+31 6 1234 5678", "message": "Wir kommen im Mai.",
    "adults": 2, "children": 2, "child_ages": ("3-5", "6-9"),
    "interests": ("medizin_pflege", "natur"), "timeframe": "within_year",
    "municipalities": ("winterberg", "olpe", "siegen"),
    "consents": ("municipalities", "tourism", "skilled_workers"), "quiz": "familie",
    "outcome": [{"slug": "winterberg", "score": 12, "reasons": ["Wintersport vor Ort"]}],
}
DE_VRIES_ORGS = ["winterberg", "olpe", "siegen", "sauerland-tourismus", "tvsw", "fachkraefte"]


def plain_mailer(base_url: str = "http://testserver") -> Mailer:
    """A Mailer without templates, for building messages directly."""
    return Mailer(jinja2.Environment(autoescape=True), base_url, MAIL_FROM)


async def queue_mails(svc: Services, count: int, *, kind: str = "lead") -> list[int]:
    """``count`` mails to different recipients, queued in one transaction."""
    async with svc.db.transaction() as conn:
        return [await enqueue(conn, svc.mailer.build(
            to=address(f"stelle{i}@example.org", f"Stelle {i}"), subject=f"Mail {i}",
            text=f"Nachricht {i}\n"), kind=kind) for i in range(count)]


def queue_mails_in(client: TestClient, count: int, **kwargs: Any) -> list[int]:
    return run(client, queue_mails, services(client), count, **kwargs)  # type: ignore[no-any-return]


async def outbox_rows(svc: Services) -> list[Any]:
    """Every outbox row, oldest first."""
    return list(await svc.db.all(sa.select(outbox).order_by(outbox.c.id)))


def outbox_in(client: TestClient) -> list[Any]:
    return run(client, outbox_rows, services(client))  # type: ignore[no-any-return]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "CAMPAIGN_DATABASE": str(settings.database),
            "CAMPAIGN_SECRET_KEY": settings.secret_key, "CAMPAIGN_MAIL_DIR": str(settings.mail_dir),
            **extra}


def cli(settings: Settings, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``python -m campaign …`` in a process of its own, on the test's database."""
    return subprocess.run([sys.executable, "-m", "campaign", *args], cwd=ROOT,
                          env=cli_env(settings, **extra_env), check=False, capture_output=True,
                          text=True, timeout=120)


async def de_vries(svc: Services, **changes: Any) -> Lead:
    """The Dutch family, submitted and confirmed through the lead workflow:
    a confirmation request, one lead mail per organisation, the self-service mail."""
    return await store_lead(svc, **{**DE_VRIES, **changes})


def de_vries_in(client: TestClient, **changes: Any) -> Lead:
    return run(client, de_vries, services(client), **changes)  # type: ignore[no-any-return]
