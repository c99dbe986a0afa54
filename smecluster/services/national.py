"""The national view (the ministry, 工业和信息化部): every province side by side, and each province's
confirmed recommendation to the national list evaluated against the national pack (miit-cluster-2022).

- `province_comparison(engine, year=None, parquet=None)`: per province, its firms, recognised clusters,
  SRDI SMEs and little giants (designations held on 31 December of the year), the last two per million
  firms, and its confirmed recommendation (clusters listed, how many meet the national pack). The counts
  come from the database, or from a Parquet registry (smecluster.registry.parquet_layout) when `parquet`
  names one: a national registry lives in a data lake while the database keeps the workflow.
- `province_recommendation(engine, province, year=None)`: one province's confirmed list, each cluster's
  verdict against the national pack with its failing conditions and gaps.
- `may_see_province(who, province)`: the ministry sees every province, a province account its own.

Firms are counted in SQL (GROUP BY the province prefix of the county code), never row by row in Python.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from smecluster.analytics.reader import read_frame
from smecluster.policy.validity import cluster_date, held_sql

NATIONAL_PACK = "miit-cluster-2022"
MINISTRY_ROLE = "ministry"
RECOGNISED_STAGES = ("recognised", "re_review")  # a cluster in re-review still holds its recognition
COUNTED_KINDS = ("srdi_sme", "little_giant")


def may_see_province(who: Any, province: str) -> bool:
    """The ministry sees every province; a province administrator only its own (code '32' or '320000')."""
    role = getattr(who, "role", None)
    if role == MINISTRY_ROLE:
        return True
    region = getattr(who, "region_code", None) or ""
    return role == "province_admin" and len(region) == 6 and region[:2] == province[:2]


def visible_provinces(who: Any, provinces: list[str]) -> list[str]:
    """The two-digit province codes of `provinces` this viewer may see."""
    return [p for p in provinces if may_see_province(who, p)]


MAINLAND = 70  # province codes below 71 (Taiwan), 81 and 82 (Hong Kong, Macao): the 31 provinces served


def provinces(engine: Engine) -> dict[str, str]:
    """Two-digit code -> name of the 31 provinces: from the region table, completed from the division
    table of the installed geo data."""
    from smecluster.registry.models import Region

    with Session(engine) as s:
        rows = s.execute(select(Region.code, Region.name).where(Region.level == "province")).all()
    found = {code[:2]: name for code, name in rows if int(code[:2]) < MAINLAND}
    if len(found) < 31:
        from smecluster.geo.divisions import division_names

        for code, name in division_names().items():
            if code.endswith("0000") and int(code[:2]) < MAINLAND:  # 990000 there is a border area, not a province
                found.setdefault(code[:2], name)
    return dict(sorted(found.items()))


def _designations_sql(year: int) -> str:
    """DuckDB SQL over `designation_rows(province, uscc, kind, year, valid_from, valid_until)`: distinct
    firms per province and kind holding an SRDI or little-giant designation on 31 December of `year`."""
    return (
        "SELECT province, kind, COUNT(DISTINCT uscc) AS n FROM designation_rows d "
        f"WHERE {held_sql(cluster_date(year), 'd')} GROUP BY province, kind"
    )


def _counts_from_database(engine: Engine, year: int) -> tuple[dict, dict, dict]:
    """(firms, recognised clusters, {(province, kind): firms}) by province from the database."""
    kinds = ", ".join(f"'{k}'" for k in COUNTED_KINDS)
    stages = ", ".join(f"'{s}'" for s in RECOGNISED_STAGES)
    with engine.connect() as conn:
        firms = dict(conn.execute(text(
            "SELECT SUBSTR(county_code, 1, 2) AS p, COUNT(*) FROM enterprise "
            "GROUP BY SUBSTR(county_code, 1, 2)")).all())
        clusters = dict(conn.execute(text(
            f"SELECT SUBSTR(county_code, 1, 2) AS p, COUNT(*) FROM cluster WHERE status IN ({stages}) "
            "GROUP BY SUBSTR(county_code, 1, 2)")).all())
    # designations of the two kinds only (a few per thousand firms), typed here: SQLite gives dates as text
    frame = read_frame(engine,
                       "SELECT SUBSTR(e.county_code, 1, 2) AS province, d.uscc, d.kind, d.year, d.valid_from, "
                       "d.valid_until FROM designation d JOIN enterprise e ON e.uscc = d.uscc "
                       f"WHERE d.kind IN ({kinds})")
    frame = frame.select(
        pl.col("province").cast(pl.Utf8), pl.col("uscc").cast(pl.Utf8), pl.col("kind").cast(pl.Utf8),
        pl.col("year").cast(pl.Int32),
        *[(pl.col(c).cast(pl.Utf8).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
           if frame.schema[c] != pl.Date else pl.col(c)) for c in ("valid_from", "valid_until")])
    con = duckdb.connect()
    try:
        con.register("designation_rows", frame.to_arrow())
        held = {(p, k): n for p, k, n in con.sql(_designations_sql(year)).fetchall()}
    finally:
        con.close()
    return firms, clusters, held


def _counts_from_parquet(root: Path, year: int) -> tuple[dict, dict, dict]:
    """The same counts from a Parquet registry, in DuckDB over the files (the province is the partition)."""
    from smecluster.registry.parquet_layout import open_registry

    registry = open_registry(root)
    con = duckdb.connect()
    try:
        def scan(table: str) -> str:
            sql = registry.duckdb_sql(table)
            return sql.replace("SELECT ", "SELECT province, ", 1) if sql else None

        firms_sql, cluster_sql, designation_sql = scan("enterprise"), scan("cluster"), scan("designation")
        firms = dict(con.sql(f"SELECT province, COUNT(*) FROM ({firms_sql}) GROUP BY province").fetchall()) \
            if firms_sql else {}
        stages = ", ".join(f"'{s}'" for s in RECOGNISED_STAGES)
        clusters = dict(con.sql(f"SELECT province, COUNT(*) FROM ({cluster_sql}) WHERE status IN ({stages}) "
                                "GROUP BY province").fetchall()) if cluster_sql else {}
        held = {}
        if designation_sql:
            kinds = ", ".join(f"'{k}'" for k in COUNTED_KINDS)
            con.execute(f"CREATE VIEW designation_rows AS SELECT * FROM ({designation_sql}) WHERE kind IN ({kinds})")
            held = {(p, k): n for p, k, n in con.sql(_designations_sql(year)).fetchall()}
    finally:
        con.close()
    return firms, clusters, held


def _newest_parquet_year(root: Path) -> int | None:
    years = [int(p.name.split("=", 1)[1]) for p in (root / "enterprise_year").glob("province=*/year=*")
             if p.name.split("=", 1)[1].isdigit()]
    return max(years) if years else None


def province_comparison(engine: Engine, year: int | None = None, parquet: str | Path | None = None,
                        who: Any = None) -> dict:
    """Every province (or those `who` may see) with firms, recognised clusters, SRDI SMEs, little giants,
    both per million firms, and its confirmed recommendation to the national list."""
    from smecluster.services.clusters import latest_year

    root = Path(parquet) if parquet else None
    if year is None:
        year = (_newest_parquet_year(root) if root else latest_year(engine)) or date.today().year - 1
    firms, clusters, held = (_counts_from_parquet(root, year) if root else _counts_from_database(engine, year))
    names = provinces(engine)
    recommendations = _recommendation_summaries(engine)
    rows = []
    shown = list(names) if who is None else visible_provinces(who, list(names))
    for code in shown:
        n = int(firms.get(code, 0))
        srdi, giants = int(held.get((code, "srdi_sme"), 0)), int(held.get((code, "little_giant"), 0))
        rec = recommendations.get(code)
        rows.append({
            "code": code, "region_code": code + "0000", "name": names[code], "firms": n,
            "clusters": int(clusters.get(code, 0)), "srdi_sme": srdi, "little_giant": giants,
            "srdi_per_million": round(srdi / n * 1e6, 1) if n else None,
            "little_giant_per_million": round(giants / n * 1e6, 1) if n else None,
            "clusters_per_million": round(int(clusters.get(code, 0)) / n * 1e6, 2) if n else None,
            "recommendation": rec,
        })
    return {"year": year, "source": "parquet" if root else "database", "national_pack": NATIONAL_PACK,
            "provinces": rows,
            "totals": {k: sum(r[k] for r in rows) for k in ("firms", "clusters", "srdi_sme", "little_giant")}}


def _stored_recommendations(engine: Engine, province: str | None = None) -> list:
    from smecluster.workflow.recommendations import NationalRecommendation

    with Session(engine) as s:
        query = select(NationalRecommendation).order_by(NationalRecommendation.year)
        if province:
            query = query.where(NationalRecommendation.province_code == province)
        rows = list(s.scalars(query))
        s.expunge_all()
    return rows


def _recommendation_summaries(engine: Engine) -> dict[str, dict]:
    """Province -> its newest confirmed recommendation: year, quota, clusters listed and how many of them
    meet the national pack (one evaluation per data year over every province's listed clusters)."""
    from smecluster.services.clusters import evaluate_clusters, latest_year

    newest_rec = {}
    for r in _stored_recommendations(engine):
        newest_rec[r.province_code] = r  # ordered by year: the newest stays
    newest = latest_year(engine)
    by_year: dict[int, list[int]] = {}
    for r in newest_rec.values():
        year = min(r.year - 1, newest) if newest is not None else r.year - 1
        by_year.setdefault(year, []).extend(int(c["id"]) for c in r.clusters or [])
    outcome = {}
    for year, ids in by_year.items():
        if ids and newest is not None:
            found = evaluate_clusters(engine, NATIONAL_PACK, year, ids)
            outcome.update({int(v.cluster["id"]): v.outcome for v in found})
    return {
        p: {"year": r.year, "quota": r.quota, "listed": len(r.clusters or []), "national_pack": r.national_pack,
            "meeting": sum(outcome.get(int(c["id"])) == "recognised" for c in r.clusters or [])}
        for p, r in newest_rec.items()
    }


def province_recommendation(engine: Engine, province: str, year: int | None = None) -> dict:
    """One province's confirmed recommendation (newest year, or `year`), every listed cluster evaluated
    against the national pack: outcome, and the conditions it fails or lacks data for, with gaps."""
    from smecluster.services.clusters import evaluate_clusters, latest_year

    names = provinces(engine)
    if province not in names:
        raise LookupError(f"no province {province}")
    stored = [r for r in _stored_recommendations(engine, province) if year is None or r.year == year]
    rec = stored[-1] if stored else None
    out: dict[str, Any] = {"province": {"code": province, "region_code": province + "0000", "name": names[province]},
                           "national_pack": NATIONAL_PACK, "year": rec.year if rec else year, "confirmed": None,
                           "clusters": []}
    if rec is None:
        return out
    out["confirmed"] = {"year": rec.year, "quota": rec.quota, "priority_pack": rec.priority_pack,
                        "national_pack": rec.national_pack, "version": rec.version,
                        "confirmed_at": rec.confirmed_at.isoformat(timespec="seconds")}
    listed = list(rec.clusters or [])
    ids = [int(c["id"]) for c in listed]
    data_year = rec.year - 1
    newest = latest_year(engine)
    if newest is not None and newest < data_year:
        data_year = newest
    verdicts = {v.cluster["id"]: v for v in (evaluate_clusters(engine, NATIONAL_PACK, data_year, ids) if ids else [])}
    for c in listed:
        v = verdicts.get(int(c["id"]))
        failing = [] if v is None else [
            {"id": r.id, "title": r.title, "status": r.status, "value": r.value, "threshold": r.threshold,
             "gap": r.gap, "gap_zh": r.gap_zh}
            for r in v.criteria if r.role == "condition" and r.status in ("fail", "unknown")]
        out["clusters"].append({
            "id": int(c["id"]), "code": c.get("code"), "name": c.get("name"), "rank": c.get("rank"),
            "score": c.get("score"), "county_name": v.cluster.get("county_name") if v is not None else None,
            "outcome": v.outcome if v is not None else "insufficient_data",
            "meets_national": v is not None and v.outcome == "recognised", "failing": failing,
        })
    out["data_year"] = data_year
    out["meeting"] = sum(c["meets_national"] for c in out["clusters"])
    return out
