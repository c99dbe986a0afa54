"""What-if commands: `policy diff` and `simulate clusters | enterprises` (nothing is ever written)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from smecluster.cli.common import STATE, console, emit, fail, new_table, print_table, word
from smecluster.cli.engine_options import ENGINE, MASTER, open_sql

simulate_app = typer.Typer(help="What if a rule changed: reformed packs against the registry (never stored).",
                           no_args_is_help=True)
SET_HELP = ("Change one thing, repeatable: ID.threshold=0.25, ID.comparator='>' with ID.boundary_word=超过, "
            "ID.remove=true, validity_years=2, pass_rule.score_at_least=55.")


def _engine():
    from smecluster.db import open_database

    return open_database(STATE.db)


def _scenario(pack: str | None, reform: Path | None, sets: list[str] | None, compare: list[str] | None = None):
    """The scenario the options describe, or a clear error."""
    from smecluster.policy.pack import PackError
    from smecluster.policy.reform import ReformError, load_reform, reform_from_sets
    from smecluster.services.simulate import scenario_from_packs, scenario_from_reform

    given = [x for x in (reform, sets, compare) if x]
    if len(given) != 1:
        fail("give exactly one of --reform FILE, --set ID.FIELD=VALUE (repeatable) or --compare PACK_A PACK_B")
    try:
        if compare:
            if len(compare) != 2:
                fail("--compare takes two packs: --compare PACK_A --compare PACK_B")
            return scenario_from_packs(*compare)
        if reform:
            r = load_reform(reform)
            if pack and pack != r.base:
                fail(f"{reform}: the reform's base is {r.base}, not --pack {pack}")
            return scenario_from_reform(r, str(reform))
        if not pack:
            fail("--set needs --pack PACK (the pack it changes)")
        return scenario_from_reform(reform_from_sets(pack, sets or []), "--set")
    except (ReformError, PackError) as exc:
        fail(str(exc))
    return None


def policy_diff(
    pack_a: str = typer.Argument(..., help="Pack id or file (before)."),
    pack_b: str = typer.Argument(..., help="Pack id or file (after)."),
    fmt: str = typer.Option("table", "--format", help="table | json."),
) -> None:
    """Criteria added, removed and changed between two packs (threshold, comparator, bands), with both clauses."""
    from smecluster.policy.diff import diff_packs
    from smecluster.policy.pack import PackError, load_pack

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: choose table or json")
    try:
        d = diff_packs(load_pack(pack_a), load_pack(pack_b))
    except PackError as exc:
        fail(str(exc))
    if fmt == "json":
        print(json.dumps(d, ensure_ascii=False, indent=2, default=str))
        return
    c = d["counts"]
    console.print(f"[bold]{d['a']['id']}[/] v{d['a']['version']} → [bold]{d['b']['id']}[/] v{d['b']['version']}: "
                  f"{c['added']} added, {c['removed']} removed, {c['changed']} changed", soft_wrap=True)
    table = new_table("id", "change", "before", "after", "clause before", "clause after",
                      keep=("id", "change"))
    for r in d["criteria"]:
        table.add_row(r["id"], r["change"] + (f" ({', '.join(r['fields'])})" if r["fields"] else ""),
                      r["test_a"] or "", r["test_b"] or "", r["clause_a"] or "", r["clause_b"] or "")
    print_table(table)
    for p in d["parameters"]:
        console.print(f"parameter {p['parameter']}: {p['a']} → {p['b']}")
    if d["pass_rule"]:
        console.print(f"pass rule: {d['pass_rule']['a']} → {d['pass_rule']['b']}")


def simulate_clusters(
    pack: str = typer.Option(None, "--pack", help="The cluster pack the reform changes (a reform file names it)."),
    reform: Path = typer.Option(None, "--reform", help="Reform YAML file (base pack and changes)."),
    sets: list[str] = typer.Option(None, "--set", help=SET_HELP),
    year: int = typer.Option(None, "--year", help="As of this year (default: newest year with data)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
    engine: str = ENGINE,
    spark_master: str = MASTER,
) -> None:
    """Per cluster the baseline and reformed outcome and the criteria that changed; gained and lost by city."""
    from smecluster.policy.reform import ReformError
    from smecluster.services.simulate import simulate_clusters as run

    if fmt not in ("table", "json", "xlsx"):
        fail(f"--format {fmt!r}: choose table, json or xlsx")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx writes a file: give -o FILE")
    scenario = _scenario(pack, reform, sets)
    sql, _ = open_sql(engine, spark_master)
    try:
        sim = run(_engine(), scenario, year, sql=sql)
    except (ValueError, ReformError) as exc:
        fail(str(exc))
    finally:
        if sql is not None:
            sql.close()
    if fmt == "json":
        text = json.dumps(sim.to_dict(), ensure_ascii=False, indent=2, default=str)
        emit(text, output)
        return
    if fmt == "xlsx":
        _xlsx(output, {"clusters": sim.clusters, "by_city": sim.by_city})
        console.print(f"wrote {output}")
        return
    console.print(f"[bold]Simulation[/] {scenario.label} on {scenario.base.id}, year {sim.year}: "
                  f"{'; '.join(scenario.changes) or 'no change'}", soft_wrap=True)
    _print_frame(sim.clusters.select("code", "county_name", "baseline", "reformed", "criteria_changed"))
    console.print("\n[bold]By city[/]")
    _print_frame(sim.by_city)


def simulate_enterprises(
    pack: str = typer.Option(None, "--pack", help="The tier pack the --set options change."),
    reform: Path = typer.Option(None, "--reform", help="Reform YAML file (base pack and changes)."),
    sets: list[str] = typer.Option(None, "--set", help=SET_HELP),
    compare: list[str] = typer.Option(None, "--compare", help="Two packs of one tier: --compare A --compare B."),
    year: int = typer.Option(None, "--year", help="Data year (default: the newest in the registry)."),
    on: str = typer.Option(None, "--on", help="Evaluation date YYYY-MM-DD (default: today, at most end of year+1)."),
    county: str = typer.Option(None, "--county", help="Only firms of this county code."),
    kind: str = typer.Option("new", "--kind", help="Kind of evaluation: new or review."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
    engine: str = ENGINE,
    spark_master: str = MASTER,
) -> None:
    """Per tier the firms that gain or lose it, by county and industry, and the effect on each target."""
    from smecluster.policy.reform import ReformError
    from smecluster.services.simulate import simulate_enterprises as run

    if fmt not in ("table", "json", "xlsx"):
        fail(f"--format {fmt!r}: choose table, json or xlsx")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx writes a file: give -o FILE")
    if kind not in ("new", "review"):
        fail(f"--kind {kind!r}: choose new or review")
    when = None
    if on:
        try:
            when = date.fromisoformat(on)
        except ValueError:
            fail(f"--on {on!r}: give a date as YYYY-MM-DD")
    scenario = _scenario(pack, reform, sets, compare)
    sql, _ = open_sql(engine, spark_master)
    try:
        sim = run(_engine(), scenario, year, when, county, kind, sql=sql)
    except (ValueError, ReformError) as exc:
        fail(str(exc))
    finally:
        if sql is not None:
            sql.close()
    if fmt == "json":
        emit(json.dumps(sim.to_dict(), ensure_ascii=False, indent=2, default=str), output)
        return
    if fmt == "xlsx":
        import polars as pl

        _xlsx(output, {"summary": pl.DataFrame([sim.summary]), "by_county": sim.by_county,
                       "by_industry": sim.by_industry, "firms": sim.firms,
                       "targets": pl.DataFrame(sim.targets) if sim.targets else pl.DataFrame({"target": []})})
        console.print(f"wrote {output}")
        return
    s = sim.summary
    console.print(f"[bold]Simulation[/] {scenario.label}, tier {sim.tier}, data year {sim.year}, on {sim.on}: "
                  f"{'; '.join(scenario.changes) or 'pack comparison'}", soft_wrap=True)
    console.print(f"{s['firms']:,} firms: qualifying {s['qualifies_baseline']:,} → {s['qualifies_reformed']:,}; "
                  f"gain {s['gained']:,} ({s['gained_not_designated']:,} not yet designated), "
                  f"lose {s['lost']:,} ({s['lost_designated']:,} now designated)")
    if s["held_reformed"] != s["held_baseline"]:  # a reform of the validity period
        console.print(f"designations counting on {sim.on}: {s['held_baseline']:,} → {s['held_reformed']:,}")
    moved = lambda f: f.filter((f["gained"] > 0) | (f["lost"] > 0)).head(20)  # noqa: E731
    console.print("\n[bold]By county[/] (where firms gain or lose)")
    _print_frame(moved(sim.by_county))
    console.print("\n[bold]By industry[/] (where firms gain or lose)")
    _print_frame(moved(sim.by_industry))
    for t in sim.targets:
        console.print(f"\ntarget {t['id']} {t['title']} ({t['value']:,.0f} by {t['deadline']}): now {t['current']:,} → "
                      f"{t['current_reformed']:,}; projected {t['projection']:,.0f} → {t['projection_reformed']:,.0f} "
                      f"({'on track' if t['on_track_reformed'] else 'off track'} with the reform)", soft_wrap=True)


def _print_frame(frame) -> None:
    table = new_table(*frame.columns, keep=tuple(c for c in frame.columns if c not in ("name", "criteria_changed")))
    for row in frame.iter_rows():
        table.add_row(*[word(v) for v in row])
    print_table(table)


def _xlsx(path: Path, sheets: dict) -> None:
    from smecluster.reports.simulate_export import write_xlsx

    write_xlsx(path, sheets)


def register(app: typer.Typer) -> None:
    """Add `policy diff` and the `simulate` commands."""
    from smecluster.cli.core import policy_app

    policy_app.command("diff")(policy_diff)
    simulate_app.command("clusters")(simulate_clusters)
    simulate_app.command("enterprises")(simulate_enterprises)
    app.add_typer(simulate_app, name="simulate")
