"""Latency at a constant rate of mixed family traffic: the service beside a plain Starlette app.

    python bench/mixed.py [--rate 200] [--duration 30] [--database sqlite|postgresql]

Both servers run as uvicorn subprocesses on loopback with the same settings. An
open-loop client sends requests at a fixed rate (a request is due at its slot
whether or not earlier ones have answered, so a stall of the server shows up in
the latencies instead of slowing the client down) in this mix, as families use
the site: the landing page, district and municipality pages, a quiz question, a
quiz answer (POST), the quiz outcome and the lead form: the mix the issue names
(landing, showcase, quiz, lead form). ``--submit-weight 5`` adds lead
submissions (POST) as 5 in 100 requests, 10 leads a second at the default rate:
far beyond the campaign's real rate of a few leads a day, printed as a separate
figure because each one syncs a commit to the disk. The plain app gets the same
paths and methods and answers every GET with a constant page and every POST
with 303. Latency is measured from each request's due time to its last byte;
the script prints p50/p90/p99/max for both and the ratio of the p99s (the issue
asks for at most 3×).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx2 as httpx
from common import (
    STAMP_FIELD,
    Client,
    fill_form,
    form_stamps,
    free_port,
    start_service,
    wait_ready,
)

SLUGS = ["olpe", "winterberg", "attendorn", "siegen", "soest", "lippstadt", "arnsberg",
         "meschede", "brilon", "iserlohn", "luedenscheid", "bad-berleburg"]
DISTRICTS = ["hochsauerlandkreis", "maerkischer-kreis", "kreis-olpe",
             "kreis-siegen-wittgenstein", "kreis-soest"]
# (kind, weight): what a few hundred families on their phones do per second
MIX = [("landing", 20), ("district", 8), ("municipality", 22), ("question", 14),
       ("answer", 12), ("outcome", 8), ("lead_form", 11), ("lead_submit", 0)]


def serve_baseline(port: int) -> None:
    """The yardstick: every GET a constant HTML page, every POST read and answered 303."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    body = "<!doctype html><title>baseline</title><p>" + "Südwestfalen " * 200

    async def any_path(request: Request) -> Response:
        if request.method == "POST":
            await request.body()
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(body)

    app = Starlette(routes=[Route("/{path:path}", any_path, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass
class Plan:
    """Prepared requests: cookies and form bodies taken from the real pages."""

    cookies: dict[str, str] = field(default_factory=dict)
    answer_body: str = ""
    lead_fields: list[tuple[str, str]] = field(default_factory=list)


def prepare(base: str) -> Plan:
    """Walk the site once as a family: a finished quiz, a form with a CSRF token."""
    c = Client(base)
    status, _, html = c.request("/quiz/familie")
    action, fields = fill_form(html)
    c.request(action, fields)
    n = 1
    answer = None
    while True:
        status, headers, html = c.request(f"/quiz/familie/frage/{n}")
        if status != 200:
            break
        action, fields = fill_form(html)
        if answer is None:
            answer = urllib.parse.urlencode(fields)
        status, headers, _ = c.request(action, fields)
        if "ergebnis" in headers.get("location", ""):
            break
        n += 1
    status, _, html = c.request("/interesse?orte=olpe")
    _, lead_fields = fill_form(html)
    time.sleep(3.2)  # the form's minimum fill time
    cookies = {cookie.name: cookie.value or "" for cookie in c.jar}
    return Plan(cookies, answer or "", lead_fields)


def request_for(kind: str, plan: Plan, rng: random.Random, serial: int
                ) -> tuple[str, str, str | None]:
    if kind == "landing":
        return "GET", "/", None
    if kind == "district":
        return "GET", f"/region/{rng.choice(DISTRICTS)}", None
    if kind == "municipality":
        return "GET", f"/orte/{rng.choice(SLUGS)}", None
    if kind == "question":
        return "GET", "/quiz/familie/frage/1", None
    if kind == "answer":
        return "POST", "/quiz/familie/frage/1", plan.answer_body
    if kind == "outcome":
        return "GET", "/quiz/familie/ergebnis", None
    if kind == "lead_form":
        return "GET", "/interesse", None
    stamp = form_stamps(1)[0]  # a form stamp counts for one lead: each family has its own
    fields = [(k, f"mixed{serial}.{v}" if k == "email" else stamp if k == STAMP_FIELD else v)
              for k, v in plan.lead_fields]
    return "POST", "/interesse", urllib.parse.urlencode(fields)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    bad: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=dict)


async def drive(base: str, plan: Plan, rate: float, duration: float, seed: int) -> Outcome:
    """Open loop: request i is due at start + i/rate; latency counts from its due time."""
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    out = Outcome()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=base, cookies=plan.cookies, limits=limits,
                                 timeout=30.0, follow_redirects=False) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2
        total = int(rate * duration)

        async def one(i: int, kind: str, due: float) -> None:
            method, path, body = request_for(kind, plan, rng, i)
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                r = await client.request(method, path, content=body,
                                         headers=headers if body is not None else None)
                ok = r.status_code in (200, 303)
            except Exception:
                ok = False
            ms = (loop.time() - due) * 1000
            out.latencies.append(ms)
            out.by_kind.setdefault(kind, []).append(ms)
            if not ok:
                out.bad += 1

        await asyncio.gather(*(one(i, rng.choice(kinds), start + i / rate)
                               for i in range(total)))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def line(name: str, o: Outcome) -> str:
    v = o.latencies
    return (f"{name:<22}{len(v):>8}{o.bad:>6}{pct(v, .5):>9.1f}{pct(v, .9):>9.1f}"
            f"{pct(v, .99):>9.1f}{max(v, default=0):>9.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=200.0, help="requests per second")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    p.add_argument("--database", default="", help="CAMPAIGN_DATABASE (default: a new SQLite)")
    p.add_argument("--rounds", type=int, default=2, help="runs of each server, alternating")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="an extra setting for the service (repeatable)")
    p.add_argument("--submit-weight", type=int, default=dict(MIX)["lead_submit"],
                   help=f"weight of lead submissions in the mix (of {sum(w for _, w in MIX)})")
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="campaign-mixed-"))
    base_port, port = free_port(), free_port()
    baseline = subprocess.Popen(
        [sys.executable, "-c", f"import mixed; mixed.serve_baseline({base_port})"],
        cwd=Path(__file__).parent)
    env = {"CAMPAIGN_RATE_LIMIT_PER_HOUR": "1000000000"}
    if args.database:
        env["CAMPAIGN_DATABASE"] = args.database
    env.update(item.split("=", 1) for item in args.env)
    MIX[:] = [(k, args.submit_weight if k == "lead_submit" else w) for k, w in MIX]
    service = start_service(folder, port, **env)
    try:
        wait_ready(f"http://127.0.0.1:{base_port}/", baseline)
        plan = prepare(f"http://127.0.0.1:{port}")
        results: dict[str, list[Outcome]] = {"baseline": [], "service": []}
        for r in range(args.rounds):
            for name, url in (("baseline", f"http://127.0.0.1:{base_port}"),
                              ("service", f"http://127.0.0.1:{port}")):
                results[name].append(asyncio.run(drive(url, plan, args.rate, args.duration,
                                                       seed=r)))
        print(f"\n{args.rate:.0f} requests/s for {args.duration:.0f} s, {args.rounds} round(s)"
              " each, latency from each request's due time (ms)\n")
        print(f"{'server':<22}{'requests':>8}{'bad':>6}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}")
        merged: dict[str, Outcome] = {}
        for name, runs in results.items():
            m = Outcome()
            for o in runs:
                m.latencies += o.latencies
                m.bad += o.bad
                for k, v in o.by_kind.items():
                    m.by_kind.setdefault(k, []).extend(v)
            merged[name] = m
            for i, o in enumerate(runs, 1):
                print(line(f"{name} round {i}", o))
        print()
        for name, m in merged.items():
            print(line(name, m))
        print("\nservice p99 by request kind (ms):")
        for kind, values in sorted(merged["service"].by_kind.items()):
            print(f"  {kind:<14}{pct(values, .5):>8.1f} p50 {pct(values, .99):>8.1f} p99")
        ratio = pct(merged["service"].latencies, .99) / max(
            0.001, pct(merged["baseline"].latencies, .99))
        verdict = "ok" if ratio <= 3 else "OVER"
        print(f"\np99 service / p99 baseline: {ratio:.2f}× ({verdict}: the target is ≤ 3×)")
    finally:
        for proc in (service, baseline):
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
