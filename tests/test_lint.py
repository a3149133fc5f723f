"""The code stays clean, checked with every test run: ruff (rule set in pyproject.toml),
mypy (strict, on the package) and import-linter (the layering contracts in pyproject.toml:
no package imports one above it, no import cycles between the modules of a package)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is part of the test extra"
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing():
    out = _run(_tool("ruff"), "check", "campaign", "tests", "bench", "uvicorn_run.py")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing():
    out = _run(_tool("mypy"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_imports_keep_the_layers():
    out = _run(_tool("lint-imports"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_no_module_is_over_400_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / "campaign").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
            and "migrations/versions" not in p.as_posix()]
    assert not long, long


def test_no_sql_strings_outside_the_database_layer():
    """Statements are SQLAlchemy Core; only campaign/core/db.py speaks a backend's SQL."""
    import re

    raw = re.compile(r"SELECT .* FROM |INSERT INTO |UPDATE \w+ SET |DELETE FROM |PRAGMA "
                     r"|CREATE (?:TABLE|INDEX) |ON CONFLICT|json_each|datetime\('now'\)")
    found = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "campaign").rglob("*.py"))
             if p.name != "db.py" and "migrations" not in p.parts
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if raw.search(line)]
    assert not found, found
