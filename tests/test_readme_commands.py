"""The README's two commands are the whole set-up: CI runs the test command verbatim,
and the suite needs nothing beyond it but the Debian packages the README names."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_axe_core_comes_with_the_test_extra_not_from_npm():
    axe = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
    assert axe.read_text(encoding="utf-8").startswith("/*! axe v4.")
    assert "axe-playwright-python" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    here = Path(__file__).name
    uses_npm = [p.name for p in (ROOT / "tests").rglob("*.py")
                if p.name != here and "node_modules" in p.read_text(encoding="utf-8")]
    assert not uses_npm, uses_npm
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert not re.search(r"^\s*npm\b", ci, re.M)


def test_readme_names_every_debian_package_ci_installs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = set(re.findall(r"need\+=\(([a-z0-9.-]+)\)", ci))
    apt_line = next(c for c in readme_commands() if c.startswith("apt-get install"))
    assert installed and installed <= set(apt_line.split()[2:]), (installed, apt_line)
