"""Core commands: database set-up, policy packs, cluster evaluation, demo."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from smecluster.cli.common import STATE, console, fail, new_table, print_table, word
from smecluster.cli.engine_options import ENGINE, FROM, MASTER, open_sql

# Heavy modules (SQLAlchemy, Polars, DuckDB, pydantic packs) are imported inside the commands that
# need them, so that `smecluster --help` starts fast (docs/decisions/1000-cli-lazy-imports.md).


def open_database(url: str | None):
    """The database engine (imported on use: SQLAlchemy and Alembic are slow to import)."""
    from smecluster.db import open_database as open_db

    return open_db(url)

policy_app = typer.Typer(help="Policy packs: list, show, validate.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate clusters (and enterprises) against policy packs.", no_args_is_help=True)
db_app = typer.Typer(help="Database: migrate, load reference data.", no_args_is_help=True)

STATUS_STYLE = {"pass": "green", "fail": "red", "warn": "yellow", "unknown": "magenta", "not_assessed": "dim"}


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    open_database(STATE.db)
    console.print("schema is at the newest migration")


@db_app.command("regions")
def db_regions(
    province: str = typer.Option("32", help="Province code prefix ('' for all of China)."),
) -> None:
    """Load GB/T 2260 regions (with county boundaries' areas) for a province or all of China."""
    from smecluster.registry.regions import load_regions

    n = load_regions(open_database(STATE.db), province or None)
    console.print(f"{n} regions loaded")


@db_app.command("industries")
def db_industries() -> None:
    """Load the shipped GB/T 4754-2017 codes (sections, divisions, demo groups and classes)."""
    from smecluster.registry.industries import load_shipped_industries

    console.print(f"{load_shipped_industries(open_database(STATE.db))} industry codes loaded")


@policy_app.command("list")
def policy_list() -> None:
    """List the shipped policy packs."""
    from smecluster.policy.listing import pack_headers

    table = new_table("id", "kind", "version", "effective", "title", keep=("id", "version", "effective"))
    for p in pack_headers():
        until = p.effective_to.isoformat() if p.effective_to else ""
        table.add_row(p.id, p.kind, p.version, f"{p.effective_from.isoformat()} .. {until}", p.title)
    print_table(table)


@policy_app.command("show")
def policy_show(pack_id: str = typer.Argument(..., help="Pack id or path to a pack file.")) -> None:
    """Show a pack's criteria with clause, comparator and threshold."""
    from smecluster.policy.pack import PackError, load_pack

    try:
        p = load_pack(pack_id)
    except PackError as exc:
        fail(str(exc))
    console.print(f"[bold]{p.title}[/] ({p.id} v{p.version}, from {p.effective_from}) — {p.issuer}")
    for kind in ("new", "review"):
        w = p.window(kind)
        served = (f"{w.effective_from} to {w.effective_to or 'open'}" + (f" ({w.note})" if w.note else "")
                  if w else "not served")
        console.print(f"{'new applications' if kind == 'new' else 're-reviews'}: {served}", soft_wrap=True)
    table = new_table("id", "test", "clause", "mark", keep=("id",))
    for c in p.all_criteria():
        test = ""
        if c.indicator and c.comparator:
            test = f"{c.indicator} {c.comparator} {c.threshold}"
        elif c.any or c.all or c.of:
            test = "any of" if c.any else ("all of" if c.all else f"at least {c.at_least} of")
        elif not c.assessed or c.judgement:
            test = "not assessed by rule"
        flags = (("UNVERIFIED", not c.verified), ("soft", c.soft), (c.role, c.role != "condition"),
                 (f"{'/'.join(c.evaluations or [])} only", c.evaluations is not None),
                 (f"endpoint to {c.endpoint} band", c.endpoint is not None))
        marks = [m for m, on in flags if on]
        table.add_row(c.id, test, c.clause, ", ".join(marks))
    print_table(table)


@policy_app.command("validate")
def policy_validate(
    paths: list[str] = typer.Argument(None, help="Pack files (default: every shipped pack)."),
) -> None:
    """Check pack files: indicators, threshold types, duplicate ids, boundary words."""
    from smecluster.policy.pack import PackError, load_pack_file, pack_files

    targets = paths or [str(p) for p in pack_files()]
    errors = 0
    for path in targets:
        try:
            p = load_pack_file(path)
            console.print(f"[green]ok[/] {path} ({p.id}, {len(p.all_criteria())} criteria)")
        except PackError as exc:
            errors += 1
            console.print(f"[red]error[/] {exc}", highlight=False)
    if errors:
        raise typer.Exit(1)


@policy_app.command("test")
def policy_test(paths: list[str] = typer.Argument(..., help="Scenario YAML files.")) -> None:
    """Run YAML scenario files: cluster packs (indicator values in) or tiers (a firm's fields in).

    The tiers' base-firm file (bases.yaml) is skipped; any other file that is not a scenario file (or not
    valid YAML) is an error (named with its reason) and the exit code is non-zero, as it is when no
    scenario was run at all."""
    from smecluster.cli.common import err_console
    from smecluster.policy.pack import PackError
    from smecluster.policy.scenarios import ScenarioFileError, is_bases_file, run_scenarios

    total, failed, bad = 0, 0, 0
    for path in paths:
        if is_bases_file(path):
            console.print(f"[dim]skipped {path} (base firms of the tier scenarios)[/]", highlight=False)
            continue
        try:
            ran, failures = run_scenarios(path)
        except (ScenarioFileError, PackError, OSError, KeyError, ValueError, TypeError, AttributeError) as exc:
            bad += 1
            reason = str(exc) if isinstance(exc, ScenarioFileError) else f"{path}: {type(exc).__name__}: {exc}"
            err_console.print(f"[bold red]error:[/] {reason}", highlight=False, soft_wrap=True)
            continue
        total += ran
        failed += len({f.case for f in failures})
        for f in failures:
            console.print(f"[red]FAIL[/] {f.file}: {f.case}: {f.check} expected {f.expected}, got {f.got}")
    console.print(f"{total - failed} passed, {failed} failed" + (f", {bad} bad files" if bad else ""))
    if not total and not bad:
        err_console.print("[bold red]error:[/] no scenario was run (only base-firm files given)", highlight=False)
    if failed or bad or not total:
        raise typer.Exit(1)


@evaluate_app.command("cluster")
def evaluate_cluster(
    cluster_id: int = typer.Argument(None, help="Cluster id (or use --all)."),
    all_: bool = typer.Option(False, "--all", help="Evaluate every cluster."),
    policy: str = typer.Option(None, "--policy", help="Pack id (default: the province's cluster pack)."),
    year: int = typer.Option(None, "--year", help="As of this year (default: newest year with data)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    engine: str = ENGINE,
    spark_master: str = MASTER,
    source: Path = FROM,
) -> None:
    """Evaluate clusters: each criterion's status, value, threshold, clause and gap."""
    from smecluster.policy.pack import PackError
    from smecluster.services.clusters import evaluate_clusters

    if cluster_id is None and not all_:
        fail("give a cluster ID or --all")
    sql, registry = open_sql(engine, spark_master, source)
    try:
        results = evaluate_clusters(
            None if registry is not None else open_database(STATE.db), policy=policy, year=year,
            cluster_ids=None if all_ else [cluster_id], sql=sql, source=registry,
        )
    except PackError as exc:
        fail(str(exc))
    finally:
        if sql is not None:
            sql.close()
    if not all_ and not results:
        fail(f"no cluster with id {cluster_id}")
    if fmt == "json":
        payload = [v.to_dict() for v in results]
        typer.echo(json.dumps(payload if all_ else payload[0], ensure_ascii=False, indent=2))
        return
    if fmt != "table":
        fail("--format is table or json")
    for v in results:
        _print_verdict(v)


def _print_verdict(v) -> None:
    outcome_style = {"recognised": "green", "not_recognised": "red", "insufficient_data": "magenta"}
    review = " (a reviewer must accept a soft limit)" if v.needs_review else ""
    console.print(
        f"\n[bold]#{v.cluster['id']} {v.cluster['name']}[/] — {v.cluster['county_name']} "
        f"{v.cluster['county_code']} — {v.policy['id']} {v.year}: "
        f"[{outcome_style[v.outcome]}]{word(v.outcome)}[/]{review}"
    )
    if v.on:
        console.print(f"designations counted as valid on {v.on} (start <= {v.on} <= end)")
    table = _criteria_table()
    for c in v.criteria:
        _add_rows(table, c, "")
    print_table(table)
    for c in _walk(v.criteria):
        if c.areas:
            console.print(f"{c.id} area: {area_text(c.areas)}", highlight=False)


def _walk(criteria):
    for c in criteria:
        yield c
        yield from _walk(c.children)


def area_text(areas: dict) -> str:
    """Every area of a footprint criterion and the one used, in one line."""
    from smecluster.values import format_value

    def km2(x: float | None) -> str:
        return "none" if x is None else format_value(x, "km2", lang="en")

    names = {"boundary": "the declared boundary", "members_hull": "the members' hull",
             "declared": "the application's figure", None: "none (unknown)"}
    return (
        f"declared boundary {km2(areas['boundary_km2'])}; members' hull {km2(areas['hull_km2'])} "
        f"({areas['located_members']} located members; a hull needs 3); application declares "
        f"{km2(areas['declared_km2'])}; used: {names[areas['used']]}"
    )


def _criteria_table() -> Table:
    """The criteria table: ids, statuses and values never cut; clause and gap fold in a narrow terminal."""
    return new_table("id", "status", "value", "threshold", "clause", "gap", keep=("id", "status", "threshold"))


def _add_rows(table: Table, c, indent: str) -> None:
    from smecluster.values import format_value

    lang = STATE.lang
    value = format_value(c.value, c.unit, lang=lang) if c.unit else ""
    if c.declared is not None:
        value += f" (declared {format_value(c.declared, c.unit, lang=lang)}{' ≠' if c.discrepancy else ''})"
    threshold = f"{c.comparator} {format_value(c.threshold, c.unit, lang=lang)}" if c.comparator else ""
    mark = "" if c.verified else " [yellow]UNVERIFIED[/]"
    style = STATUS_STYLE.get(c.status, "")
    gap = (c.gap_zh or c.gap or "") if STATE.lang == "zh" else (c.gap or c.gap_zh or "")
    table.add_row(indent + c.id, f"[{style}]{word(c.status)}[/]", value, threshold, c.clause + mark, gap)
    for child in c.children:
        _add_rows(table, child, indent + "  ")


def demo(
    scale: float = typer.Option(1.0, "--scale", help="Background registry size in multiples of 10,000 firms."),
    seed: int = typer.Option(20230331, "--seed", help="Random seed (same seed, same registry)."),
    year: int = typer.Option(2025, "--year", help="Evaluation year of the demo data."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Build the demo without serving the web page."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    national: bool = typer.Option(False, "--national", help="Write a fictional registry of all 31 provinces as "
                                  "Parquet (--out) instead of the Jiangsu database demo."),
    enterprises: int = typer.Option(1_000_000, "--enterprises", help="With --national: background firms."),
    out: Path | None = typer.Option(None, "--out", help="With --national: a new (or empty) folder for the "
                                    "Parquet registry."),
    chunk: int = typer.Option(500_000, "--chunk", help="With --national: firms generated and written at once "
                              "(memory grows with it, not with --enterprises)."),
) -> None:
    """Build the fictional Jiangsu demo registry, evaluate its clusters and serve the web page; or with
    --national write a fictional registry of every province's counties as Parquet."""
    if national:
        _national_demo(enterprises, out, chunk, seed, year)
        return
    from smecluster.services.demo import build_demo, stage_demo

    engine = open_database(STATE.db)
    with console.status("building the demo registry ..."):
        counts, results = build_demo(engine, seed=seed, scale=scale, year=year)
        accounts = stage_demo(engine, year=year)
    console.print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    table = new_table("id", "cluster", "county", "outcome", "failing", keep=("id", "outcome"))
    for v in results:
        failing = ", ".join(c.id for c in v.criteria if c.status in ("fail", "unknown"))
        table.add_row(str(v.cluster["id"]), v.cluster["name"], v.cluster["county_name"], word(v.outcome), failing)
    print_table(table)
    console.print(
        "The five national clusters are recognised and public; the near misses are applications "
        "(submitted), seen after logging in."
    )
    _print_demo_logins(accounts)
    if no_serve:
        return
    import uvicorn

    from smecluster.web.app import create_app

    console.print(f"serving http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(create_app(STATE.db), host=host, port=port, log_level="warning")


def _national_demo(enterprises: int, out: Path | None, chunk: int, seed: int, year: int) -> None:
    """`demo --national`: the Parquet registry with a progress bar, then what was written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from smecluster.demo.national import NationalDemoError, write_national

    if out is None:
        fail("demo --national needs --out DIR (a new folder for the Parquet registry)")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("national registry", total=enterprises)
        try:
            result = write_national(out, enterprises, seed=seed, year=year, chunk=chunk,
                                    progress=lambda label, done: bar.update(task, completed=done, description=label))
        except NationalDemoError as exc:
            fail(str(exc))
    console.print(f"wrote {out}: {result.provinces} provinces in {result.seconds:.1f} s")
    console.print(", ".join(f"{k}: {v:,}" for k, v in result.rows.items()))
    table = new_table("id", "cluster", "county", "members", keep=("id", "county"))
    for c in result.clusters:
        table.add_row(str(c["id"]), c["name"], c["county_code"], str(c["members"]))
    print_table(table)


def _print_demo_logins(accounts: list[tuple[str, str, str]]) -> None:
    """The demo accounts created now, with their passwords (shown this once)."""
    if not accounts:
        console.print("demo logins: the demo accounts exist already (smecluster user reset NAME for a new password)")
        return
    logins = Table("user", "role", "password (shown once)", title="demo logins: http://127.0.0.1:8000/login")
    for row in accounts:
        logins.add_row(*row)
    console.print(logins)


def bench_clusters(
    enterprises: int = typer.Option(1_000_000, "--enterprises", help="Registry size (generated, not timed)."),
    clusters: int = typer.Option(100, "--clusters", help="Clusters added to the demo's 11, drawn from the registry."),
) -> None:
    """Time the evaluation of every cluster of a large registry, with evidence; print the figures."""
    from smecluster.benchmarks.clusters import run

    r = run(enterprises=enterprises, clusters=clusters, console=console)
    console.print(f"registry: {r.enterprises:,} enterprises, {r.clusters} clusters (generated in {r.generate_s:.1f} s)")
    console.print(f"evaluated every cluster with evidence in {r.evaluate_s:.2f} s (goal <= 2 s)")
    console.print(f"recognised: {r.recognised}; peak memory {r.peak_mb:,.0f} MB")


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""
    from smecluster.cli.bench import bench_app

    bench_app.command("clusters")(bench_clusters)
    app.add_typer(db_app, name="db")
    app.add_typer(policy_app, name="policy")
    app.add_typer(evaluate_app, name="evaluate")
    app.command("demo")(demo)
