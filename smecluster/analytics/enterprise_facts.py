"""The enterprise fact table: one row per firm for a data year, the columns tier indicators read.

Built from the registry by joining each needed data year of each table to the firms (years and
columns pruned before the joins; the windows of 2 and 3 years summed across the joined years) and one
aggregation of the designations, never a loop over firms. The benchmark generates the same
columns directly in memory.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine

from smecluster.analytics.prepared import run_small
from smecluster.analytics.reader import read_frame
from smecluster.analytics.size_class import size_class_sql
from smecluster.analytics.stored_snapshot import StoredSnapshot, arrow_schema
from smecluster.policy.pack import load_pack
from smecluster.policy.tiers import tiers
from smecluster.policy.validity import Periods, certificates, held_sql
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


# Per registry table, the columns read from each of the data years Y, Y-1, Y-2 (as name, alias).
RANKS = ("national_award_rank", "provincial_award_rank", "maker_china_rank")  # best over Y-2..Y
_YEAR_COLUMNS = {
    0: [("revenue", "revenue"), ("rd_spending", "rd_spending"), ("employees", "employees"),
        ("rd_staff", "rd_staff"), ("total_assets", "total_assets"), ("total_liabilities", "total_liabilities")],
    1: [("revenue", "revenue_prev"), ("rd_spending", "rd_spending_prev")],
    2: [("revenue", "revenue_prev2")],
}
_PROFILE_COLUMNS = {
    0: [("main_revenue", "main_revenue"), ("equity_raised", "equity_0"), *((r, f"{r}_0") for r in RANKS),
        *((c, c) for c in PROFILE_NOW)],
    1: [("main_revenue", "main_revenue_prev"), ("srdi_eval_score", "srdi_eval_score_prev"),
        ("equity_raised", "equity_1"), *((r, f"{r}_1") for r in RANKS)],
    2: [("main_revenue", "main_revenue_prev2"), ("equity_raised", "equity_2"), *((r, f"{r}_2") for r in RANKS)],
}
YEAR_FACTS = ("revenue", "revenue_prev", "revenue_prev2", "rd_spending", "rd_spending_prev", "employees",
              "rd_staff", "total_assets", "total_liabilities")


def _best_rank(col: str) -> str:
    # Best (lowest positive) rank over Y-2..Y; 0 = none in all three reported years; NULL otherwise.
    # (LEAST skips NULLs on both engines, as MIN did over the years' rows.)
    best = "LEAST(" + ", ".join(f"CASE WHEN {col}_{k} > 0 THEN {col}_{k} END" for k in range(3)) + ")"
    reported = " AND ".join(f"{col}_{k} IS NOT NULL" for k in range(3))
    return f"CASE WHEN {best} IS NOT NULL THEN {best} WHEN {reported} THEN 0 END AS {col}_3y"


def _window_sum(years: int, alias: str) -> str:
    # The sum over the last `years` data years when every one of them is reported (NULL otherwise).
    cols = [f"equity_{k}" for k in reversed(range(years))]  # oldest first, as the rows are stored
    return f"CASE WHEN {' AND '.join(f'{c} IS NOT NULL' for c in cols)} THEN {' + '.join(cols)} END AS {alias}"


def _year_select(table: str, year: int, columns: list[tuple[str, str]], key: str = "uscc") -> str:
    cols = ", ".join(name if name == alias else f"{name} AS {alias}" for name, alias in columns)
    return f"SELECT {key}, {cols} FROM {table} WHERE year = {year}"


def facts_sql(year: int, on: date, periods: Periods | None = None, ordered: bool = True,
              key: str = "uscc") -> str:
    """The fact table's SQL over relations ent, ey, pr, des and ind (industry level 2 rows); `periods`
    (policy.validity.reformed_periods) replaces the validity periods, for a what-if; `ordered`: rows by
    credit code (a caller sorting the result itself leaves the sort out); `key`: the column a firm's rows
    are joined by, `uscc` or the integer `firm` of a Parquet registry (layout 2; then a column of the
    result too, and ordered means by it: the same order).

    Each data year Y, Y-1, Y-2 of enterprise_year (ey) and enterprise_profile (pr) is read once with only
    the columns taken from that year, and joined to the firms by credit code (one row per firm and
    year: the registry's key), so an engine prunes years and columns before it joins; the windows
    (equity over 2 and 3 years, best award rank over 3) are then sums and LEASTs across the joined
    years. Designations are one aggregation of the rows held on `on`.
    """
    held = ", ".join(
        f"COALESCE(BOOL_OR(kind = '{t.kind}'), FALSE) AS designated_{t.kind}" for t in tiers()
    )
    certs = ", ".join(f"COALESCE(BOOL_OR(kind = '{c}'), FALSE) AS {c}" for c in certificate_columns())
    parts = [f"y{k} AS ({_year_select('ey', year - k, cols, key)})" for k, cols in _YEAR_COLUMNS.items()]
    parts += [f"p{k} AS ({_year_select('pr', year - k, cols, key)})" for k, cols in _PROFILE_COLUMNS.items()]
    profile = [
        "main_revenue", "main_revenue_prev", "main_revenue_prev2", "srdi_eval_score_prev",
        _window_sum(2, "equity_2y"), _window_sum(3, "equity_3y"), *(_best_rank(r) for r in RANKS), *PROFILE_NOW,
    ]
    joins = " ".join(f"LEFT JOIN {t}{k} USING ({key})" for t in ("y", "p") for k in range(3))
    order = f"ORDER BY {key}" if ordered else ""
    firm = "" if key == "uscc" else f"e.{key} AS {key}, "
    return f"""
    WITH {", ".join(parts)},
    d AS (
      SELECT {key}, {certs}, {held}
      FROM des
      WHERE {held_sql(on, periods=periods)}
      GROUP BY {key}),
    f AS (
      SELECT {firm}e.uscc AS uscc, e.name AS name, e.county_code AS county_code, e.industry_code AS industry_code,
        {", ".join(YEAR_FACTS)}, {", ".join(profile)},
        {", ".join(f"COALESCE(d.{c}, FALSE) AS {c}" for c in certificate_columns())},
        {", ".join(f"COALESCE(d.{c}, FALSE) AS {c}" for c in designation_columns())},
        {size_class_sql(load_pack(province().size_policy), "e.industry_code", "s.section")} AS size_class
      FROM ent e {joins} LEFT JOIN d USING ({key})
      LEFT JOIN (SELECT code, section FROM ind WHERE level = 2) s ON s.code = LEFT(e.industry_code, 2))
    SELECT * FROM f {order}
    """


def build_facts(
    enterprise: pa.Table | pl.DataFrame,
    enterprise_year: pa.Table | pl.DataFrame,
    profile: pa.Table | pl.DataFrame,
    designation: pa.Table | pl.DataFrame,
    year: int,
    on: date,
    industry: pa.Table | pl.DataFrame | None = None,
    periods: Periods | None = None,
) -> pa.Table:
    """The fact table for data year `year`, designations as held on date `on`.

    `industry` (code, level, section) gives each firm's GB/T 4754 section for its size class (the
    province's size pack, e.g. sme-size-2011); without it the section is read from the shipped table.
    """
    if industry is None:
        from smecluster.registry.industries import shipped_industries

        industry = pl.DataFrame(shipped_industries()).select("code", "level", "section")
    inputs = {name: frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
              for name, frame in (("ent", enterprise), ("ey", enterprise_year), ("pr", profile),
                                  ("des", designation), ("ind", industry))}
    return run_small(facts_sql(year, on, periods), inputs)  # one firm's facts: the statement prepared once


def facts_from_snapshot(snapshot: StoredSnapshot, year: int, on: date, county: str | None = None) -> pa.Table:
    """The fact table straight from the snapshot's Parquet columns (all firms, or one county's)."""
    from smecluster.analytics.engines import DuckDBEngine

    engine = DuckDBEngine(snapshot.connect())
    try:
        fact_views(engine, year, county)
        return engine.arrow(facts_sql(year, on))
    finally:
        engine.close()


def fact_views(engine, year: int, county: str | None = None, key: str = "uscc") -> None:
    """The inputs of `facts_sql` (ent, ey, pr, des, ind) as views over the registry tables registered on
    an SQL engine (analytics.engines.Engine) under their own names: years year-2..year, one county's
    firms when given; `key`: the firm key `facts_sql` joins by (the firm view carries it)."""
    where = f" WHERE county_code = {_literal(county)}" if county else ""
    firm = "" if key == "uscc" else f"{key}, "
    engine.view("ent", f"SELECT {firm}uscc, name, county_code, industry_code FROM enterprise{where}")
    firms = " AND uscc IN (SELECT uscc FROM ent)" if county else ""
    for view, table, lo in (("ey", "enterprise_year", year - 2), ("pr", "enterprise_profile", year - 2),
                            ("des", "designation", None)):
        window = f"year BETWEEN {lo} AND {year}" if lo is not None else f"year <= {year}"
        engine.view(view, f"SELECT * FROM {table} WHERE {window}{firms}")
    engine.view("ind", "SELECT code, level, section FROM industry WHERE level = 2")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def registry_queries(
    year: int, county: str | None = None, uscc: str | None = None
) -> dict[str, tuple[str, dict]]:
    """Per table, the SQL (and parameters) reading what a fact table needs: years year-2..year, and
    only the county's or the firm's rows when one is given (the filter is in the SQL)."""
    params = {k: v for k, v in (("county", county), ("uscc", uscc)) if v}
    if uscc:
        firms = " AND uscc = :uscc"
    elif county:
        firms = " AND uscc IN (SELECT uscc FROM enterprise WHERE county_code = :county)"
    else:
        firms = ""
    ent_tests = [t for t, v in (("county_code = :county", county), ("uscc = :uscc", uscc)) if v]
    ent_where = f" WHERE {' AND '.join(ent_tests)}" if ent_tests else ""
    window = {"lo": year - 2, "hi": year}
    return {
        "enterprise": (f"SELECT uscc, name, county_code, industry_code FROM enterprise{ent_where}", params),
        "enterprise_year": ("SELECT uscc, year, revenue, rd_spending, employees, rd_staff, total_assets, "
                            f"total_liabilities FROM enterprise_year WHERE year BETWEEN :lo AND :hi{firms}",
                            {**params, **window}),
        "enterprise_profile": (f"SELECT * FROM enterprise_profile WHERE year BETWEEN :lo AND :hi{firms}",
                               {**params, **window}),
        "designation": (f"SELECT uscc, kind, year, valid_from, valid_until FROM designation WHERE year <= :hi{firms}",
                        {**params, "hi": year}),
        "industry": ("SELECT code, level, section FROM industry WHERE level = 2", {}),
    }


def read_registry(
    engine: Engine, year: int, county: str | None = None, uscc: str | None = None
) -> dict[str, pl.DataFrame]:
    """The registry tables a fact table needs, for years year-2..year (optionally one county or firm).

    The firm, county and year filters run in the database: one firm's question reads that firm's rows.
    """
    frames = {}
    for table, (sql, params) in registry_queries(year, county, uscc).items():
        frame = read_frame(engine, sql, params)
        frames[table] = typed(frame, arrow_schema(table))
    return frames


def typed(frame: pl.DataFrame, schema: pa.Schema) -> pl.DataFrame:
    """A read frame with the registry's column types (PostgreSQL's CSV is text, SQLite's dates are text)."""
    target = pl.from_arrow(schema.empty_table()).schema
    casts = []
    for name in frame.columns:
        dtype = target.get(name)
        if dtype is None:
            continue
        col = pl.col(name)
        if frame.schema[name] == pl.Utf8 and dtype == pl.Boolean:
            low = col.str.to_lowercase()
            casts.append(pl.when(low.is_null()).then(None).otherwise(low.is_in(["t", "true", "1"])).alias(name))
        elif frame.schema[name] == pl.Utf8 and dtype == pl.Date:
            casts.append(col.str.to_date(strict=False))
        else:
            casts.append(col.cast(dtype, strict=False))
    if frame.width == 0:  # an empty COPY result has no columns: give it the table's
        return pl.DataFrame(schema=target)
    return frame.with_columns(casts)
