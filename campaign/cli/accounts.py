"""``create-user`` (a portal account) and ``export-leads`` (the portal's CSV).

``create-user --org SLUG --email E [--role staff|admin] [--name N]`` asks for a password
on a terminal (empty answer: generate one) and otherwise generates one and
prints it once. ``export-leads --org SLUG`` writes the same CSV the portal's
export button gives that organisation.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ..content import EMAIL_RE, load_content
from ..core.clock import utcnow
from ..core.settings import Settings
from ..portal import accounts, cases, profiles
from ..portal.export import leads_csv
from .common import opened, run


def user_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug from the content")
    p.add_argument("--email", required=True, help="login e-mail address")
    p.add_argument("--role", choices=accounts.ROLES, default="staff",
                   help="admin: the organisation's admin, who assigns its leads to "
                        "colleagues (the agency's admin also sees every lead)")
    p.add_argument("--name", default="",
                   help="the name families see once the person is their contact")


def _ask_password() -> str | None:
    """Password typed twice on a terminal; '' means generate; None when they differ."""
    first = getpass.getpass("Password (empty: generate one): ")
    if not first:
        return ""
    if getpass.getpass("Repeat password: ") != first:
        return None
    return first


def create_user(args: argparse.Namespace, settings: Settings) -> int:
    region = load_content(settings.content_dir).region
    org = region.organisations.get(args.org)
    if org is None:
        print(f"unknown organisation {args.org!r}; known: "
              + ", ".join(sorted(region.organisations)), file=sys.stderr)
        return 2
    name = profiles.clean(args.name)
    name_problem = profiles.problems(profiles.Profile(name, "", "")).get("display_name") \
        if name else None
    if name_problem:
        print(f"--name: {name_problem}", file=sys.stderr)
        return 2
    email = accounts.normalise_email(args.email)
    if not EMAIL_RE.match(email):
        print(f"not a valid e-mail address: {args.email!r}", file=sys.stderr)
        return 2
    password = _ask_password() if sys.stdin.isatty() else ""
    if password is None:
        print("the passwords differ; nothing created", file=sys.stderr)
        return 1
    generated = not password
    if generated:
        password = accounts.generate_password()
    problem = accounts.password_problem(password)
    if problem:
        print(f"{problem} (nothing created)", file=sys.stderr)
        return 1

    async def go() -> int:
        async with opened(settings) as db:
            user_id = await accounts.create_user(db, org.slug, email, password, args.role,
                                                 now=utcnow())
            if name:
                await profiles.set_name(db, user_id, name)
            return user_id

    try:
        user_id = run(go())
    except ValueError as exc:
        print(f"{exc}; nothing created", file=sys.stderr)
        return 1
    print(f"created {args.role} account #{user_id} {email} for {org.slug} ({org.name})")
    if generated:
        print(f"password: {password}")
        print("(shown once; ask the person to change it via 'Passwort vergessen')")
    return 0


def export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug (the agency gets all leads)")
    p.add_argument("--out", help="file to write (default: standard output)")
    for name in ("status", "municipality", "date-from", "date-to", "interest", "source"):
        p.add_argument(f"--{name}", default="", help=f"filter by {name.replace('-', ' ')}")
    p.add_argument("--search", default="", help="part of name or e-mail, or a lead number")


def export_leads(args: argparse.Namespace, settings: Settings) -> int:
    content = load_content(settings.content_dir)
    region = content.region
    org = region.organisations.get(args.org)
    if org is None:
        print(f"unknown organisation {args.org!r}", file=sys.stderr)
        return 2
    params = {"status": args.status, "municipality": args.municipality,
              "date_from": args.date_from, "date_to": args.date_to,
              "interest": args.interest, "source": args.source, "q": args.search}
    filters, errors = cases.parse_filters(params, region.municipalities)
    if errors:
        for name, message in errors.items():
            flag = "search" if name == "q" else name.replace("_", "-")
            print(f"--{flag}: {message}", file=sys.stderr)
        return 2
    viewer = cases.Viewer(org.slug, admin=org.kind == "agency")

    async def go() -> list[cases.Case]:
        async with opened(settings) as db:
            return await cases.export_leads(db, viewer, filters)

    rows = run(go())
    data = leads_csv(rows, content).encode("utf-8")
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"{len(rows)} leads written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
