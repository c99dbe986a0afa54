"""Chains for the CLI and the web: the registry read once, firms assigned to links, coverage by scope,
partners for a cluster's gaps. A province-sized registry is read from its columnar snapshot, every firm's
links and the year's facts kept beside it (chains.stored, decision 2101); a smaller one by whole-table SQL.
Everything after is column work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import duckdb
import polars as pl
from sqlalchemy import Engine

from smecluster.analytics.reader import read_frame
from smecluster.chains.assign import LinkKeys, assign_links
from smecluster.chains.catalogue import Catalogue, load_catalogue
from smecluster.chains.coverage import coverage, summary
from smecluster.chains.maps import ChainError, ChainMap
from smecluster.chains.partners import partners
from smecluster.policy.validity import cluster_date, held_sql

# Highest first: the tier a firm is shown with. Tier firms hold any of them on 31 December of the year.
TIERS = ("single_champion", "little_giant", "srdi_sme", "innovative_sme")
LEVELS = ("cluster", "county", "city", "province")
TEXT, FLOAT = pl.Utf8, pl.Float64
FACTS_SCHEMA = {"uscc": TEXT, "output": FLOAT, "tier": TEXT, "size": TEXT}


@dataclass
class ChainRegistry:
    """What chain questions read from the registry, as frames."""

    year: int | None
    # uscc, name, county_code, industry_code, lon, lat, main_products, business_scope (from the snapshot:
    # uscc, county_code, and name, lon, lat unless read without places; the links are kept)
    firms: pl.DataFrame
    facts: pl.DataFrame  # uscc, output, tier, size, row (in the firms' order)
    counties: pl.DataFrame  # code, name, city_code, province_code, lon, lat
    regions: pl.DataFrame  # code, name, level, parent_code
    clusters: pl.DataFrame  # id, code, name, county_code, leading_industries (JSON text)
    members: pl.DataFrame  # cluster_id, uscc
    overrides: pl.DataFrame  # uscc, chain_id, link_id
    catalogue: Catalogue
    kept: LinkKeys | None = None  # every firm's links, kept beside the snapshot (rows: positions in `firms`)
    answers: dict = field(default_factory=dict, repr=False)  # answers computed from it, by question (web)


def _typed(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t, strict=False) for c, t in schema.items()])


def read_registry(engine: Engine, year: int | None = None, facts: bool = True, places: bool = True) -> ChainRegistry:
    """Read firms, the year's output, tiers and size classes, regions, clusters and overrides: from the
    columnar snapshot when the registry is province-sized (rebuilt first if the registry moved on; every
    firm's links kept beside it), else from the database. `facts=False`: no output, tiers or sizes (an
    empty `facts`), for questions about links alone; `places=False`: from the snapshot, the firms
    without name and position (coverage needs neither; partners do)."""
    from smecluster.analytics.stored_snapshot import current_snapshot

    snapshot = current_snapshot(engine)
    if snapshot is not None:
        return stored_registry(engine, snapshot, year, facts, places)
    return database_registry(engine, year, facts)


def database_registry(engine: Engine, year: int | None = None, facts: bool = True) -> ChainRegistry:
    """`read_registry` from the database, whatever the registry's size."""
    firms = _typed(read_frame(engine, "SELECT uscc, name, county_code, industry_code, lon, lat, main_products, "
                                      "business_scope FROM enterprise"),
                   {"uscc": TEXT, "name": TEXT, "county_code": TEXT, "industry_code": TEXT, "lon": FLOAT,
                    "lat": FLOAT, "main_products": TEXT, "business_scope": TEXT})
    if year is None:
        found = read_frame(engine, "SELECT MAX(year) AS y FROM enterprise_year")
        year = None if found.is_empty() or found["y"][0] is None else int(found["y"][0])
    years = _typed(read_frame(engine, "SELECT uscc, output, revenue, employees, total_assets FROM enterprise_year "
                                      f"WHERE year = {int(year or 0)}"),
                   {"uscc": TEXT, "output": FLOAT, "revenue": FLOAT, "employees": FLOAT, "total_assets": FLOAT})
    kinds = ", ".join(f"'{k}'" for k in TIERS)
    designation = read_frame(engine, f"SELECT uscc, kind, year, valid_from, valid_until FROM designation "
                                     f"WHERE kind IN ({kinds})")
    designation = _typed(designation, {"uscc": TEXT, "kind": TEXT, "year": pl.Int32, "valid_from": TEXT,
                                       "valid_until": TEXT}).with_columns(
        pl.col("valid_from").str.slice(0, 10).str.to_date(strict=False),
        pl.col("valid_until").str.slice(0, 10).str.to_date(strict=False))
    industry = _typed(read_frame(engine, "SELECT code, section FROM industry WHERE level = 2"),
                      {"code": TEXT, "section": TEXT})
    facts = _facts(firms, years, designation, industry, year) if facts else pl.DataFrame(schema=FACTS_SCHEMA)
    facts = by_row(firms["uscc"], facts)
    regions = _typed(read_frame(engine, "SELECT code, name, level, parent_code, lon, lat FROM region"),
                     {"code": TEXT, "name": TEXT, "level": TEXT, "parent_code": TEXT, "lon": FLOAT, "lat": FLOAT})
    clusters = _typed(read_frame(engine, "SELECT id, code, name, county_code, CAST(leading_industries AS TEXT) "
                                         "AS leading_industries FROM cluster"),
                      {"id": pl.Int64, "code": TEXT, "name": TEXT, "county_code": TEXT, "leading_industries": TEXT})
    members = _typed(read_frame(engine, "SELECT cluster_id, uscc FROM cluster_member"),
                     {"cluster_id": pl.Int64, "uscc": TEXT})
    overrides = _typed(read_frame(engine, "SELECT uscc, chain_id, link_id FROM chain_link_override"),
                       {"uscc": TEXT, "chain_id": TEXT, "link_id": TEXT})
    return ChainRegistry(year, firms, facts, _counties(regions), regions.select("code", "name", "level", "parent_code"),
                         clusters, members, overrides, load_catalogue(engine))


def facts_sql(year: int | None, f: str = "f", y: str = "y", d: str = "d", i: str = "i") -> str:
    """DuckDB SQL of the facts (uscc, output, tier, size) over relations f (uscc, industry_code), y (the
    year's output, revenue, employees, total_assets), d (designations of the tier kinds) and i (industry
    divisions: code, section)."""
    from smecluster.analytics.size_class import size_class_sql
    from smecluster.policy.pack import load_pack
    from smecluster.settings import province

    rank = " ".join(f"WHEN '{k}' THEN {n}" for n, k in enumerate(TIERS))
    label = " ".join(f"WHEN {n} THEN '{k}'" for n, k in enumerate(TIERS))
    on = cluster_date(year or 1900)
    size = size_class_sql(load_pack(province().size_policy))
    return (
        f"WITH held AS (SELECT uscc, MIN(CASE kind {rank} END) AS r FROM {d} d WHERE {held_sql(on, 'd')} "
        f"GROUP BY uscc) SELECT f.uscc, CAST(y.output AS DOUBLE) AS output, CASE h.r {label} "
        f"END AS tier, {size} AS size FROM {f} f LEFT JOIN {i} i ON i.code = LEFT(f.industry_code, 2) "
        f"LEFT JOIN {y} y ON y.uscc = f.uscc LEFT JOIN held h ON h.uscc = f.uscc"
    )


def _facts(firms, years, designation, industry, year) -> pl.DataFrame:
    """uscc, output, tier (highest held on 31 December of the year), size (the province's size pack)."""
    con = duckdb.connect()
    con.register("f", firms.select("uscc", "industry_code").to_arrow())
    con.register("y", years.to_arrow())
    con.register("d", designation.to_arrow())
    con.register("i", industry.to_arrow())
    out = con.sql(facts_sql(year)).pl()
    con.close()
    return out


def by_row(uscc: pl.Series, facts: pl.DataFrame) -> pl.DataFrame:
    """`facts` (one row per firm) in the firms' order with `row`, the firm's position (null figures for a
    firm it lacks)."""
    return (pl.DataFrame({"uscc": uscc}).with_row_index("row")
            .join(facts, on="uscc", how="left", maintain_order="left")
            .select("uscc", *[c for c in facts.columns if c != "uscc"], "row"))


def stored_registry(engine: Engine, snapshot, year: int | None = None, facts: bool = True,
                    places: bool = True) -> ChainRegistry:
    """`read_registry` from the snapshot `snapshot` (current), the facts and every firm's links kept beside it."""
    from smecluster.chains.stored import FIRM_COLUMNS, kept_facts, kept_links, read_parquet

    year = snapshot.newest_year() if year is None else year
    columns = FIRM_COLUMNS if places else ("uscc", "county_code")
    firms = _typed(read_parquet(snapshot, "enterprise", columns),
                   {c: t for c, t in {"uscc": TEXT, "name": TEXT, "county_code": TEXT, "lon": FLOAT,
                                      "lat": FLOAT}.items() if c in columns})
    kinds = ", ".join(f"'{k}'" for k in TIERS)
    sql = facts_sql(
        year, f="enterprise",
        y=f"(SELECT uscc, output, revenue, employees, total_assets FROM enterprise_year WHERE year = {int(year or 0)})",
        d=f"(SELECT uscc, kind, year, valid_from, valid_until FROM designation WHERE kind IN ({kinds}))",
        i="(SELECT code, section FROM industry WHERE level = 2)")
    facts = kept_facts(snapshot, year, sql, firms["uscc"]) if facts else by_row(firms["uscc"],
                                                                                 pl.DataFrame(schema=FACTS_SCHEMA))
    regions = _typed(read_parquet(snapshot, "region", ("code", "name", "level", "parent_code", "lon", "lat")),
                     {"code": TEXT, "name": TEXT, "level": TEXT, "parent_code": TEXT, "lon": FLOAT, "lat": FLOAT})
    clusters = _typed(read_parquet(snapshot, "cluster", ("id", "code", "name", "county_code", "leading_industries")),
                      {"id": pl.Int64, "code": TEXT, "name": TEXT, "county_code": TEXT, "leading_industries": TEXT})
    members = _typed(read_parquet(snapshot, "cluster_member", ("cluster_id", "uscc")),
                     {"cluster_id": pl.Int64, "uscc": TEXT})
    # the chain documents and overrides are not in the snapshot: small tables, read from the database
    overrides = _typed(read_frame(engine, "SELECT uscc, chain_id, link_id FROM chain_link_override"),
                       {"uscc": TEXT, "chain_id": TEXT, "link_id": TEXT})
    catalogue = load_catalogue(engine)
    return ChainRegistry(year, firms, facts, _counties(regions), regions.select("code", "name", "level", "parent_code"),
                         clusters, members, overrides, catalogue, kept_links(snapshot, catalogue, overrides))


def _counties(regions: pl.DataFrame) -> pl.DataFrame:
    """County rows with their city and province codes (a county directly under a province: no city)."""
    parent = regions.select(pl.col("code").alias("parent_code"), pl.col("level").alias("parent_level"),
                            pl.col("parent_code").alias("grand_code"))
    return (
        regions.filter(pl.col("level") == "county")
        .join(parent, on="parent_code", how="left")
        .select(
            "code", "name",
            pl.when(pl.col("parent_level") == "city").then(pl.col("parent_code")).alias("city_code"),
            pl.when(pl.col("parent_level") == "city").then(pl.col("grand_code"))
            .otherwise(pl.col("parent_code")).alias("province_code"),
            "lon", "lat",
        )
    )


def assignments(reg: ChainRegistry, chain_ids: list[str] | None = None) -> pl.DataFrame:
    """Every firm's links (uscc, chain_id, link_id, via, evidence, and row: the firm's position in
    `reg.firms`) in the chosen chains (default: all)."""
    maps = [reg.catalogue.chain(c) for c in chain_ids] if chain_ids else list(reg.catalogue.maps.values())
    if reg.kept is not None:
        from smecluster.chains.stored import assigned_frame

        return assigned_frame(reg.kept, reg.firms["uscc"], [m.id for m in maps] if chain_ids else None)
    return assign_links(reg.firms, maps, reg.overrides, rows=True)


def find_cluster(reg: ChainRegistry, key: str | int) -> dict:
    """A cluster by id or code; ChainError when there is none."""
    text = str(key)
    found = reg.clusters.filter((pl.col("code") == text) | (pl.col("id").cast(pl.Utf8) == text))
    if found.is_empty():
        raise ChainError(f"no cluster with id or code {text!r}")
    return found.row(0, named=True)


def chains_for_cluster(reg: ChainRegistry, cluster: dict) -> list[str]:
    """The chains whose codes meet the cluster's leading industry (either code within the other)."""
    import json

    leading = json.loads(cluster["leading_industries"] or "[]")
    out = []
    for chain in reg.catalogue.maps.values():
        if any(c.startswith(code) or code.startswith(c) for c in chain.classes() for code in leading):
            out.append(chain.id)
    return out


def scope_frame(reg: ChainRegistry, level: str, code: str) -> tuple[pl.DataFrame, dict]:
    """(scope_id, uscc) of one scope and a description {level, code, name}."""
    if level not in LEVELS:
        raise ChainError(f"level must be one of {', '.join(LEVELS)}")
    if level == "cluster":
        cluster = find_cluster(reg, code)
        firms = reg.members.filter(pl.col("cluster_id") == cluster["id"]).select("uscc")
        about = {"level": level, "code": cluster["code"], "id": cluster["id"], "name": cluster["name"],
                 "county_code": cluster["county_code"]}
    else:
        region_code = code.ljust(6, "0") if level == "province" else code
        row = reg.regions.filter((pl.col("code") == region_code) & (pl.col("level") == level))
        if row.is_empty():
            raise ChainError(f"no {level} with code {code!r} in the region table")
        column = {"county": "code", "city": "city_code", "province": "province_code"}[level]
        counties = reg.counties.filter(pl.col(column) == region_code).select(pl.col("code").alias("county_code"))
        firms = reg.firms.with_row_index("row").join(counties, on="county_code", how="semi").select("uscc", "row")
        about = {"level": level, "code": region_code, "name": row["name"][0]}
    return firms.with_columns(pl.lit(about["code"]).alias("scope_id")).select("scope_id", *firms.columns), about


def chain_coverage(reg: ChainRegistry, level: str, code: str, chain_id: str | None = None,
                   assigned: pl.DataFrame | None = None) -> list[dict]:
    """Coverage of one scope, per chain: the scope, the chain, the summary and one row per link."""
    scope, about = scope_frame(reg, level, code)
    if chain_id:
        chain_ids = [reg.catalogue.chain(chain_id).id]
    elif level == "cluster":
        chain_ids = chains_for_cluster(reg, find_cluster(reg, code)) or sorted(reg.catalogue.maps)
    else:
        chain_ids = sorted(reg.catalogue.maps)
    if assigned is None:
        assigned = assignments(reg, chain_ids)
    out = []
    for cid in chain_ids:
        chain = reg.catalogue.chain(cid)
        empty = pl.DataFrame({"scope_id": [about["code"]], "uscc": [None], "row": [None]},
                             schema={"scope_id": TEXT, "uscc": TEXT, "row": pl.UInt32})
        table = coverage(chain, assigned, scope if scope.height else empty, reg.facts)
        totals = summary(table).drop("scope_id").row(0, named=True)
        out.append({"scope": about, "chain": _chain_head(chain, reg), "year": reg.year, "summary": totals,
                    "links": _link_rows(table)})
    return out


def _chain_head(chain: ChainMap, reg: ChainRegistry) -> dict:
    return {"id": chain.id, "title": chain.title, "title_en": chain.title_en, "version": chain.version,
            "status": chain.status, "origin": reg.catalogue.origin.get(chain.id, "shipped"),
            "weak": chain.weak.model_dump()}


def _link_rows(table: pl.DataFrame) -> list[dict]:
    rows = table.select(
        pl.col("link_id").alias("id"), "name", "name_en", "segment", "key", "status", "firms",
        pl.col("output").round(1), "tier_firms", pl.col("top_share").round(4),
    ).to_dicts()
    return rows


def cluster_partners(reg: ChainRegistry, cluster_key: str, link_id: str | None = None, chain_id: str | None = None,
                     per_link: int = 10) -> dict:
    """The cluster's weak and missing links (of its chains, or `chain_id`) with candidate partners."""
    cluster = find_cluster(reg, cluster_key)
    chain_ids = [reg.catalogue.chain(chain_id).id] if chain_id else (
        chains_for_cluster(reg, cluster) or sorted(reg.catalogue.maps))
    assigned = assignments(reg, chain_ids)
    results = chain_coverage(reg, "cluster", str(cluster["id"]), None, assigned) if not chain_id else \
        chain_coverage(reg, "cluster", str(cluster["id"]), chain_id, assigned)
    gap_rows = [{"cluster_id": cluster["id"], "chain_id": r["chain"]["id"], "link_id": link["id"],
                 "status": link["status"]}
                for r in results for link in r["links"] if link["status"] != "present"]
    if link_id:
        known = {link["id"] for r in results for link in r["links"]}
        if link_id not in known:
            raise ChainError(f"no link {link_id!r} in the cluster's chains ({', '.join(chain_ids)})")
        gap_rows = [g for g in gap_rows if g["link_id"] == link_id]
    gaps = pl.DataFrame(gap_rows, schema={"cluster_id": pl.Int64, "chain_id": TEXT, "link_id": TEXT, "status": TEXT})
    found = partners(gaps, assigned, reg.firms, reg.members, cluster_centres(reg, [cluster["id"]]), reg.counties,
                     county_neighbours(reg), reg.facts, per_link)
    names = {(r["chain"]["id"], link["id"]): link["name"] for r in results for link in r["links"]}
    return {
        "cluster": {"id": cluster["id"], "code": cluster["code"], "name": cluster["name"],
                    "county_code": cluster["county_code"]},
        "year": reg.year,
        "gaps": [{**g, "name": names[(g["chain_id"], g["link_id"])],
                  "partners": found.filter((pl.col("chain_id") == g["chain_id"]) & (pl.col("link_id") == g["link_id"]))
                  .drop("cluster_id", "chain_id", "link_id", "status").to_dicts()}
                 for g in gaps.to_dicts()],
    }


def cluster_centres(reg: ChainRegistry, cluster_ids: list[int] | None = None) -> pl.DataFrame:
    """cluster_id, county_code, lon, lat: the members' mean position (null when no member has one)."""
    clusters = reg.clusters if cluster_ids is None else reg.clusters.filter(pl.col("id").is_in(cluster_ids))
    mean = (reg.members.join(reg.firms.select("uscc", "lon", "lat"), on="uscc")
            .group_by("cluster_id").agg(pl.col("lon").mean(), pl.col("lat").mean()))
    return clusters.select(pl.col("id").alias("cluster_id"), "county_code").join(mean, on="cluster_id", how="left")


def county_neighbours(reg: ChainRegistry) -> pl.DataFrame:
    """county_code, neighbour_code: counties whose boundaries touch (packaged boundaries; none known: empty)."""
    prefixes = tuple(sorted(reg.counties["province_code"].drop_nulls().str.slice(0, 2).unique().to_list()))
    return _neighbours(prefixes)


@lru_cache(maxsize=4)
def _neighbours(prefixes: tuple[str, ...]) -> pl.DataFrame:
    import shapely

    from smecluster.geo.counties import county_geometries

    codes, geoms = [], []
    for prefix in prefixes:
        for code, geom in county_geometries(prefix).items():
            codes.append(code)
            geoms.append(geom)
    schema = {"county_code": TEXT, "neighbour_code": TEXT}
    if not geoms:
        return pl.DataFrame(schema=schema)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = pl.DataFrame({"county_code": [codes[i] for i in left], "neighbour_code": [codes[j] for j in right]},
                         schema=schema)
    return pairs.filter(pl.col("county_code") != pl.col("neighbour_code"))


def every_cluster(reg: ChainRegistry, per_link: int = 10,
                  assigned: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Coverage of every cluster in its chains and the partners for all their gaps (the benchmark's job):
    (coverage rows with cluster_id and chain_id, partner rows). `assigned`: the links, if already known."""
    assigned = assignments(reg) if assigned is None else assigned
    scope = reg.members.select(pl.col("cluster_id").cast(pl.Utf8).alias("scope_id"), "uscc")
    tables = []
    for cluster in reg.clusters.iter_rows(named=True):  # a loop over clusters (a few hundred), not firms
        for cid in chains_for_cluster(reg, cluster):
            tables.append((cluster["id"], cid))
    pairs = pl.DataFrame(tables, schema={"cluster_id": pl.Int64, "chain_id": TEXT}, orient="row")
    # the members' links and figures, picked out once for every chain
    held = pl.col("uscc").is_in(scope["uscc"].unique().implode())
    members_links, members_facts = assigned.filter(held), reg.facts.filter(held)
    cov = []
    for cid in sorted(pairs["chain_id"].unique().to_list()):
        ids = pairs.filter(pl.col("chain_id") == cid)["cluster_id"].cast(pl.Utf8)
        table = coverage(reg.catalogue.chain(cid), members_links,
                         scope.filter(pl.col("scope_id").is_in(ids.implode())), members_facts)
        cov.append(table.with_columns(pl.col("scope_id").cast(pl.Int64).alias("cluster_id"),
                                      pl.lit(cid).alias("chain_id")))
    coverage_rows = pl.concat(cov) if cov else pl.DataFrame()
    if coverage_rows.is_empty():
        return coverage_rows, pl.DataFrame()
    gaps = coverage_rows.filter(pl.col("status") != "present").select("cluster_id", "chain_id", "link_id", "status")
    found = partners(gaps, assigned, reg.firms, reg.members, cluster_centres(reg), reg.counties,
                     county_neighbours(reg), reg.facts, per_link)
    return coverage_rows, found


def assignment_summary(reg: ChainRegistry) -> dict:
    """Every firm's links in every chain, counted: firms, assignment rows, firms on any chain, and per
    chain the rows and firms by kind of evidence (override | keyword | scope_keyword | class)."""
    assigned = assignments(reg)
    per_chain = (assigned.group_by("chain_id", "via")
                 .agg(pl.len().alias("rows"), pl.col("row").n_unique().alias("firms")).sort("chain_id", "via"))
    chains = {}
    for r in per_chain.iter_rows(named=True):
        chains.setdefault(r["chain_id"], {})[r["via"]] = {"rows": r["rows"], "firms": r["firms"]}
    return {"firms": reg.firms.height, "rows": assigned.height, "firms_on_a_chain": assigned["row"].n_unique(),
            "kept": reg.kept is not None, "chains": chains}


def all_clusters(reg: ChainRegistry, per_link: int = 10) -> dict:
    """Coverage of every cluster in its chains and the partners for every weak or missing link
    (`every_cluster`), as JSON-ready rows per cluster."""
    cov, found = every_cluster(reg, per_link)
    out = []
    names = reg.clusters.select("id", "code", "name", "county_code").sort("id")
    for cluster in names.iter_rows(named=True):
        mine = cov.filter(pl.col("cluster_id") == cluster["id"]) if cov.height else cov
        chains = []
        for cid in (sorted(mine["chain_id"].unique().to_list()) if mine.height else []):
            table = mine.filter(pl.col("chain_id") == cid)
            chains.append({"chain_id": cid, "summary": summary(table).drop("scope_id").row(0, named=True),
                           "links": _link_rows(table)})
        partners_of = found.filter(pl.col("cluster_id") == cluster["id"]) if found.height else found
        gaps = [{"chain_id": link_chain, "link_id": link["id"], "status": link["status"],
                 "partners": partners_of.filter((pl.col("chain_id") == link_chain) & (pl.col("link_id") == link["id"]))
                 .drop("cluster_id", "chain_id", "link_id", "status").to_dicts() if partners_of.height else []}
                for c in chains for link_chain in [c["chain_id"]] for link in c["links"] if link["status"] != "present"]
        out.append({"cluster": cluster, "chains": chains, "gaps": gaps})
    return {"year": reg.year, "clusters": out}
