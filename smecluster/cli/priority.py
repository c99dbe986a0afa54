"""Priority commands: `rank` (priority ranking with its stability) and `recommend` (national list)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from smecluster.cli.common import STATE, console, emit, fail, new_table, print_table
from smecluster.cli.engine_options import ENGINE, MASTER, open_sql


def _engine():
    from smecluster.db import open_database

    return open_database(STATE.db)


def rank(
    pack: str = typer.Option(None, "--pack", help="Priority pack id or file (default: the newest)."),
    year: int = typer.Option(None, "--year", help="Data year (default: the newest year with data)."),
    top: int = typer.Option(None, "--top", min=1, help="N of 'top N' for the stability (default: the pack's)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="File for xlsx (required) or json."),
    engine: str = ENGINE,
    spark_master: str = MASTER,
) -> None:
    """Priority ranking of the recognised clusters: five-dimension scores, TOPSIS score, rank interval
    (5th-95th percentile over weight draws) and the probability of being in the top N."""
    from smecluster.analytics.priority import AhpError
    from smecluster.policy.pack import PackError
    from smecluster.services.priority import rank_clusters

    if fmt not in ("table", "json", "xlsx"):
        fail(f"--format {fmt!r}: choose table, json or xlsx")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx needs -o FILE.xlsx")
    sql, _ = open_sql(engine, spark_master)
    try:
        ranking = rank_clusters(_engine(), pack, year, top, sql=sql)
    except (PackError, AhpError, ValueError) as exc:
        fail(str(exc))
    finally:
        if sql is not None:
            sql.close()
    if fmt == "json":
        emit(json.dumps(ranking.to_json(), ensure_ascii=False, indent=2), output, announce=False)
        return
    if fmt == "xlsx":
        from smecluster.reports.priority_export import write_xlsx

        write_xlsx(ranking, output)
        console.print(f"wrote {output}")
        return
    p = ranking.pack
    console.print(f"[bold]{p['id']}[/] v{p['version']}, data year {ranking.year}, {ranking.method}, "
                  f"top {ranking.top_n}; {ranking.stability['draws']} weight draws", soft_wrap=True)
    dims = ranking.dimensions
    table = new_table("rank", "cluster", *[d["id"] for d in dims], "score", "P05-P95", f"P(top {ranking.top_n})",
                      keep=("rank", "score", "P05-P95", f"P(top {ranking.top_n})", *[d["id"] for d in dims]))
    for c in ranking.clusters:
        table.add_row(str(c.rank), c.name, *[f"{c.dimension_scores[d['id']]:.3f}" for d in dims],
                      f"{c.score:.4f}", f"{c.rank_p05}-{c.rank_p95}", f"{c.p_top_n:.1%}")
    print_table(table)
    console.print("weights: " + ", ".join(f"{d['id']} {d['weight']:.3f}" for d in dims)
                  + f" (AHP CR {ranking.ahp['cr']:.3f}); {ranking.weight_rule}", soft_wrap=True)
    if ranking.swap:
        s = ranking.swap
        console.print(f"swap: {s['label_en']} weight {s['weight_from']:.4f} → {s['weight_to']:.4f} puts "
                      f"{s['first_out']['name']} above {s['last_in']['name']} ({s['rule']})", soft_wrap=True)
    for n in ranking.notes:
        console.print(f"note: {n['en']}", soft_wrap=True)


def recommend(
    pack: str = typer.Option(None, "--pack", help="Priority pack id or file (default: the newest)."),
    year: int = typer.Option(None, "--year", help="Recommendation year (default: newest data year + 1); "
                             "the data of the year before are used."),
    fmt: str = typer.Option("table", "--format", help="table | json."),
) -> None:
    """Recommendation to the national list: recognised clusters meeting the national pack, by priority
    score, cut at the province's quota; the gaps of those that do not meet it."""
    from smecluster.analytics.priority import AhpError
    from smecluster.policy.pack import PackError
    from smecluster.services.priority import recommend as recommend_service

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: choose table or json")
    try:
        rec = recommend_service(_engine(), pack, year)
    except (PackError, AhpError, ValueError) as exc:
        fail(str(exc))
    if fmt == "json":
        print(json.dumps(rec.to_json(), ensure_ascii=False, indent=2))
        return
    console.print(f"recommendation {rec.year} (data {rec.data_year}): {rec.priority_pack} × {rec.national_pack}, "
                  f"quota {rec.quota}; {len(rec.recommended)} recommended", soft_wrap=True)
    table = new_table("rank", "cluster", "score", "national", "recommended", "gaps", keep=("rank", "score"))
    for c in rec.candidates:
        gaps = "；".join(f"{g['id']} {g['gap_zh'] or g['title']}" for g in c.gaps)
        table.add_row(str(c.cluster.rank), c.cluster.name, f"{c.cluster.score:.4f}", c.outcome,
                      "yes" if c.recommended else "", gaps)
    print_table(table)
    if rec.confirmed:
        console.print(f"confirmed by {rec.confirmed['confirmed_by']} at {rec.confirmed['confirmed_at']} "
                      f"(version {rec.confirmed['version']})")
    else:
        console.print("not yet confirmed (the provincial department confirms it on the web: /recommendation)")


def register(app: typer.Typer) -> None:
    """Add `rank` and `recommend`."""
    app.command("rank")(rank)
    app.command("recommend")(recommend)
