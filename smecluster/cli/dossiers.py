"""Watch and report commands: `watch` (re-review watch) and `report cluster|recommendation|watch` (the
files officials file: Word, Excel, PDF)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from smecluster.cli.common import STATE, console, emit, fail, new_table, print_table

FORMATS = ("docx", "xlsx", "pdf")


def _engine():
    from smecluster.db import open_database

    return open_database(STATE.db)


def watch(
    year: int = typer.Option(None, "--year", help="Calendar year of the watch (default: this year): re-reviews "
                             "due in it and the yearly reports due by its 30 April."),
    region: str = typer.Option(None, "--region", help="GB/T 2260 code: only clusters inside it."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="File for xlsx (required) or json."),
) -> None:
    """Re-review watch: every recognised cluster's criteria year by year, 3-year trend, value projected to
    its re-review year, at-risk criteria (projected to fail or within the margin of the threshold), the
    clusters due for re-review and whether each yearly report was filed."""
    from smecluster.services.watch import compute_watch

    if fmt not in ("table", "json", "xlsx"):
        fail(f"--format {fmt!r}: choose table, json or xlsx")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx needs -o FILE.xlsx")
    if region is not None and not (region.isdigit() and len(region) == 6):
        fail(f"--region {region!r}: give a 6-digit GB/T 2260 code")
    w = compute_watch(_engine(), year=year, region=region)
    if fmt == "json":
        emit(json.dumps(w.to_dict(), ensure_ascii=False, indent=2), output, announce=False)
        return
    if fmt == "xlsx":
        from smecluster.reports.dossier_xlsx import watch_xlsx

        watch_xlsx(w, output)
        console.print(f"wrote {output}")
        return
    console.print(f"re-review watch {w.year}: data year {w.data_year}, {len(w.clusters)} recognised, "
                  f"{len(w.at_risk)} at risk, {len(w.due)} due for re-review; margin {w.margin:.0%} of the "
                  f"threshold, validity {w.validity_years} years", soft_wrap=True)
    table = new_table("id", "cluster", "county", "re-review", "at risk", "criteria at risk", "reports",
                      keep=("id", "re-review", "at risk"))
    for c in w.clusters:
        reports = ", ".join(f"{r['year']} {r['state']}" for r in c["reports"])
        table.add_row(str(c["id"]), c["name"], c["county_name"], str(c["re_review_year"]),
                      "yes" if c["at_risk"] else "", ", ".join(c["risks"]), reports)
    print_table(table)
    for c in w.at_risk:
        detail = new_table("criterion", "indicator", "latest", "slope/yr", f"projected {c['re_review_year']}",
                           "threshold", "projected status", title=c["name"],
                           keep=("criterion", "latest", "slope/yr", "threshold", "projected status"))
        for k in c["criteria"]:
            if k["at_risk"] and k["condition_at_risk"]:
                detail.add_row(k["id"], k["label_en"], _num(k["latest"]), _num(k["slope"]), _num(k["projected"]),
                               f"{k['comparator']} {k['threshold']}", k["projected_status"] or "")
        print_table(detail)


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def report(
    kind: str = typer.Argument(..., help="cluster | recommendation | watch"),
    target: str = typer.Argument(None, help="For `cluster`: the cluster id, or `all` (one file per cluster "
                                 "into the -o folder)."),
    fmt: str = typer.Option("docx", "--format", help="docx | xlsx | pdf (recommendation: xlsx)."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write (a folder for `cluster all`)."),
    year: int = typer.Option(None, "--year", help="watch: calendar year; recommendation: recommendation year."),
) -> None:
    """Write a cluster dossier, the province's recommendation summary (推荐汇总表) or the yearly watch report."""
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: choose docx, xlsx or pdf")
    if kind == "cluster":
        _cluster_reports(target, fmt, output)
    elif kind == "watch":
        from smecluster.reports import dossier_docx, dossier_pdf, dossier_xlsx
        from smecluster.services.watch import compute_watch

        w = compute_watch(_engine(), year=year)
        {"docx": dossier_docx.watch_docx, "xlsx": dossier_xlsx.watch_xlsx, "pdf": dossier_pdf.watch_pdf}[fmt](w, output)
        console.print(f"wrote {output}: {len(w.clusters)} recognised clusters, {len(w.at_risk)} at risk")
    elif kind == "recommendation":
        if fmt != "xlsx":
            fail("the recommendation summary (推荐汇总表) is an Excel file: --format xlsx")
        from smecluster.reports.recommendation_xlsx import recommendation_xlsx
        from smecluster.services.priority import recommend

        try:
            rec = recommend(_engine(), year=year)
        except ValueError as exc:
            fail(str(exc))
        recommendation_xlsx(rec, output)
        console.print(f"wrote {output}: {len(rec.recommended)} recommended of {len(rec.candidates)} candidates")
    else:
        fail(f"report {kind!r}: choose cluster, recommendation or watch")


def _cluster_reports(target: str | None, fmt: str, output: Path) -> None:
    from rich.progress import Progress

    from smecluster.reports import dossier_docx, dossier_pdf, dossier_xlsx
    from smecluster.services.dossiers import UnknownCluster, gather

    if target is None:
        fail("report cluster needs a cluster id (or `all`)")
    ids = None
    if target != "all":
        if not target.isdigit():
            fail(f"report cluster {target!r}: give a cluster id (a number) or `all`")
        ids = [int(target)]
    writer = {"docx": dossier_docx.dossier_docx, "xlsx": dossier_xlsx.dossier_xlsx,
              "pdf": dossier_pdf.dossier_pdf}[fmt]
    try:
        with console.status("gathering the registry ..."):
            dossiers = gather(_engine(), ids)
    except UnknownCluster as exc:
        fail(str(exc))
    if not dossiers:
        fail("no cluster or no yearly data in the registry")
    if ids is not None:
        writer(dossiers[0], output)
        console.print(f"wrote {output}")
        return
    output.mkdir(parents=True, exist_ok=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"writing {len(dossiers)} dossiers", total=len(dossiers))
        for d in dossiers:
            writer(d, output / f"{d.cluster['id']}-{_file_safe(d.cluster['code'])}.{fmt}")
            progress.advance(task)
    console.print(f"wrote {len(dossiers)} dossiers into {output}")


def _file_safe(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)[:60]


def register(app: typer.Typer) -> None:
    """Add `watch` and `report` to the root command."""
    app.command("watch")(watch)
    app.command("report")(report)
