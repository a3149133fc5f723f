"""Tracked print places: short codes for QR posters and cards, counted without cookies.

A place ("Ferienwohnung am See, Winterberg") has a code used in ``/q/{code}``;
a scan adds one to a daily counter for that place and redirects to the chosen
page with the campaign parameters, so the quiz and the lead form can carry the
place through to the lead (``leads.place_code``). Nothing about the visitor is
stored. SQL for places and the campaign figures lives here, in one place.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from starlette.routing import NoMatchFound

from .attribution import clean_attribution

TARGET_KINDS = ("landing", "quiz", "municipality", "lead_form")
MEDIA = ("qr", "print")
# No 0/o, 1/l/i: codes are typed off paper now and then.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6


@dataclass(frozen=True)
class Place:
    code: str
    label: str
    org: str
    target_kind: str
    target_slug: str
    utm_medium: str
    utm_campaign: str
    pitch: str
    created_at: str

    @property
    def attribution(self) -> dict[str, str]:
        """The parameters a scan hands on; the place's code is also its utm_source."""
        return clean_attribution({
            "utm_source": self.code, "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign, "place": self.code,
        })


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Codes are case-insensitive on paper; anything outside the alphabet is no code."""
    code = raw.strip().lower()
    return code if code and all(c in CODE_ALPHABET for c in code) else ""


def place_url(base_url: str, code: str) -> str:
    """The absolute URL printed into the QR code."""
    return f"{base_url.rstrip('/')}/q/{code}"


def target_url(place: Place, path_for: Callable[..., Any]) -> str:
    """Path of the place's target page with its campaign parameters.

    ``path_for`` is ``app.url_path_for``; a target that no longer exists (a
    feature not mounted) falls back to the landing page.
    """
    names = {"landing": ("landing", {}), "quiz": ("quiz_start", {"quiz": place.target_slug}),
             "municipality": ("municipality", {"municipality": place.target_slug}),
             "lead_form": ("lead_form", {})}
    name, params = names[place.target_kind]
    try:
        path = str(path_for(name, **params))
    except NoMatchFound:  # that feature is not mounted (yet)
        path = str(path_for("landing"))
    query: dict[str, str] = dict(place.attribution)
    if place.target_kind == "municipality" and name == "lead_form":
        query["orte"] = place.target_slug
    return path + "?" + urlencode(query)


def validate_place(label: str, target_kind: str, target_slug: str, medium: str,
                   campaign: str, pitch: str, quizzes: Mapping[str, Any],
                   municipalities: Mapping[str, Any]) -> dict[str, str]:
    """Field → error message for a new place; empty when it is fine (pure rule)."""
    from .i18n import gettext as _
    from .lead_rules import line_problem

    errors: dict[str, str] = {}
    if not label.strip():
        errors["label"] = _("Bitte geben Sie an, wo der Code hängt oder ausliegt.")
    elif line_problem([label]):  # printed on a card and shown in the portal: one clean line
        errors["label"] = line_problem([label]) or ""
    elif len(label) > 120:
        errors["label"] = _("Bitte höchstens 120 Zeichen.")
    if target_kind not in TARGET_KINDS:
        errors["target"] = _("Bitte wählen Sie eine Zielseite.")
    elif target_kind == "quiz" and target_slug not in quizzes:
        errors["target"] = _("Dieses Quiz gibt es nicht.")
    elif target_kind == "municipality" and target_slug not in municipalities:
        errors["target"] = _("Diesen Ort gibt es nicht.")
    if medium not in MEDIA:
        errors["medium"] = _("Bitte wählen Sie QR-Code oder Druck.")
    if not clean_attribution({"utm_campaign": campaign}):
        errors["campaign"] = _("Bitte geben Sie einen Kampagnennamen an "
                               "(Buchstaben, Ziffern, Bindestrich).")
    if line_problem([pitch]):
        errors["pitch"] = line_problem([pitch]) or ""
    elif len(pitch) > 140:
        errors["pitch"] = _("Bitte höchstens 140 Zeichen.")
    return errors


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _place(row: Any) -> Place:
    return Place(**{k: row[k] for k in Place.__dataclass_fields__})


# -- store ---------------------------------------------------------------------


async def create_place(db: Any, *, label: str, org: str, target_kind: str, target_slug: str = "",
                       medium: str = "qr", campaign: str, pitch: str = "",
                       created_by: str | None = None) -> Place:
    """Store a new place under a fresh code (retrying the rare collision)."""
    utm_campaign = clean_attribution({"utm_campaign": campaign})["utm_campaign"]
    slug = target_slug if target_kind in ("quiz", "municipality") else ""
    for _attempt in range(10):
        code = new_code()
        async with db.transaction() as tx:
            if await tx.fetchone("SELECT 1 FROM places WHERE code = ?", (code,)):
                continue
            await tx.execute(
                "INSERT INTO places (code, label, org, target_kind, target_slug, utm_medium,"
                " utm_campaign, pitch, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (code, label.strip(), org, target_kind, slug, medium, utm_campaign,
                 pitch.strip(), _now(), created_by))
        found = await get_place(db, code)
        assert found is not None
        return found
    raise RuntimeError("no free place code found")


async def get_place(db: Any, code: str) -> Place | None:
    row = await db.fetchone("SELECT * FROM places WHERE code = ?", (code,))
    return _place(row) if row else None


async def list_places(db: Any, org: str | None = None) -> list[Place]:
    """All places (agency) or those of one organisation, newest first."""
    if org is None:
        rows = await db.fetchall("SELECT * FROM places ORDER BY created_at DESC, code")
    else:
        rows = await db.fetchall(
            "SELECT * FROM places WHERE org = ? ORDER BY created_at DESC, code", (org,))
    return [_place(r) for r in rows]


async def count_scan(db: Any, code: str, day: date | None = None) -> None:
    """Add one scan for (place, day): an aggregate counter, nothing about the visitor."""
    await db.execute(
        "INSERT INTO place_scans (place_code, day, count) VALUES (?, ?, 1)"
        " ON CONFLICT (place_code, day) DO UPDATE SET count = count + 1",
        (code, (day or date.today()).isoformat()))


async def scans(db: Any, code: str) -> int:
    return int(await db.fetchval(
        "SELECT COALESCE(SUM(count), 0) FROM place_scans WHERE place_code = ?", (code,)))


async def count_visit(db: Any, attribution: Mapping[str, str], day: date | None = None) -> None:
    """Add one entry visit for a campaign channel (daily aggregate)."""
    await db.execute(
        "INSERT INTO channel_visits (day, utm_source, utm_medium, utm_campaign, count)"
        " VALUES (?, ?, ?, ?, 1) ON CONFLICT (day, utm_source, utm_medium, utm_campaign)"
        " DO UPDATE SET count = count + 1",
        ((day or date.today()).isoformat(), attribution.get("utm_source", ""),
         attribution.get("utm_medium", ""), attribution.get("utm_campaign", "")))


async def count_channel_visit(scope: Any) -> None:
    """Counts a GET page visit that arrives from outside with ``utm_*`` parameters.

    A visit counts once at entry: requests whose Referer is this site (moving on
    inside the site with the parameters kept) are not counted again, and QR
    scans are counted as scans, not here. No cookie, no address is kept.
    Called by the edge layer (campaign/edge.py) for GET requests with ``utm_``.
    """
    path = scope.get("path", "")
    if path.startswith(("/static", "/q/", "/partner", "/teilen/bild")):
        return
    state = getattr(scope.get("app"), "state", None)
    db, settings = getattr(state, "db", None), getattr(state, "settings", None)
    if db is None:
        return
    headers = dict(scope.get("headers") or [])
    referer = urlparse(headers.get(b"referer", b"").decode("latin-1")).netloc
    ours = {headers.get(b"host", b"").decode("latin-1"),
            urlparse(getattr(settings, "base_url", "")).netloc}
    if referer and referer in ours:
        return
    attribution = clean_attribution(dict(parse_qsl(scope["query_string"].decode("latin-1"))))
    if "utm_source" not in attribution or "place" in attribution:
        return
    try:
        await count_visit(db, attribution)
    except Exception:  # counting must never break a page
        logging.getLogger("campaign").exception("channel visit not counted")


# -- figures ---------------------------------------------------------------------

FIGURES = ("visits", "finished", "leads", "confirmed")
PRINT_MEDIA = ("qr", "print")


def _blank() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


async def place_figures(db: Any, codes: list[str]) -> dict[str, dict[str, int]]:
    """Scans (as visits), quizzes finished, leads and confirmed leads per place code."""
    out = {c: _blank() for c in codes}
    if not codes:
        return out
    marks = ",".join("?" * len(codes))
    for row in await db.fetchall(
            "SELECT place_code AS k, SUM(count) AS n FROM place_scans"
            f" WHERE place_code IN ({marks}) GROUP BY place_code", codes):
        out[row["k"]]["visits"] = row["n"]
    for row in await db.fetchall(
            "SELECT utm_source AS k, SUM(count) AS n FROM funnel_counts WHERE step = 'finished'"
            f" AND utm_medium IN ('qr', 'print') AND utm_source IN ({marks}) GROUP BY utm_source",
            codes):
        out[row["k"]]["finished"] = row["n"]
    for row in await db.fetchall(
            "SELECT place_code AS k, COUNT(*) AS n, SUM(confirmed_at IS NOT NULL) AS c FROM leads"
            f" WHERE place_code IN ({marks}) GROUP BY place_code", codes):
        out[row["k"]]["leads"], out[row["k"]]["confirmed"] = row["n"], row["c"] or 0
    return out


def channel_key(source: str | None, medium: str | None) -> tuple[str, str]:
    """(medium, source) of a channel; print places collapse into their medium."""
    medium, source = medium or "", source or ""
    if medium in PRINT_MEDIA:
        return medium, ""
    return medium, source


async def channel_figures(db: Any, org: str | None = None) -> list[tuple[tuple[str, str],
                                                                            dict[str, int]]]:
    """Figures per channel, sorted by visits. With ``org`` the lead columns count only
    leads routed to that organisation; visits and quiz figures are campaign-wide."""
    table: dict[tuple[str, str], dict[str, int]] = {}

    def add(source: Any, medium: Any, figure: str, n: Any) -> None:
        table.setdefault(channel_key(source, medium), _blank())[figure] += int(n or 0)

    for row in await db.fetchall("SELECT utm_source, utm_medium, SUM(count) AS n FROM"
                                 " channel_visits GROUP BY utm_source, utm_medium"):
        add(row["utm_source"], row["utm_medium"], "visits", row["n"])
    for row in await db.fetchall("SELECT p.utm_medium, SUM(s.count) AS n FROM place_scans s"
                                 " JOIN places p ON p.code = s.place_code GROUP BY p.utm_medium"):
        add("", row["utm_medium"], "visits", row["n"])
    for row in await db.fetchall("SELECT utm_source, utm_medium, SUM(count) AS n FROM funnel_counts"
                                 " WHERE step = 'finished' GROUP BY utm_source, utm_medium"):
        add(row["utm_source"], row["utm_medium"], "finished", row["n"])
    sql = ("SELECT l.utm_source, l.utm_medium, COUNT(*) AS n,"
           " SUM(l.confirmed_at IS NOT NULL) AS c FROM leads l")
    params: tuple[str, ...] = ()
    if org is not None:
        sql += " JOIN lead_recipients r ON r.lead_id = l.id AND r.org = ?"
        params = (org,)
    for row in await db.fetchall(sql + " GROUP BY l.utm_source, l.utm_medium", params):
        add(row["utm_source"], row["utm_medium"], "leads", row["n"])
        add(row["utm_source"], row["utm_medium"], "confirmed", row["c"])
    return sorted(table.items(), key=lambda kv: (-kv[1]["visits"], -kv[1]["leads"], kv[0]))
