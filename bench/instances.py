"""Lead submissions and page requests per second: SQLite with one process, PostgreSQL
with one process, PostgreSQL with two processes, measured in one run.

    python bench/instances.py [--duration 10] [--connections 64]

Every variant is ``uvicorn_run.py`` with the outbox worker on (mails become
``.eml`` files). PostgreSQL is a throwaway server this script starts itself
(the one of the test suite, ``tests/support/postgres.py``; Debian's postgresql
package), with its default durability settings. ``wrk`` drives a showcase page
and valid lead submissions (unique bodies, a valid CSRF cookie and token, a
form started long enough ago); with two processes each gets its own wrk on half
the connections and their rates add up. A plain Starlette app under the same
wrk is the baseline printed beside them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import Client, free_port, start_service, wait_ready
from load import parse_wrk, post_script, prepare_lead, refresh_stamps

from tests.support.postgres import PostgresCluster


@dataclass
class Figures:
    name: str
    pages: float
    pages_p99: float
    leads: float
    leads_p99: float


def wrk(url: str, connections: int, duration: int, script: Path | None = None
        ) -> tuple[float, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
        refresh_stamps(script, 1)
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    result = parse_wrk("x", out)
    return result.rps, result.p99_ms


def together(urls: list[str], connections: int, duration: int,
             scripts: list[Path | None]) -> tuple[float, float]:
    """One wrk per process at the same time; rates add up, the worst p99 counts."""
    results: list[tuple[float, float]] = [(0.0, 0.0)] * len(urls)

    def run(i: int) -> None:
        results[i] = wrk(urls[i], connections // len(urls), duration, scripts[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(r for r, _ in results), max(p for _, p in results)


def measure(name: str, database: str | None, processes: int, args: argparse.Namespace,
            folder: Path) -> Figures:
    env = {"CAMPAIGN_RATE_LIMIT_PER_HOUR": "1000000000"}
    if database:
        env["CAMPAIGN_DATABASE"] = database
    ports = [free_port() for _ in range(processes)]
    procs = []
    try:
        for i, port in enumerate(ports):
            sub = folder / f"{name.replace(' ', '-')}-{i}"
            sub.mkdir(parents=True)
            procs.append(start_service(sub, port, **env, CAMPAIGN_DATA_DIR=str(sub)))
        scripts: list[Path | None] = []
        for i, port in enumerate(ports):
            url, fields, cookie, email_field = prepare_lead(
                Client(f"http://127.0.0.1:{port}"), 3.0)
            scripts.append(post_script(folder, f"{name}-{i}", fields, cookie, email_field))
        pages = together([f"http://127.0.0.1:{p}/orte/winterberg" for p in ports],
                         args.connections, args.duration, [None] * processes)
        leads = together([f"http://127.0.0.1:{p}/interesse" for p in ports],
                         args.connections, args.duration, scripts)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    return Figures(name, pages[0], pages[1], leads[0], leads[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="campaign-instances-"))
    port = free_port()
    baseline = subprocess.Popen([sys.executable, str(Path(__file__).parent / "load.py"),
                                 "--serve-baseline", str(port)])
    cluster = PostgresCluster()
    cluster.start()
    rows = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/", baseline)
        base = wrk(f"http://127.0.0.1:{port}/", args.connections, args.duration)
        rows.append(measure("SQLite, 1 process", None, 1, args, folder))
        rows.append(measure("PostgreSQL, 1 process", cluster.new_database(), 1, args, folder))
        rows.append(measure("PostgreSQL, 2 processes", cluster.new_database(), 2, args, folder))
    finally:
        baseline.terminate()
        cluster.stop()
    print(f"\nwrk, {args.connections} connections, {args.duration} s each; the page is a "
          "municipality showcase, the POST a valid lead submission (stored, mail queued)\n")
    print(f"{'variant':<26}{'pages/s':>9}{'p99 ms':>8}{'leads/s':>9}{'p99 ms':>8}")
    print(f"{'plain Starlette (baseline)':<26}{base[0]:>9.0f}{base[1]:>8.1f}{'':>9}{'':>8}")
    for r in rows:
        print(f"{r.name:<26}{r.pages:>9.0f}{r.pages_p99:>8.1f}{r.leads:>9.0f}{r.leads_p99:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
