"""Chain commands: `chain list|show|import|coverage|partners` and `related`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from smecluster.cli.common import STATE, console, err_console, fail, new_table, print_table

chain_app = typer.Typer(help="Industrial chains (强链补链): maps, link coverage, gaps and partners.",
                        no_args_is_help=True)
FORMATS = ("table", "json", "xlsx")
STATUS_ZH = {"present": "具备", "weak": "薄弱", "missing": "缺失"}
SIZE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


def _tier_zh(kind: str | None) -> str:
    """A tier's Chinese name (the code when the tier catalogue does not know it)."""
    from smecluster.policy.tiers import tiers

    return "" if not kind else next((t.label_zh for t in tiers() if t.kind == kind), kind)


def _check_format(fmt: str, output: Path | None) -> None:
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: choose table, json or xlsx")
    if fmt == "xlsx" and output is None:
        fail("--format xlsx writes a file: give -o FILE")


def _registry(facts: bool = True, places: bool = True):
    """The registry read for chain questions, with a progress display on stderr (`facts=False`: without
    output, tiers and sizes)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from smecluster.db import open_database
    from smecluster.services.chains import read_registry

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True) as progress:
        progress.add_task("reading the registry (firms, output, tiers, clusters)", total=None)
        return read_registry(open_database(STATE.db), facts=facts, places=places)


def chain_list() -> None:
    """Every chain map and chain system: shipped ones and those imported."""
    from smecluster.chains.catalogue import load_catalogue
    from smecluster.db import open_database

    cat = load_catalogue(open_database(STATE.db))
    table = new_table("id", "kind", "title", "version", "status", "links", "origin",
                      keep=("id", "kind", "version", "status", "links", "origin"))
    for m in cat.maps.values():
        table.add_row(m.id, "map", m.title, m.version, m.status, str(len(m.links)), cat.origin[m.id])
    for s in cat.systems.values():
        listed = f"{len(s.chains)}/{s.chains_expected} chains"
        table.add_row(s.id, "system", s.title, s.version, "complete" if s.complete else "incomplete", listed,
                      cat.origin[s.id])
    print_table(table)


def chain_show(
    chain_id: str = typer.Argument(..., help="Chain map or system id (see `chain list`)."),
    fmt: str = typer.Option("table", "--format", help="table | json."),
) -> None:
    """A chain's segments, links (classes, keywords, key links) and supplies-to edges; or a system's chains."""
    from smecluster.chains.catalogue import load_catalogue
    from smecluster.db import open_database

    cat = load_catalogue(open_database(STATE.db))
    doc = cat.maps.get(chain_id) or cat.systems.get(chain_id)
    if doc is None:
        fail(f"unknown chain {chain_id!r}; known: {', '.join(sorted([*cat.maps, *cat.systems]))}")
    if fmt == "json":
        typer.echo(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{doc.title}[/] ({doc.id}, {doc.version}, from {doc.effective_from}, {cat.origin[doc.id]})")
    if doc.kind == "chain_system":
        table = new_table("chain", "name", "excellence", "map", "classes", keep=("chain", "excellence", "map"))
        for c in doc.chains:
            table.add_row(c.id, c.name, "卓越" if c.excellence else "", c.map or "", " ".join(c.classes))
        print_table(table)
        console.print(f"{len(doc.chains)} of {doc.chains_expected} chains listed"
                      + ("" if doc.complete else " (incomplete: J9 is unknown for clusters not found)"))
        return
    segments = {s.id: s.name for s in doc.segments}
    table = new_table("link", "name", "segment", "key", "classes", "keywords", keep=("link", "key"))
    for link in doc.links:
        table.add_row(link.id, link.name, segments[link.segment], "★" if link.key else "", " ".join(link.classes),
                      "、".join(link.keywords))
    print_table(table)
    console.print("supplies to: " + "; ".join(f"{a} → {b}" for a, b in doc.edges))


def chain_import(file: Path = typer.Argument(..., help="A chain map or chain system YAML file.")) -> None:
    """Check a chain map or system and store it (replaces a shipped or imported one of the same id)."""
    from smecluster.chains.catalogue import import_document
    from smecluster.chains.maps import ChainError
    from smecluster.db import open_database

    try:
        doc = import_document(open_database(STATE.db), file, datetime.now(UTC).replace(tzinfo=None))
    except ChainError as exc:
        fail(str(exc))
    console.print(f"imported {doc.kind} {doc.id} ({doc.title}, version {doc.version})")


def chain_coverage(
    cluster: str = typer.Option(None, "--cluster", help="Cluster id or code."),
    county: str = typer.Option(None, "--county", help="County code (GB/T 2260)."),
    city: str = typer.Option(None, "--city", help="City code."),
    province: str = typer.Option(None, "--province", help="Province code (32 or 320000)."),
    chain: str = typer.Option(None, "--chain", help="Chain id (default: the cluster's chains, or every chain)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
) -> None:
    """Which links of a chain are present, weak or missing in a cluster, county, city or the province."""
    from smecluster.chains.maps import ChainError
    from smecluster.services.chains import chain_coverage as coverage

    _check_format(fmt, output)
    given = [(lv, v) for lv, v in (("cluster", cluster), ("county", county), ("city", city),
                                   ("province", province)) if v]
    if len(given) != 1:
        fail("give exactly one of --cluster, --county, --city, --province")
    level, code = given[0]
    reg = _registry(places=False)  # coverage needs no names or positions
    try:
        results = coverage(reg, level, code, chain)
    except ChainError as exc:
        fail(str(exc))
    if fmt == "json":
        _emit(json.dumps(results, ensure_ascii=False, indent=2, default=str), output)
        return
    if fmt == "xlsx":
        from smecluster.reports.chain_export import coverage_xlsx

        coverage_xlsx(output, results)
        console.print(f"wrote {output}")
        return
    for r in results:
        s = r["summary"]
        console.print(f"[bold]{r['chain']['title']}[/] · {r['scope']['name']} ({r['scope']['code']}) · {r['year']}: "
                      f"{s['covered']}/{s['links']} links covered ({s['coverage_share']:.0%}), "
                      f"{s['present']} present, {s['weak']} weak, {s['missing']} missing")
        table = new_table("link", "name", "key", "status", "firms", "output 万元", "tier", "top share",
                          keep=("link", "key", "status", "firms", "output 万元", "tier", "top share"))
        for link in r["links"]:
            share = "" if link["top_share"] is None else f"{link['top_share']:.0%}"
            table.add_row(link["id"], link["name"], "★" if link["key"] else "",
                          f"{link['status']} {STATUS_ZH[link['status']]}", str(link["firms"]),
                          f"{link['output']:,.0f}", str(link["tier_firms"]), share)
        print_table(table)


def chain_assign(fmt: str = typer.Option("table", "--format", help="table | json.")) -> None:
    """Every firm's links in every chain (kept beside the registry's snapshot on a province-sized
    registry, computed the first time after the registry or a chain map changed), counted per chain."""
    from smecluster.services.chains import assignment_summary

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: choose table or json")
    found = assignment_summary(_registry(facts=False, places=False))
    if fmt == "json":
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    console.print(f"{found['firms']:,} firms, {found['firms_on_a_chain']:,} on a chain, {found['rows']:,} links")
    table = new_table("chain", "via", "links", "firms", keep=("chain", "via", "links", "firms"))
    for chain_id, kinds in found["chains"].items():
        for via, n in kinds.items():
            table.add_row(chain_id, via, f"{n['rows']:,}", f"{n['firms']:,}")
    print_table(table)


def chain_partners(
    cluster: str = typer.Option(None, "--cluster", help="Cluster id or code."),
    every: bool = typer.Option(False, "--all", help="Every cluster: coverage in its chains and partners for "
                                                    "all its weak and missing links."),
    link: str = typer.Option(None, "--link", help="Only this link."),
    chain: str = typer.Option(None, "--chain", help="Chain id (default: the cluster's chains)."),
    per_link: int = typer.Option(10, "--per-link", min=1, max=500, help="Candidates per link."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
) -> None:
    """Firms outside a cluster that could fill its weak and missing links, nearest first (same city first)."""
    from smecluster.chains.maps import ChainError
    from smecluster.services.chains import cluster_partners

    _check_format(fmt, output)
    if every:
        if cluster or link or chain:
            fail("--all takes no --cluster, --link or --chain")
        _every_cluster(per_link, fmt, output)
        return
    if not cluster:
        fail("give --cluster ID or --all")
    reg = _registry()
    try:
        found = cluster_partners(reg, cluster, link, chain, per_link)
    except ChainError as exc:
        fail(str(exc))
    if fmt == "json":
        _emit(json.dumps(found, ensure_ascii=False, indent=2, default=str), output)
        return
    if fmt == "xlsx":
        from smecluster.reports.chain_export import partners_xlsx

        partners_xlsx(output, found)
        console.print(f"wrote {output}")
        return
    console.print(f"[bold]{found['cluster']['name']}[/]: {len(found['gaps'])} weak or missing links")
    for gap in found["gaps"]:
        console.print(f"\n[bold]{gap['name']}[/] ({gap['chain_id']}/{gap['link_id']}, "
                      f"{gap['status']} {STATUS_ZH[gap['status']]}): {len(gap['partners'])} candidates")
        if not gap["partners"]:
            continue
        table = new_table("firm", "county", "km", "same city", "neighbour", "tier", "size", "output 万元", "why",
                          keep=("km", "same city", "neighbour", "tier", "size", "output 万元"))
        for p in gap["partners"]:
            table.add_row(p["name"], p["county_name"] or p["county_code"], f"{p['distance_km']:.1f}",
                          "yes" if p["same_city"] else "", "yes" if p["neighbour"] else "", _tier_zh(p["tier"]),
                          SIZE_ZH.get(p["size"] or "", p["size"] or ""),
                          "" if p["output"] is None else f"{p['output']:,.0f}",
                          f"{p['via']}: {p['evidence']}")
        print_table(table)


def _every_cluster(per_link: int, fmt: str, output: Path | None) -> None:
    """`chain partners --all`: every cluster's coverage and partners (JSON, or a summary table)."""
    from smecluster.services.chains import all_clusters

    if fmt == "xlsx":
        fail("--all writes json or a table")
    found = all_clusters(_registry(), per_link)
    if fmt == "json":
        _emit(json.dumps(found, ensure_ascii=False, indent=2, default=str), output)
        return
    table = new_table("cluster", "chain", "covered", "present", "weak", "missing", "partners",
                      keep=("cluster", "chain", "covered", "present", "weak", "missing", "partners"))
    for c in found["clusters"]:
        for chain in c["chains"]:
            s = chain["summary"]
            n = sum(len(g["partners"]) for g in c["gaps"] if g["chain_id"] == chain["chain_id"])
            table.add_row(c["cluster"]["code"], chain["chain_id"], f"{s['covered']}/{s['links']}", str(s["present"]),
                          str(s["weak"]), str(s["missing"]), str(n))
    print_table(table)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add the `chain` commands."""
    chain_app.command("list")(chain_list)
    chain_app.command("show")(chain_show)
    chain_app.command("import")(chain_import)
    chain_app.command("assign")(chain_assign)
    chain_app.command("coverage")(chain_coverage)
    chain_app.command("partners")(chain_partners)
    app.add_typer(chain_app, name="chain")
    app.command("related")(related)


def related(
    county: str = typer.Option(..., "--county", help="County code (GB/T 2260)."),
    top: int = typer.Option(10, "--top", min=1, max=200, help="How many industries to list."),
    year: int = typer.Option(None, "--year", help="Year of the output figures (default: newest)."),
    fmt: str = typer.Option("table", "--format", help="table | json | xlsx."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file (needed for xlsx)."),
) -> None:
    """Industries a county could grow into (product-space density), its specialisations and complexity."""
    from smecluster.db import open_database
    from smecluster.services.relatedness import county_related

    _check_format(fmt, output)
    try:
        found = county_related(open_database(STATE.db), county, top, year)
    except ValueError as exc:
        fail(str(exc))
    if fmt == "json":
        _emit(json.dumps(found, ensure_ascii=False, indent=2), output)
        return
    if fmt == "xlsx":
        from smecluster.reports.chain_export import related_xlsx

        related_xlsx(output, found)
        console.print(f"wrote {output}")
        return
    if found["diversity"] == 0 and not found["options"]:
        console.print(f"[bold]{found['county']['name']}[/] ({found['county']['code']}): no industrial output "
                      f"in the registry for {found['year'] or 'any year'}, so nothing to rank")
        return
    eci = "-" if found["eci"] is None else f"{found['eci']:.2f} (rank {found['eci_rank']} of {found['counties']})"
    console.print(f"[bold]{found['county']['name']}[/] ({found['county']['code']}) · {found['year']}: "
                  f"complexity {eci}, specialised in {found['diversity']} industries")
    table = new_table("code", "industry", "density", "LQ", "ubiquity", keep=("code", "density", "LQ", "ubiquity"))
    for o in found["options"]:
        table.add_row(o["code"], o["name"] or "", f"{o['density']:.3f}", f"{o['lq']:.2f}", str(o["ubiquity"]))
    print_table(table)
