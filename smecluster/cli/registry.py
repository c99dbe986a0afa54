"""Registry commands: `smecluster import KIND FILE` and `smecluster template KIND -o FILE.xlsx`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from smecluster.cli.common import STATE, console, err_console, fail, new_table, print_table

if TYPE_CHECKING:  # Polars and SQLAlchemy are imported by the commands that use them
    from smecluster.registry.importer import ImportResult

SHOWN_ERRORS = 200


def _kind_help() -> str:
    from smecluster.registry.import_kinds import kinds

    return ", ".join(kinds())


def _check_kind(kind: str) -> str:
    from smecluster.registry.import_kinds import kinds

    if kind not in kinds():
        fail(f"unknown import kind {kind!r}; known kinds: {_kind_help()}")
    return kind


def _print_errors(result: ImportResult) -> None:
    """The problems as a table (the first SHOWN_ERRORS; all of them go to a CSV file when more)."""
    errors = result.errors
    print_table(_problem_table(errors, f"{errors.height} problem(s)"), err_console)
    if errors.height > SHOWN_ERRORS:
        out = result.path.with_name(result.path.name + ".errors.csv")
        from smecluster.safe_text import write_csv

        write_csv(errors, out, bom=True)  # a BOM so that Excel opens the UTF-8 file correctly
        err_console.print(f"{errors.height - SHOWN_ERRORS} more problems; all {errors.height} are in {out}")


def _problem_table(frame, title: str) -> Table:
    """Rows of a problem or notice frame, full values folded (never cut) in a narrow terminal."""
    from smecluster.safe_text import visible

    table = new_table("file", "row", "column", "value", "reason", keep=("row",), title=title)
    for file, row, column, value, reason in frame.head(SHOWN_ERRORS).iter_rows():
        table.add_row(Path(file).name, "" if row is None else str(row), visible(column), visible(value), reason)
    return table


def _print_notices(notices) -> None:
    """Remarks on accepted rows (dates derived from a year, boundaries re-oriented ...)."""
    if notices.is_empty():
        return
    print_table(_problem_table(notices, f"{notices.height} notice(s): accepted, please check"), err_console)
    if notices.height > SHOWN_ERRORS:
        err_console.print(f"{notices.height - SHOWN_ERRORS} more notices not shown")


def _import_folder(directory: Path, dry_run: bool) -> None:
    from smecluster.db import open_database
    from smecluster.services.registry import import_registry_folder

    engine = open_database(STATE.db)
    with console.status("importing the folder") as status:
        result = import_registry_folder(engine, directory, dry_run=dry_run, on_phase=status.update)
    for note in result.skipped:
        err_console.print(f"[yellow]skipped:[/] {note}")
    for r in result.files:
        for warning in r.warnings:
            err_console.print(f"[yellow]warning:[/] {r.path.name}: {warning}")
    _print_notices(result.notices)
    errors = result.errors
    if not errors.is_empty():
        print_table(_problem_table(errors, f"{errors.height} problem(s)"), err_console)
        if errors.height > SHOWN_ERRORS:
            from smecluster.safe_text import write_csv

            out = directory / "import.errors.csv"
            write_csv(errors, out, bom=True)
            err_console.print(f"{errors.height - SHOWN_ERRORS} more problems; all {errors.height} are in {out}")
    for r in result.files:
        console.print(f"{r.path.name} -> {r.kind}: {r.rows} rows, {r.rejected} with problems", highlight=False)
    if result.dry_run:
        verdict = "no problems" if result.ok else f"{errors.height} problem(s)"
        console.print(f"dry run, nothing stored: {len(result.files)} file(s) checked, {verdict}")
        if not result.ok:
            raise typer.Exit(1)
        _print_quality(engine, result.files, stored=False)
        return
    if not result.written:
        fail(f"nothing stored: fix the {errors.height} problem(s) above (a folder is all-or-nothing)")
    stored = ", ".join(f"{r.kind} {r.stored.inserted} new, {r.stored.updated} changed" for r in result.files)
    console.print(f"stored in one transaction: {stored}", highlight=False)
    _print_quality(engine, result.files, stored=True)


def export_csv_command(
    directory: Path = typer.Argument(..., help="Folder to write (created if missing)."),
) -> None:
    """Write the registry as CSV files in the import formats, one per kind (re-importable as a folder)."""
    from smecluster.db import open_database
    from smecluster.services.registry import export_registry_csv

    counts = export_registry_csv(open_database(STATE.db), directory)
    console.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)
    console.print(f"written to {directory} (import with: smecluster import folder {directory})")


def export_parquet_command(
    directory: Path = typer.Argument(..., help="Folder to write (new or empty)."),
    force: bool = typer.Option(False, "--force", help="Replace the folder if it holds anything."),
) -> None:
    """Write the registry as Parquet, partitioned by province and year (docs/engines.md); evaluate from it
    with `--from DIR` on either engine."""
    from smecluster.db import open_database
    from smecluster.registry.parquet_export import export_parquet
    from smecluster.registry.parquet_layout import ParquetLayoutError

    try:
        counts = export_parquet(open_database(STATE.db), directory, force=force)
    except ParquetLayoutError as exc:
        fail(str(exc))
    console.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)
    console.print(f"written to {directory} (evaluate with: smecluster evaluate enterprises --from {directory})")


def _summary(result: ImportResult) -> str:
    s = result.stored
    return (
        f"{result.kind}: {result.rows} rows read, {s.inserted} inserted, {s.updated} updated, "
        f"{result.rows - s.inserted - s.updated - result.rejected} unchanged, {result.rejected} rejected "
        f"in {sum(result.seconds.values()):.2f} s"
    )


# Spelt out (not read from import_kinds.yaml) so that help needs no pydantic; a test checks the list.
KIND_HELP = (
    "industries, enterprises, enterprise_years, designations, clusters, platforms, "
    "cluster_boundaries, cluster_members, cluster_years, cluster_reports, enterprise_profiles or chain_links"
)


def import_command(
    kind: str = typer.Argument(
        ...,
        help=f"What the file holds: {KIND_HELP}; or 'folder' for a folder of such files (kinds told by "
        "file name or header, loaded in dependency order in one transaction).",
    ),
    file: Path = typer.Argument(
        ..., help="A .csv (UTF-8, UTF-8 with BOM or GB18030) or .xlsx file; with 'folder', the folder."
    ),
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

    if kind == "folder":
        if skip_invalid:
            fail("a folder is imported all-or-nothing: --skip-invalid applies to one file")
        _import_folder(file, dry_run)
        return
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
    _print_notices(result.notices)
    if not result.ok:
        _print_errors(result)
    if result.dry_run:
        verdict = "no problems" if result.ok else f"{result.rejected} row(s) with problems"
        console.print(f"dry run, nothing stored: {result.rows} rows checked, {verdict}")
        if not result.ok:
            raise typer.Exit(1)
        _print_quality(engine, [result], stored=False)
        return
    if not result.written:
        fail(
            f"nothing stored: fix the {result.errors.height} problem(s) above"
            + ("" if result.file_level else " or use --skip-invalid")
        )
    console.print(_summary(result))
    if result.rejected_path:
        console.print(f"{result.rejected} rejected row(s) with reasons written to {result.rejected_path}")
    _print_quality(engine, [result], stored=True)


QUALITY_SHOWN = 20


def _print_quality(engine, results: list, stored: bool) -> None:
    """The data-quality findings about the imported rows (they never refuse a row; `smecluster quality`
    lists every finding of the registry)."""
    from smecluster.registry.import_kinds import get_kind
    from smecluster.services.quality import import_findings

    incoming: dict = {}
    for r in results:
        if r.frame is not None:
            table = get_kind(r.kind).table
            incoming[table] = r.frame if table not in incoming else pl_concat(incoming[table], r.frame)
    with console.status("data-quality checks"):
        found = import_findings(engine, incoming, stored)
    if found.is_empty():
        console.print("data quality: no doubtful figures in these rows")
        return
    console.print(f"data quality: {found.height} doubtful figure(s) in these rows (stored all the same; "
                  "review them with `smecluster quality`)", highlight=False)
    for r in found.head(QUALITY_SHOWN).iter_rows(named=True):
        where = " ".join(str(x) for x in (r["uscc"], r["year"], r["field"]) if x is not None)
        console.print(f"  [{r['severity']}] {r['check']}: {where}: {r['detail'] or ''} — {r['reason_zh']} / "
                      f"{r['reason_en']}", highlight=False, soft_wrap=True)
    if found.height > QUALITY_SHOWN:
        console.print(f"  ... {found.height - QUALITY_SHOWN} more")


def pl_concat(a, b):
    """Two frames of one table, one after the other. A file that only updates other columns of the
    table's rows (cluster boundaries by id beside the clusters' own file) adds no rows to check."""
    import polars as pl

    if not (set(a.columns) <= set(b.columns) or set(b.columns) <= set(a.columns)):
        return a if a.width >= b.width else b
    return pl.concat([a, b], how="diagonal_relaxed")


def template_command(
    kind: str = typer.Argument(..., help=f"{KIND_HELP}."),
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
    headers = ("database", "rows", "seconds", "rows/s", "read", "check", "references", "store", "re-import s",
               "peak MB")
    table = new_table(*headers, keep=headers)
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
    print_table(table)
    console.print(f"peak memory of the process: {peak_memory_mb():.0f} MB (ru_maxrss)")


def register(app: typer.Typer) -> None:
    """Add `import` and `template` to the root app and `import` to the bench sub-app."""
    from smecluster.cli.bench import bench_app

    app.command("import")(import_command)
    app.command("template")(template_command)
    export_app = typer.Typer(help="Export the registry (in the import formats, or as Parquet).",
                             no_args_is_help=True)
    export_app.command("csv")(export_csv_command)
    export_app.command("parquet")(export_parquet_command)
    app.add_typer(export_app, name="export")
    bench_app.command("import")(bench_import_command)
