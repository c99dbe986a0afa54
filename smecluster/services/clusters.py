"""Cluster verdicts: evaluate clusters of the registry against a recognition pack."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, func, select

from smecluster.analytics.cluster_indicators import compute_cluster_indicators
from smecluster.analytics.snapshot import Snapshot, load_snapshot
from smecluster.policy.compile import required_columns
from smecluster.policy.evaluate import verdicts
from smecluster.policy.pack import Pack, load_pack
from smecluster.policy.verdict import CriterionResult, Verdict
from smecluster.registry.models import EnterpriseYear
from smecluster.settings import province


def latest_year(engine: Engine) -> int | None:
    """The newest year with yearly indicators in the registry."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(EnterpriseYear.year))).scalar()


def evaluate_snapshot(snapshot: Snapshot, pack: Pack, year: int) -> list[Verdict]:
    """Verdicts for every cluster in a snapshot (the in-memory path that benchmarks time too)."""
    table = compute_cluster_indicators(snapshot, year, required_columns(pack.criteria))
    clusters = snapshot.frames["cluster"]
    regions = snapshot.frames["region"].select(pl.col("code").alias("county_code"), pl.col("name").alias("county_name"))
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
    results = verdicts(table, order["declared"], pack, subjects, year)
    _show_areas(results, snapshot.extra.get("footprint_detail"))
    return results


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
    engine: Engine,
    policy: str | None = None,
    year: int | None = None,
    cluster_ids: list[int] | None = None,
) -> list[Verdict]:
    """Verdicts for the registry's clusters (all, or those named) under a pack, as of a year.

    Defaults: the province's cluster pack and the newest year with data.
    """
    pack = load_pack(policy or province().cluster_policy)
    year = year or latest_year(engine)
    if year is None:
        return []
    snapshot = load_snapshot(engine, cluster_ids, scope="clusters")
    return evaluate_snapshot(snapshot, pack, year)
