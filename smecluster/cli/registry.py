"""Registry commands: `smecluster import KIND FILE` and `smecluster template KIND -o FILE.xlsx`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from smecluster.cli.common import STATE, console, err_console, fail
from smecluster.registry.import_kinds import kinds
from smecluster.registry.importer import ImportResult
from smecluster.safe_text import visible, write_csv

SHOWN_ERRORS = 200


def _kind_help() -> str:
    return ", ".join(kinds())


def _check_kind(kind: str) -> str:
    if kind not in kinds():
        fail(f"unknown import kind {kind!r}; known kinds: {_kind_help()}")
    return kind


def _print_errors(result: ImportResult) -> None:
    """The problems as a table (the first SHOWN_ERRORS; all of them go to a CSV file when more)."""
    errors = result.errors
    table = Table("file", "row", "column", "value", "reason", title=f"{errors.height} problem(s)")
    for file, row, column, value, reason in errors.head(SHOWN_ERRORS).iter_rows():
        table.add_row(Path(file).name, "" if row is None else str(row), visible(column), visible(value), reason)
    err_console.print(table)
    if errors.height > SHOWN_ERRORS:
        out = result.path.with_name(result.path.name + ".errors.csv")
        write_csv(errors, out, bom=True)  # a BOM so that Excel opens the UTF-8 file correctly
        err_console.print(f"{errors.height - SHOWN_ERRORS} more problems; all {errors.height} are in {out}")


def _summary(result: ImportResult) -> str:
    s = result.stored
    return (
        f"{result.kind}: {result.rows} rows read, {s.inserted} inserted, {s.updated} updated, "
        f"{result.rows - s.inserted - s.updated - result.rejected} unchanged, {result.rejected} rejected "
        f"in {sum(result.seconds.values()):.2f} s"
    )


def import_command(
    kind: str = typer.Argument(
        ...,
        help="What the file holds: enterprises, enterprise_years, designations, "
        "platforms, clusters, cluster_members or industries.",
    ),
    file: Path = typer.Argument(..., help="A .csv (UTF-8, UTF-8 with BOM or GB18030) or .xlsx file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; store nothing."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Store the good rows, write the rejected ones."
    ),
    rejected: Path = typer.Option(
        None, "--rejected", help="Where rejected rows go (default FILE.rejected.csv)."
    ),
) -> None:
    """Import registry data; all-or-nothing unless --skip-invalid, every problem listed."""
    from smecluster.db import open_database
    from smecluster.services.registry import import_registry_file

    _check_kind(kind)
    engine = open_database(STATE.db)
    with console.status("importing") as status:
        result = import_registry_file(
            engine,
            kind,
            file,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejected_path=rejected,
            on_phase=lambda name: status.update(f"{kind}: {name}"),
        )
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if not result.ok:
        _print_errors(result)
    if result.dry_run:
        verdict = "no problems" if result.ok else f"{result.rejected} row(s) with problems"
        console.print(f"dry run, nothing stored: {result.rows} rows checked, {verdict}")
        if not result.ok:
            raise typer.Exit(1)
        return
    if not result.written:
        fail(
            f"nothing stored: fix the {result.errors.height} problem(s) above"
            + ("" if result.file_level else " or use --skip-invalid")
        )
    console.print(_summary(result))
    if result.rejected_path:
        console.print(f"{result.rejected} rejected row(s) with reasons written to {result.rejected_path}")


def template_command(
    kind: str = typer.Argument(
        ...,
        help="enterprises, enterprise_years, designations, platforms, clusters, "
        "cluster_members or industries.",
    ),
    output: Path = typer.Option(..., "-o", "--output", help="The .xlsx file to write."),
) -> None:
    """Write a blank Excel template for KIND with Chinese headers, cell checks and column notes."""
    from smecluster.services.registry import write_import_template

    _check_kind(kind)
    try:
        path = write_import_template(kind, output)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"template for {kind} written to {path}")


def bench_import_command(
    rows: int = typer.Option(1_000_000, "--rows", help="Enterprise rows to generate and import."),
    db: list[str] = typer.Option(
        None, "--db", help="'sqlite' or a PostgreSQL URL (repeatable; default: SQLite and local PostgreSQL)."
    ),
) -> None:
    """Time `import enterprises` of N generated rows from CSV into fresh databases; print rows/s."""
    from smecluster.benchmarks.imports import bench_import
    from smecluster.benchmarks.memory import peak_memory_mb

    with console.status(f"generating {rows:,} rows and importing them"):
        figures, generated, size_mb = bench_import(rows, db or None)
    console.print(
        f"generated {rows:,} enterprise rows ({size_mb:.0f} MB CSV) in {generated:.2f} s (not timed)"
    )
    table = Table(
        "database",
        "rows",
        "seconds",
        "rows/s",
        "read",
        "check",
        "references",
        "store",
        "re-import s",
        "peak MB",
    )
    for f in figures:
        phases = [f"{f.phases.get(p, 0):.2f}" for p in ("read", "check", "references", "store")]
        table.add_row(
            f.database,
            f"{f.rows:,}",
            f"{f.seconds:.2f}",
            f"{f.rows_per_second:,.0f}",
            *phases,
            f"{f.reimport_seconds:.2f}",
            f"{f.peak_mb:.0f}",
        )
    console.print(table)
    console.print(f"peak memory of the process: {peak_memory_mb():.0f} MB (ru_maxrss)")


def register(app: typer.Typer) -> None:
    """Add `import` and `template` to the root app and `import` to the bench sub-app."""
    from smecluster.cli.bench import bench_app

    app.command("import")(import_command)
    app.command("template")(template_command)
    bench_app.command("import")(bench_import_command)
