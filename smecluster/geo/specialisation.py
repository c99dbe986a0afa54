"""Specialisation of counties: location quotients and industry shares, computed in DuckDB.

For county c and industry i, with x a measure (firms, employees or output) summed over firms:
    LQ(c, i) = (x[c, i] / x[c]) / (x[i] / x)
against the province (all rows given). A county with LQ > 1 holds more of the industry than its size
alone predicts. `share_output` and `share_employment` are x[c, i] / x[c], the industry's share of the
county's industrial output and of its employment. Industries are keyed at GB/T 4754 division
(2 digits) or group (3 digits) level, or by a chain map (chain name -> code prefixes).
"""

from __future__ import annotations

import duckdb
import polars as pl

LEVELS = {"division": 2, "group": 3, "class": 4}


def _chain_frame(chains: dict[str, list[str]]) -> pl.DataFrame:
    rows = [(name, prefix) for name, prefixes in chains.items() for prefix in prefixes]
    return pl.DataFrame(rows, schema={"industry": pl.String, "prefix": pl.String}, orient="row")


def location_quotients(
    enterprise: pl.DataFrame,
    enterprise_year: pl.DataFrame,
    year: int,
    level: str = "division",
    chains: dict[str, list[str]] | None = None,
) -> pl.DataFrame:
    """County x industry table: firms, employees, output, their LQs and the county shares.

    `enterprise` needs uscc, county_code, industry_code; `enterprise_year` needs uscc, year, output,
    employees. Firms without a yearly row count as firms with no employment or output.
    """
    con = duckdb.connect()
    con.register("enterprise", enterprise.select("uscc", "county_code", "industry_code").to_arrow())
    con.register(
        "enterprise_year",
        enterprise_year.filter(pl.col("year") == year).select("uscc", "output", "employees").to_arrow(),
    )
    if chains:
        con.register("chain", _chain_frame(chains).to_arrow())
        keyed = (
            "SELECT e.uscc, e.county_code, c.industry FROM enterprise e "
            "JOIN chain c ON starts_with(e.industry_code, c.prefix)"
        )
    else:
        if level not in LEVELS:
            raise ValueError(f"unknown industry level {level!r}: use one of {', '.join(LEVELS)}")
        keyed = f"SELECT uscc, county_code, LEFT(industry_code, {LEVELS[level]}) AS industry FROM enterprise"
    sql = f"""
    WITH firm AS (
        SELECT DISTINCT k.uscc, k.county_code, k.industry,
               COALESCE(y.output, 0) AS output, COALESCE(y.employees, 0) AS employees
        FROM ({keyed}) k LEFT JOIN enterprise_year y ON y.uscc = k.uscc
    ),
    ci AS (
        SELECT county_code, industry, COUNT(*) AS firms,
               CAST(SUM(employees) AS DOUBLE) AS employees, SUM(output) AS output
        FROM firm GROUP BY county_code, industry
    ),
    -- County and province totals count every firm once, whatever its industry key.
    base AS (
        SELECT e.uscc, e.county_code, COALESCE(y.output, 0) AS output,
               COALESCE(y.employees, 0) AS employees
        FROM enterprise e LEFT JOIN enterprise_year y ON y.uscc = e.uscc
    ),
    c AS (SELECT county_code, COUNT(*) AS firms, CAST(SUM(employees) AS DOUBLE) AS employees,
                 SUM(output) AS output
          FROM base GROUP BY county_code),
    i AS (SELECT industry, SUM(firms) AS firms, SUM(employees) AS employees, SUM(output) AS output
          FROM ci GROUP BY industry),
    t AS (SELECT COUNT(*) AS firms, CAST(SUM(employees) AS DOUBLE) AS employees, SUM(output) AS output
          FROM base)
    SELECT ci.county_code, ci.industry, ci.firms, ci.employees, ci.output,
           (ci.firms / c.firms) / NULLIF(i.firms / t.firms, 0) AS lq_firms,
           (ci.employees / NULLIF(c.employees, 0)) / NULLIF(i.employees / NULLIF(t.employees, 0), 0)
               AS lq_employment,
           (ci.output / NULLIF(c.output, 0)) / NULLIF(i.output / NULLIF(t.output, 0), 0) AS lq_output,
           ci.output / NULLIF(c.output, 0) AS share_output,
           ci.employees / NULLIF(c.employees, 0) AS share_employment
    FROM ci JOIN c USING (county_code) JOIN i USING (industry), t
    ORDER BY ci.county_code, ci.industry
    """
    return pl.from_arrow(con.sql(sql).to_arrow_table())
