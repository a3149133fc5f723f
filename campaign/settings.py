"""Settings from CAMPAIGN_* environment variables, with laptop-safe defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import PACKAGE_DIR


class SettingsError(RuntimeError):
    """Raised when the configuration cannot be used safely."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database: Path = Path("var/campaign.sqlite3")
    secret_key: str = ""
    smtp_url: str = ""
    mail_from: str = "Südwestfalen Agentur <kampagne@suedwestfalen.example.org>"
    mail_dir: Path = Path("var/mail")
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    production: bool = False
    content_dir: Path = PACKAGE_DIR / "content"
    # Background work started in the lifespan (outbox worker, daily purge).
    # Tests that drive the worker themselves switch it off.
    background: bool = True
    outbox_interval: float = 2.0
    # Retries back off 1 min, 2, 4 … up to 6 h: 12 attempts ride out about a day of
    # SMTP outage before a mail becomes a (visible, re-sendable) dead letter.
    outbox_max_attempts: int = 12
    lead_retention_months: int = 24
    pending_retention_days: int = 7
    max_body_bytes: int = 256 * 1024
    rate_limit_per_hour: int = 20
    min_fill_seconds: float = 3.0
    share_ttl_days: int = 90
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        database = Path(env.get("CAMPAIGN_DATABASE") or "var/campaign.sqlite3")
        production = _bool(env.get("CAMPAIGN_PRODUCTION"), False)
        secret = env.get("CAMPAIGN_SECRET_KEY", "")
        if not secret:
            if production:
                raise SettingsError(
                    "CAMPAIGN_PRODUCTION is on but CAMPAIGN_SECRET_KEY is not set: "
                    "refusing to start with a generated key."
                )
            secret = dev_secret(database.parent)
        elif production and len(secret) < 32:
            raise SettingsError("CAMPAIGN_SECRET_KEY must be at least 32 characters in production.")
        content_dir = env.get("CAMPAIGN_CONTENT_DIR")
        return cls(
            database=database,
            secret_key=secret,
            smtp_url=env.get("CAMPAIGN_SMTP_URL", ""),
            mail_from=env.get("CAMPAIGN_MAIL_FROM") or cls.mail_from,
            mail_dir=Path(env.get("CAMPAIGN_MAIL_DIR") or database.parent / "mail"),
            base_url=(env.get("CAMPAIGN_BASE_URL") or cls.base_url).rstrip("/"),
            host=env.get("CAMPAIGN_HOST") or cls.host,
            port=_int(env, "CAMPAIGN_PORT", cls.port),
            production=production,
            content_dir=Path(content_dir) if content_dir else cls.content_dir,
            background=_bool(env.get("CAMPAIGN_BACKGROUND"), True),
            outbox_max_attempts=_int(env, "CAMPAIGN_OUTBOX_MAX_ATTEMPTS", cls.outbox_max_attempts),
            lead_retention_months=_int(
                env, "CAMPAIGN_LEAD_RETENTION_MONTHS", cls.lead_retention_months
            ),
            rate_limit_per_hour=_int(env, "CAMPAIGN_RATE_LIMIT_PER_HOUR", cls.rate_limit_per_hour),
            share_ttl_days=_int(env, "CAMPAIGN_SHARE_TTL_DAYS", cls.share_ttl_days),
        )


def dev_secret(folder: Path) -> str:
    """Create a secret once per laptop so sessions survive restarts in development."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    try:
        path.chmod(0o600)
    except OSError:
        pass
    return key
