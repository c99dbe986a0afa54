"""Docs that cannot drift: every indicator and every CLI command is documented."""

import runpy
from pathlib import Path

from typer.main import get_command

from smecluster.analytics.catalogue import catalogue
from smecluster.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_cluster_indicator_has_a_section():
    """docs/indicators.md has a '## name' section for each cluster indicator of the catalogue."""
    text = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    missing = [n for n, i in catalogue().items() if i.subject == "cluster" and f"## {n}\n" not in text]
    assert missing == []


def _commands(group, prefix=""):
    for name, cmd in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}".strip()
        yield path
        yield from _commands(cmd, path)


def test_cli_reference_is_current():
    """docs/cli-reference.md is what scripts/cli_reference.py generates from --help."""
    render = runpy.run_path(str(ROOT / "scripts" / "cli_reference.py"))["render"]
    assert (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8") == render(), (
        "run: .venv/bin/python scripts/cli_reference.py > docs/cli-reference.md"
    )


def test_every_command_has_help():
    """Every command has a help text."""
    root = get_command(app)
    paths = list(_commands(root))
    assert paths
    for path in paths:
        cmd = root
        for part in path.split():
            cmd = cmd.commands[part]
        assert (cmd.help or "").strip(), f"smecluster {path} has no help"
