"""The shifted pass over yearly rows in (uscc, year) order gives exactly the LAG/LEAD pass's candidates,
across batch boundaries and gaps between years; rows out of order fall back to the windowed pass."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from smecluster.quality import run
from smecluster.quality.catalogue import load_checks
from smecluster.quality.sql import candidate_condition


def _years(seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(60):
        for year in sorted(rng.choice(np.arange(2020, 2027), size=rng.integers(1, 6), replace=False)):
            rows.append({"uscc": f"F{f:05d}", "year": int(year)})
    n = len(rows)
    pick = lambda *v: rng.choice(np.array(v, dtype=float), n)  # noqa: E731  (few values: many copies and jumps)
    return pl.DataFrame(rows).with_columns(
        pl.Series("revenue", pick(0, 5, 50, 500, 5000)), pl.Series("output", pick(0, 10, 100, 1000)),
        pl.Series("rd_spending", pick(0, 1, 60, 6000)), pl.Series("employees", pick(0, 3, 30, 300)).cast(pl.Int64),
        pl.Series("rd_staff", pick(0, 2, 40)).cast(pl.Int64), pl.Series("total_assets", pick(10, 100, 1000)),
        pl.Series("total_liabilities", pick(5, 50, 2000)),
        pl.Series("reported_county", rng.choice(np.array(["320481", "320482", None], dtype=object), n).tolist(),
                  dtype=pl.Utf8),
        pl.Series("reported_industry", rng.choice(np.array(["3841", "3842", None], dtype=object), n).tolist(),
                  dtype=pl.Utf8),
        pl.Series("reported_name", [None] * n, dtype=pl.Utf8),
    )


def _connection(years: pl.DataFrame):
    con = run.connect()
    firms = years.select("uscc").unique().with_columns(pl.col("uscc").alias("name"), pl.lit("320481").alias(
        "county_code"), pl.lit("3841").alias("industry_code"))
    con.register("enterprise_year", years.to_arrow())
    con.register("enterprise", firms.to_arrow())
    con.register("industry", pl.DataFrame({"code": ["38"], "level": [2], "section": ["C"]}).to_arrow())
    return con


def _cand(con) -> pl.DataFrame:
    return con.sql("SELECT * FROM q_cand").pl().sort("uscc", "year")


def test_shifted_pass_equals_the_windowed_pass(tmp_path, monkeypatch):
    years = _years()
    path = tmp_path / "years.parquet"
    years.sort("uscc", "year").write_parquet(path, row_group_size=5)
    catalogue = load_checks()
    con = _connection(years)
    run.prepare(con, catalogue)
    expected = _cand(con)
    assert expected.height > 20  # the data meets the conditions often
    peer = con.sql(
        "SELECT y.uscc, y.revenue, y.output, y.rd_spending, y.employees, y.total_assets, p.revenue AS p_revenue "
        "FROM enterprise_year y LEFT JOIN (SELECT uscc, revenue FROM enterprise_year WHERE year = 2025) p "
        "ON p.uscc = y.uscc WHERE y.year = 2026").pl().sort("uscc")
    monkeypatch.setattr(run, "SHIFT_BATCH", 7)  # firms split across batches
    assert run.prepare(con, catalogue, str(path), 2026)
    got = _cand(con)
    assert got.columns == expected.columns
    assert got.equals(expected)
    # the peer year's rows with the year before's revenue, as the peer check's join reads them
    assert con.sql("SELECT * FROM q_peer").pl().sort("uscc").equals(peer)


def test_rows_out_of_order_fall_back(tmp_path):
    years = _years(3)
    path = tmp_path / "years.parquet"
    years.sample(fraction=1.0, shuffle=True, seed=1).write_parquet(path)
    con = _connection(years)
    where = " OR ".join(f"({c})" for c in (candidate_condition(k) for k in load_checks().checks) if c)
    assert run._shifted_candidates(con, str(path), where) is False
    with pytest.raises(Exception):  # noqa: B017  (nothing left behind)
        con.sql("SELECT * FROM q_win").fetchall()
