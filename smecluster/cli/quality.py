"""`smecluster quality`: every doubtful figure of the registry, why, and a summary per county."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from smecluster.cli.common import STATE, console, emit, fail, new_table, print_table

FORMATS = ("table", "json", "xlsx")
SHOWN = 40  # findings printed per severity in the table format (json and xlsx carry them all)


def quality(
    county: str = typer.Option(None, "--county", help="Only findings about this county (GB/T 2260 code)."),
    cluster: int = typer.Option(None, "--cluster", help="Only findings touching this cluster (id)."),
    year: int = typer.Option(None, "--year", help="Only this data year (and peers compared in it)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
    locale: str = typer.Option("zh", "--lang", help="Language of the reasons: zh | en."),
) -> None:
    """Data quality: implausible, broken, duplicated, outlying and declared figures, and digit tests."""
    from smecluster.allocator import keep_freed_memory
    from smecluster.db import open_database
    from smecluster.services.quality import quality_report

    keep_freed_memory()  # batch after batch of the same size: reuse the memory freed (decision 2290)
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx writes a file: give -o FILE")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        report = quality_report(open_database(STATE.db), county=county, cluster_id=cluster, year=year,
                                progress=lambda msg: bar.update(task, description=msg))
    if fmt == "json":
        from smecluster.reports.quality_export import report_dict

        emit(json.dumps(report_dict(report), ensure_ascii=False, indent=1, default=str), output, announce=False)
    elif fmt == "xlsx":
        from smecluster.reports.quality_export import write_xlsx

        write_xlsx(report, output)
    else:
        _print(report, locale)
    if output is not None:
        console.print(f"wrote {output}")


def _print(report, locale: str) -> None:
    import polars as pl

    f = report.findings
    console.print(f"[bold]Data quality[/] — {f.height} findings; peers compared in {report.year}")
    for severity in ("high", "medium", "low", "signal"):
        part = f.filter(pl.col("severity") == severity)
        if part.is_empty():
            continue
        console.print(f"\n[bold]{severity}[/]: {part.height}")
        table = new_table("check", "uscc", "county", "year", "field", "value", "detail",
                          keep=("check", "uscc", "county", "year", "field", "value"))
        for r in part.head(SHOWN).iter_rows(named=True):
            table.add_row(r["check"], r["uscc"] or "", r["county_code"] or "",
                          "" if r["year"] is None else str(r["year"]), r["field"] or "",
                          "" if r["value"] is None else f"{r['value']:g}", r["detail"] or "")
        print_table(table)
        if part.height > SHOWN:
            console.print(f"... {part.height - SHOWN} more (--format json or xlsx lists them all)")
    seen = set(f["check"].unique().to_list())
    console.print("\n[bold]Checks[/]")
    for c in report.catalogue.checks:
        if c.id in seen:
            console.print(f"{c.id} ({c.severity}): {c.reason(locale, band_zh='不符合', band_en='nonconformity')}",
                          soft_wrap=True)
    s = report.summary.select("county_code", "findings", "firms", "high", "medium", "low", "digits_band")
    console.print("\n[bold]Summary per county[/] (digit test of the year: Benford first digits, MAD band)")
    table = new_table(*s.columns, keep=tuple(s.columns))
    for row in s.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    print_table(table)


def register(app: typer.Typer) -> None:
    """Add `quality`."""
    app.command("quality")(quality)
