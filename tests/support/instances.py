"""Instances of the service as separate processes (``uvicorn_run.py``), as production
runs them: several against one PostgreSQL database, killed and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


class Instance:
    def __init__(self, env: dict[str, str], folder: Path, name: str) -> None:
        self.port = free_port()
        self.folder, self.name = folder, name
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env,
                    "CAMPAIGN_PORT": str(self.port), "CAMPAIGN_HOST": "127.0.0.1"}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Instance:
        log = (self.folder / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "uvicorn_run.py")], cwd=ROOT,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready: {self.log()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a host dies."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.folder / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
