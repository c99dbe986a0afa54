"""The enterprise fact table: one row per firm for a data year, the columns tier indicators read.

Built from the registry with one aggregation per table (years and profiles pivoted by FILTER, the
windows of 2 and 3 years summed there), never a loop over firms. The benchmark generates the same
columns directly in memory.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pyarrow as pa
from sqlalchemy import Engine

from smecluster.analytics.size_class import size_class_sql
from smecluster.policy.pack import load_pack
from smecluster.policy.tiers import tiers
from smecluster.policy.validity import certificates, held_sql
from smecluster.settings import province

# Columns of the fact table and their Polars types.
FACT_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.Utf8, "name": pl.Utf8, "county_code": pl.Utf8, "industry_code": pl.Utf8,
    "revenue": pl.Float64, "revenue_prev": pl.Float64, "revenue_prev2": pl.Float64, "rd_spending": pl.Float64,
    "rd_spending_prev": pl.Float64, "employees": pl.Int64, "rd_staff": pl.Int64,
    "total_assets": pl.Float64, "total_liabilities": pl.Float64,
    "main_revenue": pl.Float64, "main_revenue_prev": pl.Float64, "main_revenue_prev2": pl.Float64,
    "net_profit": pl.Float64, "niche_years": pl.Float64,
    "ip_class1_high_value": pl.Int32, "ip_class1_own": pl.Int32, "ip_class1": pl.Int32,
    "ip_class2": pl.Int32, "ip_class1_applied": pl.Int32, "digital_level": pl.Int8,
    "quality_award": pl.Boolean, "iso9001": pl.Boolean, "own_brand": pl.Boolean,
    "drafted_standard": pl.Boolean, "core_business_is": pl.Boolean, "certification": pl.Boolean,
    "market_share": pl.Float64, "national_rank": pl.Int32, "srdi_eval_score": pl.Float64,
    "srdi_eval_score_prev": pl.Float64, "global_rank": pl.Int32, "equity_2y": pl.Float64, "equity_3y": pl.Float64,
    "national_award_rank_3y": pl.Int32, "provincial_award_rank_3y": pl.Int32,
    "maker_china_rank_3y": pl.Int32, "rd_institution_level": pl.Int8, "strategic_emerging": pl.Boolean,
    "product_field_level": pl.Int8, "key_field_product": pl.Boolean, "tech_demo": pl.Boolean,
    "new_product": pl.Boolean, "high_tech": pl.Boolean, "tech_sme": pl.Boolean, "size_class": pl.Utf8,
}
# Profile fields taken as they stand at the end of the data year.
PROFILE_NOW = (
    "net_profit", "niche_years", "ip_class1_high_value", "ip_class1_own", "ip_class1", "ip_class2",
    "ip_class1_applied", "digital_level", "quality_award", "iso9001", "own_brand", "drafted_standard",
    "core_business_is", "certification", "market_share", "national_rank", "srdi_eval_score", "global_rank",
    "rd_institution_level",
    "strategic_emerging", "product_field_level", "key_field_product", "tech_demo", "new_product",
)


def certificate_columns() -> list[str]:
    """Flag columns of the certificates criteria read (high_tech, tech_sme: certificates.yaml)."""
    return [c.kind for c in certificates()]


def designation_columns() -> list[str]:
    """The flag columns saying which tier a firm holds on the evaluation date."""
    return [f"designated_{t.kind}" for t in tiers()]


def _best_rank(col: str, year: int) -> str:
    # Best (lowest positive) rank over Y-2..Y; 0 = none in all three reported years; NULL otherwise.
    window = f"year BETWEEN {year - 2} AND {year}"
    best = f"MIN(CASE WHEN {window} AND {col} > 0 THEN {col} END)"
    return (f"CASE WHEN {best} IS NOT NULL THEN {best} "
            f"WHEN COUNT({col}) FILTER (WHERE {window}) = 3 THEN 0 END AS {col}_3y")


def _window_sum(col: str, year: int, years: int, alias: str) -> str:
    window = f"year BETWEEN {year - years + 1} AND {year}"
    return (f"CASE WHEN COUNT({col}) FILTER (WHERE {window}) = {years} "
            f"THEN SUM({col}) FILTER (WHERE {window}) END AS {alias}")


def build_facts(
    enterprise: pa.Table | pl.DataFrame,
    enterprise_year: pa.Table | pl.DataFrame,
    profile: pa.Table | pl.DataFrame,
    designation: pa.Table | pl.DataFrame,
    year: int,
    on: date,
    industry: pa.Table | pl.DataFrame | None = None,
) -> pa.Table:
    """The fact table for data year `year`, designations as held on date `on`.

    `industry` (code, level, section) gives each firm's GB/T 4754 section for its size class (the
    province's size pack, e.g. sme-size-2011); without it the section is read from the shipped table.
    """
    if industry is None:
        from smecluster.registry.industries import shipped_industries

        industry = pl.DataFrame(shipped_industries()).select("code", "level", "section")
    con = duckdb.connect()
    for name, frame in (("ent", enterprise), ("ey", enterprise_year), ("pr", profile), ("des", designation),
                        ("ind", industry)):
        con.register(name, frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame)
    now = ", ".join(f"ANY_VALUE({c}) FILTER (WHERE year = {year}) AS {c}" for c in PROFILE_NOW)
    held = ", ".join(
        f"COALESCE(BOOL_OR(kind = '{t.kind}'), FALSE) AS designated_{t.kind}" for t in tiers()
    )
    certs = ", ".join(f"COALESCE(BOOL_OR(kind = '{c}'), FALSE) AS {c}" for c in certificate_columns())
    sql = f"""
    WITH y AS (
      SELECT uscc,
        ANY_VALUE(revenue) FILTER (WHERE year = {year}) AS revenue,
        ANY_VALUE(revenue) FILTER (WHERE year = {year - 1}) AS revenue_prev,
        ANY_VALUE(revenue) FILTER (WHERE year = {year - 2}) AS revenue_prev2,
        ANY_VALUE(rd_spending) FILTER (WHERE year = {year}) AS rd_spending,
        ANY_VALUE(rd_spending) FILTER (WHERE year = {year - 1}) AS rd_spending_prev,
        ANY_VALUE(employees) FILTER (WHERE year = {year}) AS employees,
        ANY_VALUE(rd_staff) FILTER (WHERE year = {year}) AS rd_staff,
        ANY_VALUE(total_assets) FILTER (WHERE year = {year}) AS total_assets,
        ANY_VALUE(total_liabilities) FILTER (WHERE year = {year}) AS total_liabilities
      FROM ey WHERE year BETWEEN {year - 2} AND {year} GROUP BY uscc),
    p AS (
      SELECT uscc,
        ANY_VALUE(main_revenue) FILTER (WHERE year = {year}) AS main_revenue,
        ANY_VALUE(main_revenue) FILTER (WHERE year = {year - 1}) AS main_revenue_prev,
        ANY_VALUE(main_revenue) FILTER (WHERE year = {year - 2}) AS main_revenue_prev2,
        ANY_VALUE(srdi_eval_score) FILTER (WHERE year = {year - 1}) AS srdi_eval_score_prev,
        {_window_sum("equity_raised", year, 2, "equity_2y")},
        {_window_sum("equity_raised", year, 3, "equity_3y")},
        {_best_rank("national_award_rank", year)},
        {_best_rank("provincial_award_rank", year)},
        {_best_rank("maker_china_rank", year)},
        {now}
      FROM pr WHERE year BETWEEN {year - 2} AND {year} GROUP BY uscc),
    d AS (
      SELECT uscc, {certs}, {held}
      FROM des
      WHERE {held_sql(on)}
      GROUP BY uscc)
    SELECT e.uscc, e.name, e.county_code, e.industry_code, y.* EXCLUDE (uscc), p.* EXCLUDE (uscc),
      {", ".join(f"COALESCE(d.{c}, FALSE) AS {c}" for c in certificate_columns())},
      {", ".join(f"COALESCE(d.{c}, FALSE) AS {c}" for c in designation_columns())},
      {size_class_sql(load_pack(province().size_policy), "e.industry_code", "s.section")} AS size_class
    FROM ent e LEFT JOIN y USING (uscc) LEFT JOIN p USING (uscc) LEFT JOIN d USING (uscc)
    LEFT JOIN (SELECT code, section FROM ind WHERE level = 2) s ON s.code = LEFT(e.industry_code, 2)
    ORDER BY e.uscc
    """
    return con.sql(sql).to_arrow_table()


def read_registry(
    engine: Engine, year: int, county: str | None = None, uscc: str | None = None
) -> dict[str, pl.DataFrame]:
    """The registry tables a fact table needs, for years year-2..year (optionally one county or firm)."""
    tests = [t for t, v in (("county_code = :county", county), ("uscc = :uscc", uscc)) if v]
    where = f" WHERE {' AND '.join(tests)}" if tests else ""
    params = {k: v for k, v in (("county", county), ("uscc", uscc)) if v}
    with engine.connect() as conn:
        ent = pl.read_database(
            f"SELECT uscc, name, county_code, industry_code FROM enterprise{where}", conn,
            execute_options={"parameters": params},
            schema_overrides={"uscc": pl.Utf8, "name": pl.Utf8, "county_code": pl.Utf8, "industry_code": pl.Utf8},
        )
        frames = {"enterprise": ent}
        for table, cols in (
            ("enterprise_year", "uscc, year, revenue, rd_spending, employees, rd_staff, total_assets, "
                                "total_liabilities"),
            ("enterprise_profile", "*"),
            ("designation", "uscc, kind, year, valid_from, valid_until"),
            ("industry", "code, level, section"),
        ):
            if table == "industry":
                frames[table] = pl.read_database(f"SELECT {cols} FROM industry WHERE level = 2", conn)
                continue
            lo = year - 2 if table != "designation" else 0
            frame = pl.read_database(
                f"SELECT {cols} FROM {table} WHERE year BETWEEN :lo AND :hi", conn,
                execute_options={"parameters": {"lo": lo, "hi": year}}, infer_schema_length=None,
            )
            frames[table] = frame.filter(pl.col("uscc").is_in(ent["uscc"].implode())) if tests else frame
    return frames
