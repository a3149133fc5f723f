"""Settings from CAMPAIGN_* environment variables, with laptop-safe defaults."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .. import PACKAGE_DIR
from .files import private_dir

DEFAULT_DATABASE = "var/campaign.sqlite3"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(RuntimeError):
    """Raised when the configuration cannot be used safely."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: Mapping[str, str], name: str, default: float, kind: type = int) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)  # type: ignore[no-any-return]
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from exc


def is_postgres(database: str | Path) -> bool:
    return str(database).startswith(("postgresql:", "postgres:", "postgresql+asyncpg:"))


def sqlite_path(database: str | Path) -> Path | None:
    """The SQLite file of a ``CAMPAIGN_DATABASE`` value, or None for PostgreSQL."""
    if is_postgres(database):
        return None
    text = str(database)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///"):])
    return Path(text)


@dataclass(frozen=True)
class Settings:
    # A file path or sqlite:///path (SQLite), or postgresql://user:pw@host:port/name.
    database: str | Path = DEFAULT_DATABASE
    db_pool_size: int = 5
    db_statement_timeout: float = 15.0  # seconds, PostgreSQL only
    secret_key: str = ""
    smtp_url: str = ""
    mail_from: str = "Südwestfalen Agentur <kampagne@suedwestfalen.example.org>"
    mail_dir: Path = Path("var/mail")
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    production: bool = False
    content_dir: Path = PACKAGE_DIR / "content"
    # Background work started in the lifespan (outbox worker, periodic jobs).
    # Tests that drive the worker themselves switch it off.
    background: bool = True
    outbox_interval: float = 2.0
    # Retries back off 1 min, 2, 4 … up to 6 h: 12 attempts ride out about a day of
    # SMTP outage before a mail becomes a (visible, re-sendable) dead letter.
    outbox_max_attempts: int = 12
    outbox_retry_seconds: float = 60.0  # the first retry; each further one waits twice as long
    lead_retention_months: int = 24
    pending_retention_days: int = 7
    max_body_bytes: int = 256 * 1024
    rate_limit_per_hour: int = 20
    min_fill_seconds: float = 3.0
    share_ttl_days: int = 90
    # Reverse proxies whose X-Forwarded-For names the client (addresses or networks).
    trusted_proxies: tuple[Network, ...] = ()
    # Seconds a connection may take to send a whole request head (uvicorn_run.py).
    head_timeout: float = 10.0
    # Webhooks may reach loopback and private addresses (tests, on-premise systems).
    webhook_allow_private: bool = False

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    # Where files of the service live (dev secret, mail folder, share images):
    # by default the SQLite file's folder, or ./var beside a PostgreSQL database.
    files_dir: Path | None = None

    @property
    def data_dir(self) -> Path:
        if self.files_dir is not None:
            return Path(self.files_dir)
        path = sqlite_path(self.database)
        return path.parent if path is not None else Path("var")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        database = env.get("CAMPAIGN_DATABASE") or DEFAULT_DATABASE
        files = env.get("CAMPAIGN_DATA_DIR")
        data_dir = Settings(database=database, files_dir=Path(files) if files else None).data_dir
        production = _bool(env.get("CAMPAIGN_PRODUCTION"), False)
        secret = env.get("CAMPAIGN_SECRET_KEY", "")
        if not secret:
            if production:
                raise SettingsError(
                    "CAMPAIGN_PRODUCTION is on but CAMPAIGN_SECRET_KEY is not set: "
                    "refusing to start with a generated key."
                )
            secret = dev_secret(data_dir)
        elif production and len(secret) < 32:
            raise SettingsError("CAMPAIGN_SECRET_KEY must be at least 32 characters in production.")
        host = env.get("CAMPAIGN_HOST") or cls.host
        port = int(_number(env, "CAMPAIGN_PORT", cls.port))
        content_dir = env.get("CAMPAIGN_CONTENT_DIR")
        head_timeout = _number(env, "CAMPAIGN_HEAD_TIMEOUT", cls.head_timeout, float)
        if head_timeout <= 0:
            raise SettingsError("CAMPAIGN_HEAD_TIMEOUT must be a positive number of seconds.")
        return cls(
            database=database,
            files_dir=data_dir,
            db_pool_size=int(_number(env, "CAMPAIGN_DB_POOL_SIZE", cls.db_pool_size)),
            db_statement_timeout=_number(env, "CAMPAIGN_DB_STATEMENT_TIMEOUT",
                                         cls.db_statement_timeout, float),
            secret_key=secret,
            smtp_url=env.get("CAMPAIGN_SMTP_URL", ""),
            mail_from=env.get("CAMPAIGN_MAIL_FROM") or cls.mail_from,
            mail_dir=Path(env.get("CAMPAIGN_MAIL_DIR") or data_dir / "mail"),
            # Links in mails must reach the port the service listens on.
            base_url=(env.get("CAMPAIGN_BASE_URL") or f"http://{host}:{port}").rstrip("/"),
            host=host,
            port=port,
            production=production,
            content_dir=Path(content_dir) if content_dir else cls.content_dir,
            background=_bool(env.get("CAMPAIGN_BACKGROUND"), True),
            outbox_max_attempts=int(_number(env, "CAMPAIGN_OUTBOX_MAX_ATTEMPTS",
                                            cls.outbox_max_attempts)),
            outbox_retry_seconds=_number(env, "CAMPAIGN_OUTBOX_RETRY_SECONDS",
                                         cls.outbox_retry_seconds, float),
            lead_retention_months=int(_number(env, "CAMPAIGN_LEAD_RETENTION_MONTHS",
                                              cls.lead_retention_months)),
            rate_limit_per_hour=int(_number(env, "CAMPAIGN_RATE_LIMIT_PER_HOUR",
                                            cls.rate_limit_per_hour)),
            share_ttl_days=int(_number(env, "CAMPAIGN_SHARE_TTL_DAYS", cls.share_ttl_days)),
            trusted_proxies=_networks(env.get("CAMPAIGN_TRUSTED_PROXIES", "")),
            head_timeout=head_timeout,
            webhook_allow_private=_bool(env.get("CAMPAIGN_WEBHOOK_ALLOW_PRIVATE"), False),
        )


def _networks(text: str) -> tuple[Network, ...]:
    """CAMPAIGN_TRUSTED_PROXIES: comma-separated addresses or networks (CIDR)."""
    out: list[Network] = []
    for part in text.split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise SettingsError(f"CAMPAIGN_TRUSTED_PROXIES: {exc}") from exc
    return tuple(out)


def dev_secret(folder: Path) -> str:
    """Create a secret once per laptop so sessions survive restarts in development;
    readable by the service's user only."""
    private_dir(folder)
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
