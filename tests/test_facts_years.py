"""Which year each fact of the enterprise fact table is read from (analytics.enterprise_facts.facts_sql):
data year Y, Y-1 and Y-2 for the two-year growths and averages, nothing older."""

from __future__ import annotations

from datetime import date

import polars as pl

from smecluster.analytics.enterprise_facts import PROFILE_NOW, build_facts


def test_revenue_and_main_revenue_of_the_data_year_and_the_two_before():
    """Data year 2025: revenue 121/110/100 and main revenue 100/90/80 of 2025/2024/2023 are the year's, the
    previous and the one before; 2022's (70) is never read."""
    ent = pl.DataFrame({"uscc": ["A"], "name": ["a"], "county_code": ["320102"], "industry_code": ["3411"]})
    years = [2022, 2023, 2024, 2025]
    ey = pl.DataFrame({"uscc": ["A"] * 4, "year": years, "revenue": [90.0, 100.0, 110.0, 121.0],
                       "rd_spending": [1.0] * 4, "employees": [10] * 4, "rd_staff": [1] * 4,
                       "total_assets": [10.0] * 4, "total_liabilities": [1.0] * 4})
    pr = pl.DataFrame({"uscc": ["A"] * 4, "year": years, "main_revenue": [70.0, 80.0, 90.0, 100.0],
                       "srdi_eval_score": [None] * 4}, schema_overrides={"srdi_eval_score": pl.Float64})
    yearly = ("equity_raised", "national_award_rank", "provincial_award_rank", "maker_china_rank")
    pr = pr.with_columns(*[pl.lit(None, dtype=pl.Float64).alias(c) for c in (*yearly, *PROFILE_NOW)
                           if c not in pr.columns])
    des = pl.DataFrame({"uscc": [], "kind": [], "year": [], "valid_from": [], "valid_until": []},
                       schema={"uscc": pl.Utf8, "kind": pl.Utf8, "year": pl.Int64, "valid_from": pl.Date,
                               "valid_until": pl.Date})
    row = pl.from_arrow(build_facts(ent, ey, pr, des, 2025, date(2025, 12, 31))).row(0, named=True)
    assert [row[c] for c in ("revenue", "revenue_prev", "revenue_prev2")] == [121.0, 110.0, 100.0]
    assert [row[c] for c in ("main_revenue", "main_revenue_prev", "main_revenue_prev2")] == [100.0, 90.0, 80.0]
