"""``uvicorn_run.py`` as production starts it: a subprocess configured by CAMPAIGN_*
variables, optionally under a given open-file limit (the common 1,024, say)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self

from .smtp import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def raise_own_file_limit() -> int:
    """Raise this (test) process's soft open-file limit to its hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def get(url: str, timeout: float = 15.0) -> tuple[int, bytes]:
    """A plain GET; any status comes back (no exception for 4xx/5xx)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


class ServiceProcess:
    """``with ServiceProcess(folder, open_files=(1024, 4096)) as svc: svc.url`` — the
    service with a SQLite file in ``folder``, stopped on exit."""

    def __init__(self, folder: Path, open_files: tuple[int, int] | None = None,
                 **env: str) -> None:
        self.port = free_port()
        self.open_files = open_files
        self.env = {
            "PATH": "/usr/bin:/bin",
            "CAMPAIGN_DATABASE": str(folder / "campaign.sqlite3"),
            "CAMPAIGN_SECRET_KEY": "service-test-secret-" + "s" * 32,
            "CAMPAIGN_PORT": str(self.port),
            "CAMPAIGN_BACKGROUND": "0",
            **env,
        }
        self.log = folder / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _limit(self) -> None:
        """Runs in the child before uvicorn_run.py starts."""
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, self.open_files)

    def __enter__(self) -> Self:
        with self.log.open("wb") as log:  # a file, not a pipe nobody drains
            self.proc = subprocess.Popen(
                [sys.executable, "uvicorn_run.py"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=self._limit if self.open_files else None)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("service exited: " + self.log.read_text())
            try:
                get(self.url + "/healthz", timeout=2)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
