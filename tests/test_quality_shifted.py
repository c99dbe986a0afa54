"""The ordered sweep over a snapshot (smecluster.quality.sweep) gives exactly the findings of the SQL over
the registry's tables: across batch boundaries, gaps between years, firms without yearly rows, reported
counties no firm has, copies across firms, main revenue above revenue and the digit tests; files not
laid out for it fall back to the SQL (nothing left behind)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from smecluster.quality import run, sweep
from smecluster.quality.catalogue import load_checks
from smecluster.quality.sql import Context, candidate_condition

PEER_YEAR = 2026


def _catalogue():
    """The shipped checks with bounds a small registry reaches (digit tests from 10 figures, 3 peers)."""
    base = load_checks()
    changed = {"benford": {"min_count": 10}, "peer_outlier": {"min_peers": 3, "z": 1.0}}
    return replace(base, checks=tuple(replace(c, params={**c.params, **changed.get(c.kind, {})})
                                      for c in base.checks))


def _registry(seed: int = 7) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(80):
        if f % 9 == 4:  # a firm without yearly rows
            continue
        for year in sorted(rng.choice(np.arange(2021, 2027), size=rng.integers(1, 6), replace=False)):
            rows.append({"uscc": f"F{f:05d}", "year": int(year)})
    n = len(rows)
    pick = lambda *v: rng.choice(np.array(v, dtype=float), n)  # noqa: E731  (few values: many copies and jumps)
    years = pl.DataFrame(rows).with_columns(
        pl.Series("revenue", pick(0, 5, 50, 500, 5000, 123456.7)), pl.Series("output", pick(0, 10, 100, 1000, 2.5)),
        pl.Series("rd_spending", pick(0, 1, 60, 6000, 987.6)),
        pl.Series("employees", pick(0, 3, 30, 300)).cast(pl.Int64),
        pl.Series("rd_staff", pick(0, 2, 40)).cast(pl.Int64), pl.Series("total_assets", pick(10, 100, 1000, 31.4)),
        pl.Series("total_liabilities", pick(5, 50, 2000, 77.7)),
        pl.Series("reported_county", rng.choice(np.array(["320481", "320482", "329999", None], dtype=object),
                                                n, p=[0.1, 0.1, 0.2, 0.6]).tolist(), dtype=pl.Utf8),
        pl.Series("reported_industry", rng.choice(np.array(["3841", "3842", None], dtype=object), n).tolist(),
                  dtype=pl.Utf8),
        pl.Series("reported_name", rng.choice(np.array(["其他名称", None], dtype=object), n, p=[0.05, 0.95]).tolist(),
                  dtype=pl.Utf8),
    ).with_columns(  # some NULL figures
        pl.when(pl.int_range(pl.len()) % 11 == 3).then(None).otherwise(pl.col("revenue")).alias("revenue"))
    copied = years.head(2).with_columns(  # two firms with one year's figures the same to the last digit
        pl.Series("uscc", ["F00080", "F00081"]), pl.lit(2025, dtype=years.schema["year"]).alias("year"),
        pl.lit(812.5).alias("revenue"), pl.lit(640.25).alias("output"), pl.lit(12.5).alias("rd_spending"),
        pl.lit(41, dtype=pl.Int64).alias("employees"), pl.lit(3, dtype=pl.Int64).alias("rd_staff"),
        pl.lit(900.0).alias("total_assets"), pl.lit(300.0).alias("total_liabilities"))
    years = pl.concat([years, copied])
    n = years.height
    firms = pl.DataFrame({"uscc": [f"F{f:05d}" for f in range(82)]}).with_columns(
        pl.col("uscc").alias("name"),
        pl.when(pl.int_range(pl.len()) % 17 == 5).then(None).otherwise(
            pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("320481")).otherwise(pl.lit("320482")))
        .alias("county_code"),
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(pl.lit("3841")).otherwise(pl.lit("1310")).alias("industry_code"))
    profile = years.select("uscc", "year", (pl.col("revenue") * pl.Series(rng.choice([0.5, 1.0, 1.5], n)))
                           .alias("main_revenue")).sort("year", "uscc")  # year-major, as the snapshot holds it
    return {
        "enterprise": firms, "enterprise_year": years.sort("uscc", "year"), "enterprise_profile": profile,
        "industry": pl.DataFrame({"code": ["38", "13"], "level": [2, 2], "section": ["C", "C"]}),
        "platform": pl.DataFrame(schema={"id": pl.Int64, "name": pl.Utf8, "level": pl.Utf8, "county_code": pl.Utf8,
                                         "host_uscc": pl.Utf8, "cluster_id": pl.Int64, "year": pl.Int32}),
        "cluster": pl.DataFrame({"id": [1], "code": ["C1"], "name": ["c"], "county_code": ["320481"]}),
        "cluster_member": pl.DataFrame({"cluster_id": [1], "uscc": ["F00001"]}),
    }


def _files(tables: dict[str, pl.DataFrame], tmp_path) -> dict[str, str]:
    files = {}
    for name, frame in tables.items():
        files[name] = str(tmp_path / f"{name}.parquet")
        frame.write_parquet(files[name], row_group_size=13)
    return files


def _findings(files: dict[str, str], catalogue, swept: bool) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    con = run.connect()
    run.attach_parquet(con, files)
    made = run.prepare(con, catalogue, files if swept else None, PEER_YEAR)
    ctx = Context(PEER_YEAR, "CASE WHEN revenue >= 500 THEN 'large' ELSE 'small' END")
    if made is not None:
        ctx = replace(ctx, peer_rows=made.peer, sources=made.sources)
    result = run.run_checks(con, ctx, catalogue)
    cand = con.sql("SELECT * FROM q_cand").pl().sort("uscc", "year")
    con.close()
    order = list(result.findings.columns)
    return result.findings.sort(order, nulls_last=True), result.digits.sort("county_code", "year"), (made, cand)


def test_the_sweep_gives_the_sql_findings(tmp_path, monkeypatch):
    tables = _registry()
    files = _files(tables, tmp_path)
    catalogue = _catalogue()
    expected, digits, (made, cand) = _findings(files, catalogue, swept=False)
    assert made is None
    monkeypatch.setattr(sweep, "BATCH", 7)  # firms split across batches
    got, got_digits, (made, got_cand) = _findings(files, catalogue, swept=True)
    assert made is not None and made.peer
    assert set(made.sources) == {"benford_first_digit", "identical_across_firms", "main_revenue_above_revenue"}
    assert got_cand.equals(cand)
    assert got.equals(expected)
    assert got_digits.equals(digits)
    # the data reaches every check the sweep feeds (else the comparison proves little)
    seen = set(expected["check"].to_list())
    assert {"identical_across_firms", "main_revenue_above_revenue", "peer_outlier", "growth_beyond_bound",
            "magnitude_jump_and_return", "identical_across_years", "name_differs"} <= seen
    assert digits.height >= 6 and digits["county_code"].null_count() == 0
    assert "329999" in digits["county_code"].to_list()  # a reported county no firm has


def test_unexpected_layouts_fall_back(tmp_path):
    tables = _registry(3)
    catalogue = _catalogue()
    where = " OR ".join(f"({c})" for c in (candidate_condition(k) for k in catalogue.checks) if c)
    shuffled = dict(tables, enterprise_year=tables["enterprise_year"].sample(fraction=1.0, shuffle=True, seed=1))
    unknown = dict(tables, enterprise=tables["enterprise"].filter(pl.col("uscc") != "F00007"))
    profile = dict(tables, enterprise_profile=tables["enterprise_profile"].sample(fraction=1.0, shuffle=True, seed=2))
    for i, case in enumerate((shuffled, unknown, profile)):
        (tmp_path / str(i)).mkdir()
        files = _files(case, tmp_path / str(i))
        con = run.connect()
        run.attach_parquet(con, files)
        assert sweep.sweep(con, files, catalogue, where, PEER_YEAR) is None
        for table in ("q_win", "q_peer", "q_digits_18", "q_copy_9", "q_main_4"):
            with pytest.raises(Exception):  # noqa: B017  (nothing left behind)
                con.sql(f"SELECT * FROM {table}").fetchall()
        # and the checks still run, by the SQL over the registry's tables
        assert run.prepare(con, catalogue, files, PEER_YEAR) is None
        con.close()


def test_first_digit_is_exact_at_the_edges():
    edges = [float(d * 10 ** k) for k in range(18) for d in range(1, 10)]
    x = np.array(edges + [np.nextafter(e, 0) for e in edges] + [np.nextafter(e, np.inf) for e in edges]
                 + list(np.random.default_rng(5).uniform(1, 1e15, 20_000)) + [1.0, 9.999999999, 99.5, 8.99e18]
                 + list(np.exp(np.random.default_rng(6).uniform(0, 43.6, 20_000))))  # every binary exponent
    x = x[(x >= 1) & (x < sweep.TOO_LARGE)]
    expected = np.array([int(str(int(np.floor(v)))[0]) for v in x])
    assert (sweep._first_digit(x) == expected).all()
