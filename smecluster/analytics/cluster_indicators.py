"""Cluster indicators as of a year, each one SQL query over the registry snapshot.

Every builder returns `SELECT cluster_id, value FROM ...` for year {y}; the table of all indicators
is one row per cluster. Formulas (also in docs/indicators.md):
- SMEs are members whose size class in year y is not 'large' (unknown size: not counted).
- sme_rd_cagr(n) = (sum R&D_y / sum R&D_{y-n})^(1/n) - 1 over SME members reporting R&D in both
  years (compound annual growth, as 年均增长 is read in Chinese statistics).
- cloud_share = members on the cloud in y / all members (NULL when no member reported).
- a designation counts in year y when granted in y or before and not expired before y.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from smecluster.analytics.footprints import cluster_footprints
from smecluster.analytics.snapshot import Snapshot
from smecluster.policy.compile import indicator_column

HELD = (
    "d.year <= {y} AND (d.valid_until IS NULL OR EXTRACT(YEAR FROM d.valid_until) >= {y})"
)
IN_LEADING = (
    "EXISTS (SELECT 1 FROM cluster_leading l WHERE l.cluster_id = m.cluster_id "
    "AND LEFT(e.industry_code, LENGTH(l.code)) = l.code)"
)


def _count_members_holding(kinds: tuple[str, ...], leading_only: bool) -> Callable[..., str]:
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    leading = f"AND {IN_LEADING}" if leading_only else ""

    def build(y: int) -> str:
        return (
            "SELECT m.cluster_id, COUNT(DISTINCT m.uscc) AS value FROM cluster_member m "
            "JOIN enterprise e ON e.uscc = m.uscc JOIN designation d ON d.uscc = m.uscc "
            f"WHERE d.kind IN ({kinds_sql}) AND {HELD.format(y=y)} {leading} GROUP BY m.cluster_id"
        )

    return build


def _members(y: int) -> str:
    return "SELECT cluster_id, COUNT(*) AS value FROM cluster_member GROUP BY cluster_id"


def _members_outside_county(y: int) -> str:
    return (
        "SELECT m.cluster_id, SUM(CASE WHEN e.county_code <> c.county_code THEN 1 ELSE 0 END) AS value "
        "FROM cluster_member m JOIN enterprise e ON e.uscc = m.uscc JOIN cluster c ON c.id = m.cluster_id "
        "GROUP BY m.cluster_id"
    )


def _county_share(measure: str) -> Callable[..., str]:
    def build(y: int) -> str:
        leading = (
            "EXISTS (SELECT 1 FROM cluster_leading l WHERE l.cluster_id = c.id "
            "AND LEFT(e.industry_code, LENGTH(l.code)) = l.code)"
        )
        return (
            f"SELECT c.id AS cluster_id, SUM(CASE WHEN {leading} THEN y.{measure} ELSE 0 END) "
            f"/ NULLIF(SUM(y.{measure}), 0) AS value "
            "FROM cluster c JOIN enterprise_section e ON e.county_code = c.county_code "
            f"JOIN enterprise_year y ON y.uscc = e.uscc AND y.year = {y} "
            f"WHERE e.section IN ('B', 'C', 'D') AND y.{measure} IS NOT NULL GROUP BY c.id"
        )

    return build


def _platforms(y: int) -> str:
    return (
        "SELECT c.id AS cluster_id, COUNT(DISTINCT p.id) AS value FROM cluster c JOIN platform p "
        "ON (p.cluster_id = c.id OR p.host_uscc IN "
        "(SELECT m.uscc FROM cluster_member m WHERE m.cluster_id = c.id)) "
        f"WHERE p.level IN ('national', 'provincial') AND (p.year IS NULL OR p.year <= {y}) "
        "GROUP BY c.id"
    )


def _sme_rd_cagr(y: int, years: int = 3) -> str:
    return (
        "SELECT m.cluster_id, CASE WHEN SUM(b.rd_spending) > 0 THEN "
        f"POWER(SUM(a.rd_spending) / SUM(b.rd_spending), 1.0 / {years}) - 1 END AS value "
        "FROM cluster_member m "
        f"JOIN enterprise_size s ON s.uscc = m.uscc AND s.year = {y} AND s.size <> 'large' "
        f"JOIN enterprise_year a ON a.uscc = m.uscc AND a.year = {y} "
        f"JOIN enterprise_year b ON b.uscc = m.uscc AND b.year = {y - years} "
        "WHERE a.rd_spending IS NOT NULL AND b.rd_spending IS NOT NULL GROUP BY m.cluster_id"
    )


def _member_share(flag: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT m.cluster_id, CASE WHEN COUNT(y.{flag}) > 0 THEN "
            f"SUM(CASE WHEN y.{flag} THEN 1 ELSE 0 END) * 1.0 / COUNT(*) END AS value "
            f"FROM cluster_member m LEFT JOIN enterprise_year y ON y.uscc = m.uscc AND y.year = {y} "
            "GROUP BY m.cluster_id"
        )

    return build


def _cluster_output(y: int) -> str:
    return (
        "SELECT m.cluster_id, SUM(y.output) AS value FROM cluster_member m "
        f"JOIN enterprise_year y ON y.uscc = m.uscc AND y.year = {y} GROUP BY m.cluster_id"
    )


def _cluster_output_min(y: int, years: int = 3) -> str:
    # NULL unless every year of the period has output data.
    return (
        "SELECT cluster_id, CASE WHEN COUNT(*) = "
        f"{years} THEN MIN(total) END AS value FROM (SELECT m.cluster_id, y.year, SUM(y.output) AS total "
        f"FROM cluster_member m JOIN enterprise_year y ON y.uscc = m.uscc AND y.year > {y - years} "
        f"AND y.year <= {y} WHERE y.output IS NOT NULL GROUP BY m.cluster_id, y.year) t GROUP BY cluster_id"
    )


def _output_share(where: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT m.cluster_id, SUM(CASE WHEN {where} THEN y.output ELSE 0 END) "
            "/ NULLIF(SUM(y.output), 0) AS value FROM cluster_member m JOIN enterprise e ON e.uscc = m.uscc "
            f"JOIN enterprise_year y ON y.uscc = m.uscc AND y.year = {y} "
            f"LEFT JOIN enterprise_size s ON s.uscc = m.uscc AND s.year = {y} "
            "WHERE y.output IS NOT NULL GROUP BY m.cluster_id"
        )

    return build


def _output_cagr(y: int, years: int = 3) -> str:
    return (
        "SELECT m.cluster_id, CASE WHEN SUM(b.output) > 0 THEN "
        f"POWER(SUM(a.output) / SUM(b.output), 1.0 / {years}) - 1 END AS value FROM cluster_member m "
        f"JOIN enterprise_year a ON a.uscc = m.uscc AND a.year = {y} "
        f"JOIN enterprise_year b ON b.uscc = m.uscc AND b.year = {y - years} "
        "WHERE a.output IS NOT NULL AND b.output IS NOT NULL GROUP BY m.cluster_id"
    )


BUILDERS: dict[str, Callable[..., str]] = {
    "members": _members,
    "members_outside_county": _members_outside_county,
    "leading_output_share_county": _county_share("output"),
    "leading_employment_share_county": _county_share("employees"),
    "champions_little_giants_in_leading": _count_members_holding(
        ("single_champion", "little_giant"), leading_only=True
    ),
    "high_tech_or_srdi": _count_members_holding(("high_tech", "srdi_sme"), leading_only=False),
    "gradient_enterprises": _count_members_holding(
        ("srdi_sme", "innovative_sme", "high_tech"), leading_only=False
    ),
    "provincial_platforms": _platforms,
    "sme_rd_cagr": _sme_rd_cagr,
    "cloud_share": _member_share("cloud"),
    "industrial_internet_share": _member_share("industrial_internet"),
    "cluster_output": _cluster_output,
    "cluster_output_min": _cluster_output_min,
    "sme_output_share": _output_share("s.size IS NOT NULL AND s.size <> 'large'"),
    "leading_output_share_cluster": _output_share(IN_LEADING),
    "output_cagr": _output_cagr,
}
# Counts are zero, not unknown, for a cluster with members but none that qualify.
ZERO_WHEN_ABSENT = {
    "members", "members_outside_county", "champions_little_giants_in_leading", "high_tech_or_srdi",
    "gradient_enterprises", "provincial_platforms",
}


def compute_cluster_indicators(
    snapshot: Snapshot, year: int, needed: set[tuple[str, tuple]]
) -> pl.DataFrame:
    """One row per cluster: `cluster_id` and a column per (indicator, params) in `needed`."""
    clusters = snapshot.frames["cluster"]
    leading = clusters.select(pl.col("id").alias("cluster_id"), pl.col("leading_industries").alias("code"))
    snapshot.extra["cluster_leading"] = leading.explode("code").drop_nulls("code")
    footprints = cluster_footprints(snapshot)
    con = snapshot.connect()
    table = clusters.select(pl.col("id").alias("cluster_id"))
    for name, params in sorted(needed | {("members", ())}):
        column = indicator_column(name, dict(params))
        if name == "footprint_km2":
            values = footprints.rename({"footprint_km2": column})
        else:
            sql = BUILDERS[name](year, **dict(params))
            values = con.sql(sql).pl().rename({"value": column})
            values = values.with_columns(pl.col("cluster_id").cast(pl.Int64), pl.col(column).cast(pl.Float64))
        table = table.join(values, on="cluster_id", how="left")
        if name in ZERO_WHEN_ABSENT:
            table = table.with_columns(pl.col(column).fill_null(0.0))
    return table
