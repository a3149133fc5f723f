"""A throwaway PostgreSQL cluster for the test session: ``initdb`` and ``pg_ctl`` in a
temporary folder, on a free loopback port, as the ``postgres`` user when the tests
run as root (PostgreSQL refuses to run as root). Each test gets its own database,
copied from a migrated template."""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .smtp import free_port

TEMPLATE = "campaign_template"


def _bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresCluster:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("the PostgreSQL tests need Debian's postgresql package "
                               "(apt-get install postgresql; .ci/run does it)")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="campaign-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self._names = itertools.count(1)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, check=True, capture_output=True, text=True, user=self.user,
                              cwd=self.folder)

    def start(self) -> None:
        if self.user:
            shutil.chown(self.folder, self.user)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        self.start_server()
        self.sql(f"CREATE DATABASE {TEMPLATE}")
        asyncio.run(self._migrate_template())

    async def _migrate_template(self) -> None:
        from campaign.core.db import Database

        db = Database(self.url(TEMPLATE))
        await db.open()
        await db.close()

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                  "restart")

    def stop_server(self) -> None:
        """Stop the server but keep its data (a restart, a failover)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=300")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "log"), "-w", "start")

    def sql(self, statement: str, database: str = "postgres") -> str:
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                              "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", statement],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def new_database(self, migrated: bool = True) -> str:
        """A fresh database (a copy of the migrated template, or empty); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if migrated else ""))
        return self.url(name)
