"""Run every data-quality check over the registry at once: DuckDB over the registry's columns.

The source is the versioned columnar snapshot (Parquet) for a province-sized registry, else the
database's tables read in bulk (filters in the SQL). Sequence checks read one windowed table
(`q_cand`: the yearly rows any row check may flag, with the previous and next consecutive year's
figures), built in one pass; every row check then filters it. On a snapshot that pass is the ordered
sweep of smecluster.quality.sweep, which also makes the small tables the whole-registry checks read
(peer rows, digit counts, copy candidates, main-revenue rows: decision 2050). Nothing loops over firms in
Python.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from smecluster.quality.catalogue import Catalogue, load_checks
from smecluster.quality.sql import BUILDERS, FIGURES, Context, band, candidate_condition
from smecluster.quality.sweep import Swept, sweep

FINDING_SCHEMA = {
    "check": pl.Utf8, "uscc": pl.Utf8, "county_code": pl.Utf8, "year": pl.Int32, "field": pl.Utf8,
    "value": pl.Float64, "detail": pl.Utf8, "score": pl.Float64, "cluster_id": pl.Int64, "platform_id": pl.Int64,
}
# the registry columns the checks read, per table
COLUMNS = {
    "enterprise": "uscc, name, county_code, industry_code",
    "enterprise_year": "uscc, year, " + ", ".join(FIGURES) + ", reported_name, reported_county, reported_industry",
    "enterprise_profile": "uscc, year, main_revenue",
    "industry": "code, level, section",
    "platform": "id, name, level, county_code, host_uscc, cluster_id, year",
    "cluster": "id, code, name, county_code",
    "cluster_member": "cluster_id, uscc",
}
SEQ_COLUMNS = (*FIGURES, "reported_county", "reported_industry")


@dataclass
class Result:
    """Findings (one row per doubtful figure, `FINDING_SCHEMA`) and every county-year's digit test."""

    findings: pl.DataFrame
    digits: pl.DataFrame  # county_code, year, n, mad, chi2, band, flagged


def connect(memory_limit: str = "1500MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that spills to a temporary directory rather than outgrow `memory_limit`."""
    spill = os.path.join(tempfile.gettempdir(), "smecluster-quality-spill")
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill,
                                 "preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    return con


def attach_parquet(con: duckdb.DuckDBPyConnection, files: dict[str, str], prefix: str = "") -> None:
    """Registry tables as views over the snapshot's Parquet files (only the columns the checks read)."""
    for table, cols in COLUMNS.items():
        con.execute(f"CREATE VIEW {prefix}{table} AS SELECT {cols} FROM read_parquet('{files[table]}')")


def attach_frames(con: duckdb.DuckDBPyConnection, frames: dict[str, pa.Table | pl.DataFrame], prefix: str = "") -> None:
    """Registry tables as views over in-memory tables (a small registry read from the database)."""
    for table, frame in frames.items():
        con.register(f"{prefix}{table}", frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame)


# the natural key of each table an import may overlay
KEYS = {"enterprise": ["uscc"], "enterprise_year": ["uscc", "year"], "enterprise_profile": ["uscc", "year"],
        "platform": ["name"], "cluster_member": ["cluster_id", "uscc"]}


def overlay(con: duckdb.DuckDBPyConnection, incoming: dict[str, pl.DataFrame], prefix: str = "base_") -> None:
    """Views named as the registry tables over `prefix`-named ones, with the rows of `incoming` (a file
    being imported) in place of the stored rows of the same key: the registry as the import would leave it."""
    for table, cols in COLUMNS.items():
        frame = incoming.get(table)
        if frame is None or table not in KEYS:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {prefix}{table}")
            continue
        names = [c.strip() for c in cols.split(",")]
        base = con.sql(f"SELECT * FROM {prefix}{table} LIMIT 0").pl().schema
        rows = frame.select([(pl.col(n) if n in frame.columns else pl.lit(None)).cast(base[n]).alias(n)
                             for n in names])
        con.register(f"incoming_{table}", rows.to_arrow())
        on = " AND ".join(f"i.{k} = b.{k}" for k in KEYS[table])
        con.execute(
            f"CREATE VIEW {table} AS SELECT b.* FROM {prefix}{table} b WHERE NOT EXISTS "
            f"(SELECT 1 FROM incoming_{table} i WHERE {on}) UNION ALL SELECT * FROM incoming_{table}"
        )


def prepare(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None,
            files: dict[str, str] | None = None, peer_year: int | None = None) -> Swept | None:
    """`q_firm` (firms with their section) and `q_cand`: the yearly rows some row check may flag, with the
    neighbouring years' figures and the firm's registry columns.

    `files`: the snapshot's Parquet files (table -> path). When its yearly rows are in (uscc, year)
    order and its firms in uscc order, one ordered sweep (smecluster.quality.sweep) makes `q_cand` and the
    small tables the whole-registry checks read instead of the registry's (returned: which); otherwise,
    and without files, LAG/LEAD over the `enterprise_year` view (None: every check reads the registry)."""
    catalogue = catalogue or load_checks()
    con.execute(
        "CREATE OR REPLACE TEMP VIEW q_firm AS SELECT e.uscc, e.name, e.county_code, e.industry_code, i.section "
        "FROM enterprise e LEFT JOIN industry i ON i.code = LEFT(e.industry_code, 2) AND i.level = 2"
    )
    conditions = [c for c in (candidate_condition(k) for k in catalogue.checks) if c]
    where = " OR ".join(f"({c})" for c in conditions) or "FALSE"
    swept = sweep(con, files, catalogue, where, peer_year) if files is not None else None
    if swept is not None:
        con.execute("DROP TABLE IF EXISTS q_cand")
        con.execute("ALTER TABLE q_win RENAME TO q_cand")  # the firm's columns are in it already
        return swept
    # LAG/LEAD only across consecutive years: a gap (no row for y-1) leaves the neighbour NULL
    lags = [f"LAG({c}) OVER w AS l_{c}" for c in SEQ_COLUMNS] + [f"LEAD({c}) OVER w AS m_{c}" for c in FIGURES]
    near = [f"CASE WHEN l_year = year - 1 THEN l_{c} END AS p_{c}" for c in SEQ_COLUMNS]
    near += [f"CASE WHEN m_year = year + 1 THEN m_{c} END AS n_{c}" for c in FIGURES]
    windowed = (f"SELECT uscc, year, {', '.join(SEQ_COLUMNS)}, LAG(year) OVER w AS l_year, "
                f"LEAD(year) OVER w AS m_year, {', '.join(lags)} FROM enterprise_year "
                "WINDOW w AS (PARTITION BY uscc ORDER BY year)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE q_cand AS SELECT y.*, f.name, f.county_code, f.industry_code FROM "
        f"(SELECT * FROM (SELECT uscc, year, {', '.join(SEQ_COLUMNS)}, {', '.join(near)} FROM ({windowed})) y "
        f"WHERE {where}) y JOIN enterprise f ON f.uscc = y.uscc"
    )
    return None


def run_checks(con: duckdb.DuckDBPyConnection, context: Context, catalogue: Catalogue | None = None) -> Result:
    """Every check of the catalogue over the prepared connection: the findings and the digit tests."""
    catalogue = catalogue or load_checks()
    parts, digits = [], None
    for check in catalogue.checks:
        sql = BUILDERS[check.kind](check, context)
        try:
            frame = con.sql(sql).pl()
        except duckdb.Error as exc:
            raise RuntimeError(f"data-quality check {check.id!r} failed: {exc}") from exc
        if check.kind == "benford":
            digits = _digit_tests(frame, check.params)
            frame = frame.join(digits.filter(pl.col("flagged")).select("county_code", "year"),
                               on=["county_code", "year"], how="semi")
        parts.append(frame.with_columns(pl.lit(check.id).alias("check")))
    findings = pl.concat([_typed(p) for p in parts]) if parts else pl.DataFrame(schema=FINDING_SCHEMA)
    if digits is None:
        digits = pl.DataFrame(schema={"county_code": pl.Utf8, "year": pl.Int32, "n": pl.Int64, "mad": pl.Float64,
                                      "chi2": pl.Float64, "band": pl.Utf8, "flagged": pl.Boolean})
    return Result(findings, digits)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()])


def _digit_tests(frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """The county-years' MAD bands (a handful of rows per county: Python over rows is fine here)."""
    bands = params["bands"]
    order = [b["id"] for b in bands]
    flag_from = order.index(params.get("flag_from", "nonconformity"))
    names = [(band(m, bands) or {}).get("id") for m in frame["value"].to_list()]
    n = frame["detail"].str.extract(r"^n (\d+)", 1).cast(pl.Int64)
    return pl.DataFrame({
        "county_code": frame["county_code"], "year": frame["year"].cast(pl.Int32), "n": n,
        "mad": frame["value"], "chi2": frame["score"], "band": pl.Series(names, dtype=pl.Utf8),
        "flagged": pl.Series([b is not None and order.index(b) >= flag_from for b in names], dtype=pl.Boolean),
        "chi2_exceeds": frame["score"] > float(params["chi2_critical"]),
    })
