"""Tier commands: evaluate enterprises, diagnose one firm, watch the targets, benchmark."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from smecluster.cli.common import STATE, console, fail, new_table, print_table, word
from smecluster.cli.engine_options import ENGINE, FROM, MASTER, open_sql

FORMATS_EVAL = ("table", "json", "xlsx", "parquet")
KINDS = ("new", "review")
KIND_HELP = ("Kind of evaluation: new (application) or review (re-review); with the date it picks each "
             "tier's pack (little giants re-reviewed in 2026 still use the 2022 standard).")


def _kind(text: str) -> str:
    if text not in KINDS:
        fail(f"--kind {text!r}: choose new or review")
    return text


def _engine():
    from smecluster.db import open_database

    return open_database(STATE.db)


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--on {text!r}: give a date as YYYY-MM-DD")
    return None


def evaluate_enterprises(
    county: str = typer.Option(None, "--county", help="Only enterprises of this county code (GB/T 2260)."),
    tier: str = typer.Option(None, "--tier", help="Only this tier (e.g. srdi_sme)."),
    year: int = typer.Option(None, "--year", help="Data year (default: the newest in the registry)."),
    on: str = typer.Option(None, "--on",
                           help="Date picking the packs in force (default: today, at most end of year+1)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx | parquet."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx and parquet)."),
    kind: str = typer.Option("new", "--kind", help=KIND_HELP),
    engine: str = ENGINE,
    spark_master: str = MASTER,
    source: Path = FROM,
    out: Path = typer.Option(
        None, "--out", help="With --from: the engine writes every firm's rows (codes) into this new folder as "
        "Parquet by province, with evaluation.json, instead of collecting them here (a national Spark run)."),
) -> None:
    """Every enterprise against every tier in force, with per-criterion evidence and the three lists."""
    from smecluster.policy.pack import PackError
    from smecluster.reports import tier_export
    from smecluster.services.tiers import evaluate_enterprises as run

    if fmt not in FORMATS_EVAL:
        fail(f"--format {fmt!r}: choose one of {', '.join(FORMATS_EVAL)}")
    if fmt in ("xlsx", "parquet") and output is None:
        fail(f"--format {fmt} writes a file: give -o FILE")
    if out is not None and (source is None or output is not None or fmt != "table"):
        fail("--out DIR writes the result of --from DIR as a folder: give --from, and no --format or -o")
    kind = _kind(kind)
    sql, registry = open_sql(engine, spark_master, source)
    if out is not None:
        _write_out(registry, out, sql, year, on, county, tier, kind)
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        try:
            ev = run(None if registry is not None else _engine(), year=year, on=_date(on), county=county,
                     tier=tier, evaluation=kind, progress=lambda msg: bar.update(task, description=msg),
                     sql=sql, source=registry)
        except (ValueError, PackError) as exc:
            fail(str(exc))
        finally:
            if sql is not None:
                sql.close()
    if fmt == "json":
        text = tier_export.write_json(ev, output, lang=STATE.lang)
        if output is None:
            print(text)
    elif fmt == "xlsx":
        tier_export.write_xlsx(ev, output)
    elif fmt == "parquet":
        tier_export.write_parquet(ev, output)
    else:
        _print_evaluation(ev)
    if output is not None:
        console.print(f"wrote {output}")


def _write_out(registry, out: Path, sql, year: int | None, on: str | None, county: str | None, tier: str | None,
               kind: str) -> None:
    """`evaluate enterprises --from DIR --out DIR2`: the engine writes the result folder."""
    from smecluster.policy.pack import PackError
    from smecluster.services.tiers import write_enterprise_tiers

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        try:
            info = write_enterprise_tiers(registry, out, sql=sql, year=year, on=_date(on), county=county, tier=tier,
                                          evaluation=kind, progress=lambda msg: bar.update(task, description=msg))
        except (ValueError, PackError) as exc:
            fail(str(exc))
        finally:
            if sql is not None:
                sql.close()
    console.print(f"wrote {out}: {info['firms']:,} firms, data year {info['year']}, evaluated on {info['on']} "
                  f"(Parquet by province, evaluation.json)")


def _print_evaluation(ev) -> None:
    from smecluster.services.tiers import LISTS, packs_applied, summary, tier_lists

    kind = "new applications" if ev.evaluation == "new" else "re-reviews"
    console.print(f"[bold]Tier evaluation[/] — data year {ev.year}, {kind}, evaluated on {ev.on.isoformat()}, "
                  f"{ev.table.num_rows} enterprises")
    for a in packs_applied(ev):
        console.print(f"{a['label_zh']}: pack {a['pack']} — {a['reason_en']}", soft_wrap=True)
    s = summary(ev).drop("pack_reason")  # printed above, once per tier
    table = new_table(*s.columns, keep=_codes(s.columns))
    for row in s.iter_rows():
        table.add_row(*[word(v) for v in row])
    print_table(table)
    for p in ev.tiers:
        if p.unverified:
            console.print(f"[yellow]UNVERIFIED[/] {p.pack.id}: {', '.join(p.unverified)} "
                          "(every verdict of this tier uses them)")
    for name, frame in tier_lists(ev).items():
        console.print(f"\n[bold]{LISTS[name]}[/]: {frame.height}")
        t = new_table(*frame.columns, keep=_codes(frame.columns))
        for row in frame.head(15).iter_rows():
            t.add_row(*[word(v) for v in row])
        print_table(t)


# Columns of free text (fold onto more lines); every other column is a code, number or word kept whole.
_TEXT_WORDS = ("name", "gap", "reason", "clause", "missing", "title", "unmet", "criteria", "note")


def _codes(columns: list[str]) -> tuple[str, ...]:
    return tuple(c for c in columns if not any(w in c.lower() for w in _TEXT_WORDS))


def diagnose(
    credit_code: str = typer.Argument(..., help="Unified social credit code of the enterprise."),
    fmt: str = typer.Option("html", "--format", help="html | pdf | json."),
    output: Path = typer.Option(None, "-o", "--output", help="Output file (default: diagnosis-<code>.<format>)."),
    year: int = typer.Option(None, "--year", help="Data year (default: the newest in the registry)."),
    on: str = typer.Option(None, "--on", help="Evaluation date (YYYY-MM-DD)."),
    kind: str = typer.Option("new", "--kind", help=KIND_HELP),
) -> None:
    """Free diagnosis (免费诊断): current tier, next tier, each unmet criterion and its gap, the scores."""
    from smecluster.config import database_url
    from smecluster.policy.pack import PackError
    from smecluster.services.diagnosis import UnknownEnterprise, quick_diagnosis
    from smecluster.services.diagnosis import diagnose as run

    if fmt not in ("html", "pdf", "json"):
        fail(f"--format {fmt!r}: choose html, pdf or json")
    try:
        # from the kept tables without SQLAlchemy when they are current, else the usual path
        args = {"year": year, "on": _date(on), "evaluation": _kind(kind)}
        d = quick_diagnosis(database_url(STATE.db), credit_code, **args) or run(_engine(), credit_code, **args)
    except (UnknownEnterprise, ValueError, PackError) as exc:
        fail(str(exc))
    path = output or Path(f"diagnosis-{d['uscc']}.{fmt}")
    if fmt == "json":
        path.write_text(json.dumps(d, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    elif fmt == "html":
        from smecluster.reports.diagnosis import render_html  # Jinja only when a page is written

        path.write_text(render_html(d), encoding="utf-8")
    else:
        from smecluster.reports.diagnosis import render_pdf

        render_pdf(d, path)
    nxt = d["next"]
    for r in d["tiers"]:
        console.print(f"{r['label_zh']}: pack {r['pack']['id']} — {r['pack']['reason_en']}", soft_wrap=True)
    console.print(f"{d['name']} ({d['uscc']}): current tier {d['current_tier'] or 'none'}, "
                  f"next {d['next_tier'] or '-'}"
                  + (f", {len(nxt['gaps'])} unmet criteria" if nxt else ""))
    console.print(f"wrote {path}")


def targets(
    by: str = typer.Option(None, "--by", help="Break the current figures down by city or county."),
    fmt: str = typer.Option("table", "--format", help="table | json."),
    until: int = typer.Option(None, "--until", help="Last year counted (default: newest in the registry)."),
) -> None:
    """Progress towards the province's targets by year (and city or county), projected to the deadline."""
    from smecluster.services.targets import target_progress

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: choose table or json")
    try:
        progress = target_progress(_engine(), by=by, until=until)
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    if fmt == "json":
        print(json.dumps(progress, ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{progress['pack']['title']}[/] ({progress['pack']['id']}) — up to {progress['year']}")
    console.print(f"projection: {progress['method']}")
    for t in progress["targets"]:
        state = "[green]on track[/]" if t["on_track"] else "[red]behind[/]"
        console.print(f"\n[bold]{t['id']}[/] {t['title']}: {t['comparator']} {t['value']:g} by {t['deadline']} — "
                      f"now {t['current']} ({(t['share_of_target'] or 0) * 100:.1f}%), "
                      f"projected {t['projection']['at_deadline']:.0f} {state}")
        table = new_table("year", "count", keep=("year", "count"))
        for row in t["by_year"]:
            table.add_row(str(row["year"]), str(row["count"]))
        print_table(table)
        if "by_region" in t:
            regional = new_table(progress["by"], "name", "count", keep=(progress["by"], "count"))
            for r in t["by_region"][:20]:
                regional.add_row(r["code"], r["name"], str(r["count"]))
            print_table(regional)


def bench_tiers(
    enterprises: int = typer.Option(4_000_000, "--enterprises", help="Number of fictional firms."),
    repeat: int = typer.Option(3, "--repeat", help="Runs per query (the best is kept)."),
) -> None:
    """Time every tier with evidence over N in-memory firms against one hand-written DuckDB query."""
    from smecluster.benchmarks.tiers import run

    with console.status(f"generating {enterprises:,} firms and timing"):
        r = run(enterprises, repeat=repeat)
    console.print(f"enterprises            {r['enterprises']:,} "
                  f"(generated in {r['generate_s']:.1f} s, outside the timing)")
    console.print(f"tiers                  {', '.join(r['tiers'])}; {r['evidence_columns']} evidence columns")
    console.print(f"DuckDB threads         {r['threads']}")
    console.print(f"every tier, evidence   {r['all_tiers_s']:.3f} s")
    console.print(f"innovative SME only    {r['innovative_only_s']:.3f} s ({r['innovative_columns']} columns)")
    console.print(f"hand-written SQL       {r['hand_sql_s']:.3f} s "
                  f"(six innovative-SME indicators, {r['hand_columns']} columns)")
    console.print(f"CPU seconds            every tier {r['cpu_all_tiers_s']:.2f}, innovative only "
                  f"{r['cpu_innovative_only_s']:.2f}, hand-written {r['cpu_hand_sql_s']:.2f} "
                  f"(CPU ratio {r['cpu_ratio']:.2f})")
    console.print(f"peak memory            {r['peak_memory_gb']:.2f} GB (ru_maxrss)")
    console.print(f"ratio innovative/hand  {r['ratio_innovative_vs_hand']:.2f}")
    console.print(f"ratio every tier/hand  {r['ratio']:.2f}")


def register(app: typer.Typer) -> None:
    """Add `evaluate enterprises`, `diagnose`, `targets` and `bench tiers`."""
    from smecluster.cli.core import evaluate_app

    evaluate_app.command("enterprises")(evaluate_enterprises)
    app.command("diagnose")(diagnose)
    app.command("targets")(targets)
    try:
        from smecluster.cli.bench import bench_app
    except ImportError:  # the bench sub-app is not there yet: create it
        bench_app = typer.Typer(help="Benchmarks that print their figures.", no_args_is_help=True)
        app.add_typer(bench_app, name="bench")
    bench_app.command("tiers")(bench_tiers)
