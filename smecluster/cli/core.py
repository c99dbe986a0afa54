"""Core commands: database, policy, evaluation, demo, serve."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""
