"""`smecluster bench ...`: benchmarks that print their figures (each area adds its own command)."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks: run at registry scale and print the figures.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the bench sub-app to the root app."""
    app.add_typer(bench_app, name="bench")
