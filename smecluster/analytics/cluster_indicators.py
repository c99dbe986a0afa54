"""Cluster indicators as of a year, each one SQL query over the registry snapshot.

Every builder returns `SELECT cluster_id, value FROM ...` for year {y}; the table of all indicators
is one row per cluster. Formulas (also in docs/indicators.md):
- SMEs are members whose size class in year y is not 'large' (unknown size: not counted).
- sme_rd_cagr(n) = (sum R&D_y / sum R&D_{y-n})^(1/n) - 1 over SME members reporting R&D in both
  years (compound annual growth, as 年均增长 is read in Chinese statistics).
- cloud_share = members on the cloud in y / all members (NULL when no member reported).
- a designation counts in year y when it is valid on D = 31 December of y (one rule for every
  indicator: smecluster.policy.validity; a missing end date is derived from the tier pack's validity).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from smecluster.analytics.engines import DuckDBEngine, Engine
from smecluster.analytics.footprints import cluster_geography
from smecluster.analytics.snapshot import Snapshot, add_chain_frames
from smecluster.policy.compile import indicator_column
from smecluster.policy.validity import cluster_date, held_sql


def held(y: int) -> str:
    """SQL: designation `d` counts for data year y (valid on the cluster evaluation date of y)."""
    return held_sql(cluster_date(y), "d")


# Years of history any indicator may look back (sme_rd_cagr and output_cagr use 3 by default).
MAX_LOOKBACK = 5


def prepare(engine: Engine, year: int, size_case: str) -> None:
    """Materialise the member tables every indicator reads (members once, not per indicator).

    member: one row per (cluster, member) with its county and whether it is in the leading industry.
    member_year: the members' yearly rows of the look-back window, with their size class.
    """
    engine.materialise(
        "member", "SELECT m.cluster_id, m.uscc, e.county_code, "
        "e.industry_code, e.section, c.county_code AS cluster_county, "
        "EXISTS (SELECT 1 FROM cluster_leading l WHERE l.cluster_id = m.cluster_id "
        "AND LEFT(e.industry_code, LENGTH(l.code)) = l.code) AS in_leading "
        "FROM cluster_member m JOIN enterprise_section e ON e.uscc = m.uscc "
        "JOIN cluster c ON c.id = m.cluster_id"
    )
    engine.materialise(
        "member_year", "SELECT m.cluster_id, m.in_leading, y.*, "
        f"{size_case} AS size FROM member m JOIN enterprise_year y ON y.uscc = m.uscc "
        f"AND y.year BETWEEN {year - MAX_LOOKBACK} AND {year}"
    )


def _count_members_holding(kinds: tuple[str, ...], leading_only: bool) -> Callable[..., str]:
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    leading = "AND m.in_leading" if leading_only else ""

    def build(y: int) -> str:
        return (
            "SELECT m.cluster_id, COUNT(DISTINCT m.uscc) AS value FROM member m "
            "JOIN designation d ON d.uscc = m.uscc "
            f"WHERE d.kind IN ({kinds_sql}) AND {held(y)} {leading} GROUP BY m.cluster_id"
        )

    return build


def _members(y: int) -> str:
    return "SELECT cluster_id, COUNT(*) AS value FROM member GROUP BY cluster_id"


def _members_outside_county(y: int) -> str:
    # Registered in another county, or located outside the cluster's county (beyond the tolerance).
    return (
        "SELECT m.cluster_id, SUM(CASE WHEN m.county_code <> m.cluster_county "
        "OR COALESCE(l.located_outside, FALSE) THEN 1 ELSE 0 END) AS value "
        "FROM member m LEFT JOIN member_location l ON l.cluster_id = m.cluster_id AND l.uscc = m.uscc "
        "GROUP BY m.cluster_id"
    )


def _county_share(measure: str) -> Callable[..., str]:
    # Totals by county and industry class first (small), then each cluster's leading share of them.
    def build(y: int) -> str:
        return (
            f"WITH ci AS (SELECT e.county_code, e.industry_code, SUM(y.{measure}) AS total "
            "FROM enterprise_section e JOIN enterprise_year y ON y.uscc = e.uscc "
            f"WHERE y.year = {y} AND e.section IN ('B', 'C', 'D') AND y.{measure} IS NOT NULL "
            "AND e.county_code IN (SELECT county_code FROM cluster) GROUP BY e.county_code, e.industry_code) "
            "SELECT c.id AS cluster_id, SUM(CASE WHEN EXISTS (SELECT 1 FROM cluster_leading l "
            "WHERE l.cluster_id = c.id AND LEFT(ci.industry_code, LENGTH(l.code)) = l.code) "
            "THEN ci.total ELSE 0 END) / NULLIF(SUM(ci.total), 0) AS value "
            "FROM cluster c JOIN ci ON ci.county_code = c.county_code GROUP BY c.id"
        )

    return build


def _platforms(y: int) -> str:
    return (
        "SELECT cluster_id, COUNT(DISTINCT id) AS value FROM ("
        "SELECT p.cluster_id, p.id, p.level, p.year FROM platform p WHERE p.cluster_id IS NOT NULL "
        "UNION ALL SELECT m.cluster_id, p.id, p.level, p.year FROM platform p "
        "JOIN member m ON m.uscc = p.host_uscc) t "
        f"WHERE level IN ('national', 'provincial') AND (year IS NULL OR year <= {y}) GROUP BY cluster_id"
    )


def _cagr_of(measure: str, smes_only: bool = False) -> Callable[..., str]:
    # compound annual growth of a sum over the members reporting it in both years (a matched panel);
    # `smes_only` leaves large firms out (J6: R&D growth of the cluster's SMEs)
    sme = "AND a.size <> 'large' " if smes_only else ""

    def build(y: int, years: int = 3) -> str:
        return (
            f"SELECT a.cluster_id, CASE WHEN SUM(b.{measure}) > 0 THEN "
            f"POWER(SUM(a.{measure}) / SUM(b.{measure}), 1.0 / {years}) - 1 END AS value "
            "FROM member_year a JOIN member_year b ON b.cluster_id = a.cluster_id AND b.uscc = a.uscc "
            f"AND b.year = {y - years} WHERE a.year = {y} {sme}"
            f"AND a.{measure} IS NOT NULL AND b.{measure} IS NOT NULL GROUP BY a.cluster_id"
        )

    return build


def _member_share(flag: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT m.cluster_id, CASE WHEN COUNT(y.{flag}) > 0 THEN "
            f"SUM(CASE WHEN y.{flag} THEN 1 ELSE 0 END) * 1.0 / COUNT(*) END AS value "
            "FROM member m LEFT JOIN member_year y ON y.cluster_id = m.cluster_id AND y.uscc = m.uscc "
            f"AND y.year = {y} GROUP BY m.cluster_id"
        )

    return build


def _cluster_output(y: int) -> str:
    return f"SELECT cluster_id, SUM(output) AS value FROM member_year WHERE year = {y} GROUP BY cluster_id"


def _cluster_output_min(y: int, years: int = 3) -> str:
    # NULL unless every year of the period has output data.
    return (
        f"SELECT cluster_id, CASE WHEN COUNT(*) = {years} THEN MIN(total) END AS value FROM ("
        "SELECT cluster_id, year, SUM(output) AS total FROM member_year "
        f"WHERE year > {y - years} AND year <= {y} AND output IS NOT NULL GROUP BY cluster_id, year) t "
        "GROUP BY cluster_id"
    )


def _output_share(where: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT cluster_id, SUM(CASE WHEN {where} THEN output ELSE 0 END) "
            f"/ NULLIF(SUM(output), 0) AS value FROM member_year WHERE year = {y} "
            "AND output IS NOT NULL GROUP BY cluster_id"
        )

    return build


def _output_cagr(y: int, years: int = 3) -> str:
    return (
        "SELECT a.cluster_id, CASE WHEN SUM(b.output) > 0 THEN "
        f"POWER(SUM(a.output) / SUM(b.output), 1.0 / {years}) - 1 END AS value "
        "FROM member_year a JOIN member_year b ON b.cluster_id = a.cluster_id AND b.uscc = a.uscc "
        f"AND b.year = {y - years} WHERE a.year = {y} "
        "AND a.output IS NOT NULL AND b.output IS NOT NULL GROUP BY a.cluster_id"
    )


# ---- priority indicators (smecluster/policy/priority/*.yaml) ----------------------------------------
def _leading_output(y: int) -> str:
    return (
        "SELECT cluster_id, SUM(CASE WHEN in_leading THEN output ELSE 0 END) AS value FROM member_year "
        f"WHERE year = {y} AND output IS NOT NULL GROUP BY cluster_id"
    )


def _location_quotient(y: int) -> str:
    # LQ = (leading output / industrial output) in the county over the same ratio in the province (all
    # firms of the registry in sections B-D); the province's leading totals by class first (small).
    totals = (
        "SELECT e.county_code, e.industry_code, SUM(y.output) AS total FROM enterprise_section e "
        f"JOIN enterprise_year y ON y.uscc = e.uscc WHERE y.year = {y} AND e.section IN ('B', 'C', 'D') "
        "AND y.output IS NOT NULL GROUP BY e.county_code, e.industry_code"
    )
    lead = ("EXISTS (SELECT 1 FROM cluster_leading l WHERE l.cluster_id = c.id "
            "AND LEFT(t.industry_code, LENGTH(l.code)) = l.code)")
    return (
        f"WITH ci AS ({totals}), pi AS (SELECT industry_code, SUM(total) AS total FROM ci GROUP BY industry_code), "
        "pt AS (SELECT SUM(total) AS total FROM ci), "
        f"cs AS (SELECT c.id AS cluster_id, SUM(CASE WHEN {lead} THEN t.total ELSE 0 END) / NULLIF(SUM(t.total), 0) "
        "AS share FROM cluster c JOIN ci t ON t.county_code = c.county_code GROUP BY c.id), "
        f"ps AS (SELECT c.id AS cluster_id, SUM(CASE WHEN {lead} THEN t.total ELSE 0 END) / "
        "NULLIF((SELECT total FROM pt), 0) AS share FROM cluster c CROSS JOIN pi t GROUP BY c.id) "
        "SELECT cs.cluster_id, cs.share / NULLIF(ps.share, 0) AS value FROM cs JOIN ps USING (cluster_id)"
    )


def _ratio_of_sums(num: str, den: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT cluster_id, SUM({num}) / NULLIF(SUM({den}), 0) AS value FROM member_year "
            f"WHERE year = {y} AND {num} IS NOT NULL AND {den} IS NOT NULL GROUP BY cluster_id"
        )

    return build


def _per_member_mean(measure: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return (
            f"SELECT cluster_id, AVG({measure}) AS value FROM member_year WHERE year = {y} "
            f"AND {measure} IS NOT NULL GROUP BY cluster_id"
        )

    return build


def _members_holding_share(kinds: tuple[str, ...], per: float) -> Callable[..., str]:
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)

    def build(y: int) -> str:
        return (
            f"SELECT m.cluster_id, COUNT(DISTINCT h.uscc) * {per} / COUNT(DISTINCT m.uscc) AS value FROM member m "
            "LEFT JOIN (SELECT DISTINCT d.uscc FROM designation d "
            f"WHERE d.kind IN ({kinds_sql}) AND {held(y)}) h ON h.uscc = m.uscc GROUP BY m.cluster_id"
        )

    return build


def _smart_mfg_l2_share(y: int) -> str:
    # members at maturity level 2 or above / all members (NULL when no member reported a level)
    return (
        "SELECT m.cluster_id, CASE WHEN COUNT(y.smart_mfg_level) > 0 THEN "
        "SUM(CASE WHEN y.smart_mfg_level >= 2 THEN 1 ELSE 0 END) * 1.0 / COUNT(*) END AS value "
        "FROM member m LEFT JOIN member_year y ON y.cluster_id = m.cluster_id AND y.uscc = m.uscc "
        f"AND y.year = {y} GROUP BY m.cluster_id"
    )


def _energy_intensity_trend(y: int, years: int = 3) -> str:
    # annual change of (energy / output) over members reporting both in both years; < 0 is a fall
    return (
        "SELECT a.cluster_id, CASE WHEN SUM(b.energy_use) > 0 AND SUM(a.output) > 0 AND SUM(b.output) > 0 THEN "
        f"POWER((SUM(a.energy_use) / SUM(a.output)) / (SUM(b.energy_use) / SUM(b.output)), 1.0 / {years}) - 1 "
        "END AS value FROM member_year a JOIN member_year b ON b.cluster_id = a.cluster_id AND b.uscc = a.uscc "
        f"AND b.year = {y - years} WHERE a.year = {y} AND a.energy_use IS NOT NULL AND a.output IS NOT NULL "
        "AND b.energy_use IS NOT NULL AND b.output IS NOT NULL GROUP BY a.cluster_id"
    )


def _cluster_fact(expr: str) -> Callable[..., str]:
    def build(y: int) -> str:
        return f"SELECT cluster_id, {expr} AS value FROM cluster_year WHERE year = {y}"

    return build


def _leading_on_chain_system(y: int, system: str = "jiangsu-1650") -> str:
    # 1 when a leading code contains or lies within a code of the system's chains; 0 when not and the
    # system lists all its chains; NULL (unknown) when not found on an incomplete list (decision 1403).
    sid = system.replace("'", "''")
    return (
        "SELECT c.id AS cluster_id, CASE WHEN EXISTS (SELECT 1 FROM cluster_leading l "
        f"JOIN chain_system_class s ON s.system_id = '{sid}' AND (LEFT(s.code, LENGTH(l.code)) = l.code "
        "OR LEFT(l.code, LENGTH(s.code)) = s.code) WHERE l.cluster_id = c.id) THEN 1.0 "
        f"WHEN (SELECT MAX(CAST(complete AS INTEGER)) FROM chain_system WHERE system_id = '{sid}') = 1 "
        "THEN 0.0 END AS value FROM cluster c"
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
    "sme_rd_cagr": _cagr_of("rd_spending", smes_only=True),
    "cloud_share": _member_share("cloud"),
    "industrial_internet_share": _member_share("industrial_internet"),
    "cluster_output": _cluster_output,
    "cluster_output_min": _cluster_output_min,
    "sme_output_share": _output_share("size IS NOT NULL AND size <> 'large'"),
    "leading_output_share_cluster": _output_share("in_leading"),
    "output_cagr": _output_cagr,
    "leading_output": _leading_output,
    "location_quotient": _location_quotient,
    "cluster_rd_intensity": _ratio_of_sums("rd_spending", "revenue"),
    "rd_cagr": _cagr_of("rd_spending"),
    "invention_patents_per_firm": _per_member_mean("invention_patents"),
    "srdi_density": _members_holding_share(("srdi_sme",), 100.0),
    "little_giant_density": _members_holding_share(("little_giant",), 100.0),
    "smart_mfg_l2_share": _smart_mfg_l2_share,
    "two_integration_share": _members_holding_share(("two_integration",), 1.0),
    "green_factories": _count_members_holding(("green_factory",), leading_only=False),
    "energy_intensity": _ratio_of_sums("energy_use", "output"),
    "energy_intensity_trend": _energy_intensity_trend,
    "iso14001_share": _members_holding_share(("iso14001",), 1.0),
    "promotion_org": _cluster_fact("CASE WHEN promotion_org THEN 1.0 WHEN NOT promotion_org THEN 0.0 END"),
    "alliances": _cluster_fact("alliances"),
    "cooperation_agreements": _cluster_fact("cooperation_agreements"),
    "export_share": _ratio_of_sums("exports", "output"),
    "leading_on_chain_system": _leading_on_chain_system,
}
# Counts are zero, not unknown, for a cluster with members but none that qualify.
ZERO_WHEN_ABSENT = {
    "members", "members_outside_county", "champions_little_giants_in_leading", "high_tech_or_srdi",
    "gradient_enterprises", "provincial_platforms", "green_factories",
}


def geography(snapshot: Snapshot) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`cluster_geography` of the snapshot, computed once: it depends on the clusters, members and firms'
    locations, not on the year, and the watch asks for the indicators of several years (a fifth of each
    computation was the footprints again). Its detail frame is put back into `extra` on each call."""
    inputs = tuple(snapshot.frames[t] for t in ("cluster", "cluster_member", "enterprise"))
    kept = snapshot.memo.get("geography")
    if kept is None or any(a is not b for a, b in zip(kept[0], inputs, strict=True)):
        result = cluster_geography(snapshot)
        kept = (inputs, result, snapshot.extra.get("footprint_detail"))  # the frames themselves: no reused id
        snapshot.memo["geography"] = kept
    elif kept[2] is not None:
        snapshot.extra["footprint_detail"] = kept[2]
    return kept[1]


def compute_cluster_indicators(
    snapshot: Snapshot, year: int, needed: set[tuple[str, tuple]], engine: Engine | None = None
) -> pl.DataFrame:
    """One row per cluster: `cluster_id` and a column per (indicator, params) in `needed`, computed on
    `engine` (default: DuckDB over the snapshot's frames; analytics.engines)."""
    clusters = snapshot.frames["cluster"]
    leading = clusters.select(pl.col("id").alias("cluster_id"), pl.col("leading_industries").alias("code"))
    snapshot.extra["cluster_leading"] = leading.explode("code").drop_nulls("code")
    if "chain_system_class" not in snapshot.extra:  # a snapshot not read from a database: shipped lists
        from smecluster.chains.catalogue import load_catalogue

        add_chain_frames(snapshot, load_catalogue(None))
    footprints, located = geography(snapshot)
    snapshot.extra["member_location"] = located
    if engine is None:
        engine = DuckDBEngine(snapshot.connect())
    else:
        snapshot.register(engine)
    prepare(engine, year, snapshot.size_case())
    table = clusters.select(pl.col("id").alias("cluster_id"))
    wanted = [(name, params, indicator_column(name, dict(params)))
              for name, params in sorted(needed | {("members", ())})]
    computed = [(name, column, BUILDERS[name](year, **dict(params)))
                for name, params, column in wanted if name != "footprint_km2"]
    # every builder a view, read by one statement (one plan: an engine whose queries cost a job each)
    for k, (_, _, sql) in enumerate(computed):
        engine.view(f"indicator_{k}", sql)
    joins = " ".join(f"LEFT JOIN indicator_{k} AS i{k} ON i{k}.cluster_id = c.id" for k in range(len(computed)))
    picks = ", ".join(f'i{k}.value AS "{column}"' for k, (_, column, _) in enumerate(computed))
    values = pl.from_arrow(engine.arrow(f"SELECT c.id AS cluster_id, {picks} FROM cluster AS c {joins}"))
    values = values.with_columns(pl.col("cluster_id").cast(pl.Int64),
                                 *(pl.col(column).cast(pl.Float64) for _, column, _ in computed))
    table = table.join(values, on="cluster_id", how="left", maintain_order="left")
    for name, _, column in wanted:
        if name == "footprint_km2":
            table = table.join(footprints.rename({"footprint_km2": column}), on="cluster_id", how="left",
                               maintain_order="left")
    return table.with_columns(pl.col(column).fill_null(0.0) for name, _, column in wanted
                              if name in ZERO_WHEN_ABSENT).select("cluster_id", *(c for _, _, c in wanted))


def indicators_key(year: int, needed: set[tuple[str, tuple]], size_case: str) -> str:
    """A digest of everything the indicator table of `needed` is computed by besides the registry
    (each builder's SQL, the designation rule, the size classes): a kept table under another key
    is not this computation's."""
    import hashlib

    parts = [repr(sorted(needed)), size_case, held(year)]
    parts += [BUILDERS[name](year, **dict(params)) for name, params in sorted(needed | {("members", ())})
              if name in BUILDERS]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
