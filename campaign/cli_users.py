"""Portal accounts and lead export from the command line.

``create-user --org SLUG --email E [--role staff|admin]`` asks for a password
on a terminal (empty answer: generate one) and otherwise generates one and
prints it once. ``export-leads --org SLUG`` writes the same CSV the portal's
export button gives that organisation.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from . import auth
from .cli import command, open_db, run
from .content import EMAIL_RE, load_content
from .settings import Settings


def _user_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug from the content")
    p.add_argument("--email", required=True, help="login e-mail address")
    p.add_argument("--role", choices=auth.ROLES, default="staff",
                   help="admin sees every lead (only for the agency)")


def _ask_password() -> str | None:
    """Password typed twice on a terminal; '' means generate; None when they differ."""
    first = getpass.getpass("Password (empty: generate one): ")
    if not first:
        return ""
    if getpass.getpass("Repeat password: ") != first:
        return None
    return first


@command("create-user", "create a partner-portal account", _user_args)
def create_user(args: argparse.Namespace, settings: Settings) -> int:
    region = load_content(settings.content_dir).region
    org = region.organisations.get(args.org)
    if org is None:
        print(f"unknown organisation {args.org!r}; known: "
              + ", ".join(sorted(region.organisations)), file=sys.stderr)
        return 2
    if not auth.role_allowed(args.role, org.kind):
        print("the admin role is only for the agency organisation "
              + ", ".join(o.slug for o in region.orgs_of_kind("agency")), file=sys.stderr)
        return 2
    email = auth.normalise_email(args.email)
    if not EMAIL_RE.match(email):
        print(f"not a valid e-mail address: {args.email!r}", file=sys.stderr)
        return 2
    password = _ask_password() if sys.stdin.isatty() else ""
    if password is None:
        print("the passwords differ; nothing created", file=sys.stderr)
        return 1
    generated = not password
    if generated:
        password = auth.generate_password()
    problem = auth.password_problem(password)
    if problem:
        print(f"{problem} (nothing created)", file=sys.stderr)
        return 1

    async def go() -> int:
        db = await open_db(settings)
        try:
            return await auth.create_user(db, org.slug, email, password, args.role)
        finally:
            await db.close()

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


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organisation slug (the agency gets all leads)")
    p.add_argument("--out", help="file to write (default: standard output)")
    for name in ("status", "municipality", "date-from", "date-to", "interest", "source"):
        p.add_argument(f"--{name}", default="", help=f"filter by {name.replace('-', ' ')}")


@command("export-leads", "write the leads of an organisation as Excel-friendly CSV",
         _export_args)
def export_leads(args: argparse.Namespace, settings: Settings) -> int:
    from . import partner
    from .csvexport import leads_csv

    region = load_content(settings.content_dir).region
    org = region.organisations.get(args.org)
    if org is None:
        print(f"unknown organisation {args.org!r}", file=sys.stderr)
        return 2
    params = {"status": args.status, "municipality": args.municipality,
              "date_from": args.date_from, "date_to": args.date_to,
              "interest": args.interest, "source": args.source}
    filters, errors = partner.parse_filters(params, region.municipalities)
    if errors:
        for name, message in errors.items():
            print(f"--{name.replace('_', '-')}: {message}", file=sys.stderr)
        return 2
    viewer = partner.Viewer(org.slug, admin=org.kind == "agency")

    async def go() -> list[dict[str, object]]:
        db = await open_db(settings)
        try:
            return await partner.export_leads(db, viewer, filters)
        finally:
            await db.close()

    rows = run(go())
    data = leads_csv(rows).encode("utf-8")
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"{len(rows)} leads written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
