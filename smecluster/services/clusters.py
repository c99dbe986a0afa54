"""Cluster verdicts: evaluate clusters of the registry against a recognition pack."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine as DatabaseEngine
from sqlalchemy import func, select

from smecluster.analytics.cluster_indicators import compute_cluster_indicators, indicators_key
from smecluster.analytics.engines import Engine
from smecluster.analytics.footprints import FOOTPRINT_DETAIL
from smecluster.analytics.size_class import size_class_sql
from smecluster.analytics.snapshot import TABLES, Snapshot, load_snapshot, normalise
from smecluster.analytics.stored_snapshot import StoredSnapshot, current_snapshot
from smecluster.policy.compile import required_columns
from smecluster.policy.evaluate import verdicts
from smecluster.policy.pack import Pack, load_pack
from smecluster.policy.verdict import CriterionResult, Verdict
from smecluster.registry.models import EnterpriseYear
from smecluster.registry.parquet_layout import ParquetRegistry
from smecluster.settings import province


def registry_latest_year(source: ParquetRegistry) -> int | None:
    """The newest year with yearly indicators in a Parquet registry (its partition names: no rows read)."""
    years = [int(p.name.split("=", 1)[1]) for p in source.folder("enterprise_year").glob("province=*/year=*")
             if p.name.split("=", 1)[1].isdigit() and any(p.glob("*.parquet"))]
    return max(years, default=None)


def latest_year(engine: DatabaseEngine) -> int | None:
    """The newest year with yearly indicators in the registry."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(EnterpriseYear.year))).scalar()


def evaluate_snapshot(snapshot: Snapshot, pack: Pack, year: int, sql: Engine | None = None) -> list[Verdict]:
    """Verdicts for every cluster in a snapshot (the in-memory path that benchmarks time too); the
    indicator and criteria SQL run on `sql` (analytics.engines; default DuckDB)."""
    table = compute_cluster_indicators(snapshot, year, required_columns(pack.criteria), sql)
    return verdicts_from_indicators(table, snapshot.frames["cluster"], snapshot.frames["region"], pack, year,
                                    snapshot.extra.get("footprint_detail"), sql)


def verdicts_from_indicators(table: pl.DataFrame, clusters: pl.DataFrame, regions: pl.DataFrame, pack: Pack,
                             year: int, areas: pl.DataFrame | None, sql: Engine | None = None) -> list[Verdict]:
    """Verdicts from the clusters' indicator table (one row per cluster) and their footprint areas."""
    regions = regions.select(pl.col("code").alias("county_code"), pl.col("name").alias("county_name"))
    info = clusters.join(regions, on="county_code", how="left")
    order = table.select("cluster_id").join(
        info.rename({"id": "cluster_id"}), on="cluster_id", how="left", maintain_order="left"
    )
    subjects = [
        {
            "id": r["cluster_id"], "code": r["code"], "name": r["name"], "county_code": r["county_code"],
            "county_name": r["county_name"], "leading_industries": list(r["leading_industries"] or []),
            "status": r["status"],
        }
        for r in order.iter_rows(named=True)
    ]
    results = verdicts(table, order["declared"], pack, subjects, year, sql)
    _show_areas(results, areas)
    return results


def kept_verdicts(stored: StoredSnapshot, engine: DatabaseEngine, pack: Pack, year: int) -> list[Verdict]:
    """Every cluster's verdict from the indicator table kept beside the current snapshot (computed and
    kept the first time: a province's indicators cost seconds, the kept table milliseconds)."""
    needed = required_columns(pack.criteria)
    size_case = size_class_sql(load_pack(province().size_policy))
    name = f"cluster-indicators-{year}-{indicators_key(year, needed, size_case)}"
    table, areas = stored.kept(name), stored.kept(name + "-areas")
    if table is None or areas is None:
        snapshot = load_snapshot(engine, None, scope="clusters")
        computed = compute_cluster_indicators(snapshot, year, needed)
        detail = snapshot.extra.get("footprint_detail")
        detail = detail if detail is not None else pl.DataFrame(schema=FOOTPRINT_DETAIL)
        stored.cached(name + "-areas", detail.to_arrow)  # the areas first: the table's presence means both
        stored.cached(name, computed.to_arrow)
        return verdicts_from_indicators(computed, snapshot.frames["cluster"], snapshot.frames["region"], pack,
                                        year, detail)
    small = small_tables(stored)
    return verdicts_from_indicators(pl.from_arrow(table), small["cluster"], small["region"], pack, year,
                                    pl.from_arrow(areas))


def small_tables(stored: StoredSnapshot) -> dict[str, pl.DataFrame]:
    """The cluster and region tables of a stored snapshot, typed as load_snapshot types them."""
    con = stored.connect()
    try:
        frames = {name: con.sql(TABLES[name]).pl() for name in ("cluster", "region")}
    finally:
        con.close()
    return normalise(frames)


def _walk(criteria: list[CriterionResult]):
    for c in criteria:
        yield c
        yield from _walk(c.children)


def _show_areas(results: list[Verdict], detail: pl.DataFrame | None) -> None:
    """Every footprint area on each area criterion: the declared boundary's, the members' hull, the
    application's figure, and which one the verdict used (docs/import.md, "Declared boundary")."""
    if detail is None:
        return
    by_id = {r["cluster_id"]: r for r in detail.iter_rows(named=True)}
    for v in results:
        d = by_id.get(v.cluster["id"])
        if d is None:
            continue
        for c in _walk(v.criteria):
            if c.indicator != "footprint_km2":
                continue
            used = d["footprint_source"] or ("declared" if c.value_source == "declared" else None)
            c.areas = {
                "boundary_km2": d["boundary_km2"], "hull_km2": d["hull_km2"], "located_members": d["located"],
                "declared_km2": c.declared, "used": used,
            }


def evaluate_clusters(
    engine: DatabaseEngine | None,
    policy: str | None = None,
    year: int | None = None,
    cluster_ids: list[int] | None = None,
    sql: Engine | None = None,
    source: ParquetRegistry | None = None,
) -> list[Verdict]:
    """Verdicts for the registry's clusters (all, or those named) under a pack, as of a year.

    Defaults: the province's cluster pack and the newest year with data. `source`: a Parquet registry
    folder read instead of the database (`engine` unused then); `sql`: the engine the indicator and
    criteria SQL run on (analytics.engines; given, the indicators are computed afresh on it).
    """
    pack = load_pack(policy or province().cluster_policy)
    if source is not None:
        from smecluster.analytics.snapshot import registry_snapshot

        year = year or registry_latest_year(source)
        if year is None:
            return []
        return evaluate_snapshot(registry_snapshot(source, cluster_ids, scope="clusters"), pack, year, sql)
    year = year or latest_year(engine)
    if year is None:
        return []
    if sql is not None:
        return evaluate_snapshot(load_snapshot(engine, cluster_ids, scope="clusters"), pack, year, sql)
    if cluster_ids is None:
        stored = current_snapshot(engine)  # province-sized: the indicators kept beside the snapshot
        if stored is not None:
            return kept_verdicts(stored, engine, pack, year)
    snapshot = load_snapshot(engine, cluster_ids, scope="clusters")
    return evaluate_snapshot(snapshot, pack, year)
